// Pure helpers for drawing a Grad-CAM heatmap (no tfjs, no DOM): upsampling to the model input,
// projection over the original image (the model only saw a centred crop), the colour map, RGBA
// pixels for a canvas and the legend's gradient. Kept in src/image, apart from src/ml/gradcam.ts, so
// that the Classify page can draw heatmaps without pulling tfjs into its bundle; gradcam re-exports them.

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
  for (let y = 0; y < outH; y++) {
    const fy = Math.min(height - 1, Math.max(0, ((y + 0.5) * height) / outH - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = Math.min(width - 1, Math.max(0, ((x + 0.5) * width) / outW - 0.5));
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
