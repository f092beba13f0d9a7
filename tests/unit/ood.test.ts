// Out-of-distribution detector: known-answer statistics (percentile, Mahalanobis, Ledoit–Wolf, tied
// Gaussians, packed precision), the trust.ood schema, image checks on synthetic images versus real
// chest X-rays, and the Classifier attaching `prediction.ood` without leaking tensors.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as tfTypes from '@tensorflow/tfjs';
import {
  base64ToBytes,
  bytesToBase64,
  fitImageChecks,
  fitTiedGaussians,
  FIXED_CHECKS,
  invertSpd,
  ledoitWolf,
  layoutTemplateFrom,
  mahalanobis,
  nearestMahalanobis,
  oodStatsProblem,
  OodScorer,
  packSymmetric,
  percentile,
  pixelVector,
  unpackSymmetric,
  IMAGE_FEATURE_NAMES,
  type ImageFeatures,
  type OodStats,
} from '../../src/core/ood';
import { MetadataError, parseModelMetadata, type ModelMetadata } from '../../src/core/metadata';
import { colourStats, layoutVector } from '../../src/image/features';
import { grayAsDecoded } from '../../src/image/preprocess';
import { prepareImage } from '../../src/image/pipeline';
import type { PreprocessingSpec } from '../../src/core/metadata';

/** The pipeline's OOD statistics of a decoded image. */
const imageFeatures = (img: DecodedImage, spec: PreprocessingSpec, layoutTemplate?: ArrayLike<number>) => prepareImage(img, spec, { layoutTemplate }).features;
import { cropAndResize, DEFAULT_PREPROCESSING, preprocessDecoded, toGray8, type DecodedImage } from '../../src/image/preprocess';
import { decodeImageBytes } from '../../src/image/decode';
import { createRng } from '../../src/core/random';
import { ACQUISITION_VARIANTS, withReacquired } from '../../src/image/acquisition';
import { CXR_DIR, cxrEntries, hasCxr, skipMessage } from './helpers/shared-data';

const spec = DEFAULT_PREPROCESSING;

describe('percentile', () => {
  it('interpolates linearly between order statistics (NumPy default)', () => {
    expect(percentile([4, 1, 3, 2], 50)).toBeCloseTo(2.5, 12);
    expect(percentile([4, 1, 3, 2], 25)).toBeCloseTo(1.75, 12);
    expect(percentile([4, 1, 3, 2], 0)).toBe(1);
    expect(percentile([4, 1, 3, 2], 100)).toBe(4);
    const xs = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(xs, 99)).toBeCloseTo(990.01, 9);
  });
  it('rejects empty input and p outside [0, 100]', () => {
    expect(() => percentile([], 50)).toThrow(/no values/);
    expect(() => percentile([1], 101)).toThrow(/p must be/);
  });
});

describe('Mahalanobis distance and SPD inverse', () => {
  it('matches hand-computed answers', () => {
    // Σ = [[2, 1], [1, 2]] → Σ⁻¹ = (1/3)[[2, −1], [−1, 2]]; x = (1, 1): xᵀΣ⁻¹x = 2/3.
    const inv = invertSpd([2, 1, 1, 2], 2);
    expect(Array.from(inv)).toEqual([2 / 3, -1 / 3, -1 / 3, 2 / 3].map((v) => expect.closeTo(v, 12)));
    expect(mahalanobis([1, 1], [0, 0], inv, 2)).toBeCloseTo(Math.sqrt(2 / 3), 12);
    // Diagonal: variances 4 and 1, x − m = (2, 1) → √(4/4 + 1) = √2.
    expect(mahalanobis([3, 2], [1, 1], invertSpd([4, 0, 0, 1], 2), 2)).toBeCloseTo(Math.SQRT2, 12);
  });
  it('inverts a random SPD matrix (A·A⁻¹ = I) and refuses a singular one', () => {
    const rng = createRng(3);
    const p = 6;
    const b = Array.from({ length: p * p }, () => rng.normal());
    const a = new Float64Array(p * p);
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) for (let k = 0; k < p; k++) a[i * p + j] += b[i * p + k] * b[j * p + k];
    for (let i = 0; i < p; i++) a[i * p + i] += 0.1;
    const inv = invertSpd(a, p);
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        let s = 0;
        for (let k = 0; k < p; k++) s += a[i * p + k] * inv[k * p + j];
        expect(s).toBeCloseTo(i === j ? 1 : 0, 9);
      }
    }
    expect(() => invertSpd([1, 1, 1, 1], 2)).toThrow(/not positive definite/);
  });
});

