// Model v2's source-invariance pieces: the degradations (degrade.ts), the re-acquisition variants
// (acquisition.ts), the age-stratified sampling weights, the source probe, and a short seeded
// training run that must give bit-identical weights twice.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/random';
import { balancedAccuracy, trainLinearProbe } from '../../src/core/probe';
import { stratifiedSourceWeights } from '../../src/ml/training';
import { parseTrainHashes } from '../../src/core/train-hashes';
import { areaDownscale, drawLines, illumination, jpegRoundTrip, resolutionRoundTrip, unsharp } from '../../src/image/degrade';
import { ACQUISITION_VARIANTS, randomReacquisition, withReacquired } from '../../src/image/acquisition';
import { DEFAULT_AUGMENT, SOURCE_INVARIANT_AUGMENT, augmentToInput } from '../../src/image/augment';
import { DEFAULT_PREPROCESSING, equalizeHistogram, type GrayImage } from '../../src/image/preprocess';
import { CXR_DIR, hasCxr, skipMessage } from './helpers/shared-data';

const checker = (n: number) => Float32Array.from({ length: n * n }, (_, i) => (((i % n) + Math.floor(i / n)) % 2 ? 200 : 50));
const ramp = (w: number, h: number): GrayImage => ({ width: w, height: h, data: Uint8Array.from({ length: w * h }, (_, i) => (i % w) * (255 / (w - 1))) });
const meanOf = (v: ArrayLike<number>) => Array.from(v).reduce((s, x) => s + x, 0) / v.length;

describe('degradations', () => {
  it('a resolution round-trip removes detail finer than the reduced grid but keeps the mean', () => {
    const img = checker(64);
    const soft = resolutionRoundTrip(img, 64, 64, 0.5);
    expect(Math.max(...soft) - Math.min(...soft)).toBeLessThan(5); // 1-px checks average out
    expect(meanOf(soft)).toBeCloseTo(125, 0);
    expect(areaDownscale(img, 64, 64, 32, 32).length).toBe(32 * 32);
  });
  it('a low-quality JPEG round-trip changes pixels, a high-quality one barely', () => {
    const img = Float32Array.from({ length: 64 * 64 }, (_, i) => 128 + 60 * Math.sin(i / 7) * Math.cos(i / 301));
    const err = (q: number) => meanOf(jpegRoundTrip(img, 64, 64, q).map((v, i) => Math.abs(v - img[i])));
    expect(err(10)).toBeGreaterThan(err(95));
    expect(err(95)).toBeLessThan(2);
  });
  it('illumination survives histogram equalisation (gamma would not)', () => {
    const flat = new Float32Array(32 * 32).fill(100).map((v, i) => v + (i % 7));
    const lit = illumination(flat, 32, 32, 80, 0, 0);
    const left = equalizeHistogram(lit).slice(0, 8);
    const right = equalizeHistogram(lit).slice(24, 32);
    expect(meanOf(right)).toBeGreaterThan(meanOf(left) + 0.3);
  });
  it('sharpening increases and lines add bright pixels', () => {
    const img = checker(16);
    const s = unsharp(img, 16, 16, 1);
    expect(Math.max(...s) - Math.min(...s)).toBeGreaterThan(150);
    const dark = new Float32Array(64 * 64).fill(20);
    drawLines(dark, 64, 64, 2, createRng(1));
    expect(dark.filter((v) => v > 100).length).toBeGreaterThan(50);
  });
});

describe('acquisition variants', () => {
  it('every variant returns a valid gray image, deterministic for a seed', () => {
    const g = ramp(120, 100);
    for (const v of ACQUISITION_VARIANTS) {
      const a = v.apply(g, 3);
      const b = v.apply(g, 3);
      expect(a.data.length, v.id).toBe(a.width * a.height);
      expect(Array.from(a.data), v.id).toEqual(Array.from(b.data));
    }
    expect(new Set(ACQUISITION_VARIANTS.map((v) => v.id)).size).toBe(ACQUISITION_VARIANTS.length);
  });
  it('random re-acquisition is seeded, and withReacquired keeps the originals first', () => {
    const g = ramp(80, 90);
    const a = randomReacquisition(g, createRng(5));
    const b = randomReacquisition(g, createRng(5));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const mix = withReacquired(
      [g, g],
      (x) => x,
      (_, x) => x,
      2,
      9,
    );
    expect(mix.length).toBe(6);
    expect(mix[0]).toBe(g);
  });
  it('the v2 augmentation is seeded, and the fine-tuning default draws none of the new options', () => {
    const base = { pixels: Uint8Array.from({ length: 140 * 140 }, (_, i) => (i * 7) % 256), size: 140 };
    const spec = DEFAULT_PREPROCESSING;
    const a = augmentToInput(base, spec, SOURCE_INVARIANT_AUGMENT, createRng(2));
    const b = augmentToInput(base, spec, SOURCE_INVARIANT_AUGMENT, createRng(2));
    expect(Array.from(a)).toEqual(Array.from(b));
    // Explicit zeros must give exactly what the config without the fields gives (same random stream).
    const zeros = { ...DEFAULT_AUGMENT, resampleProbability: 0, jpegProbability: 0, sharpenProbability: 0, illuminationProbability: 0, lineProbability: 0 };
    expect(Array.from(augmentToInput(base, spec, zeros, createRng(4)))).toEqual(Array.from(augmentToInput(base, spec, DEFAULT_AUGMENT, createRng(4))));
  });
});

