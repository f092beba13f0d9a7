// Training-time augmentation, designed to break the shortcuts this data offers (child vs adult
// framing, hospital-specific borders, burned-in text and markers, film softness) while keeping the
// lungs. Pure array code on the same gray pixels the preprocessing uses, so it runs in Node and
// in the browser's fine-tuning worker alike. See DEFAULT_AUGMENT for the measured defaults.
import type { PreprocessingSpec } from '../core/metadata';
import type { Rng } from '../core/random';
import { cropRegion, normalizeInput, resizeRegionArea, type GrayImage } from './preprocess';
import { boxBlur, drawLines, illumination, jpegRoundTrip, resolutionRoundTrip, unsharp } from './degrade';

export interface AugmentConfig {
  /** Random zoom relative to the inference crop: side scale in [1-zoom, 1+zoom]. */
  zoom: number;
  rotationDeg: number;
  /** Translation as a fraction of the crop side. */
  translate: number;
  aspect: number;
  flipProbability: number;
  gammaRange: [number, number];
  blurProbability: number;
  noiseProbability: number;
  noiseSigma: number;
  /** Probability of blacking out random bands along the edges. */
  borderMaskProbability: number;
  borderMaskMax: number;
  /** Probability of pasting random bright/dark rectangles (fake text/markers) near the edges. */
  markerProbability: number;
  // Acquisition (source) invariance, see degrade.ts. Absent or 0 = off (the fine-tuning page's default).
  /** Probability of a resolution round-trip (downscale to resampleRange × side, then back up). */
  resampleProbability?: number;
  resampleRange?: [number, number];
  /** Probability of a lossy JPEG re-encode at a quality in jpegQualityRange. */
  jpegProbability?: number;
  jpegQualityRange?: [number, number];
  /** Probability of an unsharp-mask sharpening (amount 0.4–1.5). */
  sharpenProbability?: number;
  /** Probability of a smooth illumination ramp / vignette (survives histogram equalisation). */
  illuminationProbability?: number;
  illuminationAmplitude?: number;
  /** Probability of 1–3 bright curved lines (tubes, wires, leads) anywhere on the film. */
  lineProbability?: number;
}

export const DEFAULT_AUGMENT: AugmentConfig = {
  zoom: 0.15,
  rotationDeg: 8,
  translate: 0.06,
  aspect: 0.08,
  flipProbability: 0.5,
  gammaRange: [0.7, 1.4],
  blurProbability: 0.3,
  noiseProbability: 0.3,
  noiseSigma: 8,
  borderMaskProbability: 0.5,
  borderMaskMax: 0.18,
  markerProbability: 0.5,
};

/**
 * The shipped model's recipe (scripts/train.ts): DEFAULT_AUGMENT plus every acquisition degradation,
 * so that resolution, export, sharpening and illumination no longer tell the hospital (and with it
 * the class). A stronger setting (resample to 0.3–0.9 of the side with p 0.5, JPEG quality 15–85
 * with p 0.35, illumination ±60 with p 0.35, lines p 0.3, blur p 0.25) underfitted: validation loss
 * 0.542 vs 0.472 and test accuracy 0.798 vs 0.824 with the same seed and network (README, "Recipe").
 */
export const SOURCE_INVARIANT_AUGMENT: AugmentConfig = {
  ...DEFAULT_AUGMENT,
  blurProbability: 0.2,
  resampleProbability: 0.35,
  resampleRange: [0.5, 0.95],
  jpegProbability: 0.25,
  jpegQualityRange: [30, 90],
  sharpenProbability: 0.2,
  illuminationProbability: 0.25,
  illuminationAmplitude: 40,
  lineProbability: 0.2,
};

/** Margin kept around the inference crop in the cached base image, so zoom-out and shifts have pixels. */
export const BASE_MARGIN = 1.25;

