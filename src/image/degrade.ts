// Pixel degradations that imitate how films differ between hospitals and export paths: resolution
// round-trips (a 224-px export enlarged again), lossy JPEG re-encoding, blur and sharpening, smooth
// illumination changes that global histogram equalisation cannot undo, and bright lines (tubes,
// wires, ECG leads). Pure array code on square 0..255 float images (the model input before contrast
// normalisation), shared by the training augmentation (augment.ts), the acquisition-shift variants of
// the evaluation and the OOD fit (acquisition.ts), in Node and in the browser alike.
import * as jpegNs from 'jpeg-js';
import type { Rng } from '../core/random';
import { upsampleHeatmap } from './heatmap';

type JpegModule = typeof import('jpeg-js');
// jpeg-js is CommonJS: named exports under Node's ESM loader, a default export under some bundlers.
const jpeg: JpegModule = ((jpegNs as unknown as { encode?: unknown }).encode ? jpegNs : (jpegNs as unknown as { default: JpegModule }).default) as JpegModule;

/** Area (box) downscale of a w×h float image to ow×oh (ow ≤ w, oh ≤ h). */
export function areaDownscale(src: Float32Array, w: number, h: number, ow: number, oh: number): Float32Array {
  const out = new Float32Array(ow * oh);
  const sx = w / ow;
  const sy = h / oh;
  for (let oy = 0; oy < oh; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < ow; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      let acc = 0;
      let wsum = 0;
      for (let y = Math.floor(y0); y < Math.min(h, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        if (wy <= 0) continue;
        for (let x = Math.floor(x0); x < Math.min(w, Math.ceil(x1)); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          if (wx <= 0) continue;
          acc += wx * wy * src[y * w + x];
          wsum += wx * wy;
        }
      }
      out[oy * ow + ox] = wsum > 0 ? acc / wsum : 0;
    }
  }
  return out;
}

/** Bilinear resize (pixel centres aligned): the same function that enlarges Grad-CAM maps. */
export const bilinearResize = upsampleHeatmap;

/** Downscale by `factor` (0 < factor < 1) and enlarge back: the softness of a low-resolution export. */
export function resolutionRoundTrip(img: Float32Array, w: number, h: number, factor: number): Float32Array {
  const ow = Math.max(4, Math.round(w * factor));
  const oh = Math.max(4, Math.round(h * factor));
  return bilinearResize(areaDownscale(img, w, h, ow, oh), ow, oh, w, h);
}

/** Encodes as a grey JPEG at `quality` (1–100) with jpeg-js and decodes it again. */
export function jpegRoundTrip(img: Float32Array, w: number, h: number, quality: number): Float32Array {
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const v = Math.max(0, Math.min(255, Math.round(img[i])));
    rgba[4 * i] = v;
    rgba[4 * i + 1] = v;
    rgba[4 * i + 2] = v;
    rgba[4 * i + 3] = 255;
  }
  const encoded = jpeg.encode({ data: rgba, width: w, height: h }, Math.max(1, Math.min(100, Math.round(quality))));
  const decoded = jpeg.decode(new Uint8Array(encoded.data), { useTArray: true, formatAsRGBA: true });
  const out = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) out[i] = decoded.data[4 * i];
  return out;
}

/** Separable box blur of radius r (r ≥ 1), edges clamped. */
export function boxBlur(img: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += img[y * w + Math.min(w - 1, Math.max(0, x + k))];
      tmp[y * w + x] = acc / (2 * r + 1);
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += tmp[Math.min(h - 1, Math.max(0, y + k)) * w + x];
      out[y * w + x] = acc / (2 * r + 1);
    }
  }
  return out;
}

/** Unsharp mask: img + amount · (img − blur(img)), clamped to 0..255 (sharpening filters of some exports). */
export function unsharp(img: Float32Array, w: number, h: number, amount: number, r = 1): Float32Array {
  const blurred = boxBlur(img, w, h, r);
  const out = new Float32Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = clamp255(img[i] + amount * (img[i] - blurred[i]));
  return out;
}

