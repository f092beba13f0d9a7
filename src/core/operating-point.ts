// The covid operating point as the app uses it: a threshold on the calibrated covid probability,
// chosen on the validation split for a stated target sensitivity (metadata.trust.covidThreshold,
// written by scripts/train.ts). A result is "covid positive at the operating point" when its
// calibrated covid probability is >= the threshold — the same convention as
// sensitivitySpecificityAt() in ./metrics, so the Classify page, the CSV, the evaluation report and
// the model card's threshold slider all call the same images positive. Pure TS (no tfjs, no DOM).
import type { TrustSpec } from './metadata';
import { fitTemperature, sensitivitySpecificityAt, softmax, thresholdForSensitivity } from './metrics';
import { CXR_CLASSES } from './labels';

/** The class the operating point applies to. */
export const OPERATING_POINT_CLASS: (typeof CXR_CLASSES)[0] = CXR_CLASSES[0];

/** Validation sensitivity the operating point is chosen for. */
export const DEFAULT_TARGET_SENSITIVITY = 0.95;

export interface OperatingPointDecision {
  className: string;
  /** Calibrated probability of `className` for this image. */
  probability: number;
  threshold: number;
  /** probability >= threshold. */
  positive: boolean;
  /** What the threshold was chosen for on validation (null when not stated). */
  targetSensitivity: number | null;
  valSensitivity: number | null;
  valSpecificity: number | null;
}

/** "Positive at the threshold": score >= threshold. A NaN score is never positive. */
export function positiveAt(score: number, threshold: number): boolean {
  return score >= threshold;
}

const finiteOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The operating-point decision for one image, or null when the model has no usable operating point
 * (no trust.covidThreshold, a threshold that is not a finite number in [0, 1], or no such class) or
 * the probabilities do not match the class list.
 */
export function covidScreen(
  probabilities: readonly number[],
  classNames: readonly string[],
  trust: TrustSpec | null | undefined,
  className: string = OPERATING_POINT_CLASS,
): OperatingPointDecision | null {
  const op = trust?.covidThreshold;
  if (!op) return null;
  const threshold = finiteOrNull(op.threshold);
  if (threshold === null || threshold < 0 || threshold > 1) return null;
  const c = classNames.indexOf(className);
  if (c < 0 || probabilities.length !== classNames.length) return null;
  const probability = probabilities[c];
  if (!Number.isFinite(probability)) return null;
  return {
    className,
    probability,
    threshold,
    positive: positiveAt(probability, threshold),
    targetSensitivity: finiteOrNull(op.targetSensitivity),
    valSensitivity: finiteOrNull(op.valSensitivity),
    valSpecificity: finiteOrNull(op.valSpecificity),
  };
}

/**
 * Formats a probability and a threshold with the fewest decimals (2..6) that keep the comparison
 * readable: "p 0.04 ≥ threshold 0.04" would look wrong, so both get more digits until they differ
 * (or they are equal to 6 decimals).
 */
export function formatComparison(probability: number, threshold: number): { p: string; t: string } {
  for (let d = 2; d <= 6; d++) {
    const p = probability.toFixed(d);
    const t = threshold.toFixed(d);
    if (p !== t || d === 6) return { p, t };
  }
  return { p: probability.toFixed(6), t: threshold.toFixed(6) };
}

/** "covid screen: positive (p 0.31 ≥ threshold 0.22)". */
export function describeScreen(d: OperatingPointDecision): string {
  const { p, t } = formatComparison(d.probability, d.threshold);
  return `${d.className} screen: ${d.positive ? 'positive' : 'negative'} (p ${p} ${d.positive ? '≥' : '<'} threshold ${t})`;
}

export interface CalibrationFit {
  temperature: number;
  temperatureFit: NonNullable<TrustSpec['temperatureFit']>;
  /** Absent when the class list has no OPERATING_POINT_CLASS or the validation split none of its images. */
  covidThreshold?: NonNullable<TrustSpec['covidThreshold']>;
  /** softmax(logits / temperature) per image: what the app will show for these images. */
  calibrated: number[][];
}

/**
 * The trust numbers every model gets from its validation split (scripts/train.ts for the shipped
 * model, the Train page for fine-tuned ones): temperature scaling (fitTemperature), then, when the
 * model has a covid class and the split has covid images, the covid operating point: the highest
 * threshold on the calibrated covid probability that reaches `targetSensitivity` (thresholdForSensitivity),
 * with the sensitivity and specificity it has there and the number of images it was chosen on.
 * `minTemperature` bounds the temperature from below (fitTemperature's bracket otherwise).
 */
export function fitCalibration(
  logits: readonly (readonly number[])[],
  labels: readonly number[],
  classNames: readonly string[],
  options: { targetSensitivity?: number; minTemperature?: number } = {},
): CalibrationFit {
  if (logits.length === 0) throw new RangeError('fitCalibration: no validation images');
  if (logits.length !== labels.length) throw new RangeError('fitCalibration: logits and labels differ in length');
  const targetSensitivity = options.targetSensitivity ?? DEFAULT_TARGET_SENSITIVITY;
  const fit = fitTemperature(logits, labels, options.minTemperature !== undefined ? { minTemperature: options.minTemperature } : {});
  const temperature = fit.temperature;
  const calibrated = logits.map((l) => softmax(l.map((v) => v / temperature)));
  const out: CalibrationFit = {
    temperature,
    temperatureFit: {
      valImages: labels.length,
      nllBefore: fit.nllBefore,
      nllAfter: fit.nll,
      ...(options.minTemperature !== undefined ? { minTemperature: options.minTemperature } : {}),
    },
    calibrated,
  };
  const c = classNames.indexOf(OPERATING_POINT_CLASS);
  if (c < 0) return out;
  const scores = calibrated.map((p) => p[c]);
  const positives = labels.map((y) => y === c);
  const op = thresholdForSensitivity(scores, positives, targetSensitivity);
  if (!op) return out;
  const at = sensitivitySpecificityAt(scores, positives, op.threshold);
  out.covidThreshold = {
    threshold: op.threshold,
    targetSensitivity,
    valSensitivity: at.sensitivity ?? NaN,
    valSpecificity: at.specificity ?? NaN,
    valImages: labels.length,
    valPositives: positives.filter(Boolean).length,
  };
  return out;
}
