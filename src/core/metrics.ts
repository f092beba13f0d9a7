// Evaluation metrics for the classifier. Pure TypeScript (no tfjs, no DOM) so that the Node
// scripts, the Web Worker and the React UI all report exactly the same numbers.
//
// Convention: a ratio whose denominator is 0 (e.g. sensitivity of a class with no samples) is
// `null`, never NaN, so it survives JSON and cannot silently poison an average.

import { createRng } from './random';

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/** Mean of the non-null values; null when there are none. */
function meanDefined(values: readonly (number | null)[]): number | null {
  let sum = 0;
  let count = 0;
  for (const v of values) {
    if (v !== null) {
      sum += v;
      count++;
    }
  }
  return count === 0 ? null : sum / count;
}

function assertSameLength(name: string, a: { length: number }, b: { length: number }): void {
  if (a.length !== b.length) {
    throw new RangeError(`${name}: length mismatch (${a.length} vs ${b.length})`);
  }
}

function assertClassIndex(name: string, value: number, nClasses: number, position: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= nClasses) {
    throw new RangeError(`${name}: label at index ${position} is ${value}, expected an integer in [0, ${nClasses})`);
  }
}

function assertFiniteScores(name: string, scores: readonly number[]): void {
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new RangeError(`${name}: score at index ${i} is ${scores[i]}`);
  }
}

/** Index of the largest value (first one on ties); -1 for an empty array. */
export function argmax(values: readonly number[]): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (best === -1 || values[i] > bestValue) {
      best = i;
      bestValue = values[i];
    }
  }
  return best;
}

/** Numerically stable softmax (subtracts the max so exp() cannot overflow). */
export function softmax(logits: readonly number[]): number[] {
  if (logits.length === 0) return [];
  let max = -Infinity;
  for (const z of logits) if (z > max) max = z;
  const exps = logits.map((z) => Math.exp(z - max));
  let sum = 0;
  for (const e of exps) sum += e;
  return exps.map((e) => e / sum);
}

/** log(sum(exp(z))) without overflow. */
function logSumExp(values: readonly number[], scale: number): number {
  let max = -Infinity;
  for (const z of values) if (z * scale > max) max = z * scale;
  let sum = 0;
  for (const z of values) sum += Math.exp(z * scale - max);
  return max + Math.log(sum);
}

// ---------------------------------------------------------------------------------------------
// Confusion matrix and per-class metrics
// ---------------------------------------------------------------------------------------------

/** counts[t][p] = number of samples with true class t predicted as class p. */
export function confusionMatrix(yTrue: readonly number[], yPred: readonly number[], nClasses: number): number[][] {
  assertSameLength('confusionMatrix', yTrue, yPred);
  if (!Number.isInteger(nClasses) || nClasses <= 0) throw new RangeError(`confusionMatrix: bad nClasses ${nClasses}`);
  const matrix = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    assertClassIndex('confusionMatrix (yTrue)', yTrue[i], nClasses, i);
    assertClassIndex('confusionMatrix (yPred)', yPred[i], nClasses, i);
    matrix[yTrue[i]][yPred[i]]++;
  }
  return matrix;
}

export interface ClassMetrics {
  /** Number of samples whose true class is this one (tp + fn). */
  support: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  /** Recall, tp / (tp + fn). */
  sensitivity: number | null;
  /** tn / (tn + fp). */
  specificity: number | null;
  /** Precision, tp / (tp + fp). */
  ppv: number | null;
  /** tn / (tn + fn). */
  npv: number | null;
  /** 2tp / (2tp + fp + fn); 0 (not null) when the class exists but is never found. */
  f1: number | null;
}

export interface MacroMetrics {
  sensitivity: number | null;
  specificity: number | null;
  ppv: number | null;
  npv: number | null;
  f1: number | null;
}

export interface ConfusionSummary {
  perClass: ClassMetrics[];
  /** Trace / total; null when there are no samples. */
  accuracy: number | null;
  /** Unweighted mean over the classes where the metric is defined. */
  macro: MacroMetrics;
  /** Total number of samples. */
  n: number;
}