describe('sampling and probe', () => {
  it('stratified weights: classes equal, strata equal within a class, large sources damped', () => {
    const labels = [0, 0, 0, 0, 0, 1, 1, 1];
    const strata = ['adult', 'adult', 'adult', 'adult', 'pediatric', 'adult', 'adult', 'adult'];
    const sources = ['a', 'a', 'a', 'a', 'k', 'b', 'c', 'c'];
    const w = stratifiedSourceWeights(labels, strata, sources, 2, 0.5);
    const mass = (f: (i: number) => boolean) => w.reduce((s, x, i) => s + (f(i) ? x : 0), 0);
    expect(mass((i) => labels[i] === 0)).toBeCloseTo(0.5, 12);
    expect(mass((i) => labels[i] === 1)).toBeCloseTo(0.5, 12);
    // The single pediatric film of class 0 weighs as much as the four adult films together.
    expect(w[4]).toBeCloseTo(
      mass((i) => labels[i] === 0 && strata[i] === 'adult'),
      12,
    );
    // Source damping: source b (1 film) vs source c (2 films): b's film weighs √2 times one of c's.
    expect(w[5] / w[6]).toBeCloseTo(Math.SQRT2, 10);
  });
  it('the probe finds a linear source signal and is at chance without one', () => {
    const rng = createRng(7);
    const make = (signal: number) => {
      const xs: number[][] = [];
      const ys: number[] = [];
      for (let i = 0; i < 200; i++) {
        const y = i % 2;
        ys.push(y);
        xs.push([rng.normal() + signal * (y ? 1 : -1), rng.normal(), rng.normal()]);
      }
      return { xs, ys };
    };
    const strong = make(2);
    const p = trainLinearProbe(strong.xs, strong.ys, 2);
    const test = make(2);
    expect(
      balancedAccuracy(
        test.ys,
        test.xs.map((x) => p.predict(x)),
        2,
      ),
    ).toBeGreaterThan(0.9);
    const none = make(0);
    const q = trainLinearProbe(none.xs, none.ys, 2);
    const t2 = make(0);
    expect(
      balancedAccuracy(
        t2.ys,
        t2.xs.map((x) => q.predict(x)),
        2,
      ),
    ).toBeLessThan(0.65);
  });
});

describe.skipIf(!hasCxr())('npm run train: a short seeded run is reproducible', () => {
  it('gives bit-identical weights twice with the same seed, other weights with another seed', async () => {
    // A tiny data folder: 36 rows of the shared manifest (12 per class, train and val), images linked, not copied.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-repro-'));
    fs.symlinkSync(path.join(CXR_DIR, 'images'), path.join(dir, 'images'));
    const header = fs.readFileSync(path.join(CXR_DIR, 'manifest.csv'), 'utf8').split('\n')[0];
    const lines = fs.readFileSync(path.join(CXR_DIR, 'manifest.csv'), 'utf8').split('\n').slice(1);
    const pick = (label: string, split: string, n: number) => lines.filter((l) => l.split(',')[1] === label && l.split(',')[2] === split).slice(0, n);
    const rows = ['covid', 'normal', 'pneumonia'].flatMap((l) => [...pick(l, 'train', 8), ...pick(l, 'val', 4)]);
    fs.writeFileSync(path.join(dir, 'manifest.csv'), [header, ...rows].join('\n') + '\n');
    const { main } = await import('../../scripts/train');
    const run = async (seed: number, out: string) => {
      const code = await main([
        '--data',
        dir,
        '--out',
        out,
        '--seed',
        String(seed),
        '--epochs',
        '2',
        '--epoch-size',
        '32',
        '--no-ood',
        '--no-evaluate',
        '--no-cache',
      ]);
      expect(code).toBe(0);
      return fs.readFileSync(path.join(out, 'weights.bin'));
    };
    const a = await run(11, path.join(dir, 'a'));
    const b = await run(11, path.join(dir, 'b'));
    const c = await run(12, path.join(dir, 'c'));
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
    // Training also writes the perceptual hashes of the 24 images it trained on (scripts/hashes.ts).
    const hashes = parseTrainHashes(fs.readFileSync(path.join(dir, 'a', 'train-hashes.json'), 'utf8'));
    expect(hashes.count).toBe(24);
    expect(hashes.exact.size).toBeGreaterThan(20);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 240_000);
});
if (!hasCxr()) console.warn(skipMessage('source-shift.test.ts: the cxr data set', CXR_DIR));
