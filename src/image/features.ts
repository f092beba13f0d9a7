// Image-side half of the out-of-distribution detector: cheap statistics of the DECODED image (colour is
// measured before preprocessing turns everything grey) and of the model's crop. prepareImage
// (./pipeline.ts) computes them for every caller. The schema and the combination live in
// src/core/ood.ts; the Classifier (src/ml/classifier.ts) attaches the verdict to every prediction
// when the model's metadata carries trust.ood.
import { LAYOUT_SIZE, type ImageFeatures } from '../core/ood';
import type { DecodedImage } from './preprocess';

/** Channel spread (0..255) above which a pixel counts as strongly coloured. */
export const COLOUR_SPREAD = 32;
/** Colour is sampled on at most about this many pixels. */
const COLOUR_SAMPLES = 65536;

/** Colour statistics of a decoded image: 0 for greyscale (1 or 2 channels). */
export function colourStats(img: DecodedImage): { colourFraction: number; colourMean: number } {
  if (img.channels < 3) return { colourFraction: 0, colourMean: 0 };
  const { width, height, channels, data } = img;
  const scale = img.bitDepth === 16 ? 255 / 65535 : 1;
  const step = Math.max(1, Math.floor(Math.sqrt((width * height) / COLOUR_SAMPLES)));
  let n = 0;
  let strong = 0;
  let sum = 0;
  for (let y = 0; y < height; y += step) {
    for (let x = 0; x < width; x += step) {
      const p = (y * width + x) * channels;
      const r = data[p];
      const g = data[p + 1];
      const b = data[p + 2];
      const spread = (Math.max(r, g, b) - Math.min(r, g, b)) * scale;
      sum += spread;
      if (spread > COLOUR_SPREAD) strong++;
      n++;
    }
  }
  return { colourFraction: strong / n, colourMean: sum / n };
}

/** Block average of a square size×size float image to out×out (any size ≥ out). */
export function blockAverage(values: Float32Array, size: number, out: number): Float64Array {
  const sum = new Float64Array(out * out);
  const count = new Float64Array(out * out);
  for (let y = 0; y < size; y++) {
    const oy = Math.floor((y * out) / size);
    for (let x = 0; x < size; x++) {
      const o = oy * out + Math.floor((x * out) / size);
      sum[o] += values[y * size + x];
      count[o]++;
    }
  }
  for (let i = 0; i < sum.length; i++) sum[i] = count[i] > 0 ? sum[i] / count[i] : 0;
  return sum;
}

/** Pearson correlation; NaN when either side is constant. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 1e-9 * n && sbb > 1e-9 * n ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** The standardised (zero mean, unit variance) LAYOUT_SIZE² thumbnail of a crop; null when constant. */
export function layoutVector(crop: Float32Array, size: number): Float64Array | null {
  const t = blockAverage(crop, size, LAYOUT_SIZE);
  let m = 0;
  for (const v of t) m += v;
  m /= t.length;
  let s = 0;
  for (const v of t) s += (v - m) * (v - m);
  s = Math.sqrt(s / t.length);
  if (!(s > 1e-6)) return null;
  return t.map((v) => (v - m) / s);
}

/**
 * Grey-level statistics of the model's crop (centre square, area-resized to inputSize², 0..255,
 * before equalisation) plus colour and aspect ratio of the whole decoded image.
 * `layoutTemplate`: trust.ood.layoutTemplate (without it `layout` is NaN).
 */
export function imageFeaturesFrom(img: DecodedImage, crop: Float32Array, size: number, layoutTemplate?: ArrayLike<number>): ImageFeatures {
  const n = crop.length;
  const hist = new Float64Array(256);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    const v = crop[i];
    mean += v;
    hist[Math.max(0, Math.min(255, Math.round(v)))]++;
  }
  mean /= n;
  let varSum = 0;
  for (let i = 0; i < n; i++) varSum += (crop[i] - mean) * (crop[i] - mean);
  const contrast = Math.sqrt(varSum / n);
  let dominant = 0;
  for (let v = 0; v < 256; v++) {
    let w = 0;
    for (let k = Math.max(0, v - 2); k <= Math.min(255, v + 2); k++) w += hist[k];
    if (w > dominant) dominant = w;
  }
  let bright = 0;
  for (let v = 236; v < 256; v++) bright += hist[v];
  let entropy = 0;
  for (let v = 0; v < 256; v++) {
    if (hist[v] > 0) {
      const q = hist[v] / n;
      entropy -= q * Math.log2(q);
    }
  }
  let diff = 0;
  let pairs = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = crop[y * size + x];
      if (x + 1 < size) {
        diff += Math.abs(crop[y * size + x + 1] - v);
        pairs++;
      }
      if (y + 1 < size) {
        diff += Math.abs(crop[(y + 1) * size + x] - v);
        pairs++;
      }
    }
  }
  const roughness = diff / Math.max(1, pairs) / Math.max(1, contrast);
  const sym = blockAverage(crop, size, 32);
  const mirrored = new Float64Array(sym.length);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) mirrored[y * 32 + x] = sym[y * 32 + 31 - x];
  const symmetry = correlation(sym, mirrored);
  const lv = layoutTemplate ? layoutVector(crop, size) : null;
  const layout = lv && layoutTemplate ? correlation(lv, layoutTemplate) : NaN;
  return {
    ...colourStats(img),
    contrast,
    dominantFraction: dominant / n,
    brightFraction: bright / n,
    roughness,
    symmetry,
    layout,
    entropy,
    aspect: Math.abs(Math.log2(img.width / img.height)),
  };
}
