// Embeddings: the frozen backbone as an embedding function, fused into plain conv steps where it can be. Part of src/ml/finetune (index.ts describes the two stages).
import * as tf from '../tf';
import { stackInputs } from '../batch';
import type { ModelMetadata } from '../../core/metadata';

/**
 * A view of `model` that outputs the embedding layer. Shares the model's layers: never dispose it
 * (dispose the model instead).
 */
export function embeddingModel(model: tf.LayersModel, metadata: ModelMetadata): tf.LayersModel {
  const layer = model.getLayer(metadata.layers.embedding);
  return tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor, name: 'embedding_view' });
}

/** Embeddings of preprocessed inputs (each inputSize² floats), one Float32Array per input. */
export async function embed(embedder: tf.LayersModel, inputs: Float32Array[], inputSize: number): Promise<Float32Array[]> {
  if (inputs.length === 0) return [];
  const out = tf.tidy(() => {
    const y = embedder.predict(stackInputs(inputs, inputSize)) as tf.Tensor;
    return y.reshape([inputs.length, -1]);
  });
  const data = (await out.data()) as Float32Array;
  const d = out.shape[1] as number;
  out.dispose();
  return inputs.map((_, i) => data.slice(i * d, (i + 1) * d));
}

/** Computes embeddings of preprocessed inputs. */
export interface Embedder {
  embed(inputs: Float32Array[]): Promise<Float32Array[]>;
  /** 'fused': BatchNorm folded into the convolutions (fast path); 'layers': the model as it is. */
  readonly kind: 'fused' | 'layers';
  readonly dim: number;
  dispose(): void;
}

type FusedStep =
  | { op: 'conv'; filter: tf.Tensor4D; bias: tf.Tensor1D | null; strides: [number, number]; pad: 'same' | 'valid'; dilation: [number, number]; relu: boolean }
  | { op: 'affine'; scale: tf.Tensor1D; shift: tf.Tensor1D }
  | { op: 'relu' }
  | { op: 'maxPool' | 'avgPool'; size: [number, number]; strides: [number, number]; pad: 'same' | 'valid' }
  | { op: 'gap' };

const pair = (v: number | number[] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v]);

function isRelu(layer: tf.layers.Layer): boolean {
  const c = layer.getConfig() as { activation?: string; maxValue?: number | null; negativeSlope?: number; threshold?: number };
  if (layer.getClassName() === 'ReLU') return (c.maxValue === undefined || c.maxValue === null) && !c.negativeSlope && !c.threshold;
  return layer.getClassName() === 'Activation' && c.activation === 'relu';
}

/** BatchNorm (inference mode) as scale/shift tensors. */
function bnAffine(layer: tf.layers.Layer): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
  const c = layer.getConfig() as { epsilon: number; center: boolean; scale: boolean; axis?: number | number[] };
  const w = layer.getWeights();
  let i = 0;
  const gamma = c.scale ? w[i++] : null;
  const beta = c.center ? w[i++] : null;
  const mean = w[i++];
  const variance = w[i++];
  return tf.tidy(() => {
    let scale = tf.rsqrt(variance.add(c.epsilon)) as tf.Tensor1D;
    if (gamma) scale = scale.mul(gamma);
    let shift = tf.neg(mean.mul(scale)) as tf.Tensor1D;
    if (beta) shift = shift.add(beta);
    return { scale, shift };
  });
}

/**
 * The chain of layers from the model input to the embedding layer, compiled to fused ops: every
 * Conv2D + BatchNormalization (+ ReLU) becomes one fused convolution with the normalisation folded
 * into its weights. Null when the graph is not a plain chain of supported layers.
 */