describe('Ledoit–Wolf shrinkage', () => {
  // Centred rows (±1, 0), (0, ±2): S = diag(0.5, 2), μ = 1.25, d² = 1.125,
  // b̄² = (Σ‖x‖⁴/n² − ‖S‖²/n) = 34/16 − 4.25/4 = 1.0625 → δ = 17/18,
  // Σ = diag(87/72, 93/72) (by hand; the same formula as scikit-learn's ledoit_wolf).
  const rows = [
    [1, 0],
    [-1, 0],
    [0, 2],
    [0, -2],
  ];
  it('gives the hand-computed intensity and covariance', () => {
    const lw = ledoitWolf(rows, 2);
    expect(lw.shrinkage).toBeCloseTo(17 / 18, 12);
    expect(lw.target).toBeCloseTo(1.25, 12);
    expect(Array.from(lw.covariance)).toEqual([87 / 72, 0, 0, 93 / 72].map((v) => expect.closeTo(v, 12)));
  });
  it('δ = 0 is the sample covariance and δ = 1 the scaled identity', () => {
    expect(Array.from(ledoitWolf(rows, 2, 0).covariance)).toEqual([0.5, 0, 0, 2]);
    expect(Array.from(ledoitWolf(rows, 2, 1).covariance)).toEqual([1.25, 0, 0, 1.25]);
  });
  it('shrinks little with many samples and a lot with few, and always yields an invertible matrix', () => {
    const rng = createRng(5);
    const p = 20;
    const draw = (n: number) => Array.from({ length: n }, () => Array.from({ length: p }, (_, i) => rng.normal() * (1 + i / 4)));
    const many = ledoitWolf(draw(5000), p);
    const few = ledoitWolf(draw(10), p);
    expect(many.shrinkage).toBeLessThan(0.05);
    expect(few.shrinkage).toBeGreaterThan(many.shrinkage);
    expect(() => invertSpd(few.covariance, p)).not.toThrow(); // 10 samples in 20 dims: S alone is singular
  });
});

describe('tied class Gaussians', () => {
  it('recovers class means, scores a mean at distance 0 and picks the nearest class', () => {
    const rng = createRng(9);
    const centres = [
      [0, 0, 0],
      [10, 0, 0],
      [0, 10, 0],
    ];
    const samples: number[][] = [];
    const labels: number[] = [];
    for (let k = 0; k < 3000; k++) {
      const c = k % 3;
      samples.push(centres[c].map((m) => m + rng.normal()));
      labels.push(c);
    }
    const g = fitTiedGaussians(samples, labels, 3);
    g.means.forEach((m, c) => m.forEach((v, i) => expect(v).toBeCloseTo(centres[c][i], 0)));
    expect(g.counts).toEqual([1000, 1000, 1000]);
    expect(nearestMahalanobis(g.means[1], g)).toEqual({ distance: 0, index: 1 });
    expect(nearestMahalanobis([0, 9, 0.5], g).index).toBe(2);
    // Unit covariance: a point 3 units from the nearest mean is at distance ≈ 3.
    expect(nearestMahalanobis([0, 0, 3], g).distance).toBeCloseTo(3, 0);
  });
});

describe('packed precision in metadata.json', () => {
  it('base64 matches known answers and round-trips', () => {
    expect(bytesToBase64(new TextEncoder().encode('Man'))).toBe('TWFu');
    expect(bytesToBase64(Uint8Array.from([1, 2]))).toBe('AQI=');
    expect(bytesToBase64(Uint8Array.from([255]))).toBe('/w==');
    expect(Array.from(base64ToBytes('AQI='))).toEqual([1, 2]);
    const bytes = Uint8Array.from({ length: 257 }, (_, i) => (i * 37) & 255);
    expect(Array.from(base64ToBytes(bytesToBase64(bytes)))).toEqual(Array.from(bytes));
    expect(() => base64ToBytes('abc')).toThrow(/not base64/);
  });
  it('stores the upper triangle as float32 and restores the symmetric matrix', () => {
    const m = [2, 0.5, -1, 0.5, 3, 0.25, -1, 0.25, 4];
    expect(Array.from(unpackSymmetric(packSymmetric(m, 3), 3))).toEqual(m);
    expect(() => unpackSymmetric(packSymmetric(m, 3), 4)).toThrow(/expected 40/);
  });
});