/** One-vs-rest metrics for every class of a square confusion matrix (rows true, cols predicted). */
export function perClassMetrics(confusion: readonly (readonly number[])[]): ConfusionSummary {
  const k = confusion.length;
  for (const row of confusion) {
    if (row.length !== k) throw new RangeError(`perClassMetrics: confusion matrix must be square (${k}x${row.length})`);
  }
  let n = 0;
  let correct = 0;
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) n += confusion[t][p];
    correct += confusion[t][t];
  }

  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    let rowSum = 0;
    let colSum = 0;
    for (let j = 0; j < k; j++) {
      rowSum += confusion[c][j];
      colSum += confusion[j][c];
    }
    const fn = rowSum - tp;
    const fp = colSum - tp;
    const tn = n - tp - fn - fp;
    perClass.push({
      support: rowSum,
      tp,
      fp,
      fn,
      tn,
      sensitivity: ratio(tp, tp + fn),
      specificity: ratio(tn, tn + fp),
      ppv: ratio(tp, tp + fp),
      npv: ratio(tn, tn + fn),
      f1: ratio(2 * tp, 2 * tp + fp + fn),
    });
  }

  const macro: MacroMetrics = {
    sensitivity: meanDefined(perClass.map((m) => m.sensitivity)),
    specificity: meanDefined(perClass.map((m) => m.specificity)),
    ppv: meanDefined(perClass.map((m) => m.ppv)),
    npv: meanDefined(perClass.map((m) => m.npv)),
    f1: meanDefined(perClass.map((m) => m.f1)),
  };
  return { perClass, accuracy: ratio(correct, n), macro, n };
}

// ---------------------------------------------------------------------------------------------
// ROC / AUC (binary: `positives[i]` says whether sample i belongs to the positive class;
// a sample is called positive when score >= threshold)
// ---------------------------------------------------------------------------------------------

export interface RocPoint {
  fpr: number;
  tpr: number;
  /** Samples with score >= threshold are called positive. The first point uses +Infinity. */
  threshold: number;
}

/** Indices sorted by decreasing score. */
function orderByScoreDesc(scores: readonly number[]): number[] {
  const order = scores.map((_, i) => i);
  order.sort((a, b) => scores[b] - scores[a]);
  return order;
}

function countPositives(positives: readonly boolean[]): number {
  let count = 0;
  for (const p of positives) if (p) count++;
  return count;
}

/**
 * ROC curve from (0,0) to (1,1), one point per distinct score, so tied scores move the curve
 * diagonally (which is what makes the trapezoid area count ties as 1/2).
 * Returns [] when either class has no samples (rates would be 0/0).
 */
export function rocCurve(scores: readonly number[], positives: readonly boolean[]): RocPoint[] {
  assertSameLength('rocCurve', scores, positives);
  assertFiniteScores('rocCurve', scores);
  const nPos = countPositives(positives);
  const nNeg = positives.length - nPos;
  if (nPos === 0 || nNeg === 0) return [];

  const order = orderByScoreDesc(scores);
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (positives[order[i]]) tp++;
    else fp++;
    const threshold = scores[order[i]];
    // Emit only after the last sample of a run of equal scores.
    if (i === order.length - 1 || scores[order[i + 1]] !== threshold) {
      points.push({ fpr: fp / nNeg, tpr: tp / nPos, threshold });
    }
  }
  return points;
}

/** Trapezoid area under ROC points (sorted by increasing fpr, as rocCurve returns them). */
export function aucFromRoc(points: readonly RocPoint[]): number | null {
  if (points.length < 2) return null;
  let area = 0;
  for (let i = 1; i < points.length; i++) {
    area += ((points[i].fpr - points[i - 1].fpr) * (points[i].tpr + points[i - 1].tpr)) / 2;
  }
  return area;
}

/**
 * Area under the ROC curve = P(score of a random positive > score of a random negative), ties
 * counted 1/2 (Mann-Whitney U / (nPos * nNeg)). Null when either class has no samples.
 */
export function auc(scores: readonly number[], positives: readonly boolean[]): number | null {
  return aucFromRoc(rocCurve(scores, positives));
}

export interface OneVsRestAuc {
  /** AUC of class c (probs[i][c] as the score) against all the others; null if c is absent or is everything. */
  perClass: (number | null)[];
  /** Mean over the classes with a defined AUC. */
  macro: number | null;
}

export function oneVsRestAuc(probs: readonly (readonly number[])[], yTrue: readonly number[], nClasses: number): OneVsRestAuc {
  assertSameLength('oneVsRestAuc', probs, yTrue);
  probs.forEach((row, i) => {
    if (row.length !== nClasses) throw new RangeError(`oneVsRestAuc: row ${i} has ${row.length} scores, expected ${nClasses}`);
    assertClassIndex('oneVsRestAuc', yTrue[i], nClasses, i);
  });
  const perClass: (number | null)[] = [];
  for (let c = 0; c < nClasses; c++) {
    perClass.push(
      auc(
        probs.map((row) => row[c]),
        yTrue.map((y) => y === c),
      ),
    );
  }
  return { perClass, macro: meanDefined(perClass) };
}