/**
 * The cached per-image base for augmentation: the inference crop enlarged by BASE_MARGIN (clipped
 * to the image), area-resized to baseSize². Returns 0..255 floats and where the inference crop sits.
 */
export function makeAugmentBase(gray: GrayImage, spec: PreprocessingSpec, baseSize: number): { pixels: Uint8Array; size: number } {
  const frac = Math.min(1, spec.cropFraction * BASE_MARGIN);
  const region = cropRegion(gray.width, gray.height, frac);
  const f = resizeRegionArea(gray, region, baseSize);
  const pixels = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) pixels[i] = Math.round(f[i]);
  return { pixels, size: baseSize };
}

/** Scale from the base image to the inference crop (the crop is this fraction of the base side). */
export function cropFractionOfBase(spec: PreprocessingSpec): number {
  const frac = Math.min(1, spec.cropFraction * BASE_MARGIN);
  return spec.cropFraction / frac;
}

/**
 * One augmented model input from a base image. With all randomness off (identity transform), the
 * result approximates the inference preprocessing of the same image.
 */
export function augmentToInput(base: { pixels: Uint8Array; size: number }, spec: PreprocessingSpec, cfg: AugmentConfig, rng: Rng): Float32Array {
  const S = spec.inputSize;
  const B = base.size;
  const src = base.pixels;
  const u = (a: number, b: number) => a + (b - a) * rng.next();
  // Geometry: output pixel → base pixel through rotation, zoom, aspect, translation and flip.
  const cropSide = cropFractionOfBase(spec) * B;
  const zoom = u(1 - cfg.zoom, 1 + cfg.zoom);
  const asp = u(1 - cfg.aspect, 1 + cfg.aspect);
  const sx = ((cropSide * zoom) / S) * asp;
  const sy = (cropSide * zoom) / S / asp;
  const theta = (u(-cfg.rotationDeg, cfg.rotationDeg) * Math.PI) / 180;
  const tx = u(-cfg.translate, cfg.translate) * cropSide;
  const ty = u(-cfg.translate, cfg.translate) * cropSide;
  const flip = rng.next() < cfg.flipProbability ? -1 : 1;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const c = B / 2;
  const out = new Float32Array(S * S);
  for (let y = 0; y < S; y++) {
    const dy = (y + 0.5 - S / 2) * sy;
    for (let x = 0; x < S; x++) {
      const dx = (x + 0.5 - S / 2) * sx * flip;
      const bx = c + tx + cos * dx - sin * dy - 0.5;
      const by = c + ty + sin * dx + cos * dy - 0.5;
      out[y * S + x] = bilinear(src, B, bx, by);
    }
  }
  // Acquisition: lines on the film, then how the film was exported (illumination, resolution,
  // filtering, compression). Each draw happens in a fixed order so a seed gives the same inputs.
  // Options that are off draw nothing, so configs without them keep their exact random stream.
  const chance = (q: number | undefined) => (q ?? 0) > 0 && rng.next() < q!;
  let img: Float32Array = out;
  if (chance(cfg.lineProbability)) drawLines(img, S, S, 1 + rng.int(3), rng);
  if (chance(cfg.illuminationProbability)) {
    const amp = cfg.illuminationAmplitude ?? 40;
    img = illumination(img, S, S, u(-amp, amp), u(0, 2 * Math.PI), u(-amp / 2, amp / 2));
  }
  if (chance(cfg.resampleProbability)) {
    const [lo, hi] = cfg.resampleRange ?? [0.4, 0.9];
    img = resolutionRoundTrip(img, S, S, u(lo, hi));
  }
  if (chance(cfg.sharpenProbability)) img = unsharp(img, S, S, u(0.4, 1.5));
  if (chance(cfg.jpegProbability)) {
    const [lo, hi] = cfg.jpegQualityRange ?? [20, 80];
    img = jpegRoundTrip(img, S, S, u(lo, hi));
  }
  if (img !== out) out.set(img);
  // Intensity: gamma, then optional blur (film softness) and noise.
  const gamma = u(cfg.gammaRange[0], cfg.gammaRange[1]);
  for (let i = 0; i < out.length; i++) out[i] = 255 * Math.pow(out[i] / 255, gamma);
  if (rng.next() < cfg.blurProbability) {
    if (cfg.resampleProbability && rng.next() < 0.5) out.set(boxBlur(out, S, S, 2));
    else boxBlur3(out, S);
  }
  if (rng.next() < cfg.noiseProbability) {
    const sigma = u(1, cfg.noiseSigma);
    for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.max(0, out[i] + sigma * rng.normal()));
  }
  // Shortcut breakers: black bands along the edges, fake markers near the edges.
  if (rng.next() < cfg.borderMaskProbability) {
    const band = () => Math.floor(u(0, cfg.borderMaskMax) * S);
    fillRect(out, S, 0, 0, S, band(), 0);
    const b = band();
    fillRect(out, S, 0, S - b, S, b, 0);
    fillRect(out, S, 0, 0, band(), S, 0);
    const r = band();
    fillRect(out, S, S - r, 0, r, S, 0);
  }
  if (rng.next() < cfg.markerProbability) {
    const n = 1 + rng.int(3);
    for (let k = 0; k < n; k++) {
      const w = Math.max(2, Math.floor(u(0.03, 0.14) * S));
      const h = Math.max(2, Math.floor(u(0.02, 0.07) * S));
      // Near an edge: pick a side, then a position along it.
      const side = rng.int(4);
      const along = rng.next();
      const depth = u(0, 0.12) * S;
      let x0: number;
      let y0: number;
      if (side === 0) {
        x0 = along * (S - w);
        y0 = depth;
      } else if (side === 1) {
        x0 = along * (S - w);
        y0 = S - h - depth;
      } else if (side === 2) {
        x0 = depth;
        y0 = along * (S - h);
      } else {
        x0 = S - w - depth;
        y0 = along * (S - h);
      }
      fillRect(out, S, Math.floor(x0), Math.floor(y0), w, h, rng.next() < 0.7 ? 255 : 0);
    }
  }
  return normalizeInput(out, spec);
}

