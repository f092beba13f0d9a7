// Out-of-distribution ("is this a frontal chest X-ray at all?") statistics and scoring. Pure TS (no
// tfjs, no DOM): the Node fitting script, the browser worker and the tests share every number.
//
// Two kinds of evidence are combined (src/image/features.ts computes the inputs):
// 1. Embedding distance: Mahalanobis distance of the model's pooled embedding to the nearest class
//    mean, with one shared (tied) covariance shrunk towards a scaled identity (Ledoit–Wolf). Means and
//    covariance come from the training split; the threshold is a high percentile of the validation
//    split's distances.
// 2. Image checks: cheap statistics of the decoded image (colour, contrast, texture, symmetry, layout,
//    histogram shape), each with a limit fitted on the training split's quantiles (colour has fixed
//    limits: the training X-rays are all greyscale, so there is nothing to fit).
// Nothing here is ever fitted on the OOD evaluation set.

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/** Percentile p ∈ [0, 100] with linear interpolation between order statistics (NumPy's default). */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) throw new RangeError('percentile: no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be in [0, 100], got ${p}`);
  const sorted = Float64Array.from(values).sort();
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

export interface ShrunkCovariance {
  /** p×p, row-major. */
  covariance: Float64Array;
  /** Ledoit–Wolf shrinkage intensity δ ∈ [0, 1]: Σ = δ·μ·I + (1 − δ)·S. */
  shrinkage: number;
  /** μ = trace(S) / p, the scale of the identity target. */
  target: number;
}

/**
 * Ledoit–Wolf (2004) covariance of already centred rows (n × p): the sample covariance S = XᵀX / n
 * shrunk towards μ·I with the intensity that minimises the expected Frobenius loss,
 * δ = min(b̄², d²) / d², d² = ‖S − μI‖²_F, b̄² = (1/n²) Σ_k ‖x_k x_kᵀ − S‖²_F (as scikit-learn's
 * ledoit_wolf with assume_centered=True). Pass `shrinkage` to force δ instead.
 */
export function ledoitWolf(centred: ArrayLike<number>[], p: number, shrinkage?: number): ShrunkCovariance {
  const n = centred.length;
  if (n === 0) throw new RangeError('ledoitWolf: no samples');
  const s = new Float64Array(p * p);
  for (const x of centred) {
    if (x.length !== p) throw new RangeError(`ledoitWolf: a row has ${x.length} values, expected ${p}`);
    for (let i = 0; i < p; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      const row = i * p;
      for (let j = i; j < p; j++) s[row + j] += xi * x[j];
    }
  }
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      s[i * p + j] /= n;
      s[j * p + i] = s[i * p + j];
    }
  }
  let trace = 0;
  for (let i = 0; i < p; i++) trace += s[i * p + i];
  const mu = trace / p;
  let delta: number;
  if (shrinkage !== undefined) {
    delta = shrinkage;
  } else {
    let d2 = 0;
    let sNorm2 = 0;
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        const v = s[i * p + j];
        sNorm2 += v * v;
        const dv = v - (i === j ? mu : 0);
        d2 += dv * dv;
      }
    }
    // Σ_k ‖x xᵀ − S‖² = Σ_k (‖x‖⁴ − 2 xᵀSx) + n‖S‖².
    let sum = 0;
    const sx = new Float64Array(p);
    for (const x of centred) {
      let norm2 = 0;
      for (let i = 0; i < p; i++) norm2 += x[i] * x[i];
      let quad = 0;
      for (let i = 0; i < p; i++) {
        let acc = 0;
        const row = i * p;
        for (let j = 0; j < p; j++) acc += s[row + j] * x[j];
        sx[i] = acc;
        quad += x[i] * acc;
      }
      sum += norm2 * norm2 - 2 * quad + sNorm2;
    }
    const b2bar = sum / (n * n);
    delta = d2 === 0 ? 1 : Math.min(b2bar, d2) / d2;
  }
  if (!(delta >= 0 && delta <= 1)) throw new RangeError(`ledoitWolf: shrinkage must be in [0, 1], got ${delta}`);
  const cov = new Float64Array(p * p);
  for (let i = 0; i < p * p; i++) cov[i] = (1 - delta) * s[i];
  for (let i = 0; i < p; i++) cov[i * p + i] += delta * mu;
  return { covariance: cov, shrinkage: delta, target: mu };
}