// ---------------------------------------------------------------------------------------------
// Operating points
// ---------------------------------------------------------------------------------------------

export interface OperatingPoint {
  threshold: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  sensitivity: number | null;
  specificity: number | null;
}

/** Binary metrics when samples with score >= threshold are called positive. */
export function sensitivitySpecificityAt(scores: readonly number[], positives: readonly boolean[], threshold: number): OperatingPoint {
  assertSameLength('sensitivitySpecificityAt', scores, positives);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < scores.length; i++) {
    const calledPositive = scores[i] >= threshold;
    if (positives[i]) {
      if (calledPositive) tp++;
      else fn++;
    } else if (calledPositive) fp++;
    else tn++;
  }
  return { threshold, tp, fp, fn, tn, sensitivity: ratio(tp, tp + fn), specificity: ratio(tn, tn + fp) };
}

/**
 * The highest observed score t such that calling "score >= t" positive reaches
 * `targetSensitivity`; the highest threshold is the one with the best specificity among those
 * meeting the target. Null when there are no positive samples.
 */
export function thresholdForSensitivity(scores: readonly number[], positives: readonly boolean[], targetSensitivity: number): OperatingPoint | null {
  assertSameLength('thresholdForSensitivity', scores, positives);
  assertFiniteScores('thresholdForSensitivity', scores);
  if (!(targetSensitivity >= 0 && targetSensitivity <= 1)) {
    throw new RangeError(`thresholdForSensitivity: target must be in [0, 1], got ${targetSensitivity}`);
  }
  const nPos = countPositives(positives);
  if (nPos === 0) return null;
  const order = orderByScoreDesc(scores);
  let tp = 0;
  for (let i = 0; i < order.length; i++) {
    if (positives[order[i]]) tp++;
    const threshold = scores[order[i]];
    const endOfTies = i === order.length - 1 || scores[order[i + 1]] !== threshold;
    // Small tolerance so that e.g. 9/10 counts as reaching 0.9 despite float rounding.
    if (endOfTies && tp / nPos >= targetSensitivity - 1e-12) {
      return sensitivitySpecificityAt(scores, positives, threshold);
    }
  }
  // Unreachable: at the lowest score every positive is called positive (sensitivity 1).
  return sensitivitySpecificityAt(scores, positives, scores[order[order.length - 1]]);
}

// ---------------------------------------------------------------------------------------------
// Calibration
// ---------------------------------------------------------------------------------------------

export interface ReliabilityBin {
  /** Bin covers confidences in [lower, upper) (the last bin also includes 1). */
  lower: number;
  upper: number;
  count: number;
  /** Mean top-label confidence in the bin; null for an empty bin. */
  meanConfidence: number | null;
  /** Fraction of the bin's samples whose top label is correct; null for an empty bin. */
  accuracy: number | null;
}

export interface ReliabilityDiagram {
  bins: ReliabilityBin[];
  /** Sum over bins of (count / n) * |accuracy - confidence|; null when there are no samples. */
  ece: number | null;
  /** Maximum calibration error: the largest |accuracy - confidence| over non-empty bins. */
  mce: number | null;
  n: number;
}

/** Top-label reliability diagram with `nBins` equal-width confidence bins over [0, 1]. */
export function reliabilityDiagram(probs: readonly (readonly number[])[], yTrue: readonly number[], nBins = 15): ReliabilityDiagram {
  assertSameLength('reliabilityDiagram', probs, yTrue);
  if (!Number.isInteger(nBins) || nBins <= 0) throw new RangeError(`reliabilityDiagram: bad nBins ${nBins}`);
  const counts = new Array<number>(nBins).fill(0);
  const confidenceSums = new Array<number>(nBins).fill(0);
  const correctCounts = new Array<number>(nBins).fill(0);
  for (let i = 0; i < probs.length; i++) {
    const predicted = argmax(probs[i]);
    const confidence = probs[i][predicted];
    if (!Number.isFinite(confidence)) throw new RangeError(`reliabilityDiagram: bad probabilities at index ${i}`);
    const bin = Math.min(nBins - 1, Math.max(0, Math.floor(confidence * nBins)));
    counts[bin]++;
    confidenceSums[bin] += confidence;
    if (predicted === yTrue[i]) correctCounts[bin]++;
  }

  const n = probs.length;
  const bins: ReliabilityBin[] = [];
  let ece = 0;
  let mce = 0;
  for (let b = 0; b < nBins; b++) {
    const meanConfidence = ratio(confidenceSums[b], counts[b]);
    const accuracy = ratio(correctCounts[b], counts[b]);
    bins.push({ lower: b / nBins, upper: (b + 1) / nBins, count: counts[b], meanConfidence, accuracy });
    if (meanConfidence !== null && accuracy !== null) {
      const gap = Math.abs(accuracy - meanConfidence);
      ece += (counts[b] / n) * gap;
      mce = Math.max(mce, gap);
    }
  }
  return { bins, ece: n === 0 ? null : ece, mce: n === 0 ? null : mce, n };
}

