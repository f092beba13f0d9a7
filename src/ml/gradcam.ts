// Grad-CAM (Selvaraju et al. 2017) for a layers model, platform-neutral (browser worker, Node, tests).
//
// For a class c with pre-softmax score y_c (the named logits layer) and the named last convolutional
// feature map A (H×W×K):  α_k = mean_{i,j} ∂y_c/∂A_ij^k,  cam = ReLU(Σ_k α_k A^k),  normalised to
// [0, 1] by its maximum. The result is at conv resolution (8×8 for the 128-px CXR Lab model); the pure
// helpers of ./heatmap (re-exported below) upsample it, place it over the original image (the model
// only saw a centred crop) and colourise it for a canvas. All tensor work happens inside tf.tidy: nothing leaks.
import * as tf from './tf';

export interface GradCamLayers {
  /** Name of the last convolutional feature map (metadata.layers.lastConv). */
  lastConv: string;
  /** Name of the pre-softmax class-score layer (metadata.layers.logits). */
  logits: string;
}

export interface GradCamResult {
  /** Normalised heatmap in [0, 1], row-major, `width × height` (the conv feature map's size). */
  heatmap: Float32Array;
  width: number;
  height: number;
  /** Class the map explains. */
  classIndex: number;
  /** Class logits of this input (all classes), to label the map without a second forward pass. */
  logits: number[];
  /** Largest value of ReLU(Σ α_k A^k) before normalisation (0 = no positive evidence for the class). */
  rawMax: number;
}

interface SplitModel {
  features: tf.LayersModel;
  head: tf.layers.Layer[];
}

const splitCache = new WeakMap<tf.LayersModel, Map<string, SplitModel>>();

/**
 * Splits `model` at the last conv layer: a sub-model input → feature map, and the chain of layers
 * from the feature map to the logits (applied eagerly so that tf.grad sees them). The head must be a
 * chain (each layer with one input), as in CXR Lab's GAP → dropout → dense head.
 */
function splitAt(model: tf.LayersModel, layers: GradCamLayers): SplitModel {
  let byModel = splitCache.get(model);
  if (!byModel) {
    byModel = new Map();
    splitCache.set(model, byModel);
  }
  const key = `${layers.lastConv}\u0000${layers.logits}`;
  const cached = byModel.get(key);
  if (cached) return cached;
  const conv = model.getLayer(layers.lastConv);
  const head: tf.layers.Layer[] = [];
  let layer = model.getLayer(layers.logits);
  while (layer !== conv) {
    head.unshift(layer);
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    if (inbound.length !== 1) {
      throw new Error(`Grad-CAM needs a single chain of layers from '${layers.lastConv}' to '${layers.logits}'; '${layer.name}' has ${inbound.length} inputs`);
    }
    layer = inbound[0];
  }
  const features = tf.model({ inputs: model.inputs, outputs: conv.output as tf.SymbolicTensor });
  const split = { features, head };
  byModel.set(key, split);
  return split;
}

/**
 * Grad-CAM for one preprocessed input (inputSize² floats, or a [1, H, W, C] tensor the caller keeps).
 * `classIndex` defaults to the predicted class (argmax of the logits).
 */
export function gradCam(model: tf.LayersModel, input: Float32Array | tf.Tensor, layers: GradCamLayers, classIndex?: number): GradCamResult {
  const { features, head } = splitAt(model, layers);
  const [camT, logitsT, cls] = tf.tidy((): [tf.Tensor, tf.Tensor, number] => {
    let x: tf.Tensor;
    if (input instanceof tf.Tensor) {
      x = input;
    } else {
      const shape = model.inputs[0].shape;
      x = tf.tensor4d(input, [1, shape[1] ?? 0, shape[2] ?? 0, shape[3] ?? 1]);
    }
    if (x.shape[0] !== 1) throw new Error(`gradCam takes one image, got a batch of ${x.shape[0]}`);
    const fmap = features.predict(x) as tf.Tensor4D;
    const applyHead = (a: tf.Tensor): tf.Tensor => head.reduce((t, l) => l.apply(t, { training: false }) as tf.Tensor, a);
    const logits = applyHead(fmap) as tf.Tensor2D;
    const k = logits.shape[1];
    const c = classIndex ?? (logits.argMax(1).dataSync()[0] as number);
    if (!Number.isInteger(c) || c < 0 || c >= k) throw new Error(`class index ${c} out of range 0..${k - 1}`);
    const mask = tf.oneHot([c], k).toFloat();
    const grads = tf.grad((a: tf.Tensor) => applyHead(a).mul(mask).sum())(fmap) as tf.Tensor4D;
    const alpha = grads.mean([1, 2], true); // [1, 1, 1, K]
    const cam = fmap.mul(alpha).sum(3).relu().squeeze([0]); // [H, W]
    return [cam, logits.squeeze([0]), c];
  });
  const raw = camT.dataSync() as Float32Array;
  const logits = Array.from(logitsT.dataSync() as Float32Array);
  const [height, width] = camT.shape as [number, number];
  camT.dispose();
  logitsT.dispose();
  let max = 0;
  for (const v of raw) if (v > max) max = v;
  const heatmap = new Float32Array(raw.length);
  if (max > 0) for (let i = 0; i < raw.length; i++) heatmap[i] = raw[i] / max;
  return { heatmap, width, height, classIndex: cls, logits, rawMax: max };
}

/** Releases the cached feature sub-model of `model` (call before disposing a model you reload often). */
export function forgetGradCamModel(model: tf.LayersModel): void {
  splitCache.delete(model);
}

// Drawing helpers (pure, no tfjs) live in ./heatmap; re-exported for existing callers.
export { colorizeHeatmap, heatmapLegendGradient, massByRegion, projectHeatmap, turbo, upsampleHeatmap } from '../image/heatmap';
