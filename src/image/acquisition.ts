// Re-acquisition of a whole film: the same X-ray as another hospital's scanner, export path or PACS
// would deliver it (lower contrast, a low-resolution lossy export, another display gamma, a slightly
// rotated film, tubes and wires, corner markers, other crop margins). Pure pixel code on gray images
// at their own resolution, before the preprocessing, so that every variant goes through the one
// pipeline exactly as a user's file would.
//   ACQUISITION_VARIANTS: the fixed variants `npm run evaluate:shift` measures on the test split.
//   randomReacquisition:  random mixtures of the same families (other parameters), used by
//                         scripts/fit-ood.ts so that an export style is not "not a chest X-ray".
import type { Rng } from '../core/random';
import { createRng } from '../core/random';
import type { GrayImage } from './preprocess';
import { applyGamma, areaDownscale, bilinearResize, boxBlur, drawLines, jpegRoundTrip, scaleContrast, unsharp } from './degrade';

export interface AcquisitionVariant {
  id: string;
  description: string;
  /** Deterministic for a given image and seed. */
  apply(gray: GrayImage, seed: number): GrayImage;
}

const toFloat = (g: GrayImage) => Float32Array.from(g.data);
const fromFloat = (v: Float32Array, width: number, height: number): GrayImage => {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(v[i])));
  return { width, height, data };
};
const mapPixels = (g: GrayImage, f: (v: Float32Array) => Float32Array): GrayImage => fromFloat(f(toFloat(g)), g.width, g.height);

/** Shorter side to `side` px (area), JPEG at `quality`: a low-resolution lossy export as it reaches the user. */
export function lowResolutionExport(g: GrayImage, side: number, quality: number): GrayImage {
  const s = Math.min(1, side / Math.min(g.width, g.height));
  const w = Math.max(8, Math.round(g.width * s));
  const h = Math.max(8, Math.round(g.height * s));
  const small = s < 1 ? areaDownscale(toFloat(g), g.width, g.height, w, h) : toFloat(g);
  return fromFloat(jpegRoundTrip(small, w, h, quality), w, h);
}

/** Rotation by `degrees` about the centre (bilinear), corners outside the film black. */
export function rotateGray(g: GrayImage, degrees: number): GrayImage {
  const { width: w, height: h, data } = g;
  const t = (degrees * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = x + 0.5 - w / 2;
      const dy = y + 0.5 - h / 2;
      const sx = c * dx + s * dy + w / 2 - 0.5;
      const sy = -s * dx + c * dy + h / 2 - 0.5;
      if (sx < -0.5 || sy < -0.5 || sx > w - 0.5 || sy > h - 0.5) continue;
      const x0 = Math.max(0, Math.min(w - 1, Math.floor(sx)));
      const y0 = Math.max(0, Math.min(h - 1, Math.floor(sy)));
      const x1 = Math.min(w - 1, x0 + 1);
      const y1 = Math.min(h - 1, y0 + 1);
      const fx = Math.max(0, Math.min(1, sx - x0));
      const fy = Math.max(0, Math.min(1, sy - y0));
      out[y * w + x] = (data[y0 * w + x0] * (1 - fx) + data[y0 * w + x1] * fx) * (1 - fy) + (data[y1 * w + x0] * (1 - fx) + data[y1 * w + x1] * fx) * fy;
    }
  }
  return fromFloat(out, w, h);
}

/** Burned-in corner markers: a side letter block, a date strip and a ruler-like tick row. */
export function cornerMarkers(g: GrayImage, rng: Rng): GrayImage {
  const { width: w, height: h } = g;
  const out = Uint8Array.from(g.data);
  const side = Math.min(w, h);
  const rect = (x0: number, y0: number, rw: number, rh: number, v: number) => {
    for (let y = Math.max(0, Math.round(y0)); y < Math.min(h, Math.round(y0 + rh)); y++)
      for (let x = Math.max(0, Math.round(x0)); x < Math.min(w, Math.round(x0 + rw)); x++) out[y * w + x] = v;
  };
  // An "L"/"R" letter: two strokes, in the top-left or top-right corner.
  const m = side * 0.04;
  const letter = side * (0.06 + 0.03 * rng.next());
  const lx = rng.next() < 0.5 ? m : w - m - letter;
  rect(lx, m, letter * 0.25, letter, 250);
  rect(lx, m + letter * 0.75, letter * 0.8, letter * 0.25, 250);
  // A text strip (date / accession-like) along the bottom-left, made of short bars.
  const bars = 6 + rng.int(6);
  for (let k = 0; k < bars; k++) rect(m + k * side * 0.025, h - m - side * 0.03, side * 0.018, side * 0.03, rng.next() < 0.8 ? 245 : 10);
  // Ticks along the top-right (a ruler).
  for (let k = 0; k < 8; k++) rect(w - m - side * 0.25 + k * side * 0.03, m * 0.5, side * 0.006, side * (k % 2 ? 0.015 : 0.03), 240);
  return { width: w, height: h, data: out };
}

/** Keeps the centred `fraction` of each side (a tighter collimation or crop). */
export function cropCentre(g: GrayImage, fraction: number): GrayImage {
  const w = Math.max(8, Math.round(g.width * fraction));
  const h = Math.max(8, Math.round(g.height * fraction));
  const x0 = Math.floor((g.width - w) / 2);
  const y0 = Math.floor((g.height - h) / 2);
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) data.set(g.data.subarray((y + y0) * g.width + x0, (y + y0) * g.width + x0 + w), y * w);
  return { width: w, height: h, data };
}

