// The steps of the one preprocessing: decoded pixels → 8-bit grayscale → centred square crop → area
// resize → contrast normalisation → value range. Pure array code (no tfjs, no DOM) so that Node
// training, evaluation, the browser worker and the tests run exactly the same arithmetic. Callers
// use prepareImage (./pipeline.ts), which runs these steps once per image and returns everything
// downstream needs; preprocessDecoded is its model-input-only shorthand.
import type { DicomMeta } from '../core/dicom-meta';
import type { PreprocessingSpec } from '../core/metadata';

/** A decoded image: interleaved samples, 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA) channels. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  /** 8-bit (Uint8Array / Uint8ClampedArray) or 16-bit (Uint16Array) samples. */
  data: Uint8Array | Uint8ClampedArray | Uint16Array;
  bitDepth: 8 | 16;
  /** For DICOM input: what the header says (view, age, sex, modality, manufacturer…; no identifying fields). */
  dicom?: DicomMeta;
}

/** A grayscale 8-bit image. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export const DEFAULT_PREPROCESSING: PreprocessingSpec = {
  version: 1,
  inputSize: 112,
  channels: 1,
  cropFraction: 0.95,
  equalize: 'histogram',
  range: [-1, 1],
  mask: { radius: 0.44, feather: 0.04 },
};

/**
 * Converts any decoded image to 8-bit gray. 16-bit data is min–max scaled (as the data set's build
 * did), colour uses Rec. 601 luma, and alpha is composited on black.
 */
export function toGray8(img: DecodedImage): GrayImage {
  const { width, height, channels, data } = img;
  const n = width * height;
  const out = new Uint8Array(n);
  const hasAlpha = channels === 2 || channels === 4;
  const colour = channels >= 3;
  const maxVal = img.bitDepth === 16 ? 65535 : 255;
  // First pass in the source depth: luma (times alpha), so that 16-bit min–max scaling sees real values.
  const luma = img.bitDepth === 16 ? new Float64Array(n) : null;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0, p = 0; i < n; i++, p += channels) {
    let v = colour ? 0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2] : data[p];
    if (hasAlpha) v = (v * data[p + channels - 1]) / maxVal;
    if (luma) {
      luma[i] = v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    } else {
      out[i] = Math.round(v);
    }
  }
  if (luma) {
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    for (let i = 0; i < n; i++) out[i] = Math.round((luma[i] - lo) * scale);
  }
  return { width, height, data: out };
}

/** The region that preprocessing keeps: a centred square of side cropFraction × shorter side. */
export function cropRegion(width: number, height: number, cropFraction: number): { x: number; y: number; size: number } {
  const size = Math.min(width, height) * cropFraction;
  return { x: (width - size) / 2, y: (height - size) / 2, size };
}

/**
 * Area (box-filter) resampling of a rectangular source region to outW×outH: the one downscaler of
 * the app (model input, augmentation base, Grad-CAM preview, thumbnails). Each output pixel averages
 * the source pixels it covers, weighted by fractional overlap, so downscaling does not alias and the
 * result does not depend on the decoder's own resizing.
 */
export function resizeArea(src: GrayImage, region: { x: number; y: number; width: number; height: number }, outW: number, outH: number): Float32Array {
  const { width, height, data } = src;
  const scaleX = region.width / outW;
  const scaleY = region.height / outH;
  const result = new Float32Array(outW * outH);
  // Precompute horizontal spans and weights once per column.
  const xs: { start: number; weights: number[] }[] = [];
  for (let ox = 0; ox < outW; ox++) xs.push(spanWeights(region.x + ox * scaleX, region.x + (ox + 1) * scaleX, width));
  for (let oy = 0; oy < outH; oy++) {
    const ys = spanWeights(region.y + oy * scaleY, region.y + (oy + 1) * scaleY, height);
    for (let ox = 0; ox < outW; ox++) {
      const sx = xs[ox];
      let acc = 0;
      let wsum = 0;
      for (let j = 0; j < ys.weights.length; j++) {
        const wy = ys.weights[j];
        const row = (ys.start + j) * width + sx.start;
        for (let i = 0; i < sx.weights.length; i++) {
          const w = wy * sx.weights[i];
          acc += w * data[row + i];
          wsum += w;
        }
      }
      result[oy * outW + ox] = wsum > 0 ? acc / wsum : 0;
    }
  }
  return result;
}

/** resizeArea of a square region to out×out (the model input's crop). */
export function resizeRegionArea(src: GrayImage, region: { x: number; y: number; size: number }, out: number): Float32Array {
  return resizeArea(src, { x: region.x, y: region.y, width: region.size, height: region.size }, out, out);
}

/** The whole image area-resized so its long side is at most `maxSide` (never enlarged), rounded to 8 bit. */
export function downscaleGray(gray: GrayImage, maxSide: number): GrayImage {
  const scale = Math.min(1, maxSide / Math.max(gray.width, gray.height));
  const w = Math.max(1, Math.round(gray.width * scale));
  const h = Math.max(1, Math.round(gray.height * scale));
  if (w === gray.width && h === gray.height) return { width: w, height: h, data: gray.data.slice() };
  const f = resizeArea(gray, { x: 0, y: 0, width: gray.width, height: gray.height }, w, h);
  const data = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) data[i] = Math.round(f[i]);
  return { width: w, height: h, data };
}

