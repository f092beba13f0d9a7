// Grad-CAM (Selvaraju et al. 2017) for a layers model, platform-neutral (browser worker, Node, tests).
//
// For a class c with pre-softmax score y_c (the named logits layer) and the named last convolutional
// feature map A (H×W×K):  α_k = mean_{i,j} ∂y_c/∂A_ij^k,  cam = ReLU(Σ_k α_k A^k),  normalised to
// [0, 1] by its maximum. The result is at conv resolution (8×8 for the 128-px CXR Lab model); the pure
// helpers below upsample it, place it over the original image (the model only saw a centred crop)
// and colourise it for a canvas. All tensor work happens inside tf.tidy: nothing leaks.
import * as tf from '@tensorflow/tfjs';

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
export function gradCam(
  model: tf.LayersModel,
  input: Float32Array | tf.Tensor,
  layers: GradCamLayers,
  classIndex?: number,
): GradCamResult {
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

// ---------------------------------------------------------------------------------------------
// Pure helpers for drawing (no tfjs).

/** Fraction of a heatmap's total mass in each region of a grid (rows × cols), row-major. */
export function massByRegion(heatmap: ArrayLike<number>, width: number, height: number, rows = 2, cols = 2): number[] {
  const out = new Array<number>(rows * cols).fill(0);
  let total = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = heatmap[y * width + x];
      // A cell straddling a boundary (odd sizes) is split by its centre.
      const r = Math.min(rows - 1, Math.floor(((y + 0.5) / height) * rows));
      const c = Math.min(cols - 1, Math.floor(((x + 0.5) / width) * cols));
      out[r * cols + c] += v;
      total += v;
    }
  }
  return total > 0 ? out.map((v) => v / total) : out;
}

/**
 * Bilinear upsampling with half-pixel centres (cell (i, j) of the conv map covers input pixels
 * [i·s, (i+1)·s)), clamped at the borders. Returns outW × outH values.
 */
export function upsampleHeatmap(heatmap: ArrayLike<number>, width: number, height: number, outW: number, outH: number): Float32Array {
  const out = new Float32Array(outW * outH);
  const sx = width / outW;
  const sy = height / outH;
  for (let y = 0; y < outH; y++) {
    const fy = Math.min(height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = Math.min(width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(width - 1, x0 + 1);
      const wx = fx - x0;
      const top = heatmap[y0 * width + x0] * (1 - wx) + heatmap[y0 * width + x1] * wx;
      const bottom = heatmap[y1 * width + x0] * (1 - wx) + heatmap[y1 * width + x1] * wx;
      out[y * outW + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/**
 * Places a heatmap computed on the model input over a picture of the original image, `outW × outH`
 * pixels, given the crop the preprocessing took (cropRegion() of the original, in original pixels)
 * and the original size. Pixels outside the crop (never seen by the model) get NaN.
 */
export function projectHeatmap(
  heatmap: ArrayLike<number>,
  width: number,
  height: number,
  original: { width: number; height: number },
  crop: { x: number; y: number; size: number },
  outW: number,
  outH: number,
): Float32Array {
  const out = new Float32Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    // Centre of the output pixel in original coordinates, then in crop-relative [0, 1).
    const oy = ((y + 0.5) / outH) * original.height;
    const v = (oy - crop.y) / crop.size;
    for (let x = 0; x < outW; x++) {
      const ox = ((x + 0.5) / outW) * original.width;
      const u = (ox - crop.x) / crop.size;
      if (u < 0 || u >= 1 || v < 0 || v >= 1) {
        out[y * outW + x] = NaN;
        continue;
      }
      const fx = Math.min(width - 1, Math.max(0, u * width - 0.5));
      const fy = Math.min(height - 1, Math.max(0, v * height - 0.5));
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const x1 = Math.min(width - 1, x0 + 1);
      const y1 = Math.min(height - 1, y0 + 1);
      const wx = fx - x0;
      const wy = fy - y0;
      const top = heatmap[y0 * width + x0] * (1 - wx) + heatmap[y0 * width + x1] * wx;
      const bottom = heatmap[y1 * width + x0] * (1 - wx) + heatmap[y1 * width + x1] * wx;
      out[y * outW + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/** Perceptually ordered colour map (Google "turbo", polynomial approximation): t ∈ [0, 1] → RGB 0..255. */
export function turbo(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const r = 0.13572138 + x * (4.6153926 + x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))));
  const g = 0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 + x * (4.27729857 + x * 2.82956604))));
  const b = 0.1066733 + x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))));
  const c = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  return [c(r), c(g), c(b)];
}

/**
 * Heatmap values → RGBA pixels for a canvas ImageData. Alpha = opacity × 255, scaled down for weak
 * values so low evidence does not tint the image (`fadeBelow`); NaN (outside the model's view) is
 * transparent.
 */
export function colorizeHeatmap(values: ArrayLike<number>, opacity = 0.5, fadeBelow = 0.15): Uint8ClampedArray {
  const out = new Uint8ClampedArray(values.length * 4);
  const a = Math.min(1, Math.max(0, opacity)) * 255;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0)) continue; // NaN / negative: transparent
    const [r, g, b] = turbo(v);
    out[i * 4] = r;
    out[i * 4 + 1] = g;
    out[i * 4 + 2] = b;
    out[i * 4 + 3] = Math.round(a * (fadeBelow > 0 ? Math.min(1, v / fadeBelow) : 1));
  }
  return out;
}

/** CSS linear-gradient stops for a colour legend matching colorizeHeatmap. */
export function heatmapLegendGradient(steps = 8): string {
  const stops: string[] = [];
  for (let i = 0; i <= steps; i++) {
    const [r, g, b] = turbo(i / steps);
    stops.push(`rgb(${r}, ${g}, ${b}) ${((i / steps) * 100).toFixed(0)}%`);
  }
  return `linear-gradient(to right, ${stops.join(', ')})`;
}