/** Adds a black margin of `fraction` of each side around the film (a wider field, a scanned film). */
export function padBlack(g: GrayImage, fraction: number): GrayImage {
  const px = Math.round(g.width * fraction);
  const py = Math.round(g.height * fraction);
  const w = g.width + 2 * px;
  const h = g.height + 2 * py;
  const data = new Uint8Array(w * h);
  for (let y = 0; y < g.height; y++) data.set(g.data.subarray(y * g.width, (y + 1) * g.width), (y + py) * w + px);
  return { width: w, height: h, data };
}

/** Downscale-then-enlarge to the original size at `side` px shorter side (a soft upscaled export). */
export function softUpscale(g: GrayImage, side: number): GrayImage {
  const s = Math.min(1, side / Math.min(g.width, g.height));
  const w = Math.max(8, Math.round(g.width * s));
  const h = Math.max(8, Math.round(g.height * s));
  const small = areaDownscale(toFloat(g), g.width, g.height, w, h);
  return fromFloat(bilinearResize(small, w, h, g.width, g.height), g.width, g.height);
}

/** The fixed variants of the acquisition-shift evaluation (scripts/evaluate-shift.ts). */
export const ACQUISITION_VARIANTS: readonly AcquisitionVariant[] = [
  {
    id: 'low-contrast',
    description: 'contrast × 0.5 about the mean, brightened by 20 levels (washed-out film)',
    apply: (g) => mapPixels(g, (v) => scaleContrast(v, 0.5, 20)),
  },
  { id: 'export-224-q40', description: 'shorter side 224 px, JPEG quality 40 (a PACS/web export)', apply: (g) => lowResolutionExport(g, 224, 40) },
  { id: 'export-128-q20', description: 'shorter side 128 px, JPEG quality 20 (a thumbnail-grade export)', apply: (g) => lowResolutionExport(g, 128, 20) },
  { id: 'soft-upscale-160', description: 'reduced to 160 px and enlarged back (a soft, upscaled copy)', apply: (g) => softUpscale(g, 160) },
  { id: 'gamma-0.6', description: 'display gamma 0.6 (brighter mid-tones)', apply: (g) => mapPixels(g, (v) => applyGamma(v, 0.6)) },
  { id: 'gamma-1.6', description: 'display gamma 1.6 (darker mid-tones)', apply: (g) => mapPixels(g, (v) => applyGamma(v, 1.6)) },
  {
    id: 'sharpen',
    description: 'unsharp mask, amount 1 (edge-enhancing export filter)',
    apply: (g) => mapPixels(g, (v) => unsharp(v, g.width, g.height, 1, 1)),
  },
  { id: 'blur', description: 'box blur radius 1 (a softer detector)', apply: (g) => mapPixels(g, (v) => boxBlur(v, g.width, g.height, 1)) },
  { id: 'rotate-5', description: 'rotated by 5° (film placed askew)', apply: (g) => rotateGray(g, 5) },
  {
    id: 'lines',
    description: 'two bright curved lines (tubes, wires, ECG leads)',
    apply: (g, seed) => {
      const v = toFloat(g);
      drawLines(v, g.width, g.height, 2, createRng(seed));
      return fromFloat(v, g.width, g.height);
    },
  },
  {
    id: 'corner-markers',
    description: 'burned-in side letter, text strip and ruler ticks in the corners',
    apply: (g, seed) => cornerMarkers(g, createRng(seed)),
  },
  { id: 'crop-tight', description: 'only the centred 85 % of each side (tighter collimation)', apply: (g) => cropCentre(g, 0.85) },
  { id: 'crop-wide', description: 'a black margin of 8 % of each side around the film (wider field)', apply: (g) => padBlack(g, 0.08) },
];

/**
 * One random re-acquisition: one or two of the variant families with random parameters (other values
 * than ACQUISITION_VARIANTS uses). For fitting the OOD detector on how real films vary.
 */
export function randomReacquisition(g: GrayImage, rng: Rng): GrayImage {
  const u = (a: number, b: number) => a + (b - a) * rng.next();
  const steps: ((x: GrayImage) => GrayImage)[] = [
    (x) => mapPixels(x, (v) => scaleContrast(v, u(0.4, 0.9), u(-25, 25))),
    (x) => lowResolutionExport(x, u(100, 240), u(15, 80)),
    (x) => softUpscale(x, u(110, 200)),
    (x) => mapPixels(x, (v) => applyGamma(v, u(0.5, 1.8))),
    (x) => mapPixels(x, (v) => unsharp(v, x.width, x.height, u(0.4, 1.5), 1)),
    (x) => mapPixels(x, (v) => boxBlur(v, x.width, x.height, 1 + rng.int(2))),
    (x) => rotateGray(x, u(-8, 8)),
    (x) => {
      const v = toFloat(x);
      drawLines(v, x.width, x.height, 1 + rng.int(3), rng);
      return fromFloat(v, x.width, x.height);
    },
    (x) => cornerMarkers(x, rng),
    (x) => cropCentre(x, u(0.8, 0.95)),
    (x) => padBlack(x, u(0.03, 0.12)),
  ];
  let out = g;
  const n = 1 + rng.int(2);
  for (let k = 0; k < n; k++) out = steps[rng.int(steps.length)](out);
  return out;
}

/**
 * The images an OOD fit sees: every original, then `copies` random re-acquisitions of each (seeded).
 * scripts/fit-ood.ts and the image-check tests use this, so both fit on the same mixture.
 */
export function withReacquired<T>(items: readonly T[], grayOf: (x: T) => GrayImage, withGray: (x: T, g: GrayImage) => T, copies: number, seed: number): T[] {
  const rng = createRng(seed);
  const out = [...items];
  for (let c = 0; c < copies; c++) for (const x of items) out.push(withGray(x, randomReacquisition(grayOf(x), rng)));
  return out;
}