function spanWeights(a: number, b: number, limit: number): { start: number; weights: number[] } {
  const lo = Math.max(0, a);
  const hi = Math.min(limit, b);
  let start = Math.floor(lo);
  const weights: number[] = [];
  for (let p = start; p < hi; p++) {
    const w = Math.min(p + 1, hi) - Math.max(p, lo);
    if (w > 1e-9) weights.push(w);
    else if (weights.length === 0) start = p + 1;
  }
  if (weights.length === 0) {
    // Degenerate region (outside the image): fall back to the nearest pixel.
    start = Math.min(limit - 1, Math.max(0, Math.floor(a)));
    weights.push(1);
  }
  return { start, weights };
}

/**
 * Global histogram equalisation on 0..255 values (rounded). Maps the value distribution to uniform,
 * which removes brightness, contrast and gamma differences between hospitals and scanners.
 * Returns values in [0, 1].
 */
export function equalizeHistogram(values: Float32Array, weights?: Float32Array): Float32Array {
  const hist = new Uint32Array(256);
  const q = new Uint8Array(values.length);
  let counted = 0;
  for (let i = 0; i < values.length; i++) {
    const v = Math.max(0, Math.min(255, Math.round(values[i])));
    q[i] = v;
    // With a field-of-view mask, only pixels inside it shape the mapping.
    if (!weights || weights[i] > 0.5) {
      hist[v]++;
      counted++;
    }
  }
  const cdf = new Uint32Array(256);
  let run = 0;
  for (let v = 0; v < 256; v++) {
    run += hist[v];
    cdf[v] = run;
  }
  let cdfMin = 0;
  for (let v = 0; v < 256; v++) {
    if (hist[v] > 0) {
      cdfMin = cdf[v];
      break;
    }
  }
  const denom = counted - cdfMin;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = denom > 0 ? Math.max(0, (cdf[q[i]] - cdfMin) / denom) : 0;
  return out;
}

const maskCache = new Map<string, Float32Array>();

/** Weights in [0, 1] of the circular field of view (1 inside, feathered edge, 0 outside). */
export function fieldOfViewMask(size: number, mask: { radius: number; feather: number }): Float32Array {
  const key = `${size}:${mask.radius}:${mask.feather}`;
  let w = maskCache.get(key);
  if (!w) {
    w = new Float32Array(size * size);
    const c = size / 2;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const r = Math.hypot(x + 0.5 - c, y + 0.5 - c) / size;
        w[y * size + x] = r <= mask.radius ? 1 : mask.feather > 0 ? Math.max(0, 1 - (r - mask.radius) / mask.feather) : 0;
      }
    }
    maskCache.set(key, w);
  }
  return w;
}

/** Contrast step + linear map to spec.range. `values` are 0..255 floats (modified copy returned). */
export function normalizeInput(values: Float32Array, spec: PreprocessingSpec): Float32Array {
  const size = Math.round(Math.sqrt(values.length));
  const fov = spec.mask ? fieldOfViewMask(size, spec.mask) : undefined;
  const unit = spec.equalize === 'histogram' ? equalizeHistogram(values, fov) : values.map((v) => v / 255);
  const [lo, hi] = spec.range;
  for (let i = 0; i < unit.length; i++) unit[i] = lo + (fov ? unit[i] * fov[i] : unit[i]) * (hi - lo);
  return unit;
}

/** Gray image → model input (inputSize² floats, row-major, one channel). */
export function preprocessGray(gray: GrayImage, spec: PreprocessingSpec): Float32Array {
  return normalizeInput(cropAndResize(gray, spec), spec);
}

/** The geometric half of preprocessing: centred crop, area resize; 0..255 floats, inputSize². */
export function cropAndResize(gray: GrayImage, spec: PreprocessingSpec): Float32Array {
  return resizeRegionArea(gray, cropRegion(gray.width, gray.height, spec.cropFraction), spec.inputSize);
}

/** Decoded image → model input. The single entry point every path uses. */
export function preprocessDecoded(img: DecodedImage, spec: PreprocessingSpec): Float32Array {
  return preprocessGray(toGray8(img), spec);
}

/** The pixels the model saw, as 0..255 gray (for thumbnails): undoes the range mapping only. */
export function inputToGray8(input: Float32Array, spec: PreprocessingSpec): Uint8Array {
  const [lo, hi] = spec.range;
  const out = new Uint8Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = Math.round(((input[i] - lo) / (hi - lo)) * 255);
  return out;
}

/** A gray image as a DecodedImage (the Node data set's cached pixels are 8-bit gray). */
export function grayAsDecoded(gray: GrayImage): DecodedImage {
  return { width: gray.width, height: gray.height, channels: 1, data: gray.data, bitDepth: 8 };
}