function compileFused(model: tf.LayersModel, metadata: ModelMetadata): FusedStep[] | null {
  let layer: tf.layers.Layer;
  try {
    layer = model.getLayer(metadata.layers.embedding);
  } catch {
    return null;
  }
  if (layer.getClassName() !== 'GlobalAveragePooling2D') return null;
  const chain: tf.layers.Layer[] = [];
  for (let l: tf.layers.Layer | null = layer; l; ) {
    const nodes: { inboundLayers: tf.layers.Layer[] }[] = (l as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes;
    if (l.getClassName() === 'InputLayer') break;
    if (nodes.length !== 1 || nodes[0].inboundLayers.length !== 1) return null;
    chain.unshift(l);
    l = nodes[0].inboundLayers[0];
  }
  const steps: FusedStep[] = [];
  const created: tf.Tensor[] = [];
  try {
    for (let i = 0; i < chain.length; i++) {
      const l = chain[i];
      const cls = l.getClassName();
      const cfg = l.getConfig() as Record<string, unknown>;
      if ((cfg.dataFormat ?? 'channelsLast') !== 'channelsLast') return null;
      if (cls === 'Conv2D') {
        const act = (cfg.activation as string | undefined) ?? 'linear';
        if (act !== 'linear' && act !== 'relu') return null;
        const w = l.getWeights();
        let filter = w[0] as tf.Tensor4D;
        let bias = cfg.useBias ? (w[1] as tf.Tensor1D) : null;
        let relu = act === 'relu';
        const next = chain[i + 1];
        if (!relu && next && next.getClassName() === 'BatchNormalization') {
          const { scale, shift } = bnAffine(next);
          const [f, b] = tf.tidy(() => [filter.mul(scale) as tf.Tensor4D, (bias ? bias.mul(scale).add(shift) : shift.clone()) as tf.Tensor1D]);
          scale.dispose();
          shift.dispose();
          filter = f;
          bias = b;
          i++;
        } else {
          filter = filter.clone();
          bias = bias ? bias.clone() : null;
        }
        created.push(filter);
        if (bias) created.push(bias);
        if (!relu && chain[i + 1] && isRelu(chain[i + 1])) {
          relu = true;
          i++;
        }
        steps.push({
          op: 'conv',
          filter,
          bias,
          strides: pair(cfg.strides as number[], 1),
          pad: cfg.padding as 'same' | 'valid',
          dilation: pair(cfg.dilationRate as number[], 1),
          relu,
        });
      } else if (cls === 'BatchNormalization') {
        const { scale, shift } = bnAffine(l);
        created.push(scale, shift);
        steps.push({ op: 'affine', scale, shift });
      } else if (isRelu(l)) {
        steps.push({ op: 'relu' });
      } else if (cls === 'MaxPooling2D' || cls === 'AveragePooling2D') {
        const size = pair(cfg.poolSize as number[], 2);
        steps.push({
          op: cls === 'MaxPooling2D' ? 'maxPool' : 'avgPool',
          size,
          strides: pair((cfg.strides as number[] | null) ?? size, 2),
          pad: cfg.padding as 'same' | 'valid',
        });
      } else if (cls === 'Dropout' || cls === 'SpatialDropout2D') {
        // identity at inference
      } else if (cls === 'GlobalAveragePooling2D' && i === chain.length - 1) {
        steps.push({ op: 'gap' });
      } else {
        return null;
      }
    }
    created.length = 0;
    return steps;
  } finally {
    if (created.length) tf.dispose(created); // only on failure
  }
}

function runFused(steps: FusedStep[], x: tf.Tensor4D): tf.Tensor2D {
  let y: tf.Tensor = x;
  for (const s of steps) {
    switch (s.op) {
      case 'conv':
        y = tf.fused.conv2d({
          x: y as tf.Tensor4D,
          filter: s.filter,
          strides: s.strides,
          pad: s.pad,
          dilations: s.dilation,
          bias: s.bias ?? undefined,
          activation: s.relu ? 'relu' : 'linear',
        });
        break;
      case 'affine':
        y = y.mul(s.scale).add(s.shift);
        break;
      case 'relu':
        y = tf.relu(y);
        break;
      case 'maxPool':
        y = tf.maxPool(y as tf.Tensor4D, s.size, s.strides, s.pad);
        break;
      case 'avgPool':
        y = tf.avgPool(y as tf.Tensor4D, s.size, s.strides, s.pad);
        break;
      case 'gap':
        y = tf.mean(y, [1, 2]);
        break;
    }
  }
  return y as tf.Tensor2D;
}

/**
 * The fastest available embedder for the model: the fused chain when the backbone is a plain
 * conv/BN/ReLU/pool chain (the CXR Lab network is), else the layers model itself. Results agree to
 * float rounding (tests/unit/finetune.test.ts).
 */
export function createEmbedder(model: tf.LayersModel, metadata: ModelMetadata, opts: { fused?: boolean } = {}): Embedder {
  const size = metadata.preprocessing.inputSize;
  const steps = opts.fused === false ? null : compileFused(model, metadata);
  const view = steps ? null : embeddingModel(model, metadata);
  const dim = (model.getLayer(metadata.layers.embedding).outputShape as number[])[1];
  return {
    kind: steps ? 'fused' : 'layers',
    dim,
    async embed(inputs) {
      if (!inputs.length) return [];
      const out = tf.tidy(() => {
        const x = stackInputs(inputs, size);
        return (steps ? runFused(steps, x) : (view!.predict(x) as tf.Tensor)).reshape([inputs.length, -1]);
      });
      const data = (await out.data()) as Float32Array;
      out.dispose();
      return inputs.map((_, i) => data.slice(i * dim, (i + 1) * dim));
    },
    dispose() {
      if (!steps) return;
      for (const s of steps) {
        if (s.op === 'conv') {
          s.filter.dispose();
          s.bias?.dispose();
        } else if (s.op === 'affine') {
          s.scale.dispose();
          s.shift.dispose();
        }
      }
    },
  };
}