/** Inverse of a symmetric positive-definite p×p matrix (Cholesky). Throws when it is not SPD. */
export function invertSpd(matrix: ArrayLike<number>, p: number): Float64Array {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i * p + j];
      for (let k = 0; k < j; k++) sum -= l[i * p + k] * l[j * p + k];
      if (i === j) {
        if (!(sum > 0)) throw new RangeError('invertSpd: matrix is not positive definite');
        l[i * p + i] = Math.sqrt(sum);
      } else {
        l[i * p + j] = sum / l[j * p + j];
      }
    }
  }
  // inv(L) (lower triangular), then A⁻¹ = inv(L)ᵀ inv(L).
  const li = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    li[i * p + i] = 1 / l[i * p + i];
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum -= l[i * p + k] * li[k * p + j];
      li[i * p + j] = sum / l[i * p + i];
    }
  }
  const inv = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = i; k < p; k++) sum += li[k * p + i] * li[k * p + j];
      inv[i * p + j] = sum;
      inv[j * p + i] = sum;
    }
  }
  return inv;
}

/** √((x − m)ᵀ P (x − m)) for a full p×p precision matrix P. */
export function mahalanobis(x: ArrayLike<number>, mean: ArrayLike<number>, precision: ArrayLike<number>, p: number): number {
  const d = new Float64Array(p);
  for (let i = 0; i < p; i++) d[i] = x[i] - mean[i];
  let q = 0;
  for (let i = 0; i < p; i++) {
    let acc = 0;
    const row = i * p;
    for (let j = 0; j < p; j++) acc += precision[row + j] * d[j];
    q += d[i] * acc;
  }
  return Math.sqrt(Math.max(0, q));
}

export interface TiedGaussians {
  dim: number;
  /** One mean per class (rows). */
  means: Float64Array[];
  /** Inverse of the shared shrunk covariance, p×p row-major. */
  precision: Float64Array;
  shrinkage: number;
  counts: number[];
}

/**
 * Class-conditional Gaussians with one shared covariance (Lee et al. 2018): class means, then a
 * Ledoit–Wolf covariance of the within-class residuals. Classes without samples are left out.
 */
/** Per-class means of the samples (rows of p numbers) and how many samples each class has. */
export function classMeans(samples: ArrayLike<number>[], labels: number[], nClasses: number, what = 'classMeans'): { means: Float64Array[]; counts: number[] } {
  if (samples.length === 0) throw new RangeError(`${what}: no samples`);
  if (samples.length !== labels.length) throw new RangeError(`${what}: samples and labels differ in length`);
  const p = samples[0].length;
  const sums = Array.from({ length: nClasses }, () => new Float64Array(p));
  const counts = new Array<number>(nClasses).fill(0);
  samples.forEach((x, k) => {
    const c = labels[k];
    if (!Number.isInteger(c) || c < 0 || c >= nClasses) throw new RangeError(`${what}: label ${c} at ${k} is not a class index`);
    counts[c]++;
    for (let i = 0; i < p; i++) sums[c][i] += x[i];
  });
  return { means: sums.map((s, c) => s.map((v) => v / Math.max(1, counts[c]))), counts };
}

export function fitTiedGaussians(samples: ArrayLike<number>[], labels: number[], nClasses: number, shrinkage?: number): TiedGaussians {
  const { means, counts } = classMeans(samples, labels, nClasses, 'fitTiedGaussians');
  const p = samples[0].length;
  const centred = samples.map((x, k) => {
    const m = means[labels[k]];
    const r = new Float64Array(p);
    for (let i = 0; i < p; i++) r[i] = x[i] - m[i];
    return r;
  });
  const lw = ledoitWolf(centred, p, shrinkage);
  const present = means.filter((_, c) => counts[c] > 0);
  return { dim: p, means: present, precision: invertSpd(lw.covariance, p), shrinkage: lw.shrinkage, counts: counts.filter((n) => n > 0) };
}

/** Distance to the nearest class mean, and that class's index among `means`. */
export function nearestMahalanobis(
  x: ArrayLike<number>,
  g: { means: ArrayLike<number>[]; precision: ArrayLike<number>; dim: number },
): { distance: number; index: number } {
  let best = Infinity;
  let index = -1;
  g.means.forEach((m, c) => {
    const d = mahalanobis(x, m, g.precision, g.dim);
    if (d < best) {
      best = d;
      index = c;
    }
  });
  return { distance: best, index };
}

// ---------------------------------------------------------------------------------------------
// Compact storage of the precision matrix in metadata.json
// ---------------------------------------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i];
    const b = i + 1 < bytes.length ? bytes[i + 1] : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2] : 0;
    const n = (a << 16) | (b << 8) | c;
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? B64[n & 63] : '=');
  }
  return out;
}

