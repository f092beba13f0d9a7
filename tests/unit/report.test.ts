// src/core/report.ts on hand-computed cases: every figure below was worked out on paper from the
// six-sample table in `handCase`.
import { describe, expect, it } from 'vitest';
import { buildMetricsReport, cxrAgeGroup, downsampleRoc, groupMetrics, operatingPointFromSamples, type ReportInput } from '../../src/core/report';
import { expectedCalibrationError, rocCurve, softmax } from '../../src/core/metrics';
import { createRng } from '../../src/core/random';

const classNames = ['a', 'b', 'c'];

/**
 *  i  true  probabilities (a, b, c)  predicted  group
 *  0  a     0.70 0.05 0.25           a          x
 *  1  a     0.40 0.50 0.10           b          x
 *  2  b     0.10 0.80 0.10           b          y
 *  3  b     0.30 0.30 0.40           c          y
 *  4  c     0.20 0.10 0.70           c          y
 *  5  c     0.60 0.35 0.05           a          (none)
 */
function handCase(extra: Partial<ReportInput> = {}): ReportInput {
  return {
    classNames,
    labels: [0, 0, 1, 1, 2, 2],
    probabilities: [
      [0.7, 0.05, 0.25],
      [0.4, 0.5, 0.1],
      [0.1, 0.8, 0.1],
      [0.3, 0.3, 0.4],
      [0.2, 0.1, 0.7],
      [0.6, 0.35, 0.05],
    ],
    groups: { site: ['x', 'x', 'y', 'y', 'y', null] },
    bootstrap: { iterations: 300, seed: 7 },
    ...extra,
  };
}

describe('buildMetricsReport: confusion-based metrics', () => {
  const r = buildMetricsReport(handCase());

  it('confusion matrix, accuracy, majority rate', () => {
    expect(r.n).toBe(6);
    expect(r.classNames).toEqual(classNames);
    expect(r.confusionMatrix).toEqual([
      [1, 1, 0],
      [0, 1, 1],
      [1, 0, 1],
    ]);
    expect(r.accuracy).toBeCloseTo(0.5, 12);
    expect(r.balancedAccuracy).toBeCloseTo(0.5, 12);
    // Every class has support 2: the first one is the majority, at 1/3.
    expect(r.majorityClass).toEqual({ className: 'a', rate: 2 / 6 });
  });

  it('per-class sensitivity, specificity, PPV, NPV, F1', () => {
    // Each class: tp 1, fn 1, fp 1, tn 3.
    for (const c of classNames) {
      const m = r.perClass[c];
      expect([m.support, m.tp, m.fn, m.fp, m.tn]).toEqual([2, 1, 1, 1, 3]);
      expect(m.sensitivity).toBeCloseTo(0.5, 12);
      expect(m.specificity).toBeCloseTo(0.75, 12);
      expect(m.ppv).toBeCloseTo(0.5, 12);
      expect(m.npv).toBeCloseTo(0.75, 12);
      expect(m.f1).toBeCloseTo(0.5, 12);
    }
    expect(r.macro.f1).toBeCloseTo(0.5, 12);
  });

  it('one-vs-rest AUC per class and macro', () => {
    // a: positives 0.7, 0.4 vs negatives 0.1 0.3 0.2 0.6 → 4 + 3 wins of 8 pairs.
    expect(r.perClass.a.auc).toBeCloseTo(7 / 8, 12);
    // b: positives 0.8, 0.3 vs 0.05 0.5 0.1 0.35 → 4 + 2 wins.
    expect(r.perClass.b.auc).toBeCloseTo(6 / 8, 12);
    // c: positives 0.7, 0.05 vs 0.25 0.1 0.1 0.4 → 4 + 0 wins.
    expect(r.perClass.c.auc).toBeCloseTo(4 / 8, 12);
    expect(r.macro.auc).toBeCloseTo((7 / 8 + 6 / 8 + 4 / 8) / 3, 12);
  });

  it('groups: accuracy, label / prediction counts and recall of the classes present', () => {
    const site = r.groups.site;
    expect(site.map((g) => g.group)).toEqual(['y', 'x']); // largest first; the null row is in no group
    const [y, x] = site;
    expect([x.n, x.correct, x.accuracy]).toEqual([2, 1, 0.5]);
    expect(x.labelCounts).toEqual({ a: 2, b: 0, c: 0 });
    expect(x.predictedCounts).toEqual({ a: 1, b: 1, c: 0 });
    expect(x.perClass).toEqual({ a: { support: 2, correct: 1, recall: 0.5 } });
    expect([y.n, y.correct]).toEqual([3, 2]);
    expect(y.accuracy).toBeCloseTo(2 / 3, 12);
    expect(y.predictedCounts).toEqual({ a: 0, b: 1, c: 2 });
    expect(y.perClass).toEqual({ b: { support: 2, correct: 1, recall: 0.5 }, c: { support: 1, correct: 1, recall: 1 } });
  });
});

