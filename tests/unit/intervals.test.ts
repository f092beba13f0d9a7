import { describe, expect, it } from 'vitest';
import { confusionIntervals, formatInterval, smallSample, wilsonInterval } from '../../src/core/intervals';

describe('wilsonInterval', () => {
  // Reference values: Newcombe (1998), "Two-sided confidence intervals for the single proportion",
  // Table I (Wilson score method, without continuity correction).
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%i of %i → %f–%f (Newcombe 1998)', (k, n, lo, hi) => {
    const iv = wilsonInterval(k, n);
    expect(iv.lower!).toBeCloseTo(lo, 4);
    expect(iv.upper!).toBeCloseTo(hi, 4);
    expect(iv.value).toBeCloseTo(k / n, 12);
  });

  it('16 of 16 right is 100 % with an interval from 81 %', () => {
    const iv = wilsonInterval(16, 16);
    expect(iv.upper).toBe(1);
    expect(iv.lower!).toBeCloseTo(0.8064, 4);
    expect(formatInterval(iv)).toBe('81–100 %');
  });

  it('is symmetric: k of n mirrors n − k of n', () => {
    const a = wilsonInterval(3, 11);
    const b = wilsonInterval(8, 11);
    expect(a.lower!).toBeCloseTo(1 - b.upper!, 12);
    expect(a.upper!).toBeCloseTo(1 - b.lower!, 12);
  });

  it('narrows as the sample grows', () => {
    const small = wilsonInterval(8, 10);
    const big = wilsonInterval(800, 1000);
    expect(big.upper! - big.lower!).toBeLessThan((small.upper! - small.lower!) / 5);
  });

  it('has no value for 0 trials and rejects impossible counts', () => {
    expect(wilsonInterval(0, 0)).toMatchObject({ value: null, lower: null, upper: null });
    expect(formatInterval(wilsonInterval(0, 0))).toBe('–');
    expect(() => wilsonInterval(5, 4)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 4)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 4)).toThrow(RangeError);
  });
});

describe('confusionIntervals', () => {
  it('gives accuracy and one-vs-rest counts from the matrix', () => {
    // rows true, columns predicted
    const m = [
      [8, 2],
      [1, 9],
    ];
    const r = confusionIntervals(m);
    expect(r.n).toBe(20);
    expect(r.accuracy).toMatchObject({ successes: 17, trials: 20 });
    expect(r.perClass[0].sensitivity).toMatchObject({ successes: 8, trials: 10 });
    expect(r.perClass[0].specificity).toMatchObject({ successes: 9, trials: 10 });
    expect(r.perClass[0].ppv).toMatchObject({ successes: 8, trials: 9 });
    expect(r.perClass[0].npv).toMatchObject({ successes: 9, trials: 11 });
    expect(r.perClass[1].support).toBe(10);
    expect(r.accuracy.lower!).toBeCloseTo(wilsonInterval(17, 20).lower!, 12);
  });
});

describe('smallSample', () => {
  it('flags a split with any class under 30 images', () => {
    expect(smallSample([8, 8])).toEqual({ small: true, smallestClass: 8, classes: [0, 1] });
    expect(smallSample([30, 29])).toEqual({ small: true, smallestClass: 29, classes: [1] });
    expect(smallSample([30, 120]).small).toBe(false);
  });
});