/**
 * Smooth illumination change: a linear ramp of `amplitude` grey levels across the image in direction
 * `angle` (radians) plus a radial term (`vignette` levels darker at the corners). Histogram
 * equalisation is global, so unlike gamma or contrast this survives the preprocessing.
 */
export function illumination(img: Float32Array, w: number, h: number, amplitude: number, angle: number, vignette: number): Float32Array {
  const out = new Float32Array(w * h);
  const ca = Math.cos(angle);
  const sa = Math.sin(angle);
  for (let y = 0; y < h; y++) {
    const dy = (y + 0.5) / h - 0.5;
    for (let x = 0; x < w; x++) {
      const dx = (x + 0.5) / w - 0.5;
      const ramp = amplitude * (dx * ca + dy * sa);
      const radial = vignette * 2 * (dx * dx + dy * dy);
      out[y * w + x] = clamp255(img[y * w + x] + ramp - radial);
    }
  }
  return out;
}

/** Linear contrast about the mean: factor < 1 flattens (a washed-out film). */
export function scaleContrast(img: Float32Array, factor: number, offset = 0): Float32Array {
  let mean = 0;
  for (const v of img) mean += v;
  mean /= img.length || 1;
  const out = new Float32Array(img.length);
  for (let i = 0; i < img.length; i++) out[i] = clamp255(mean + (img[i] - mean) * factor + offset);
  return out;
}

/** Power-law grey mapping (display gamma of another export path). */
export function applyGamma(img: Float32Array, gamma: number): Float32Array {
  const out = new Float32Array(img.length);
  for (let i = 0; i < img.length; i++) out[i] = 255 * Math.pow(Math.max(0, img[i]) / 255, gamma);
  return out;
}

/**
 * Draws `count` bright curved lines (quadratic Bézier), as tubes, lines and wires look on a film, in
 * place. Widths and positions scale with the image; `rng` picks everything.
 */
export function drawLines(img: Float32Array, w: number, h: number, count: number, rng: Rng): void {
  const side = Math.min(w, h);
  for (let k = 0; k < count; k++) {
    const p0 = [rng.next() * w, rng.next() < 0.5 ? 0 : rng.next() * h];
    const p2 = [rng.next() * w, h * (0.5 + 0.5 * rng.next())];
    const p1 = [(p0[0] + p2[0]) / 2 + (rng.next() - 0.5) * w * 0.6, (p0[1] + p2[1]) / 2 + (rng.next() - 0.5) * h * 0.3];
    const width = Math.max(0.6, side * (0.004 + 0.01 * rng.next()));
    const value = 200 + 55 * rng.next();
    const alpha = 0.5 + 0.5 * rng.next();
    const steps = Math.ceil(side * 2);
    for (let s = 0; s <= steps; s++) {
      const t = s / steps;
      const x = (1 - t) * (1 - t) * p0[0] + 2 * (1 - t) * t * p1[0] + t * t * p2[0];
      const y = (1 - t) * (1 - t) * p0[1] + 2 * (1 - t) * t * p1[1] + t * t * p2[1];
      const r = Math.ceil(width);
      for (let yy = Math.floor(y - r); yy <= Math.ceil(y + r); yy++) {
        if (yy < 0 || yy >= h) continue;
        for (let xx = Math.floor(x - r); xx <= Math.ceil(x + r); xx++) {
          if (xx < 0 || xx >= w) continue;
          const d = Math.hypot(xx + 0.5 - x, yy + 0.5 - y);
          if (d > width) continue;
          const i = yy * w + xx;
          img[i] = Math.max(img[i], img[i] * (1 - alpha) + value * alpha);
        }
      }
    }
  }
}

/** Gaussian noise of standard deviation `sigma` grey levels. */
export function addNoise(img: Float32Array, sigma: number, rng: Rng): Float32Array {
  const out = new Float32Array(img.length);
  for (let i = 0; i < img.length; i++) out[i] = clamp255(img[i] + sigma * rng.normal());
  return out;
}

export function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}