describe('buildMetricsReport: operating point, calibration, bootstrap, ROC, samples', () => {
  it('operating point at a threshold (score >= threshold is positive)', () => {
    const r = buildMetricsReport(handCase({ operatingPoint: { className: 'a', threshold: 0.6, source: 'test', targetSensitivity: 0.95 } }));
    // Scores for a: 0.7 (pos) 0.4 (pos) 0.1 0.3 0.2 0.6 → called positive: 0.7 (tp), 0.6 (fp).
    expect(r.operatingPoint).toMatchObject({ className: 'a', threshold: 0.6, source: 'test', targetSensitivity: 0.95, tp: 1, fn: 1, fp: 1, tn: 3 });
    expect(r.operatingPoint!.sensitivity).toBeCloseTo(0.5, 12);
    expect(r.operatingPoint!.specificity).toBeCloseTo(0.75, 12);
    expect(r.operatingPoint!.ppv).toBeCloseTo(0.5, 12);
    expect(r.operatingPoint!.npv).toBeCloseTo(0.75, 12);
    expect(r.operatingPoint!.valSensitivity).toBeNull();
    // The same figures from the stored samples (what a threshold slider recomputes).
    const again = operatingPointFromSamples(r.samples!, r.classNames, 'a', 0.6);
    expect([again.tp, again.fp, again.fn, again.tn]).toEqual([1, 1, 1, 3]);
    // Restricted to one group: site x holds samples 0 and 1, both true a; only 0.7 passes.
    const x = operatingPointFromSamples(r.samples!, r.classNames, 'a', 0.6, { grouping: 'site', value: 'x' });
    expect([x.tp, x.fp, x.fn, x.tn]).toEqual([1, 0, 1, 0]);
    expect(x.specificity).toBeNull();
    expect(() => buildMetricsReport(handCase({ operatingPoint: { className: 'zzz', threshold: 0.5 } }))).toThrow(/zzz/);
    expect(buildMetricsReport(handCase()).operatingPoint).toBeNull();
  });

  it('ECE before (softmax of the raw logits) and after (the given probabilities)', () => {
    const logits = [
      [2, 0, -1],
      [0.5, 1, -2],
      [-1, 3, 0],
      [0, 0, 0.2],
      [-0.5, -1, 1.5],
      [1, 0.5, -3],
    ];
    const T = 2;
    const calibrated = logits.map((z) => softmax(z.map((v) => v / T)));
    const r = buildMetricsReport(handCase({ logits, probabilities: calibrated, temperature: T, eceBins: 10 }));
    expect(r.calibration.temperature).toBe(2);
    expect(r.calibration.bins).toBe(10);
    expect(r.calibration.eceBefore).toBeCloseTo(
      expectedCalibrationError(
        logits.map((z) => softmax(z)),
        handCase().labels,
        10,
      )!,
      12,
    );
    expect(r.calibration.eceAfter).toBeCloseTo(expectedCalibrationError(calibrated, handCase().labels, 10)!, 12);
    expect(r.calibration.reliabilityBefore).toHaveLength(10);
    expect(r.calibration.eceBefore).not.toBeCloseTo(r.calibration.eceAfter!, 6);
    // Without logits there is no "before".
    const noLogits = buildMetricsReport(handCase());
    expect(noLogits.calibration.eceBefore).toBeNull();
    expect(noLogits.calibration.reliabilityBefore).toBeNull();
    expect(noLogits.calibration.temperature).toBe(1);
  });

  it('ECE by hand: two samples, one bin each', () => {
    // Confidences 0.9 (correct) and 0.6 (wrong), 10 bins: ECE = 0.5 * 0.1 + 0.5 * 0.6 = 0.35.
    const r = buildMetricsReport({
      classNames: ['p', 'q'],
      labels: [0, 1],
      probabilities: [
        [0.9, 0.1],
        [0.6, 0.4],
      ],
      eceBins: 10,
      bootstrap: false,
    });
    expect(r.calibration.eceAfter).toBeCloseTo(0.35, 12);
    expect(r.calibration.mceAfter).toBeCloseTo(0.6, 12);
  });

  it('bootstrap: seeded, stratified, ordered intervals around the estimate', () => {
    const a = buildMetricsReport(handCase());
    const b = buildMetricsReport(handCase());
    const ci = a.confidenceIntervals!;
    expect(ci).toEqual(b.confidenceIntervals);
    expect(ci).toMatchObject({ level: 0.95, iterations: 300, seed: 7, stratifiedBy: 'true class', method: 'percentile bootstrap' });
    expect(ci.accuracy.estimate).toBeCloseTo(0.5, 12);
    expect(ci.macroAuc.estimate).toBeCloseTo(a.macro.auc!, 12);
    for (const iv of [ci.accuracy, ci.macroAuc, ci.auc.a, ci.auc.b, ci.auc.c]) {
      expect(iv.lower!).toBeLessThanOrEqual(iv.estimate!);
      expect(iv.upper!).toBeGreaterThanOrEqual(iv.estimate!);
      expect(iv.lower!).toBeGreaterThanOrEqual(0);
      expect(iv.upper!).toBeLessThanOrEqual(1);
    }
    const other = buildMetricsReport(handCase({ bootstrap: { iterations: 300, seed: 8 } }));
    expect(other.confidenceIntervals!.seed).toBe(8);
    expect(buildMetricsReport(handCase({ bootstrap: false })).confidenceIntervals).toBeNull();
  });

  it('bootstrap intervals for balanced accuracy and per-class sensitivity, specificity, PPV, NPV, F1 bracket the estimates; a perfect class gets [1, 1]', () => {
    const r = buildMetricsReport(handCase());
    const ci = r.confidenceIntervals!;
    expect(ci.balancedAccuracy.estimate).toBeCloseTo(r.balancedAccuracy!, 12);
    for (const c of r.classNames) {
      for (const k of ['sensitivity', 'specificity', 'ppv', 'npv', 'f1'] as const) {
        const iv = ci.perClass[c][k];
        expect(iv.estimate).toBeCloseTo(r.perClass[c][k]!, 12);
        expect(iv.lower!).toBeLessThanOrEqual(iv.estimate!);
        expect(iv.upper!).toBeGreaterThanOrEqual(iv.estimate!);
      }
      // The hand case is not separable: the intervals are wide, not points.
      expect(ci.perClass[c].sensitivity.upper! - ci.perClass[c].sensitivity.lower!).toBeGreaterThan(0.2);
    }
    // Every image right: every resample is perfect.
    const perfect = buildMetricsReport({
      classNames: ['a', 'b'],
      labels: [0, 0, 1, 1, 1],
      probabilities: [
        [0.9, 0.1],
        [0.8, 0.2],
        [0.1, 0.9],
        [0.3, 0.7],
        [0.4, 0.6],
      ],
      bootstrap: { iterations: 50, seed: 1 },
    });
    expect(perfect.confidenceIntervals!.perClass.a.sensitivity).toEqual({ estimate: 1, lower: 1, upper: 1 });
    expect(perfect.confidenceIntervals!.balancedAccuracy).toEqual({ estimate: 1, lower: 1, upper: 1 });
  });

  it('ROC per class from (0,0) to (1,1); +Infinity threshold stored as null; JSON round trip is lossless', () => {
    const r = buildMetricsReport(handCase());
    const roc = r.roc.a;
    expect(roc[0]).toEqual({ fpr: 0, tpr: 0, threshold: null });
    expect(roc[roc.length - 1]).toMatchObject({ fpr: 1, tpr: 1 });
    // Scores for a, descending: 0.7+ 0.6- 0.4+ 0.3- 0.2- 0.1-.
    expect(roc.map((p) => [p.fpr, p.tpr])).toEqual([
      [0, 0],
      [0, 0.5],
      [0.25, 0.5],
      [0.25, 1],
      [0.5, 1],
      [0.75, 1],
      [1, 1],
    ]);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('samples keep labels, rounded scores and group indices', () => {
    const r = buildMetricsReport(handCase({ scoreDecimals: 1 }));
    expect(r.samples!.label).toEqual([0, 0, 1, 1, 2, 2]);
    expect(r.samples!.scores.b).toEqual([0.1, 0.5, 0.8, 0.3, 0.1, 0.4]); // 0.05 → 0.1, 0.35 → 0.4
    expect(r.samples!.decimals).toBe(1);
    expect(r.samples!.groups.site).toEqual({ values: ['x', 'y'], index: [0, 0, 1, 1, 1, -1] });
    expect(buildMetricsReport(handCase({ includeSamples: false })).samples).toBeNull();
  });

  it('rejects inconsistent input', () => {
    expect(() => buildMetricsReport(handCase({ labels: [0, 1] }))).toThrow(/2 labels/);
    expect(() => buildMetricsReport(handCase({ labels: [0, 0, 1, 1, 2, 3] }))).toThrow(/label 5/);
    expect(() => buildMetricsReport(handCase({ groups: { site: ['x'] } }))).toThrow(/site/);
    expect(() => buildMetricsReport(handCase({ probabilities: handCase().probabilities.map((p) => p.slice(0, 2)) }))).toThrow(/expected 3/);
  });

  it('empty input gives null ratios, not NaN', () => {
    const r = buildMetricsReport({ classNames, labels: [], probabilities: [] });
    expect(r.n).toBe(0);
    expect(r.accuracy).toBeNull();
    expect(r.macro.auc).toBeNull();
    expect(r.majorityClass).toBeNull();
    expect(r.confidenceIntervals).toBeNull();
    expect(r.roc.a).toEqual([]);
  });
});

describe('downsampleRoc', () => {
  it('keeps short curves whole and long ones to at most maxPoints, endpoints included, monotone', () => {
    const rng = createRng(5);
    const n = 3000;
    const positives = Array.from({ length: n }, () => rng.next() < 0.3);
    const scores = positives.map((p) => rng.normal() + (p ? 1 : 0));
    const full = rocCurve(scores, positives);
    expect(full.length).toBeGreaterThan(200);
    const small = downsampleRoc(full, 200);
    expect(small.length).toBeLessThanOrEqual(200);
    expect(small.length).toBeGreaterThan(150);
    expect(small[0]).toEqual({ fpr: 0, tpr: 0, threshold: null });
    expect(small[small.length - 1]).toMatchObject({ fpr: 1, tpr: 1 });
    for (let i = 1; i < small.length; i++) {
      expect(small[i].fpr).toBeGreaterThanOrEqual(small[i - 1].fpr);
      expect(small[i].tpr).toBeGreaterThanOrEqual(small[i - 1].tpr);
      expect(small[i].threshold!).toBeLessThan(small[i - 1].threshold ?? Infinity);
    }
    // The area barely changes.
    const area = (pts: { fpr: number; tpr: number }[]) => pts.slice(1).reduce((s, p, i) => s + ((p.fpr - pts[i].fpr) * (p.tpr + pts[i].tpr)) / 2, 0);
    expect(Math.abs(area(small) - area(full))).toBeLessThan(0.005);
    expect(downsampleRoc(full.slice(0, 5), 200)).toHaveLength(5);
  });
});

describe('groupMetrics', () => {
  it('skips empty / null group values', () => {
    const g = groupMetrics([0, 1, 1], [0, 1, 0], ['s', '', undefined], ['p', 'q']);
    expect(g).toEqual([
      {
        group: 's',
        n: 1,
        correct: 1,
        accuracy: 1,
        labelCounts: { p: 1, q: 0 },
        predictedCounts: { p: 1, q: 0 },
        perClass: { p: { support: 1, correct: 1, recall: 1 } },
      },
    ]);
  });
});

describe('cxrAgeGroup (rule from the data set README)', () => {
  it('adult sources, Kermany-derived pediatric copies, unknown otherwise, explicit column wins', () => {
    expect(cxrAgeGroup('rtchanon/Machine-Learning-for-COVID-19-detection-from-chest-X-RAYS', 'normal')).toBe('adult');
    expect(cxrAgeGroup('agchung/Actualmed-COVID-chestxray-dataset', 'normal')).toBe('adult');
    expect(cxrAgeGroup('s-mostafa-a/covid-chestxray-dataset', 'pneumonia')).toBe('adult');
    expect(cxrAgeGroup('armiro/COVID-CXNet', 'covid')).toBe('adult');
    expect(cxrAgeGroup('skytells-research/COVID-19-XRay-Dataset', 'normal')).toBe('pediatric');
    expect(cxrAgeGroup('skytells-research/COVID-19-XRay-Dataset', 'pneumonia')).toBe('pediatric');
    expect(cxrAgeGroup('skytells-research/COVID-19-XRay-Dataset', 'covid')).toBe('unknown');
    expect(cxrAgeGroup('AhmedHamada0/COVID-19-Chest-X-Ray-Dataset-image', 'normal')).toBe('pediatric');
    expect(cxrAgeGroup('AhmedHamada0/COVID-19-Chest-X-Ray-Dataset-image', 'pneumonia')).toBe('unknown');
    expect(cxrAgeGroup('someone/else', 'normal')).toBe('unknown');
    expect(cxrAgeGroup(undefined, 'normal')).toBe('unknown');
    expect(cxrAgeGroup('skytells-research/COVID-19-XRay-Dataset', 'normal', 'Adult')).toBe('adult');
    expect(cxrAgeGroup(undefined, 'normal', 'pediatric')).toBe('pediatric');
  });
});