/** Top-label expected calibration error with equal-width bins; null when there are no samples. */
export function expectedCalibrationError(probs: readonly (readonly number[])[], yTrue: readonly number[], nBins = 15): number | null {
  return reliabilityDiagram(probs, yTrue, nBins).ece;
}

// ---------------------------------------------------------------------------------------------
// Temperature scaling
// ---------------------------------------------------------------------------------------------

/** Calibrated probabilities softmax(logits / T), for one logit vector or a batch. */
export function applyTemperature(logits: readonly number[], temperature: number): number[];
export function applyTemperature(logits: readonly (readonly number[])[], temperature: number): number[][];
export function applyTemperature(logits: readonly number[] | readonly (readonly number[])[], temperature: number): number[] | number[][] {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`applyTemperature: temperature must be a positive finite number, got ${temperature}`);
  }
  const scaleOne = (row: readonly number[]): number[] => softmax(row.map((z) => z / temperature));
  if (logits.length > 0 && Array.isArray(logits[0])) {
    return (logits as readonly (readonly number[])[]).map(scaleOne);
  }
  return scaleOne(logits as readonly number[]);
}

/** Mean negative log-likelihood of the true classes under softmax(logits / T). */
export function negativeLogLikelihood(logits: readonly (readonly number[])[], yTrue: readonly number[], temperature = 1): number {
  assertSameLength('negativeLogLikelihood', logits, yTrue);
  if (logits.length === 0) throw new RangeError('negativeLogLikelihood: no samples');
  const scale = 1 / temperature;
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    assertClassIndex('negativeLogLikelihood', yTrue[i], logits[i].length, i);
    total += logSumExp(logits[i], scale) - logits[i][yTrue[i]] * scale;
  }
  return total / logits.length;
}

export interface TemperatureFit {
  temperature: number;
  /** Mean NLL at the fitted temperature. */
  nll: number;
  /** Mean NLL at T = 1 (uncalibrated), for reporting the improvement. */
  nllBefore: number;
}

export interface FitTemperatureOptions {
  minTemperature?: number;
  maxTemperature?: number;
  /** Stop when the log-T bracket is narrower than this. */
  tolerance?: number;
}

/**
 * Temperature scaling (Guo et al. 2017): the T minimising validation NLL of softmax(logits / T).
 * NLL is convex in 1/T, hence unimodal in log T, so a golden-section search on log T finds the
 * global minimum in the bracket. Perfectly separable data drives T to the lower bound.
 */