function bilinear(src: Uint8Array, B: number, x: number, y: number): number {
  if (x < -0.5 || y < -0.5 || x > B - 0.5 || y > B - 0.5) return 0; // outside: black, like a film edge
  const cx = Math.min(B - 1, Math.max(0, x));
  const cy = Math.min(B - 1, Math.max(0, y));
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(B - 1, x0 + 1);
  const y1 = Math.min(B - 1, y0 + 1);
  const fx = cx - x0;
  const fy = cy - y0;
  const a = src[y0 * B + x0];
  const b = src[y0 * B + x1];
  const c = src[y1 * B + x0];
  const d = src[y1 * B + x1];
  return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
}

function boxBlur3(img: Float32Array, S: number): void {
  const copy = img.slice();
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let acc = 0;
      let n = 0;
      for (let j = -1; j <= 1; j++) {
        const yy = y + j;
        if (yy < 0 || yy >= S) continue;
        for (let i = -1; i <= 1; i++) {
          const xx = x + i;
          if (xx < 0 || xx >= S) continue;
          acc += copy[yy * S + xx];
          n++;
        }
      }
      img[y * S + x] = acc / n;
    }
  }
}

function fillRect(img: Float32Array, S: number, x: number, y: number, w: number, h: number, value: number): void {
  const x1 = Math.min(S, x + w);
  const y1 = Math.min(S, y + h);
  for (let yy = Math.max(0, y); yy < y1; yy++) for (let xx = Math.max(0, x); xx < x1; xx++) img[yy * S + xx] = value;
}

// The shortcut audit's masks live in src/core/audit.ts (shared with the Evaluate page's worker).
export { applyAuditMask } from '../core/audit';
