// 95 % intervals for proportions (accuracy, sensitivity, specificity, PPV, NPV) from counts, by the
// Wilson score method: unlike the textbook "p ± 1.96·SE" it stays inside [0, 1] and does not shrink
// to zero width at 0 % or 100 %, which is exactly where small validation splits land (16 of 16
// right is 100 %, but the interval is 81–100 %). Pure arithmetic: no tfjs, no DOM.

export interface ProportionInterval {
  /** Successes / trials (null when trials is 0). */
  value: number | null;
  lower: number | null;
  upper: number | null;
  successes: number;
  trials: number;
}

/** z for a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

/** Wilson score interval for `successes` of `trials` (both whole numbers, 0 ≤ successes ≤ trials). */
export function wilsonInterval(successes: number, trials: number, z = Z95): ProportionInterval {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || trials < 0 || successes < 0 || successes > trials) {
    throw new RangeError(`wilsonInterval: need whole numbers 0 ≤ successes ≤ trials, got ${successes} of ${trials}`);
  }
  if (trials === 0) return { value: null, lower: null, upper: null, successes, trials };
  const p = successes / trials;
  const z2 = z * z;
  const denom = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  // Clamp the rounding noise at the ends (k = 0 gives exactly 0, k = n exactly 1).
  const lower = successes === 0 ? 0 : Math.max(0, centre - half);
  const upper = successes === trials ? 1 : Math.min(1, centre + half);
  return { value: p, lower, upper, successes, trials };
}

export interface ClassIntervals {
  support: number;
  sensitivity: ProportionInterval;
  specificity: ProportionInterval;
  ppv: ProportionInterval;
  npv: ProportionInterval;
}

export interface ConfusionIntervals {
  n: number;
  accuracy: ProportionInterval;
  perClass: ClassIntervals[];
}

/** Wilson intervals of accuracy and of each class's one-vs-rest rates, from a confusion matrix (rows true, columns predicted). */
export function confusionIntervals(confusion: readonly (readonly number[])[]): ConfusionIntervals {
  const k = confusion.length;
  const rowSum = confusion.map((r) => r.reduce((a, b) => a + b, 0));
  const colSum = Array.from({ length: k }, (_, j) => confusion.reduce((a, r) => a + (r[j] ?? 0), 0));
  const n = rowSum.reduce((a, b) => a + b, 0);
  const correct = confusion.reduce((a, r, i) => a + (r[i] ?? 0), 0);
  const perClass = confusion.map((r, c) => {
    const tp = r[c] ?? 0;
    const fn = rowSum[c] - tp;
    const fp = colSum[c] - tp;
    const tn = n - tp - fn - fp;
    return {
      support: rowSum[c],
      sensitivity: wilsonInterval(tp, tp + fn),
      specificity: wilsonInterval(tn, tn + fp),
      ppv: wilsonInterval(tp, tp + fp),
      npv: wilsonInterval(tn, tn + fn),
    };
  });
  return { n, accuracy: wilsonInterval(correct, n), perClass };
}

/** Below this many images of a class, a validation split gets the small-sample warning. */
export const SMALL_SAMPLE_PER_CLASS = 30;

export interface SmallSample {
  small: boolean;
  /** The smallest class count (0 when there are no classes). */
  smallestClass: number;
  /** Class indices under the limit. */
  classes: number[];
}

/** Whether a split with these per-class counts is too small to trust a single accuracy figure. */
export function smallSample(supportPerClass: readonly number[], limit = SMALL_SAMPLE_PER_CLASS): SmallSample {
  const classes = supportPerClass.flatMap((s, i) => (s < limit ? [i] : []));
  return { small: classes.length > 0, smallestClass: supportPerClass.length ? Math.min(...supportPerClass) : 0, classes };
}

/** "81–100 %" (whole percent, or `digits`); "–" when undefined. */
export function formatInterval(iv: { lower: number | null; upper: number | null }, digits = 0): string {
  if (iv.lower === null || iv.upper === null) return '–';
  return `${(iv.lower * 100).toFixed(digits)}–${(iv.upper * 100).toFixed(digits)} %`;
}