/** A small valid OodStats: 2 dims, 2 classes, identity precision. */
function smallStats(over: Partial<OodStats> = {}): OodStats {
  return {
    version: 1,
    embedding: {
      layer: 'embedding',
      dim: 2,
      means: [
        [0, 0],
        [10, 0],
      ],
      precision: packSymmetric([1, 0, 0, 1], 2),
      shrinkage: 0.1,
      threshold: 3,
      percentile: 99,
    },
    imageChecks: [
      { feature: 'contrast', side: 'low', limit: 10, source: 'fitted' },
      { feature: 'colourFraction', side: 'high', limit: 0.02, source: 'fixed' },
    ],
    ...over,
  };
}

const greyFeatures: ImageFeatures = {
  colourFraction: 0,
  colourMean: 0,
  contrast: 50,
  dominantFraction: 0.05,
  brightFraction: 0.01,
  roughness: 0.05,
  symmetry: 0.8,
  layout: 0.9,
  entropy: 7.5,
  aspect: 0.2,
};

describe('OodScorer', () => {
  it('flags a far embedding with a readable reason and keeps a near one', () => {
    const s = new OodScorer(smallStats());
    const near = s.score([9, 1], greyFeatures);
    expect(near).toMatchObject({ flagged: false, threshold: 3, reasons: [] });
    expect(near.score).toBeCloseTo(Math.SQRT2, 6);
    const far = s.score([5, 20], greyFeatures);
    expect(far.flagged).toBe(true);
    expect(far.score).toBeCloseTo(Math.hypot(5, 20), 5);
    expect(far.reasons).toEqual(['unlike the training X-rays (distance 20.6 > 3.00)']);
  });
  it('flags on image checks alone, one reason per fired check', () => {
    const s = new OodScorer(smallStats());
    const r = s.score([0, 0], { ...greyFeatures, contrast: 0.5, colourFraction: 0.6 });
    expect(r.flagged).toBe(true);
    expect(r.score).toBe(0);
    expect(r.reasons).toEqual(['blank or nearly uniform image (contrast 0.500 < 10.0)', 'colour image (colourFraction 0.600 > 0.020)']);
    expect(r.checks.map((c) => [c.id, c.fired])).toEqual([
      ['contrast', true],
      ['colourFraction', true],
      ['embedding', false],
    ]);
  });
  it('checks only the embedding when no image features are given, and rejects a wrong-sized embedding', () => {
    const s = new OodScorer(smallStats());
    expect(s.score([0, 0]).checks.map((c) => c.id)).toEqual(['embedding']);
    expect(() => s.score([0, 0, 0])).toThrow(/expects 2/);
  });
});

