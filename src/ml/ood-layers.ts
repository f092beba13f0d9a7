// tfjs half of the OOD fitting: pooled activations of any layer (scripts/fit-ood.ts). Kept apart from
// src/image/features.ts so that the image statistics load without tfjs (the CLIs report usage errors fast).
import * as tf from './tf';
import { stackInputs } from './batch';

/**
 * A view of `model` that outputs one layer's activations, global-average-pooled when the layer is a
 * conv map (for fitting the OOD statistics on any layer; caller disposes it, which frees no weights).
 */
export function layerView(model: tf.LayersModel, layer: string): tf.LayersModel {
  return tf.model({ inputs: model.inputs, outputs: model.getLayer(layer).output as tf.SymbolicTensor });
}

/** Pooled activations of `view` (layerView) for preprocessed inputs; every tensor is disposed. */
export async function pooledActivations(view: tf.LayersModel, inputs: Float32Array[], size: number): Promise<Float32Array[]> {
  if (inputs.length === 0) return [];
  const out = tf.tidy(() => {
    const y = view.predict(stackInputs(inputs, size)) as tf.Tensor;
    return y.rank === 4 ? tf.mean(y, [1, 2]) : y.reshape([inputs.length, -1]);
  });
  const data = (await out.data()) as Float32Array;
  out.dispose();
  const d = data.length / inputs.length;
  return inputs.map((_, i) => data.slice(i * d, (i + 1) * d));
}
