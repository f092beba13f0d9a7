import { describe, expect, it } from 'vitest';
import {
  applyTemperature,
  argmax,
  auc,
  aucFromRoc,
  bootstrapCI,
  bootstrapCIs,
  confusionMatrix,
  expectedCalibrationError,
  fitTemperature,
  negativeLogLikelihood,
  oneVsRestAuc,
  perClassMetrics,
  reliabilityDiagram,
  rocCurve,
  sensitivitySpecificityAt,
  softmax,
  thresholdForSensitivity,
} from '../../src/core/metrics';
import { createRng } from '../../src/core/random';

/** Brute-force Mann-Whitney AUC with ties counting 1/2 (the definition auc() must match). */
function mannWhitneyAuc(scores: number[], positives: boolean[]): number | null {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!positives[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (positives[j]) continue;
      pairs++;
      if (scores[i] > scores[j]) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return pairs === 0 ? null : wins / pairs;
}

describe('softmax / argmax', () => {
  it('softmax is normalised and stable for large logits', () => {
    expect(softmax([0, 0])).toEqual([0.5, 0.5]);
    const p = softmax([1, 2, 3]);
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const total = e[0] + e[1] + e[2];
    p.forEach((v, i) => expect(v).toBeCloseTo(e[i] / total, 12));
    const big = softmax([1000, 0, -1000]);
    expect(big[0]).toBe(1);
    expect(big.every(Number.isFinite)).toBe(true);
    expect(softmax([])).toEqual([]);
  });

  it('argmax returns the first maximum, -1 when empty', () => {
    expect(argmax([0.1, 0.7, 0.2])).toBe(1);
    expect(argmax([0.4, 0.4, 0.2])).toBe(0);
    expect(argmax([-5, -3])).toBe(1);
    expect(argmax([])).toBe(-1);
  });
});

describe('confusionMatrix / perClassMetrics', () => {
  it('counts rows = true, columns = predicted', () => {
    const m = confusionMatrix([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 0, 2], 3);
    expect(m).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
  });

  it('rejects out-of-range labels and length mismatches', () => {
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(RangeError);
    expect(() => confusionMatrix([0, 1], [0, -1], 3)).toThrow(RangeError);
    expect(() => confusionMatrix([0, 1.5], [0, 1], 3)).toThrow(RangeError);
    expect(() => confusionMatrix([0], [0, 1], 3)).toThrow(/length mismatch/);
  });

  it('matches hand-computed per-class values', () => {
    const s = perClassMetrics(confusionMatrix([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 0, 2], 3));
    expect(s.n).toBe(6);
    expect(s.accuracy).toBeCloseTo(4 / 6, 12);
    expect(s.perClass[0]).toEqual({
      support: 2,
      tp: 1,
      fp: 1,
      fn: 1,
      tn: 3,
      sensitivity: 0.5,
      specificity: 0.75,
      ppv: 0.5,
      npv: 0.75,
      f1: 0.5,
    });
    const c1 = s.perClass[1];
    expect([c1.support, c1.tp, c1.fp, c1.fn, c1.tn]).toEqual([2, 2, 1, 0, 3]);
    expect(c1.sensitivity).toBe(1);
    expect(c1.specificity).toBe(0.75);
    expect(c1.ppv).toBeCloseTo(2 / 3, 12);
    expect(c1.npv).toBe(1);
    expect(c1.f1).toBeCloseTo(0.8, 12);
    const c2 = s.perClass[2];
    expect([c2.sensitivity, c2.specificity, c2.ppv, c2.npv]).toEqual([0.5, 1, 1, 0.8]);
    expect(c2.f1).toBeCloseTo(2 / 3, 12);
    expect(s.macro.sensitivity).toBeCloseTo(2 / 3, 12);
    expect(s.macro.specificity).toBeCloseTo((0.75 + 0.75 + 1) / 3, 12);
    expect(s.macro.f1).toBeCloseTo((0.5 + 0.8 + 2 / 3) / 3, 12);
  });

  it('a class with no samples has null sensitivity and is left out of macro averages', () => {
    const s = perClassMetrics(confusionMatrix([0, 0, 1, 1], [0, 1, 1, 1], 3));
    const absent = s.perClass[2];
    expect(absent).toEqual({
      support: 0,
      tp: 0,
      fp: 0,
      fn: 0,
      tn: 4,
      sensitivity: null,
      specificity: 1,
      ppv: null,
      npv: 1,
      f1: null,
    });
    expect(s.macro.sensitivity).toBeCloseTo((0.5 + 1) / 2, 12);
    expect(s.macro.ppv).toBeCloseTo((1 + 2 / 3) / 2, 12);
    // Never NaN anywhere, so the summary survives JSON.stringify unchanged.
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('a class predicted but never present has ppv 0 and f1 0', () => {
    const s = perClassMetrics(confusionMatrix([0, 0], [0, 2], 3));
    expect(s.perClass[2].sensitivity).toBeNull();
    expect(s.perClass[2].ppv).toBe(0);
    expect(s.perClass[2].f1).toBe(0);
    expect(s.perClass[1]).toMatchObject({ sensitivity: null, ppv: null, f1: null, specificity: 1 });
  });

  it('all samples of one class', () => {
    const s = perClassMetrics(confusionMatrix([1, 1, 1], [1, 1, 0], 3));
    expect(s.accuracy).toBeCloseTo(2 / 3, 12);
    expect(s.perClass[1].sensitivity).toBeCloseTo(2 / 3, 12);
    expect(s.perClass[1].specificity).toBeNull();
    expect(s.perClass[1].ppv).toBe(1);
    expect(s.perClass[1].npv).toBe(0);
    expect(s.perClass[0].sensitivity).toBeNull();
    expect(s.perClass[0].specificity).toBeCloseTo(2 / 3, 12);
    expect(s.macro.sensitivity).toBeCloseTo(2 / 3, 12);
  });

  it('no samples at all gives null everywhere instead of NaN', () => {
    const s = perClassMetrics(confusionMatrix([], [], 3));
    expect(s.n).toBe(0);
    expect(s.accuracy).toBeNull();
    expect(s.macro).toEqual({ sensitivity: null, specificity: null, ppv: null, npv: null, f1: null });
  });

  it('rejects a non-square matrix', () => {
    expect(() => perClassMetrics([[1, 2], [3]])).toThrow(/square/);
  });
});

describe('rocCurve / auc', () => {
  it('hand-computed curve and area', () => {
    const scores = [0.9, 0.8, 0.7, 0.6];
    const positives = [true, false, true, false];
    expect(rocCurve(scores, positives)).toEqual([
      { fpr: 0, tpr: 0, threshold: Infinity },
      { fpr: 0, tpr: 0.5, threshold: 0.9 },
      { fpr: 0.5, tpr: 0.5, threshold: 0.8 },
      { fpr: 0.5, tpr: 1, threshold: 0.7 },
      { fpr: 1, tpr: 1, threshold: 0.6 },
    ]);
    expect(auc(scores, positives)).toBeCloseTo(0.75, 12);
  });

  it('perfect and inverted classifiers give 1 and 0', () => {
    expect(auc([0.9, 0.8, 0.2, 0.1], [true, true, false, false])).toBe(1);
    expect(auc([0.1, 0.2, 0.8, 0.9], [true, true, false, false])).toBe(0);
  });

  it('constant scores give 0.5 with a single diagonal step', () => {
    const positives = [true, false, true, false, false];
    expect(rocCurve([0.5, 0.5, 0.5, 0.5, 0.5], positives)).toEqual([
      { fpr: 0, tpr: 0, threshold: Infinity },
      { fpr: 1, tpr: 1, threshold: 0.5 },
    ]);
    expect(auc([0.5, 0.5, 0.5, 0.5, 0.5], positives)).toBe(0.5);
  });

  it('partial ties count 1/2 (one point per distinct threshold)', () => {
    const scores = [0.8, 0.5, 0.5, 0.2];
    const positives = [true, true, false, false];
    expect(rocCurve(scores, positives).map((p) => p.threshold)).toEqual([Infinity, 0.8, 0.5, 0.2]);
    expect(auc(scores, positives)).toBeCloseTo(3.5 / 4, 12);
  });

  it('equals the Mann-Whitney statistic on random data with many ties', () => {
    const rng = createRng(2024);
    for (let trial = 0; trial < 20; trial++) {
      const n = 5 + rng.int(60);
      const positives = Array.from({ length: n }, () => rng.next() < 0.4);
      // Scores rounded to 1 decimal so ties are common; positives shifted up a little.
      const scores = positives.map((p) => Math.round((rng.next() + (p ? 0.2 : 0)) * 10) / 10);
      const expected = mannWhitneyAuc(scores, positives);
      const actual = auc(scores, positives);
      if (expected === null) expect(actual).toBeNull();
      else expect(actual).toBeCloseTo(expected, 12);
    }
  });

  it('is null (and the curve empty) when a class has no samples', () => {
    expect(auc([0.1, 0.9], [true, true])).toBeNull();
    expect(auc([0.1, 0.9], [false, false])).toBeNull();
    expect(auc([], [])).toBeNull();
    expect(rocCurve([0.1, 0.9], [true, true])).toEqual([]);
    expect(aucFromRoc([])).toBeNull();
  });

  it('rejects NaN scores and length mismatches', () => {
    expect(() => auc([0.1, NaN], [true, false])).toThrow(RangeError);
    expect(() => auc([0.1], [true, false])).toThrow(RangeError);
  });
});

describe('oneVsRestAuc', () => {
  it('per class and macro, with an absent class left out', () => {
    const probs = [
      [0.8, 0.1, 0.1],
      [0.6, 0.3, 0.1],
      [0.3, 0.6, 0.1],
      [0.5, 0.4, 0.1],
    ];
    const yTrue = [0, 0, 1, 1];
    const result = oneVsRestAuc(probs, yTrue, 3);
    // Class 0: positive scores {0.8, 0.6} vs negatives {0.3, 0.5}: all 4 pairs won.
    expect(result.perClass[0]).toBe(1);
    // Class 1: positives {0.6, 0.4} vs negatives {0.1, 0.3}: all won.
    expect(result.perClass[1]).toBe(1);
    expect(result.perClass[2]).toBeNull();
    expect(result.macro).toBe(1);
  });

  it('macro averages the defined classes', () => {
    const probs = [
      [0.9, 0.1, 0],
      [0.2, 0.8, 0],
      [0.7, 0.3, 0],
      [0.1, 0.9, 0],
    ];
    // Class 0 positives {0.9, 0.1} vs negatives {0.2, 0.7}: 2 of 4 pairs -> 0.5.
    const result = oneVsRestAuc(probs, [0, 1, 1, 0], 3);
    expect(result.perClass[0]).toBe(0.5);
    expect(result.perClass[1]).toBe(0.5);
    expect(result.macro).toBe(0.5);
  });

  it('validates shapes', () => {
    expect(() => oneVsRestAuc([[0.5, 0.5]], [0], 3)).toThrow(/expected 3/);
    expect(() => oneVsRestAuc([[0.5, 0.5, 0]], [3], 3)).toThrow(RangeError);
  });
});

describe('operating points', () => {
  const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
  const positives = [true, false, true, true, false, false];

  it('sensitivitySpecificityAt counts score >= threshold as positive', () => {
    expect(sensitivitySpecificityAt(scores, positives, 0.7)).toEqual({
      threshold: 0.7,
      tp: 2,
      fp: 1,
      fn: 1,
      tn: 2,
      sensitivity: 2 / 3,
      specificity: 2 / 3,
    });
    expect(sensitivitySpecificityAt(scores, positives, 1)).toMatchObject({ sensitivity: 0, specificity: 1 });
    expect(sensitivitySpecificityAt([0.3], [false], 0.5)).toMatchObject({ sensitivity: null, specificity: 1 });
  });

  it('thresholdForSensitivity picks the highest threshold reaching the target', () => {
    expect(thresholdForSensitivity(scores, positives, 0.5)).toMatchObject({ threshold: 0.7, tp: 2, fp: 1 });
    expect(thresholdForSensitivity(scores, positives, 2 / 3)).toMatchObject({ threshold: 0.7 });
    expect(thresholdForSensitivity(scores, positives, 1)).toMatchObject({
      threshold: 0.6,
      sensitivity: 1,
      specificity: 2 / 3,
    });
    expect(thresholdForSensitivity(scores, positives, 0)).toMatchObject({ threshold: 0.9 });
  });

  it('respects ties and float rounding of the target', () => {
    expect(thresholdForSensitivity([0.9, 0.5, 0.5, 0.1], [true, true, false, false], 0.75)).toMatchObject({
      threshold: 0.5,
      sensitivity: 1,
      specificity: 0.5,
    });
    // 9 of 10 positives must count as reaching 0.9.
    const s = Array.from({ length: 10 }, (_, i) => 1 - i / 10);
    const p = s.map(() => true);
    expect(thresholdForSensitivity(s, p, 0.9)?.tp).toBe(9);
  });

  it('is null without positives and rejects a bad target', () => {
    expect(thresholdForSensitivity([0.2, 0.4], [false, false], 0.9)).toBeNull();
    expect(() => thresholdForSensitivity(scores, positives, 1.5)).toThrow(RangeError);
  });
});

describe('calibration', () => {
  it('a perfectly calibrated toy case has ECE 0', () => {
    // Ten predictions at confidence 0.8, eight of them right.
    const probs = Array.from({ length: 10 }, () => [0.8, 0.1, 0.1]);
    const yTrue = [0, 0, 0, 0, 0, 0, 0, 0, 1, 2];
    expect(expectedCalibrationError(probs, yTrue)).toBeCloseTo(0, 12);
  });

  it('an overconfident model has ECE = confidence - accuracy', () => {
    const probs = Array.from({ length: 10 }, () => [0.05, 0.9, 0.05]);
    const yTrue = [1, 1, 1, 1, 1, 1, 0, 0, 2, 2];
    expect(expectedCalibrationError(probs, yTrue)).toBeCloseTo(0.3, 12);
  });

  it('weights bins by their share of samples and reports the diagram', () => {
    // 4 samples at 0.95, all right (gap 0.05); 6 at 0.6, half right (gap 0.1).
    const probs = [...Array.from({ length: 4 }, () => [0.95, 0.05]), ...Array.from({ length: 6 }, () => [0.4, 0.6])];
    const yTrue = [0, 0, 0, 0, 1, 1, 1, 0, 0, 0];
    const diagram = reliabilityDiagram(probs, yTrue, 15);
    expect(diagram.n).toBe(10);
    expect(diagram.bins).toHaveLength(15);
    expect(diagram.ece).toBeCloseTo(0.4 * 0.05 + 0.6 * 0.1, 12);
    expect(diagram.mce).toBeCloseTo(0.1, 12);
    const b9 = diagram.bins[9];
    expect(b9.lower).toBeCloseTo(0.6, 12);
    expect(b9.count).toBe(6);
    expect(b9.meanConfidence).toBeCloseTo(0.6, 12);
    expect(b9.accuracy).toBe(0.5);
    expect(diagram.bins[14]).toMatchObject({ count: 4, accuracy: 1 });
    expect(diagram.bins[14].meanConfidence).toBeCloseTo(0.95, 12);
    expect(diagram.bins[0]).toMatchObject({ count: 0, meanConfidence: null, accuracy: null });
    expect(diagram.bins.reduce((sum, b) => sum + b.count, 0)).toBe(10);
  });

  it('confidence 1 lands in the last bin; empty input gives null', () => {
    const diagram = reliabilityDiagram([[1, 0]], [0], 10);
    expect(diagram.bins[9].count).toBe(1);
    expect(diagram.ece).toBe(0);
    expect(expectedCalibrationError([], [])).toBeNull();
  });
});

describe('temperature scaling', () => {
  it('applyTemperature divides logits by T before softmax (vector and batch)', () => {
    expect(applyTemperature([1, 2, 3], 1)).toEqual(softmax([1, 2, 3]));
    const p = applyTemperature([2, 4], 2);
    expect(p[0]).toBeCloseTo(softmax([1, 2])[0], 12);
    const batch = applyTemperature(
      [
        [2, 4],
        [0, 0],
      ],
      2,
    );
    expect(batch).toHaveLength(2);
    expect(batch[1]).toEqual([0.5, 0.5]);
    expect(() => applyTemperature([1, 2], 0)).toThrow(RangeError);
  });

  it('negativeLogLikelihood matches a hand computation', () => {
    expect(negativeLogLikelihood([[0, 0]], [1])).toBeCloseTo(Math.log(2), 12);
    expect(negativeLogLikelihood([[2, 0]], [0], 2)).toBeCloseTo(-Math.log(softmax([1, 0])[0]), 12);
  });

  /**
   * Labels drawn from softmax(trueLogits); the model reports trueLogits * knownT, so dividing
   * its logits by T = knownT restores calibrated probabilities (knownT > 1: overconfident).
   */
  function synthetic(knownT: number, n: number, seed: number): { logits: number[][]; yTrue: number[] } {
    const rng = createRng(seed);
    const logits: number[][] = [];
    const yTrue: number[] = [];
    for (let i = 0; i < n; i++) {
      const trueLogits = [rng.normal() * 2, rng.normal() * 2, rng.normal() * 2];
      const probs = softmax(trueLogits);
      const u = rng.next();
      const y = u < probs[0] ? 0 : u < probs[0] + probs[1] ? 1 : 2;
      logits.push(trueLogits.map((z) => z * knownT));
      yTrue.push(y);
    }
    return { logits, yTrue };
  }

  it.each([0.4, 2.5])('recovers a known temperature %s', (knownT) => {
    const { logits, yTrue } = synthetic(knownT, 5000, 17);
    const fit = fitTemperature(logits, yTrue);
    expect(Math.abs(fit.temperature / knownT - 1)).toBeLessThan(0.08);
    expect(fit.nll).toBeLessThan(fit.nllBefore);
    // Calibrating improves ECE too.
    const before = expectedCalibrationError(
      logits.map((z) => softmax(z)),
      yTrue,
    )!;
    const after = expectedCalibrationError(applyTemperature(logits, fit.temperature), yTrue)!;
    expect(after).toBeLessThan(before);
  });

  it('stays at ~1 for an already calibrated model and hits the bound for separable data', () => {
    const { logits, yTrue } = synthetic(1, 5000, 99);
    expect(Math.abs(fitTemperature(logits, yTrue).temperature - 1)).toBeLessThan(0.08);
    const separable = fitTemperature(
      [
        [5, 0],
        [0, 5],
      ],
      [0, 1],
    );
    expect(separable.temperature).toBeCloseTo(0.05, 6);
  });
});

describe('bootstrapCI', () => {
  const rng = createRng(1);
  const values = Array.from({ length: 400 }, () => rng.normal());
  const mean = (indices: number[]): number => indices.reduce((s, i) => s + values[i], 0) / indices.length;

  it('is deterministic for a seed and differs across seeds', () => {
    const a = bootstrapCI(values.length, mean, { iterations: 300, seed: 42 });
    const b = bootstrapCI(values.length, mean, { iterations: 300, seed: 42 });
    const c = bootstrapCI(values.length, mean, { iterations: 300, seed: 43 });
    expect(a).toEqual(b);
    expect(a.lower).not.toBe(c.lower);
  });

  it('gives a sensible percentile interval for a mean', () => {
    const ci = bootstrapCI(values.length, mean, { iterations: 1000, seed: 7 });
    expect(ci.estimate).toBeCloseTo(mean(values.map((_, i) => i)), 12);
    expect(ci.lower!).toBeLessThan(ci.estimate!);
    expect(ci.upper!).toBeGreaterThan(ci.estimate!);
    // Width ~ 2 * 1.96 / sqrt(400) = 0.196 for unit-variance data.
    expect(ci.upper! - ci.lower!).toBeGreaterThan(0.15);
    expect(ci.upper! - ci.lower!).toBeLessThan(0.25);
    expect(ci.validReplicates).toBe(1000);
    expect(ci.alpha).toBe(0.05);
  });

  it('skips null replicates and reports null bounds when none is defined', () => {
    // AUC of a small sample: replicates that miss the positive sample are undefined.
    const scores = [0.9, 0.1, 0.2, 0.3, 0.4];
    const positives = [true, false, false, false, false];
    const aucStat = (idx: number[]) =>
      auc(
        idx.map((i) => scores[i]),
        idx.map((i) => positives[i]),
      );
    const ci = bootstrapCI(5, aucStat, { iterations: 200, seed: 3 });
    expect(ci.validReplicates).toBeGreaterThan(0);
    expect(ci.validReplicates).toBeLessThan(200);
    expect(ci.lower).toBe(1);
    const none = bootstrapCI(5, () => null, { iterations: 50, seed: 3 });
    expect(none).toMatchObject({ estimate: null, lower: null, upper: null, validReplicates: 0 });
  });

  it('stratified resampling keeps each stratum size', () => {
    const strata = [0, 0, 0, 1, 1];
    const sizes: number[] = [];
    bootstrapCI(
      5,
      (idx) => {
        sizes.push(idx.filter((i) => strata[i] === 1).length);
        return 0;
      },
      { iterations: 30, seed: 5, strata },
    );
    expect(sizes.every((s) => s === 2)).toBe(true);
    // The single positive is always present, so every AUC replicate is defined.
    const scores = [0.9, 0.1, 0.2, 0.3, 0.4];
    const positives = [true, false, false, false, false];
    const ci = bootstrapCI(
      5,
      (idx) =>
        auc(
          idx.map((i) => scores[i]),
          idx.map((i) => positives[i]),
        ),
      {
        iterations: 100,
        seed: 1,
        strata: positives.map(String),
      },
    );
    expect(ci.validReplicates).toBe(100);
  });

  it('validates its options', () => {
    expect(() => bootstrapCI(3, () => 0, { alpha: 0 })).toThrow(RangeError);
    expect(() => bootstrapCI(3, () => 0, { iterations: 0 })).toThrow(RangeError);
    expect(() => bootstrapCI(3, () => 0, { strata: [0] })).toThrow(RangeError);
    expect(bootstrapCI(0, () => null)).toMatchObject({ lower: null, upper: null });
  });
});

describe('bootstrapCIs', () => {
  it('several statistics over resamples drawn once give exactly what bootstrapCI gives for each alone (strata too), and share one index array per resample', () => {
    const values = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8];
    const strata = values.map((v) => v % 2);
    const mean = (idx: number[]) => idx.reduce((a, i) => a + values[i], 0) / idx.length;
    const max = (idx: number[]) => Math.max(...idx.map((i) => values[i]));
    const undefinedStat = () => null;
    const seen = new Set<number[]>();
    const both = bootstrapCIs(values.length, { mean, max, none: undefinedStat, spy: (idx) => (seen.add(idx), 0) }, { iterations: 200, seed: 9, strata });
    expect(both.mean).toEqual(bootstrapCI(values.length, mean, { iterations: 200, seed: 9, strata }));
    expect(both.max).toEqual(bootstrapCI(values.length, max, { iterations: 200, seed: 9, strata }));
    expect(both.none).toMatchObject({ estimate: null, lower: null, upper: null, validReplicates: 0 });
    // The original sample and 200 resamples: one array each.
    expect(seen.size).toBe(201);
    expect(both.mean.lower!).toBeLessThan(both.mean.upper!);
  });
});