export function base64ToBytes(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 4 !== 0 || /[^A-Za-z0-9+/=]/.test(clean)) throw new RangeError('not base64');
  const pad = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((clean.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < clean.length; i += 4) {
    const v = [0, 1, 2, 3].map((k) => (clean[i + k] === '=' ? 0 : B64.indexOf(clean[i + k])));
    const n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

/** Upper triangle (row by row, diagonal included) of a symmetric p×p matrix as float32 LE base64. */
export function packSymmetric(matrix: ArrayLike<number>, p: number): string {
  const tri = new Float32Array((p * (p + 1)) / 2);
  let k = 0;
  for (let i = 0; i < p; i++) for (let j = i; j < p; j++) tri[k++] = matrix[i * p + j];
  const bytes = new Uint8Array(tri.length * 4);
  const dv = new DataView(bytes.buffer);
  tri.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return bytesToBase64(bytes);
}

export function unpackSymmetric(text: string, p: number): Float64Array {
  const bytes = base64ToBytes(text);
  const count = (p * (p + 1)) / 2;
  if (bytes.length !== count * 4) throw new RangeError(`packed matrix has ${bytes.length} bytes, expected ${count * 4} for ${p}×${p}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = new Float64Array(p * p);
  let k = 0;
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      const v = dv.getFloat32(k++ * 4, true);
      if (!Number.isFinite(v)) throw new RangeError('packed matrix holds a non-finite value');
      m[i * p + j] = v;
      m[j * p + i] = v;
    }
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Image features and checks
// ---------------------------------------------------------------------------------------------

/** Cheap statistics of a decoded image (computed by src/image/features.ts imageFeatures). */
export interface ImageFeatures {
  /** Fraction of pixels whose channel spread (max − min, 0..255) exceeds 32: strong colour. */
  colourFraction: number;
  /** Mean channel spread (0..255): tinted images. 0 for greyscale. */
  colourMean: number;
  /** Standard deviation (0..255) of the grey model crop (centre square, before equalisation). */
  contrast: number;
  /** Largest fraction of the crop within ±2 grey levels of one value (blank pages, flat fills). */
  dominantFraction: number;
  /** Fraction of the crop brighter than 235 (white paper). */
  brightFraction: number;
  /** Mean absolute difference of neighbouring crop pixels divided by the contrast (noise, text). */
  roughness: number;
  /** Correlation of the 32×32 crop with its left–right mirror image (frontal films are symmetric). */
  symmetry: number;
  /** Correlation of the standardised 16×16 crop with the training X-rays' mean layout (NaN without a template). */
  layout: number;
  /** Shannon entropy (bits) of the crop's 256-bin grey histogram. */
  entropy: number;
  /** |log2(width / height)| of the whole image. */
  aspect: number;
}

export const IMAGE_FEATURE_NAMES = [
  'colourFraction',
  'colourMean',
  'contrast',
  'dominantFraction',
  'brightFraction',
  'roughness',
  'symmetry',
  'layout',
  'entropy',
  'aspect',
] as const satisfies readonly (keyof ImageFeatures)[];

export type ImageFeatureName = (typeof IMAGE_FEATURE_NAMES)[number];

/** Side of the limit that counts as out of distribution. */
export type CheckSide = 'low' | 'high';

export interface ImageCheckSpec {
  feature: ImageFeatureName;
  side: CheckSide;
  limit: number;
  /** 'fitted': a quantile of the training split; 'fixed': a rule (no in-distribution variation to fit). */
  source: 'fitted' | 'fixed';
}

/** What a check's firing means, in words (the value and limit are appended). */
const CHECK_WORDS: Record<ImageFeatureName, Partial<Record<CheckSide, string>>> = {
  colourFraction: { high: 'colour image' },
  colourMean: { high: 'colour or tinted image' },
  contrast: { low: 'blank or nearly uniform image', high: 'harsher contrast than any training X-ray' },
  dominantFraction: { high: 'large flat area (blank page or fill)' },
  brightFraction: { high: 'mostly white (like a document or screenshot)' },
  roughness: { high: 'noise-like or text-like texture' },
  symmetry: { low: 'not left–right symmetric like a frontal chest film' },
  layout: { low: 'layout unlike a frontal chest X-ray' },
  entropy: { low: 'too few grey levels', high: 'grey levels spread like noise' },
  aspect: { high: 'extreme aspect ratio' },
};

export function describeCheck(feature: ImageFeatureName, side: CheckSide): string {
  return CHECK_WORDS[feature][side] ?? `${feature} too ${side}`;
}

// ---------------------------------------------------------------------------------------------
// Schema (metadata.json → trust.ood)
// ---------------------------------------------------------------------------------------------

export interface OodEmbeddingStats {
  /** Layer whose output is scored (the model's pooled embedding). */
  layer: string;
  dim: number;
  /** Class means in metadata.classNames order (rows of `dim` numbers). */
  means: number[][];
  /** Packed upper triangle of the shared precision matrix, float32 little-endian, base64 (packSymmetric). */
  precision: string;
  /** Ledoit–Wolf shrinkage intensity used. */
  shrinkage: number;
  /** Distances above this are flagged: `percentile` of the validation split's distances. */
  threshold: number;
  percentile: number;
}

/**
 * Pixel-space Gaussian: the model input (equalised, masked) block-averaged to size×size, scored like
 * the embedding (class means + shared Ledoit–Wolf precision, threshold = val percentile). It sees the
 * coarse anatomy layout (two lung fields, mediastinum, diaphragm) independently of what the network
 * learned to attend to.
 */
export interface OodPixelStats {
  size: number;
  means: number[][];
  precision: string;
  shrinkage: number;
  threshold: number;
  percentile: number;
}

export interface OodStats {
  version: 1;
  embedding: OodEmbeddingStats;
  /** Optional pixel-space Gaussian on the model input (see OodPixelStats). */
  pixels?: OodPixelStats;
  /** Image checks; the image is flagged when any one fires. */
  imageChecks: ImageCheckSpec[];
  /** Mean standardised 16×16 crop of the training X-rays (row-major) for the `layout` feature. */
  layoutTemplate?: number[];
  /** Where the numbers came from (informational). */
  fit?: {
    tool?: string;
    command?: string;
    date?: string;
    manifestHash?: string;
    trainImages?: number;
    valImages?: number;
    /** Share of validation images flagged by each part and by all together. */
    valFlagged?: { embedding?: number; pixels?: number; image?: number; any?: number };
    [key: string]: unknown;
  };
}

export const LAYOUT_SIZE = 16;

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Checks parsed JSON against OodStats; returns a message naming the first problem, or null.
 * `classCount` (when given) must match the number of class means.
 */
export function oodStatsProblem(json: unknown, classCount?: number): string | null {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'must be an object';
  const s = json as Partial<OodStats>;
  if (s.version !== 1) return `unsupported version ${String(s.version)} (expected 1)`;
  const e = s.embedding;
  if (!e || typeof e !== 'object') return 'missing embedding';
  if (typeof e.layer !== 'string' || e.layer === '') return 'embedding.layer must name a layer';
  if (!Number.isInteger(e.dim) || e.dim < 1) return 'embedding.dim must be a positive integer';
  if (!Array.isArray(e.means) || e.means.length < 1) return 'embedding.means must list at least one mean';
  if (classCount !== undefined && e.means.length !== classCount) return `embedding.means has ${e.means.length} rows, expected one per class (${classCount})`;
  for (const [i, m] of e.means.entries()) {
    if (!Array.isArray(m) || m.length !== e.dim || !m.every(isFiniteNumber)) return `embedding.means[${i}] must hold ${e.dim} finite numbers`;
  }
  if (typeof e.precision !== 'string') return 'embedding.precision must be a base64 string';
  try {
    unpackSymmetric(e.precision, e.dim);
  } catch (err) {
    return `embedding.precision: ${(err as Error).message}`;
  }
  if (!isFiniteNumber(e.shrinkage) || e.shrinkage < 0 || e.shrinkage > 1) return 'embedding.shrinkage must be in [0, 1]';
  if (!isFiniteNumber(e.threshold) || e.threshold <= 0) return 'embedding.threshold must be a positive number';
  if (!isFiniteNumber(e.percentile) || e.percentile < 0 || e.percentile > 100) return 'embedding.percentile must be in [0, 100]';
  if (s.pixels !== undefined) {
    const px = s.pixels;
    if (!px || typeof px !== 'object') return 'pixels must be an object';
    if (!Number.isInteger(px.size) || px.size < 2 || px.size > 64) return 'pixels.size must be an integer in 2..64';
    const dim = px.size * px.size;
    if (!Array.isArray(px.means) || px.means.length < 1) return 'pixels.means must list at least one mean';
    if (classCount !== undefined && px.means.length !== classCount) return `pixels.means has ${px.means.length} rows, expected one per class (${classCount})`;
    for (const [i, m] of px.means.entries())
      if (!Array.isArray(m) || m.length !== dim || !m.every(isFiniteNumber)) return `pixels.means[${i}] must hold ${dim} finite numbers`;
    if (typeof px.precision !== 'string') return 'pixels.precision must be a base64 string';
    try {
      unpackSymmetric(px.precision, dim);
    } catch (err) {
      return `pixels.precision: ${(err as Error).message}`;
    }
    if (!isFiniteNumber(px.shrinkage) || px.shrinkage < 0 || px.shrinkage > 1) return 'pixels.shrinkage must be in [0, 1]';
    if (!isFiniteNumber(px.threshold) || px.threshold <= 0) return 'pixels.threshold must be a positive number';
    if (!isFiniteNumber(px.percentile) || px.percentile < 0 || px.percentile > 100) return 'pixels.percentile must be in [0, 100]';
  }
  if (!Array.isArray(s.imageChecks)) return 'imageChecks must be an array';
  for (const [i, c] of s.imageChecks.entries()) {
    if (!c || typeof c !== 'object') return `imageChecks[${i}] must be an object`;
    if (!(IMAGE_FEATURE_NAMES as readonly string[]).includes(c.feature))
      return `imageChecks[${i}].feature '${String(c.feature)}' is not one of ${IMAGE_FEATURE_NAMES.join(', ')}`;
    if (c.side !== 'low' && c.side !== 'high') return `imageChecks[${i}].side must be 'low' or 'high'`;
    if (!isFiniteNumber(c.limit)) return `imageChecks[${i}].limit must be a finite number`;
    if (c.source !== 'fitted' && c.source !== 'fixed') return `imageChecks[${i}].source must be 'fitted' or 'fixed'`;
  }
  if (s.layoutTemplate !== undefined) {
    if (!Array.isArray(s.layoutTemplate) || s.layoutTemplate.length !== LAYOUT_SIZE * LAYOUT_SIZE || !s.layoutTemplate.every(isFiniteNumber)) {
      return `layoutTemplate must hold ${LAYOUT_SIZE * LAYOUT_SIZE} finite numbers`;
    }
  }
  if (s.imageChecks.some((c) => c.feature === 'layout') && !s.layoutTemplate) return "a 'layout' check needs layoutTemplate";
  if (s.fit !== undefined && (typeof s.fit !== 'object' || s.fit === null)) return 'fit must be an object';
  return null;
}

// ---------------------------------------------------------------------------------------------
// Scoring
// ---------------------------------------------------------------------------------------------

export interface OodCheckResult {
  /** 'embedding', 'pixels', an image feature name, or 'header' (the DICOM header says so; value and limit are NaN). */
  id: 'embedding' | 'pixels' | 'header' | ImageFeatureName;
  side: CheckSide;
  value: number;
  limit: number;
  fired: boolean;
  /** Human-readable reason (shown when fired). */
  reason: string;
}

/**
 * Verdict of the out-of-distribution detector for one image. Attached to every classification as
 * `Prediction.ood` (src/ml/classifier.ts) when the model's metadata has trust.ood; in the browser the
 * page reads it as `result.prediction.ood`.
 */
export interface OodResult {
  /** True when any check fires: the embedding distance exceeds its threshold, or an image check. */
  flagged: boolean;
  /** Mahalanobis distance of the embedding to the nearest training class mean (the main score). */
  score: number;
  /** Distance above which the embedding check fires (a high percentile of validation distances). */
  threshold: number;
  /** One line per fired check, e.g. "colour image", "unlike the training X-rays (distance 41.2 > 30.5)". */
  reasons: string[];
  /** Every check that was evaluated (image checks are absent when the decoded image was not available, 'pixels' when the model input was not). */
  checks: OodCheckResult[];
}

function fmtValue(v: number): string {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/** Parsed trust.ood ready for scoring (precision unpacked once). */
export class OodScorer {
  readonly precision: Float64Array;
  readonly means: Float64Array[];
  private readonly pixelModel: { means: Float64Array[]; precision: Float64Array; dim: number } | null;

  constructor(readonly stats: OodStats) {
    const problem = oodStatsProblem(stats);
    if (problem) throw new RangeError(`trust.ood: ${problem}`);
    this.precision = unpackSymmetric(stats.embedding.precision, stats.embedding.dim);
    this.means = stats.embedding.means.map((m) => Float64Array.from(m));
    const px = stats.pixels;
    this.pixelModel = px
      ? { means: px.means.map((m) => Float64Array.from(m)), precision: unpackSymmetric(px.precision, px.size * px.size), dim: px.size * px.size }
      : null;
  }

  /** Distance of a pixel vector (pixelVector of the model input) to the pixel-space class means; null without trust.ood.pixels. */
  pixelDistance(vector: ArrayLike<number>): number | null {
    if (!this.pixelModel) return null;
    if (vector.length !== this.pixelModel.dim)
      throw new RangeError(`pixel vector has ${vector.length} values, trust.ood.pixels expects ${this.pixelModel.dim}`);
    return nearestMahalanobis(vector, this.pixelModel).distance;
  }

  get threshold(): number {
    return this.stats.embedding.threshold;
  }

  /** Distance of an embedding to the nearest class mean. */
  distance(embedding: ArrayLike<number>): number {
    if (embedding.length !== this.stats.embedding.dim)
      throw new RangeError(`embedding has ${embedding.length} values, trust.ood expects ${this.stats.embedding.dim}`);
    return nearestMahalanobis(embedding, { means: this.means, precision: this.precision, dim: this.stats.embedding.dim }).distance;
  }

  /** Image checks alone (NaN features, e.g. layout without a template, never fire). */
  imageChecks(features: ImageFeatures): OodCheckResult[] {
    return this.stats.imageChecks.map((c) => {
      const value = features[c.feature];
      const fired = Number.isFinite(value) && (c.side === 'high' ? value > c.limit : value < c.limit);
      const words = describeCheck(c.feature, c.side);
      return {
        id: c.feature,
        side: c.side,
        value,
        limit: c.limit,
        fired,
        reason: `${words} (${c.feature} ${fmtValue(value)} ${c.side === 'high' ? '>' : '<'} ${fmtValue(c.limit)})`,
      };
    });
  }

  /** The full verdict from an embedding and (optionally) the decoded image's features and the model input. */
  score(embedding: ArrayLike<number>, features?: ImageFeatures, input?: ArrayLike<number>): OodResult {
    return this.scoreWith(embedding, features, input && this.stats.pixels ? pixelVector(input, this.stats.pixels.size) : undefined);
  }

  /** As score(), with the pixel vector (pixelVector of the model input) computed by the caller. */
  scoreWith(embedding: ArrayLike<number>, features?: ImageFeatures, pixels?: ArrayLike<number>): OodResult {
    const distance = this.distance(embedding);
    const threshold = this.threshold;
    const emb: OodCheckResult = {
      id: 'embedding',
      side: 'high',
      value: distance,
      limit: threshold,
      fired: !(distance <= threshold),
      reason: `unlike the training X-rays (distance ${fmtValue(distance)} > ${fmtValue(threshold)})`,
    };
    const checks = [...(features ? this.imageChecks(features) : []), emb];
    const pd = pixels ? this.pixelDistance(pixels) : null;
    if (pd !== null && this.stats.pixels) {
      const t = this.stats.pixels.threshold;
      checks.push({
        id: 'pixels',
        side: 'high',
        value: pd,
        limit: t,
        fired: !(pd <= t),
        reason: `anatomy layout unlike the training X-rays (pixel distance ${fmtValue(pd)} > ${fmtValue(t)})`,
      });
    }
    const fired = checks.filter((c) => c.fired);
    return { flagged: fired.length > 0, score: distance, threshold, reasons: fired.map((c) => c.reason), checks };
  }
}

/**
 * Block average of a square model input (row-major, side √length) to size×size: the pixel-space
 * OOD vector. Pure arithmetic so that fitting and scoring share it.
 */
export function pixelVector(input: ArrayLike<number>, size: number): Float64Array {
  const side = Math.round(Math.sqrt(input.length));
  if (side * side !== input.length || side < size) throw new RangeError(`pixelVector: input of ${input.length} values is not a square of side ≥ ${size}`);
  const sum = new Float64Array(size * size);
  const count = new Float64Array(size * size);
  for (let y = 0; y < side; y++) {
    const oy = Math.floor((y * size) / side);
    for (let x = 0; x < side; x++) {
      const o = oy * size + Math.floor((x * size) / side);
      sum[o] += input[y * side + x];
      count[o]++;
    }
  }
  for (let i = 0; i < sum.length; i++) sum[i] /= count[i];
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Fitting the image checks (in-distribution data only)
// ---------------------------------------------------------------------------------------------

/** Checks whose limits are fitted on the training X-rays (feature, side that is out of distribution). */
export const FITTED_CHECKS: readonly { feature: ImageFeatureName; side: CheckSide }[] = [
  { feature: 'contrast', side: 'low' },
  { feature: 'dominantFraction', side: 'high' },
  { feature: 'brightFraction', side: 'high' },
  { feature: 'roughness', side: 'high' },
  { feature: 'symmetry', side: 'low' },
  { feature: 'layout', side: 'low' },
  { feature: 'entropy', side: 'low' },
  { feature: 'entropy', side: 'high' },
  { feature: 'aspect', side: 'high' },
];

/**
 * Colour limits are fixed: the training X-rays are all greyscale (colourFraction = colourMean = 0), so
 * there is no spread to fit. An X-ray with a few coloured arrows (< 2 % of pixels) passes; a photo,
 * a coloured figure or a tinted scan does not.
 */
export const FIXED_CHECKS: readonly ImageCheckSpec[] = [
  { feature: 'colourFraction', side: 'high', limit: 0.02, source: 'fixed' },
  { feature: 'colourMean', side: 'high', limit: 8, source: 'fixed' },
];

export interface ImageCheckFitOptions {
  /** Tail quantile of the training values at which a limit sits (default 0.002 = 0.2 %). */
  quantile?: number;
  /** Extra room beyond the quantile, as a fraction of the 1st–99th percentile range (default 0.2). */
  margin?: number;
  /** Which fitted checks to use (default FITTED_CHECKS). */
  checks?: readonly { feature: ImageFeatureName; side: CheckSide }[];
}

/**
 * Limits for the image checks from in-distribution (training) features: for a 'high' check
 * Q(1 − q) + margin·(Q99 − Q1), for a 'low' check Q(q) − margin·(Q99 − Q1). Non-finite values
 * (e.g. symmetry of a constant image) are ignored. The fixed (colour) checks come first.
 */
export function fitImageChecks(features: ImageFeatures[], options: ImageCheckFitOptions = {}): ImageCheckSpec[] {
  const q = options.quantile ?? 0.002;
  const margin = options.margin ?? 0.2;
  const out: ImageCheckSpec[] = [];
  for (const { feature, side } of options.checks ?? FITTED_CHECKS) {
    const values = features.map((f) => f[feature]).filter((v) => Number.isFinite(v));
    if (values.length === 0) continue;
    const spread = percentile(values, 99) - percentile(values, 1);
    const limit = side === 'high' ? percentile(values, 100 * (1 - q)) + margin * spread : percentile(values, 100 * q) - margin * spread;
    out.push({ feature, side, limit, source: 'fitted' });
  }
  return [...FIXED_CHECKS.map((c) => ({ ...c })), ...out];
}

/** Mean of standardised layout vectors (each LAYOUT_SIZE²), re-standardised: the layout template. */
export function layoutTemplateFrom(vectors: ArrayLike<number>[]): number[] {
  const n = LAYOUT_SIZE * LAYOUT_SIZE;
  const sum = new Float64Array(n);
  for (const v of vectors) for (let i = 0; i < n; i++) sum[i] += v[i];
  let m = 0;
  for (const v of sum) m += v;
  m /= n;
  let s = 0;
  for (const v of sum) s += (v - m) * (v - m);
  s = Math.sqrt(s / n) || 1;
  return Array.from(sum, (v) => (v - m) / s);
}

// ---------------------------------------------------------------------------------------------
// A fine-tuned model's gate: the base network's, refitted on the fine-tuning images
// ---------------------------------------------------------------------------------------------

/** What the OOD gate needs of a set of images (src/ml/finetune-trust.ts computes it). */
export interface OodSamples {
  /** Pooled activations of the gate's layer (stats.embedding.layer), one row per image. */
  embeddings: ArrayLike<number>[];
  /** pixelVector of each model input at stats.pixels.size (needed when the gate has a pixel check). */
  pixels?: ArrayLike<number>[];
  /** Image features (imageFeaturesFrom with the gate's layout template). */
  features: ImageFeatures[];
  /** Class index per image, in the fine-tuned model's classNames order. */
  labels: number[];
}

export interface OodRefitOptions {
  /** Passed to fitImageChecks for the checks that must be widened (defaults as the shipped fit). */
  quantile?: number;
  margin?: number;
  /** Informational, copied into fit. */
  tool?: string;
  date?: string;
}

/**
 * The out-of-distribution gate of a fine-tuned model, from the base network's gate (`base`) and the
 * fine-tuning images. The backbone's features, and so the base gate's covariances (fitted on
 * thousands of films), stay valid; what changes is which classes the model knows, and the user's
 * images must pass. So:
 *   - the class means (embedding and pixel space) become the means of the new training images,
 *     with the base's shared precision matrices (a few dozen images cannot estimate a 48×48 or
 *     64×64 covariance; the base's is kept);
 *   - each distance threshold stays the base's unless a fine-tuning image (train or val) lies
 *     beyond it, in which case it moves out to the farthest such image (+ WIDEN_MARGIN);
 *   - each fitted image check keeps the base's limit unless a fine-tuning image fails it, in which
 *     case the limit is refitted on the fine-tuning images (fitImageChecks, same rule as the shipped
 *     fit); the fixed colour checks and the layout template stay as they are.
 * Every fine-tuning image therefore passes, except where a fixed colour check fires (counted in
 * fit.flaggedAfterRefit). fit records what the base gate made of the images and what was widened.
 */
/**
 * A widened distance threshold sits this factor beyond the farthest fine-tuning image, so that the
 * same film decoded by another decoder (±1 grey level: the Train page embeds with the browser's JPEG
 * decoder, the Classify page with jpeg-js) still passes.
 */
export const WIDEN_MARGIN = 1.02;

export function refitOodStats(base: OodStats, train: OodSamples, val: OodSamples, nClasses: number, options: OodRefitOptions = {}): OodStats {
  const problem = oodStatsProblem(base);
  if (problem) throw new RangeError(`refitOodStats: base gate: ${problem}`);
  const all: OodSamples = {
    embeddings: [...train.embeddings, ...val.embeddings],
    pixels: train.pixels && val.pixels ? [...train.pixels, ...val.pixels] : undefined,
    features: [...train.features, ...val.features],
    labels: [...train.labels, ...val.labels],
  };
  const n = all.embeddings.length;
  if (all.features.length !== n) throw new RangeError(`refitOodStats: ${n} embeddings but ${all.features.length} feature sets`);
  if (base.pixels && (!all.pixels || all.pixels.length !== n))
    throw new RangeError('refitOodStats: the base gate has a pixel-space check; pixel vectors are needed for every image');
  const baseScorer = new OodScorer(base);
  const before = all.embeddings.map((e, i) => baseScorer.scoreWith(e, all.features[i], all.pixels?.[i]));

  const emb = classMeans(train.embeddings, train.labels, nClasses, 'refitOodStats (embedding)');
  const missing = emb.counts.findIndex((c) => c === 0);
  if (missing >= 0) throw new RangeError(`refitOodStats: class ${missing} has no training image`);
  const widened: string[] = [];
  const stats: OodStats = {
    version: 1,
    embedding: { ...base.embedding, means: emb.means.map((m) => Array.from(m)) },
    imageChecks: base.imageChecks.map((c) => ({ ...c })),
    ...(base.layoutTemplate ? { layoutTemplate: [...base.layoutTemplate] } : {}),
  };
  if (base.pixels && train.pixels) {
    const px = classMeans(train.pixels, train.labels, nClasses, 'refitOodStats (pixels)');
    stats.pixels = { ...base.pixels, means: px.means.map((m) => Array.from(m)) };
  }
  // Thresholds with the new means, computed exactly as the app will (OodScorer on the stored numbers).
  const withMeans = new OodScorer(stats);
  const farthest = Math.max(...all.embeddings.map((e) => withMeans.distance(e)));
  if (farthest > stats.embedding.threshold) {
    stats.embedding.threshold = farthest * WIDEN_MARGIN;
    widened.push('embedding');
  }
  if (stats.pixels && all.pixels) {
    const far = Math.max(...all.pixels.map((v) => withMeans.pixelDistance(v) ?? 0));
    if (far > stats.pixels.threshold) {
      stats.pixels.threshold = far * WIDEN_MARGIN;
      widened.push('pixels');
    }
  }
  const fails = (c: ImageCheckSpec, v: number) => Number.isFinite(v) && (c.side === 'high' ? v > c.limit : v < c.limit);
  stats.imageChecks = stats.imageChecks.map((c) => {
    if (c.source !== 'fitted' || !all.features.some((f) => fails(c, f[c.feature]))) return c;
    const refit = fitImageChecks(all.features, { quantile: options.quantile, margin: options.margin, checks: [{ feature: c.feature, side: c.side }] }).find(
      (r) => r.source === 'fitted',
    );
    if (!refit) return c;
    // Never tighter than the base: only images beyond the base limit move it.
    const limit = c.side === 'high' ? Math.max(c.limit, refit.limit) : Math.min(c.limit, refit.limit);
    widened.push(`${c.feature}:${c.side}`);
    return { ...c, limit };
  });
  const scorer = new OodScorer(stats);
  const flaggedAt = (samples: OodSamples) => samples.embeddings.filter((e, i) => scorer.scoreWith(e, samples.features[i], samples.pixels?.[i]).flagged).length;
  stats.fit = {
    tool: options.tool ?? 'refitOodStats (src/core/ood.ts): base gate refitted on the fine-tuning images',
    date: options.date,
    base: {
      manifestHash: base.fit?.manifestHash,
      trainImages: base.fit?.trainImages,
      valImages: base.fit?.valImages,
      threshold: base.embedding.threshold,
      classes: base.embedding.means.length,
    },
    trainImages: train.embeddings.length,
    valImages: val.embeddings.length,
    /** Fine-tuning images (train + val) the base gate, unchanged, would have withheld. */
    flaggedBeforeRefit: before.filter((r) => r.flagged).length,
    flaggedAfterRefit: flaggedAt(train) + flaggedAt(val),
    widened,
    valFlagged: { any: val.embeddings.length ? flaggedAt(val) / val.embeddings.length : undefined },
  };
  const after = oodStatsProblem(stats, nClasses);
  if (after) throw new Error(`refitOodStats: refitted gate is invalid: ${after}`);
  return stats;
}

// ---------------------------------------------------------------------------------------------
// Header evidence (DICOM): a lateral view or a non-chest body part is withheld whatever the pixels say
// ---------------------------------------------------------------------------------------------

/**
 * Adds header reasons (src/core/dicom-meta.ts headerReasons) to a verdict as fired 'header' checks.
 * With no verdict (a model without trust.ood) and some reasons, the verdict is made from them alone
 * (score and threshold NaN); with no reasons the verdict is returned unchanged.
 */
export function withHeaderReasons(ood: OodResult | undefined, reasons: string[]): OodResult | undefined {
  if (reasons.length === 0) return ood;
  const checks: OodCheckResult[] = reasons.map((reason) => ({ id: 'header', side: 'high', value: NaN, limit: NaN, fired: true, reason }));
  if (!ood) return { flagged: true, score: NaN, threshold: NaN, reasons: [...reasons], checks };
  return { ...ood, flagged: true, reasons: [...reasons, ...ood.reasons], checks: [...checks, ...ood.checks] };
}