export function fitTemperature(logits: readonly (readonly number[])[], yTrue: readonly number[], options: FitTemperatureOptions = {}): TemperatureFit {
  const { minTemperature = 0.05, maxTemperature = 20, tolerance = 1e-6 } = options;
  if (!(minTemperature > 0 && maxTemperature > minTemperature)) {
    throw new RangeError(`fitTemperature: bad bracket [${minTemperature}, ${maxTemperature}]`);
  }
  const objective = (logT: number): number => negativeLogLikelihood(logits, yTrue, Math.exp(logT));
  const invPhi = (Math.sqrt(5) - 1) / 2;
  let lo = Math.log(minTemperature);
  let hi = Math.log(maxTemperature);
  let x1 = hi - invPhi * (hi - lo);
  let x2 = lo + invPhi * (hi - lo);
  let f1 = objective(x1);
  let f2 = objective(x2);
  while (hi - lo > tolerance) {
    if (f1 <= f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - invPhi * (hi - lo);
      f1 = objective(x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + invPhi * (hi - lo);
      f2 = objective(x2);
    }
  }
  // Also compare the bracket ends so that a minimum at the boundary is reported exactly.
  const candidates = [lo, (lo + hi) / 2, hi, Math.log(minTemperature), Math.log(maxTemperature)];
  let bestLogT = candidates[0];
  let bestNll = Infinity;
  for (const logT of candidates) {
    const value = objective(logT);
    if (value < bestNll) {
      bestNll = value;
      bestLogT = logT;
    }
  }
  const temperature = Math.min(maxTemperature, Math.max(minTemperature, Math.exp(bestLogT)));
  return { temperature, nll: bestNll, nllBefore: negativeLogLikelihood(logits, yTrue, 1) };
}

// ---------------------------------------------------------------------------------------------
// Bootstrap confidence intervals
// ---------------------------------------------------------------------------------------------

export interface BootstrapOptions {
  /** Number of resamples (default 1000). */
  iterations?: number;
  /** PRNG seed; the same seed gives the same interval (default 0). */
  seed?: number;
  /** 1 - confidence level (default 0.05 for a 95% interval). */
  alpha?: number;
  /**
   * Optional stratum per sample (e.g. the true class): each stratum is resampled separately
   * with its own size, so rare classes never vanish from a replicate (fewer null AUCs).
   */
  strata?: readonly (number | string)[];
}

export interface BootstrapResult {
  /** Statistic on the original sample (indices 0..n-1). */
  estimate: number | null;
  /** Percentile interval bounds; null when no replicate was defined. */
  lower: number | null;
  upper: number | null;
  alpha: number;
  iterations: number;
  /** Replicates where the statistic was defined (nulls and NaNs are skipped). */
  validReplicates: number;
}

/** Linear-interpolation quantile (type 7) of sorted values. */
function quantileSorted(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/**
 * Percentile bootstrap: resamples n indices with replacement `iterations` times and reports the
 * alpha/2 and 1-alpha/2 quantiles of the statistic. `statistic` receives the resampled indices
 * (with repeats) and returns null where it is undefined (e.g. AUC with one class only).
 */
export function bootstrapCI(n: number, statistic: (indices: number[]) => number | null, options: BootstrapOptions = {}): BootstrapResult {
  return bootstrapCIs(n, { statistic }, options).statistic;
}

/**
 * bootstrapCI for several statistics over the same resamples, drawn once: each result is exactly
 * what bootstrapCI gives for that statistic alone with the same options (same seed, same draws).
 * The statistics receive the same index array for a resample, in key order, and must not modify it.
 */
export function bootstrapCIs<K extends string>(
  n: number,
  statistics: Record<K, (indices: number[]) => number | null>,
  options: BootstrapOptions = {},
): Record<K, BootstrapResult> {
  const { iterations = 1000, seed = 0, alpha = 0.05, strata } = options;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`bootstrapCI: bad n ${n}`);
  if (!Number.isInteger(iterations) || iterations <= 0) throw new RangeError(`bootstrapCI: bad iterations ${iterations}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`bootstrapCI: alpha must be in (0, 1), got ${alpha}`);
  if (strata && strata.length !== n) throw new RangeError(`bootstrapCI: strata has ${strata.length} entries, expected ${n}`);

  const keys = Object.keys(statistics) as K[];
  const isDefined = (v: number | null): v is number => v !== null && !Number.isNaN(v);
  const identity = Array.from({ length: n }, (_, i) => i);
  const estimates = new Map<K, number | null>();
  for (const key of keys) {
    const original = statistics[key](identity.slice());
    estimates.set(key, isDefined(original) ? original : null);
  }
  const out = {} as Record<K, BootstrapResult>;
  if (n === 0) {
    for (const key of keys) out[key] = { estimate: estimates.get(key)!, lower: null, upper: null, alpha, iterations, validReplicates: 0 };
    return out;
  }

  // Groups of indices to resample from: one group per stratum, or everything.
  const groups: number[][] = [];
  if (strata) {
    const byStratum = new Map<number | string, number[]>();
    strata.forEach((s, i) => {
      const group = byStratum.get(s);
      if (group) group.push(i);
      else byStratum.set(s, [i]);
    });
    groups.push(...byStratum.values());
  } else {
    groups.push(identity);
  }

  const rng = createRng(seed);
  const replicates = new Map<K, number[]>(keys.map((key) => [key, []]));
  for (let it = 0; it < iterations; it++) {
    const indices: number[] = [];
    for (const group of groups) {
      for (let j = 0; j < group.length; j++) indices.push(group[rng.int(group.length)]);
    }
    for (const key of keys) {
      const value = statistics[key](indices);
      if (isDefined(value)) replicates.get(key)!.push(value);
    }
  }
  for (const key of keys) {
    const estimate = estimates.get(key)!;
    const values = replicates.get(key)!;
    if (values.length === 0) {
      out[key] = { estimate, lower: null, upper: null, alpha, iterations, validReplicates: 0 };
      continue;
    }
    values.sort((a, b) => a - b);
    out[key] = {
      estimate,
      lower: quantileSorted(values, alpha / 2),
      upper: quantileSorted(values, 1 - alpha / 2),
      alpha,
      iterations,
      validReplicates: values.length,
    };
  }
  return out;
}