describe('pixel-space check', () => {
  it('pixelVector block-averages a square input', () => {
    // 4×4 input → 2×2: each output is the mean of one 2×2 quadrant.
    const input = [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4];
    expect(Array.from(pixelVector(input, 2))).toEqual([1, 2, 3, 4]);
    expect(
      Array.from(
        pixelVector(
          Float32Array.from({ length: 9 }, (_, i) => i),
          3,
        ),
      ),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(() => pixelVector(new Float32Array(10), 2)).toThrow(/not a square/);
  });
  it('scores the model input against pixel-space means when trust.ood.pixels is present', () => {
    const stats = smallStats({
      pixels: {
        size: 2,
        means: [
          [0, 0, 0, 0],
          [1, 1, 1, 1],
        ],
        precision: packSymmetric([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 4),
        shrinkage: 0,
        threshold: 1,
        percentile: 99,
      },
    });
    expect(oodStatsProblem(stats, 2)).toBeNull();
    const s = new OodScorer(stats);
    const near = s.score([0, 0], greyFeatures, new Float32Array(16).fill(0.9));
    expect(near.checks.find((c) => c.id === 'pixels')).toMatchObject({ fired: false, value: expect.closeTo(0.2, 6) });
    const input = new Float32Array(16);
    input.fill(3, 0, 8); // top half 3, bottom half 0 → vector (3, 3, 0, 0): nearest mean is 1s at distance √(4+4+1+1)
    const far = s.score([0, 0], greyFeatures, input);
    expect(far.flagged).toBe(true);
    expect(far.score).toBe(0); // the embedding itself is fine
    expect(far.reasons).toEqual([`anatomy layout unlike the training X-rays (pixel distance ${Math.sqrt(10).toFixed(2)} > 1.00)`]);
    expect(s.scoreWith([0, 0], undefined, [3, 3, 0, 0]).reasons).toEqual(far.reasons);
    expect(() => s.scoreWith([0, 0], undefined, [1, 2])).toThrow(/expects 4/);
    // Without pixels stats the input is ignored.
    expect(new OodScorer(smallStats()).score([0, 0], undefined, input).checks.map((c) => c.id)).toEqual(['embedding']);
  });
  it('schema names a broken pixels section', () => {
    const bad = smallStats({ pixels: { size: 2, means: [[0, 0, 0]], precision: packSymmetric([1], 1), shrinkage: 0, threshold: 1, percentile: 99 } });
    expect(oodStatsProblem(bad)).toMatch(/pixels\.means\[0\] must hold 4/);
  });
});

describe('trust.ood schema', () => {
  it('accepts valid statistics', () => {
    expect(oodStatsProblem(smallStats(), 2)).toBeNull();
  });
  it.each([
    ['not an object', 5, /must be an object/],
    ['wrong version', { ...smallStats(), version: 2 }, /unsupported version/],
    ['means per class', smallStats(), /one per class \(3\)/],
    ['short mean', smallStats({ embedding: { ...smallStats().embedding, means: [[0], [1, 2]] } }), /means\[0\] must hold 2/],
    ['bad precision', smallStats({ embedding: { ...smallStats().embedding, precision: 'AAAA' } }), /precision: packed matrix has 3 bytes/],
    ['threshold', smallStats({ embedding: { ...smallStats().embedding, threshold: -1 } }), /threshold must be a positive/],
    [
      'unknown feature',
      smallStats({ imageChecks: [{ feature: 'sharpness' as 'contrast', side: 'low', limit: 1, source: 'fitted' }] }),
      /'sharpness' is not one of/,
    ],
    ['bad side', smallStats({ imageChecks: [{ feature: 'contrast', side: 'up' as 'low', limit: 1, source: 'fitted' }] }), /side must be/],
    ['layout without template', smallStats({ imageChecks: [{ feature: 'layout', side: 'low', limit: 0.1, source: 'fitted' }] }), /needs layoutTemplate/],
    ['short template', smallStats({ layoutTemplate: [1, 2, 3] }), /layoutTemplate must hold 256/],
  ])('names the problem: %s', (_name, value, message) => {
    const classes = _name === 'means per class' ? 3 : 2;
    expect(oodStatsProblem(value, classes)).toMatch(message);
  });
  it('parseModelMetadata validates trust.ood and keeps it typed', () => {
    const base: ModelMetadata = {
      name: 'm',
      version: '1',
      task: 't',
      classNames: ['a', 'b'],
      input: { shape: [1, 128, 128, 1], dtype: 'float32', layout: 'NHWC' },
      preprocessing: spec,
      layers: { embedding: 'embedding', lastConv: 'last_conv_relu', logits: 'logits' },
      uncertainBelow: 0.6,
      trust: { temperature: 1, ood: smallStats() },
    };
    expect(parseModelMetadata(JSON.parse(JSON.stringify(base))).trust?.ood?.embedding.threshold).toBe(3);
    const broken = JSON.parse(JSON.stringify(base));
    broken.trust.ood.embedding.means = [[0, 0]];
    expect(() => parseModelMetadata(broken)).toThrow(MetadataError);
    expect(() => parseModelMetadata(broken)).toThrow(/trust\.ood: embedding\.means has 1 rows/);
    const noOod = JSON.parse(JSON.stringify(base));
    delete noOod.trust.ood;
    expect(parseModelMetadata(noOod).trust?.ood).toBeUndefined();
  });
});

describe('fitting image checks on in-distribution features', () => {
  it('puts limits at the tail quantile plus the margin, and appends the fixed colour checks', () => {
    const feats: ImageFeatures[] = Array.from({ length: 1000 }, (_, i) => ({ ...greyFeatures, contrast: i + 1, roughness: (i + 1) / 1000 }));
    const checks = fitImageChecks(feats, {
      quantile: 0.002,
      margin: 0,
      checks: [
        { feature: 'contrast', side: 'low' },
        { feature: 'roughness', side: 'high' },
      ],
    });
    expect(checks.slice(0, 2)).toEqual(FIXED_CHECKS);
    expect(checks[2]).toEqual({ feature: 'contrast', side: 'low', limit: expect.closeTo(1 + 0.002 * 999, 9), source: 'fitted' });
    expect(checks[3].limit).toBeCloseTo((1 + 0.998 * 999) / 1000, 9);
    // margin = 0.1 of the 1st–99th percentile range (990.01 − 10.99 = 979.02).
    const wide = fitImageChecks(feats, { quantile: 0.002, margin: 0.1, checks: [{ feature: 'contrast', side: 'low' }] });
    expect(wide[2].limit).toBeCloseTo(2.998 - 97.902, 6);
  });
  it('ignores non-finite values (e.g. symmetry of a constant image)', () => {
    const feats = [1, 2, NaN, 3].map((v) => ({ ...greyFeatures, symmetry: v }));
    expect(fitImageChecks(feats, { quantile: 0, margin: 0, checks: [{ feature: 'symmetry', side: 'low' }] })[2].limit).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Image features on synthetic images and real chest X-rays
// ---------------------------------------------------------------------------------------------

function rgbImage(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): DecodedImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 3);
  return { width, height, channels: 3, data, bitDepth: 8 };
}

function greyImage(width: number, height: number, pixel: (x: number, y: number) => number): DecodedImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = pixel(x, y);
  return { width, height, channels: 1, data, bitDepth: 8 };
}

describe('image features', () => {
  it('colour: 0 for grey (also when stored as RGB), 1 for a saturated photo, below the limit for small coloured marks', () => {
    expect(colourStats(greyImage(64, 64, (x) => x * 4))).toEqual({ colourFraction: 0, colourMean: 0 });
    expect(colourStats(rgbImage(64, 64, (x) => [x * 4, x * 4, x * 4]))).toEqual({ colourFraction: 0, colourMean: 0 });
    const photo = colourStats(rgbImage(64, 64, (x, y) => (x < 32 ? [200, 40, 30] : [20, 60, 90 + y])));
    expect(photo.colourFraction).toBe(1);
    expect(photo.colourMean).toBeGreaterThan(60);
    // A grey film with a red arrow over 1 % of its pixels stays under the fixed 2 % limit.
    const arrow = colourStats(rgbImage(100, 100, (x, y) => (y === 50 && x < 100 ? [255, 0, 0] : [120, 120, 120])));
    expect(arrow.colourFraction).toBeCloseTo(0.01, 6);
    expect(arrow.colourFraction).toBeLessThan(FIXED_CHECKS[0].limit);
  });
  it('16-bit colour is measured on the 8-bit scale', () => {
    const data = new Uint16Array(4 * 4 * 3);
    for (let i = 0; i < 16; i++) data.set([65535, 0, 0], i * 3);
    expect(colourStats({ width: 4, height: 4, channels: 3, data, bitDepth: 16 })).toEqual({ colourFraction: 1, colourMean: 255 });
  });
  it('blank, noise, white page and symmetric images get the expected statistics', () => {
    const blank = imageFeatures(
      greyImage(300, 256, () => 128),
      spec,
    );
    expect(blank.contrast).toBe(0);
    expect(blank.dominantFraction).toBe(1);
    expect(blank.entropy).toBe(0);
    expect(blank.symmetry).toBeNaN();
    const rng = createRng(1);
    const noise = imageFeatures(
      greyImage(256, 256, () => rng.int(256)),
      spec,
    );
    expect(noise.roughness).toBeGreaterThan(0.5);
    expect(noise.entropy).toBeGreaterThan(6);
    const page = imageFeatures(
      greyImage(256, 330, (x, y) => (y % 12 < 2 && x % 9 < 6 ? 20 : 250)),
      spec,
    );
    expect(page.brightFraction).toBeGreaterThan(0.7);
    expect(page.dominantFraction).toBeGreaterThan(0.7);
    const mirrorSymmetric = imageFeatures(
      greyImage(256, 256, (x, y) => Math.round(127 + 120 * Math.cos((x - 127.5) / 30) * Math.sin(y / 50))),
      spec,
    );
    expect(mirrorSymmetric.symmetry).toBeGreaterThan(0.99);
    const ramp = imageFeatures(
      greyImage(256, 256, (x) => x),
      spec,
    );
    expect(ramp.symmetry).toBeCloseTo(-1, 6);
    expect(
      imageFeatures(
        greyImage(512, 256, () => 1),
        spec,
      ).aspect,
    ).toBe(1);
  });
  it('prepareImage gives exactly the model input of preprocessDecoded plus the features', () => {
    const rng = createRng(2);
    const img = rgbImage(200, 150, () => [rng.int(256), rng.int(256), rng.int(256)]);
    const a = prepareImage(img, spec);
    expect(Array.from(a.input)).toEqual(Array.from(preprocessDecoded(img, spec)));
    expect(a.features).toEqual(imageFeatures(img, spec));
    expect(a.features.layout).toBeNaN(); // no template given
  });
  it('layout: a template built from an image correlates 1 with it', () => {
    const img = greyImage(256, 256, (x, y) => (Math.abs(x - 128) < 20 ? 220 : 60 + (y >> 2)));
    const v = layoutVector(cropAndResize(toGray8(img), spec), spec.inputSize)!;
    const template = layoutTemplateFrom([v]);
    expect(imageFeatures(img, spec, template).layout).toBeCloseTo(1, 9);
  });
});

describe.skipIf(!hasCxr())('image checks: synthetic OOD images versus real chest X-rays', () => {
  let checks: OodStats['imageChecks'];
  let template: number[];
  const load = async (file: string) => decodeImageBytes(new Uint8Array(fs.readFileSync(path.join(CXR_DIR, file))));

  beforeAll(async () => {
    // Limits fitted on 350 train X-rays (every 14th) plus one re-acquired copy of each, as fit-ood
    // does on the whole split; the layout template from the originals only, as fit-ood.
    const train = cxrEntries('train').filter((_, i) => i % 14 === 0);
    const grays = await Promise.all(train.map(async (e) => toGray8(await load(e.file))));
    template = layoutTemplateFrom(grays.map((g) => layoutVector(cropAndResize(g, spec), spec.inputSize)!).filter(Boolean));
    const fitGrays = withReacquired(
      grays,
      (g) => g,
      (_, g) => g,
      1,
      20261202,
    );
    const feats = fitGrays.map((g) => imageFeatures(grayAsDecoded(g), spec, template));
    checks = fitImageChecks(feats);
  });

  const scorer = () => new OodScorer({ ...smallStats(), imageChecks: checks, layoutTemplate: template });
  const fired = (img: DecodedImage) =>
    scorer()
      .imageChecks(imageFeatures(img, spec, template))
      .filter((c) => c.fired)
      .map((c) => `${c.id}:${c.side}`);

  it('every fitted and fixed check is present', () => {
    expect(new Set(checks.map((c) => c.feature))).toEqual(new Set(IMAGE_FEATURE_NAMES));
  });
  it('test-split X-rays pass the image checks', async () => {
    const test = cxrEntries('test').filter((_, i) => i % 30 === 0);
    let flagged = 0;
    for (const e of test) if (fired(await load(e.file)).length > 0) flagged++;
    expect(flagged).toBeLessThanOrEqual(1);
  });
  it('re-acquired test X-rays (every acquisition-shift variant) pass the image checks', async () => {
    const test = cxrEntries('test').filter((_, i) => i % 60 === 0);
    const grays = await Promise.all(test.map(async (e) => toGray8(await load(e.file))));
    const flaggedBy: Record<string, number> = {};
    for (const v of ACQUISITION_VARIANTS) {
      flaggedBy[v.id] = grays.filter((g, i) => fired(grayAsDecoded(v.apply(g, i))).length > 0).length;
    }
    // At most one of the ~18 sampled films per variant (the gate's budget is 3 % per variant).
    expect(Object.entries(flaggedBy).filter(([, k]) => k > 1)).toEqual([]);
  });
  it('a colour photo, a blank image, noise and a text page are flagged for the right reasons', () => {
    const rng = createRng(4);
    expect(fired(rgbImage(320, 256, (x, y) => [(x * 3) & 255, (y * 5) & 255, 90]))).toContain('colourFraction:high');
    expect(fired(greyImage(256, 256, () => 255))).toContain('contrast:low');
    expect(fired(greyImage(256, 256, () => rng.int(256)))).toContain('roughness:high');
    expect(fired(greyImage(256, 330, (x, y) => (y % 12 < 2 && x % 9 < 6 ? 20 : 250)))).toEqual(
      expect.arrayContaining(['brightFraction:high', 'dominantFraction:high']),
    );
  });
  it('a real X-ray converted to RGB is not called a colour image', async () => {
    const g = toGray8(await load(cxrEntries('test')[0].file));
    const rgb = rgbImage(g.width, g.height, (x, y) => {
      const v = g.data[y * g.width + x];
      return [v, v, Math.min(255, v + 2)];
    });
    expect(fired(rgb)).not.toContain('colourFraction:high');
    expect(fired(rgb)).not.toContain('colourMean:high');
  });
});
if (!hasCxr()) console.warn(skipMessage('ood.test.ts: the cxr data set', CXR_DIR));

// ---------------------------------------------------------------------------------------------
// Classifier integration (tfjs)
// ---------------------------------------------------------------------------------------------

describe('Classifier attaches prediction.ood', () => {
  let tf: typeof tfTypes;
  beforeAll(async () => {
    const { initNodeBackend } = await import('../../src/ml/tf-node');
    tf = await initNodeBackend('wasm', { threads: 1 });
  });

  async function tinyClassifier(ood?: (dim: number) => OodStats) {
    const { buildClassifier, LAYER_NAMES } = await import('../../src/ml/model');
    const { Classifier } = await import('../../src/ml/classifier');
    const model = buildClassifier({
      inputSize: 32,
      stages: [
        { filters: 4, convs: 1 },
        { filters: 6, convs: 1 },
      ],
      numClasses: 2,
      dropout: 0,
      l2: 0,
      seed: 3,
    });
    const metadata: ModelMetadata = {
      name: 't',
      version: '0',
      task: 't',
      classNames: ['a', 'b'],
      input: { shape: [1, 32, 32, 1], dtype: 'float32', layout: 'NHWC' },
      preprocessing: { ...spec, inputSize: 32 },
      layers: { embedding: LAYER_NAMES.embedding, lastConv: LAYER_NAMES.lastConv, logits: LAYER_NAMES.logits },
      uncertainBelow: 0.6,
      trust: { temperature: 1, ...(ood ? { ood: ood(6) } : {}) },
    };
    return new Classifier(model, parseModelMetadata(JSON.parse(JSON.stringify(metadata))));
  }

  const inputs = (n: number, seed: number) => {
    const rng = createRng(seed);
    return Array.from({ length: n }, () => Float32Array.from({ length: 32 * 32 }, () => rng.next() * 2 - 1));
  };

  const statsFor =
    (layer: string) =>
    (dim: number): OodStats => ({
      version: 1,
      embedding: {
        layer,
        dim,
        means: [new Array(dim).fill(0), new Array(dim).fill(0.5)],
        precision: packSymmetric(
          Array.from({ length: dim * dim }, (_, k) => (k % (dim + 1) === 0 ? 1 : 0)),
          dim,
        ),
        shrinkage: 0,
        threshold: 0.25,
        percentile: 99,
      },
      imageChecks: [{ feature: 'contrast', side: 'low', limit: 5, source: 'fitted' }],
    });

  it('no trust.ood → no ood field', async () => {
    const c = await tinyClassifier();
    const out = await c.predict(inputs(2, 1));
    expect(c.ood).toBeNull();
    expect(out.predictions.every((p) => p.ood === undefined)).toBe(true);
    c.dispose();
  });

  it('scores the embedding (distance = Euclidean here: identity precision) and image checks when features are given, without leaking tensors', async () => {
    const c = await tinyClassifier(statsFor('embedding'));
    const xs = inputs(3, 2);
    await c.predict(xs); // warm-up (kernels, weights)
    const before = tf.memory().numTensors;
    const blank = { ...greyFeatures, contrast: 0 };
    const out = await c.predict(xs, { features: [greyFeatures, blank, undefined] });
    expect(tf.memory().numTensors).toBe(before);
    out.predictions.forEach((p, i) => {
      const e = out.embeddings[i];
      const d0 = Math.hypot(...e);
      const d1 = Math.hypot(...Array.from(e, (v) => v - 0.5));
      expect(p.ood!.score).toBeCloseTo(Math.min(d0, d1), 4);
      expect(p.ood!.flagged).toBe(p.ood!.score > 0.25 || i === 1);
    });
    expect(out.predictions[1].ood!.reasons[0]).toMatch(/^blank or nearly uniform image/);
    expect(out.predictions[2].ood!.checks.map((ch) => ch.id)).toEqual(['embedding']);
    await expect(c.predict(xs, { features: [greyFeatures] })).rejects.toThrow(/1 feature sets for 3 inputs/);
    expect(tf.memory().numTensors).toBe(before);
    c.dispose();
  });

  it('can score another layer (a conv map, average-pooled) without leaking tensors', async () => {
    const { layerView, pooledActivations } = await import('../../src/ml/ood-layers');
    const c = await tinyClassifier(statsFor('last_conv_relu'));
    const xs = inputs(2, 3);
    await c.predict(xs);
    const before = tf.memory().numTensors;
    const out = await c.predict(xs);
    const view = layerView(c.model, 'last_conv_relu');
    const pooled = await pooledActivations(view, xs, 32);
    expect(tf.memory().numTensors).toBe(before);
    // last_conv_relu pooled is exactly the GAP 'embedding' of this architecture.
    pooled.forEach((v, i) => Array.from(v).forEach((x, k) => expect(x).toBeCloseTo(out.embeddings[i][k], 5)));
    expect(out.predictions[0].ood!.score).toBeCloseTo(Math.min(Math.hypot(...pooled[0]), Math.hypot(...Array.from(pooled[0], (v) => v - 0.5))), 4);
    c.dispose();
  });
});

describe('autoPercentile (fit-ood threshold rule, in-distribution data only)', () => {
  it('picks the smallest percentile whose thresholds flag at most the target share', async () => {
    const { autoPercentile } = await import('../../scripts/fit-ood');
    const d = Array.from({ length: 1000 }, (_, i) => i + 1);
    const none = new Array<boolean>(1000).fill(false);
    // One list, nothing else flagged: ≤ 1 % flagged ⇔ threshold ≥ the 990th value.
    const p = autoPercentile([d], none, 0.01);
    expect(p).toBeCloseTo(99, 6);
    expect(d.filter((v) => v > percentile(d, p)).length).toBeLessThanOrEqual(10);
    // 5 images already flagged by image checks leave room for 5 more.
    const five = none.map((_, i) => i < 5);
    expect(autoPercentile([d], five, 0.01)).toBeCloseTo(99.5, 6);
    // Two independent orderings share the budget.
    const reversed = [...d].reverse();
    expect(autoPercentile([d, reversed], none, 0.01)).toBeCloseTo(99.5, 6);
    // Impossible target: 100 (nothing flagged by the distances).
    expect(
      autoPercentile(
        [d],
        none.map(() => true),
        0.01,
      ),
    ).toBe(100);
  });
});

describe('stratifiedSample (evaluate-ood --sample)', () => {
  it('allocates proportionally with at least one per group, is seeded and keeps manifest order', async () => {
    const { stratifiedSample } = await import('../../scripts/evaluate-ood');
    const items = [...Array(60).fill('a'), ...Array(30).fill('b'), ...Array(10).fill('c'), 'd'].map((g, i) => ({ g, i }));
    const s = stratifiedSample(items, (x) => x.g, 20, 7);
    expect(s.length).toBe(20);
    const count = (g: string) => s.filter((x) => x.g === g).length;
    // exact shares 20·60/101 = 11.88, 5.94, 1.98, 0.20 → floors 11/5/1 and d at least 1 = 18; the two
    // largest remainders (c .98, b .94) get the last two → 11/6/2/1
    expect([count('a'), count('b'), count('c'), count('d')]).toEqual([11, 6, 2, 1]);
    expect(s.map((x) => x.i)).toEqual([...s.map((x) => x.i)].sort((p, q) => p - q));
    expect(stratifiedSample(items, (x) => x.g, 20, 7)).toEqual(s);
    expect(stratifiedSample(items, (x) => x.g, 20, 8)).not.toEqual(s);
    expect(stratifiedSample(items, (x) => x.g, 500, 1)).toBe(items);
  });
});
