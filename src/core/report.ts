// The evaluation report: every number that `npm run evaluate` writes to metrics.json, built from
// per-image probabilities, true labels and optional groupings (source repository, age group).
// Pure TypeScript on top of ./metrics so that the CLI, the browser's Train page and the model card
// compute (and recompute, e.g. for a threshold slider) exactly the same figures.
//
// Conventions (inherited from ./metrics): class indices follow `classNames`; a ratio with a zero
// denominator is null, never NaN; a sample is called positive for a class when score >= threshold.
// JSON has no Infinity, so the first ROC point's threshold (+Infinity: nothing called positive)
// is stored as null, in memory and in the file alike.

import {
  argmax,
  auc,
  bootstrapCI,
  bootstrapCIs,
  confusionMatrix,
  oneVsRestAuc,
  perClassMetrics,
  reliabilityDiagram,
  rocCurve,
  sensitivitySpecificityAt,
  softmax,
  type ReliabilityBin,
  type RocPoint,
} from './metrics';

/** Bumped when a field of MetricsReport changes meaning or disappears. */
export const REPORT_SCHEMA_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Input / output types
// ---------------------------------------------------------------------------------------------

export interface OperatingPointInput {
  /** Class the threshold applies to (e.g. 'covid'); scores are its calibrated probabilities. */
  className: string;
  threshold: number;
  /** Where the threshold comes from (e.g. 'metadata.trust.covidThreshold'). */
  source?: string;
  /** What it was chosen for on the validation split (copied into the report for context). */
  targetSensitivity?: number;
  valSensitivity?: number;
  valSpecificity?: number;
}

export interface ReportInput {
  classNames: readonly string[];
  /** True class index per image. */
  labels: readonly number[];
  /** Probabilities per image as the user sees them (calibrated: softmax(logits / temperature)). */
  probabilities: readonly (readonly number[])[];
  /** Raw logits per image; when present, calibration.eceBefore is computed from softmax(logits). */
  logits?: readonly (readonly number[])[];
  /** Temperature that turned `logits` into `probabilities` (informational; default 1). */
  temperature?: number;
  /** Named groupings, one value per image (null/undefined/'' = not in any group of that name). */
  groups?: Record<string, readonly (string | null | undefined)[]>;
  /** Binary operating point to evaluate on these samples (e.g. the covid threshold). */
  operatingPoint?: OperatingPointInput | null;
  /** Percentile bootstrap, stratified by true class; false to skip (default 1000 iterations, seed 0). */
  bootstrap?: { iterations?: number; seed?: number; alpha?: number } | false;
  /** Most ROC points kept per class (default 200, at least 2). */
  rocMaxPoints?: number;
  /** Equal-width bins of the reliability diagrams (default 15). */
  eceBins?: number;
  /** Keep per-image scores and labels in `samples` (default true). */
  includeSamples?: boolean;
  /** Decimals kept for per-image scores in `samples` (default 6). */
  scoreDecimals?: number;
}

export interface ClassReport {
  /** Images whose true class is this one. */
  support: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  /** Recall. */
  sensitivity: number | null;
  specificity: number | null;
  /** Precision. */
  ppv: number | null;
  npv: number | null;
  f1: number | null;
  /** One-vs-rest ROC AUC with this class's probability as the score. */
  auc: number | null;
}

export interface Interval {
  estimate: number | null;
  lower: number | null;
  upper: number | null;
}

export interface ConfidenceIntervals {
  /** 1 - alpha, e.g. 0.95. */
  level: number;
  method: 'percentile bootstrap';
  iterations: number;
  seed: number;
  stratifiedBy: 'true class';
  accuracy: Interval;
  macroAuc: Interval;
  /** One-vs-rest AUC per class. */
  auc: Record<string, Interval>;
  /** Mean per-class sensitivity. */
  balancedAccuracy: Interval;
  /** Per class, from the same resamples' confusion matrices. */
  perClass: Record<string, { sensitivity: Interval; specificity: Interval; ppv: Interval; npv: Interval; f1: Interval }>;
}

export interface CalibrationReport {
  bins: number;
  /** Temperature of `probabilities` (1 = uncalibrated). */
  temperature: number;
  /** Top-label ECE of softmax(logits) (temperature 1); null without logits. */
  eceBefore: number | null;
  /** Top-label ECE of the calibrated probabilities. */
  eceAfter: number | null;
  mceBefore: number | null;
  mceAfter: number | null;
  reliabilityBefore: ReliabilityBin[] | null;
  reliabilityAfter: ReliabilityBin[];
}

export interface OperatingPointReport {
  className: string;
  threshold: number;
  source: string | null;
  targetSensitivity: number | null;
  valSensitivity: number | null;
  valSpecificity: number | null;
  /** Measured on this report's samples. */
  sensitivity: number | null;
  specificity: number | null;
  ppv: number | null;
  npv: number | null;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** One ROC point; threshold null stands for +Infinity (the (0, 0) corner). */
export interface RocPointJson {
  fpr: number;
  tpr: number;
  threshold: number | null;
}

export interface GroupClassStats {
  support: number;
  correct: number;
  recall: number;
}

export interface GroupReport {
  group: string;
  n: number;
  correct: number;
  accuracy: number | null;
  /** True label counts (every class, zeros included). */
  labelCounts: Record<string, number>;
  /** Predicted label counts (every class, zeros included): shows what a source gets called. */
  predictedCounts: Record<string, number>;
  /** Recall of each class present in the group (classes with support 0 are absent). */
  perClass: Record<string, GroupClassStats>;
}

export interface ReportSamples {
  /** True class index per image (into classNames). */
  label: number[];
  /** Calibrated probability per class per image, rounded to `decimals`. */
  scores: Record<string, number[]>;
  decimals: number;
  /** Per grouping: the distinct values and, per image, an index into them (-1 = none). */
  groups: Record<string, { values: string[]; index: number[] }>;
}

export interface MetricsReport {
  schemaVersion: number;
  n: number;
  classNames: string[];
  accuracy: number | null;
  /** Mean per-class sensitivity. */
  balancedAccuracy: number | null;
  /** Reference: accuracy of always answering the most frequent true class. */
  majorityClass: { className: string; rate: number } | null;
  perClass: Record<string, ClassReport>;
  macro: { sensitivity: number | null; specificity: number | null; ppv: number | null; npv: number | null; f1: number | null; auc: number | null };
  /** counts[t][p]: true class t predicted as p (argmax of the probabilities), classNames order. */
  confusionMatrix: number[][];
  calibration: CalibrationReport;
  confidenceIntervals: ConfidenceIntervals | null;
  operatingPoint: OperatingPointReport | null;
  /** ROC curve per class (one-vs-rest), downsampled to at most rocMaxPoints; [] when undefined. */
  roc: Record<string, RocPointJson[]>;
  /** Per grouping name (e.g. source_repo, age_group): one entry per value, largest first. */
  groups: Record<string, GroupReport[]>;
  samples: ReportSamples | null;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

function validate(input: ReportInput): void {
  const { classNames, labels, probabilities, logits } = input;
  const k = classNames.length;
  if (k < 2) throw new RangeError('buildMetricsReport: need at least 2 classes');
  if (probabilities.length !== labels.length) {
    throw new RangeError(`buildMetricsReport: ${probabilities.length} probability rows for ${labels.length} labels`);
  }
  if (logits && logits.length !== labels.length) {
    throw new RangeError(`buildMetricsReport: ${logits.length} logit rows for ${labels.length} labels`);
  }
  probabilities.forEach((row, i) => {
    if (row.length !== k) throw new RangeError(`buildMetricsReport: probability row ${i} has ${row.length} values, expected ${k}`);
    for (const v of row) if (!Number.isFinite(v)) throw new RangeError(`buildMetricsReport: probability row ${i} contains ${v}`);
  });
  labels.forEach((y, i) => {
    if (!Number.isInteger(y) || y < 0 || y >= k) throw new RangeError(`buildMetricsReport: label ${i} is ${y}, expected 0..${k - 1}`);
  });
  for (const [name, values] of Object.entries(input.groups ?? {})) {
    if (values.length !== labels.length) {
      throw new RangeError(`buildMetricsReport: grouping '${name}' has ${values.length} values for ${labels.length} labels`);
    }
  }
}

/**
 * At most `maxPoints` ROC points, always keeping the first and the last, spread evenly along the
 * curve's length (|Δfpr| + |Δtpr|) so that steep and flat stretches are both represented.
 */
export function downsampleRoc(points: readonly RocPoint[], maxPoints = 200): RocPointJson[] {
  const toJson = (p: RocPoint): RocPointJson => ({ fpr: p.fpr, tpr: p.tpr, threshold: Number.isFinite(p.threshold) ? p.threshold : null });
  const max = Math.max(2, Math.floor(maxPoints));
  if (points.length <= max) return points.map(toJson);
  const cumulative = [0];
  for (let i = 1; i < points.length; i++) {
    cumulative.push(cumulative[i - 1] + Math.abs(points[i].fpr - points[i - 1].fpr) + Math.abs(points[i].tpr - points[i - 1].tpr));
  }
  const total = cumulative[cumulative.length - 1];
  const keep: number[] = [0];
  let j = 0;
  for (let s = 1; s < max - 1; s++) {
    const target = (total * s) / (max - 1);
    while (j < points.length - 1 && cumulative[j] < target) j++;
    if (j > keep[keep.length - 1] && j < points.length - 1) keep.push(j);
  }
  keep.push(points.length - 1);
  return keep.map((i) => toJson(points[i]));
}

/** Per-group accuracy and per-class recall (what a source or an age group gets right). */
export function groupMetrics(
  labels: readonly number[],
  predicted: readonly number[],
  groupValues: readonly (string | null | undefined)[],
  classNames: readonly string[],
): GroupReport[] {
  const byGroup = new Map<string, number[]>();
  groupValues.forEach((g, i) => {
    if (g === null || g === undefined || g === '') return;
    const list = byGroup.get(g);
    if (list) list.push(i);
    else byGroup.set(g, [i]);
  });
  const reports: GroupReport[] = [];
  for (const [group, indices] of byGroup) {
    const labelCounts: Record<string, number> = {};
    const predictedCounts: Record<string, number> = {};
    const correctByClass = new Array<number>(classNames.length).fill(0);
    const supportByClass = new Array<number>(classNames.length).fill(0);
    let correct = 0;
    for (const i of indices) {
      supportByClass[labels[i]]++;
      if (predicted[i] === labels[i]) {
        correct++;
        correctByClass[labels[i]]++;
      }
    }
    classNames.forEach((c) => {
      labelCounts[c] = 0;
      predictedCounts[c] = 0;
    });
    for (const i of indices) {
      labelCounts[classNames[labels[i]]]++;
      predictedCounts[classNames[predicted[i]]]++;
    }
    const perClass: Record<string, GroupClassStats> = {};
    classNames.forEach((c, k) => {
      if (supportByClass[k] > 0) perClass[c] = { support: supportByClass[k], correct: correctByClass[k], recall: correctByClass[k] / supportByClass[k] };
    });
    reports.push({ group, n: indices.length, correct, accuracy: ratio(correct, indices.length), labelCounts, predictedCounts, perClass });
  }
  reports.sort((a, b) => b.n - a.n || a.group.localeCompare(b.group));
  return reports;
}

function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

export function buildMetricsReport(input: ReportInput): MetricsReport {
  validate(input);
  const classNames = [...input.classNames];
  const k = classNames.length;
  const { labels, probabilities } = input;
  const n = labels.length;
  const predicted = probabilities.map((p) => argmax(p));

  // Confusion-based metrics.
  const confusion = confusionMatrix(labels, predicted, k);
  const summary = perClassMetrics(confusion);
  const aucs = n > 0 ? oneVsRestAuc(probabilities, labels, k) : { perClass: new Array<number | null>(k).fill(null), macro: null };
  const perClass: Record<string, ClassReport> = {};
  classNames.forEach((c, i) => {
    const m = summary.perClass[i];
    perClass[c] = {
      support: m.support,
      tp: m.tp,
      fp: m.fp,
      fn: m.fn,
      tn: m.tn,
      sensitivity: m.sensitivity,
      specificity: m.specificity,
      ppv: m.ppv,
      npv: m.npv,
      f1: m.f1,
      auc: aucs.perClass[i],
    };
  });
  let majorityClass: MetricsReport['majorityClass'] = null;
  if (n > 0) {
    const supports = summary.perClass.map((m) => m.support);
    const best = argmax(supports);
    majorityClass = { className: classNames[best], rate: supports[best] / n };
  }

  // Calibration: before (softmax of the raw logits, T = 1) and after (the given probabilities).
  const bins = input.eceBins ?? 15;
  const after = reliabilityDiagram(probabilities, labels, bins);
  const before = input.logits
    ? reliabilityDiagram(
        input.logits.map((z) => softmax(z)),
        labels,
        bins,
      )
    : null;
  const calibration: CalibrationReport = {
    bins,
    temperature: input.temperature ?? 1,
    eceBefore: before?.ece ?? null,
    eceAfter: after.ece,
    mceBefore: before?.mce ?? null,
    mceAfter: after.mce,
    reliabilityBefore: before?.bins ?? null,
    reliabilityAfter: after.bins,
  };

  // Bootstrap intervals: the same seed and strata give every statistic the same resamples.
  let confidenceIntervals: ConfidenceIntervals | null = null;
  if (input.bootstrap !== false && n > 0) {
    const iterations = input.bootstrap?.iterations ?? 1000;
    const seed = input.bootstrap?.seed ?? 0;
    const alpha = input.bootstrap?.alpha ?? 0.05;
    const options = { iterations, seed, alpha, strata: labels };
    const classScores = classNames.map((_, c) => probabilities.map((p) => p[c]));
    const aucOn = (c: number, idx: number[]): number | null =>
      auc(
        idx.map((i) => classScores[c][i]),
        idx.map((i) => labels[i] === c),
      );
    const interval = (r: ReturnType<typeof bootstrapCI>): Interval => ({ estimate: r.estimate, lower: r.lower, upper: r.upper });
    // Every statistic over the same resamples, drawn once (bootstrapCIs gives each exactly what
    // bootstrapCI alone would). A resample's index array is shared by its statistics, so its
    // per-class AUCs and its confusion matrix are computed once and read by all of them.
    let aucsFor: number[] | null = null;
    let aucsOf: (number | null)[] = [];
    const aucsOn = (idx: number[]) => {
      if (idx !== aucsFor) {
        aucsFor = idx;
        aucsOf = classNames.map((_, ci) => aucOn(ci, idx));
      }
      return aucsOf;
    };
    let summaryFor: number[] | null = null;
    let summary: ReturnType<typeof perClassMetrics> | null = null;
    const summaryOn = (idx: number[]) => {
      if (idx !== summaryFor) {
        summaryFor = idx;
        const counts = Array.from({ length: k }, () => new Array<number>(k).fill(0));
        for (const i of idx) counts[labels[i]][predicted[i]]++;
        summary = perClassMetrics(counts);
      }
      return summary!;
    };
    const metricKeys = ['sensitivity', 'specificity', 'ppv', 'npv', 'f1'] as const;
    const statistics: Record<string, (idx: number[]) => number | null> = {
      accuracy: (idx) => summaryOn(idx).accuracy,
      macroAuc: (idx) => {
        const values = aucsOn(idx).filter((v): v is number => v !== null);
        return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
      },
      balancedAccuracy: (idx) => summaryOn(idx).macro.sensitivity,
    };
    classNames.forEach((_, ci) => {
      statistics[`auc:${ci}`] = (idx) => aucsOn(idx)[ci];
      for (const key of metricKeys) statistics[`${key}:${ci}`] = (idx) => summaryOn(idx).perClass[ci][key];
    });
    const r = bootstrapCIs(n, statistics, options);
    const aucCi: Record<string, Interval> = {};
    const perClassCi: ConfidenceIntervals['perClass'] = {};
    classNames.forEach((c, ci) => {
      aucCi[c] = interval(r[`auc:${ci}`]);
      perClassCi[c] = {
        sensitivity: interval(r[`sensitivity:${ci}`]),
        specificity: interval(r[`specificity:${ci}`]),
        ppv: interval(r[`ppv:${ci}`]),
        npv: interval(r[`npv:${ci}`]),
        f1: interval(r[`f1:${ci}`]),
      };
    });
    const accuracy = r.accuracy;
    const macro = r.macroAuc;
    const balancedAccuracy = interval(r.balancedAccuracy);
    confidenceIntervals = {
      balancedAccuracy,
      perClass: perClassCi,
      level: 1 - alpha,
      method: 'percentile bootstrap',
      iterations,
      seed,
      stratifiedBy: 'true class',
      accuracy: interval(accuracy),
      macroAuc: interval(macro),
      auc: aucCi,
    };
  }

  // Operating point on these samples.
  let operatingPoint: OperatingPointReport | null = null;
  const op = input.operatingPoint;
  if (op) {
    const c = classNames.indexOf(op.className);
    if (c < 0) throw new RangeError(`buildMetricsReport: operating point class '${op.className}' is not one of ${classNames.join(', ')}`);
    const m = sensitivitySpecificityAt(
      probabilities.map((p) => p[c]),
      labels.map((y) => y === c),
      op.threshold,
    );
    operatingPoint = {
      className: op.className,
      threshold: op.threshold,
      source: op.source ?? null,
      targetSensitivity: op.targetSensitivity ?? null,
      valSensitivity: op.valSensitivity ?? null,
      valSpecificity: op.valSpecificity ?? null,
      sensitivity: m.sensitivity,
      specificity: m.specificity,
      ppv: ratio(m.tp, m.tp + m.fp),
      npv: ratio(m.tn, m.tn + m.fn),
      tp: m.tp,
      fp: m.fp,
      fn: m.fn,
      tn: m.tn,
    };
  }

  // ROC curves.
  const roc: Record<string, RocPointJson[]> = {};
  classNames.forEach((c, ci) => {
    roc[c] = downsampleRoc(
      rocCurve(
        probabilities.map((p) => p[ci]),
        labels.map((y) => y === ci),
      ),
      input.rocMaxPoints ?? 200,
    );
  });

  // Groupings.
  const groups: Record<string, GroupReport[]> = {};
  for (const [name, values] of Object.entries(input.groups ?? {})) groups[name] = groupMetrics(labels, predicted, values, classNames);

  // Per-image samples, compact, for threshold sliders and re-plots.
  let samples: ReportSamples | null = null;
  if (input.includeSamples !== false) {
    const decimals = input.scoreDecimals ?? 6;
    const scores: Record<string, number[]> = {};
    classNames.forEach((c, ci) => (scores[c] = probabilities.map((p) => roundTo(p[ci], decimals))));
    const sampleGroups: ReportSamples['groups'] = {};
    for (const [name, values] of Object.entries(input.groups ?? {})) {
      const distinct = [...new Set(values.filter((v): v is string => typeof v === 'string' && v !== ''))].sort();
      const position = new Map(distinct.map((v, i) => [v, i]));
      sampleGroups[name] = { values: distinct, index: values.map((v) => (typeof v === 'string' && position.has(v) ? position.get(v)! : -1)) };
    }
    samples = { label: [...labels], scores, decimals, groups: sampleGroups };
  }

  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    n,
    classNames,
    accuracy: summary.accuracy,
    balancedAccuracy: summary.macro.sensitivity,
    majorityClass,
    perClass,
    macro: { ...summary.macro, auc: aucs.macro },
    confusionMatrix: confusion,
    calibration,
    confidenceIntervals,
    operatingPoint,
    roc,
    groups,
    samples,
  };
}

/**
 * Sensitivity / specificity / PPV / NPV of "score >= threshold" for one class, from a report's
 * stored samples: what a threshold slider shows. Optionally restricted to one value of a grouping.
 */
export function operatingPointFromSamples(
  samples: ReportSamples,
  classNames: readonly string[],
  className: string,
  threshold: number,
  restrictTo?: { grouping: string; value: string },
): OperatingPointReport {
  const c = classNames.indexOf(className);
  if (c < 0) throw new RangeError(`operatingPointFromSamples: unknown class '${className}'`);
  const scores = samples.scores[className];
  let keep: number[] = samples.label.map((_, i) => i);
  if (restrictTo) {
    const g = samples.groups[restrictTo.grouping];
    const v = g ? g.values.indexOf(restrictTo.value) : -1;
    keep = keep.filter((i) => v >= 0 && g.index[i] === v);
  }
  const m = sensitivitySpecificityAt(
    keep.map((i) => scores[i]),
    keep.map((i) => samples.label[i] === c),
    threshold,
  );
  return {
    className,
    threshold,
    source: 'samples',
    targetSensitivity: null,
    valSensitivity: null,
    valSpecificity: null,
    sensitivity: m.sensitivity,
    specificity: m.specificity,
    ppv: ratio(m.tp, m.tp + m.fp),
    npv: ratio(m.tn, m.tn + m.fn),
    tp: m.tp,
    fp: m.fp,
    fn: m.fn,
    tn: m.tn,
  };
}

// ---------------------------------------------------------------------------------------------
// Age groups of the shared CXR data set (../shared/data/cxr), derived from the source repository
// ---------------------------------------------------------------------------------------------

/**
 * The age-group rule, from the data set README ("Counts", "Sources", "Known biases"):
 * - adult: release-2 normals (rtchanon/…: RSNA / NIH ChestX-ray14 adult films), and the
 *   metadata-labelled adult collections: ieee8023 (its fork s-mostafa-a/covid-chestxray-dataset),
 *   armiro/COVID-CXNet, agchung/Figure1-… and agchung/Actualmed-… (the README's "adult, release 1"
 *   normals and its ~75 adult pneumonia images come from these).
 * - pediatric: `normal` and `pneumonia` images stored from the folder-labelled repositories, which
 *   redistribute the Kermany/Guangzhou pediatric set (the README's 1405 "pediatric" normals; not
 *   checked one by one). AhmedHamada0's pneumonia folders (SARS, Streptococcus, Pneumocystis) are
 *   ieee8023 adult cases, so only its normals count as pediatric.
 * - unknown: anything else (e.g. a covid image stored from a folder-labelled repository, a source
 *   this rule does not list, or no source_repo column).
 * A manifest column `age_group` (adult / pediatric), when present and non-empty, overrides the rule.
 */
export const CXR_AGE_GROUP_RULE =
  'adult = source_repo in {rtchanon/Machine-Learning-for-COVID-19-detection-from-chest-X-RAYS (RSNA/NIH normals), ' +
  's-mostafa-a/covid-chestxray-dataset (ieee8023), armiro/COVID-CXNet, agchung/Figure1-COVID-chestxray-dataset, ' +
  'agchung/Actualmed-COVID-chestxray-dataset, muhammedtalo/COVID-19 (release 3: NIH ChestX-ray8)}; pediatric = normal or pneumonia stored from a Kermany-derived folder ' +
  'repository {skytells-research/COVID-19-XRay-Dataset, abzargar/COVID-Classifier, MPdeM/imaging_diagnosis, ' +
  'achafi/Covid19Detector, devindatt/covid19-chest_xrays-analysis, darius-luca-tech/Web_Covid-Z, ChirilaLaura/COVID-Z, ' +
  'AhmedHamada0/COVID-19-Chest-X-Ray-Dataset-image (normal only)}; otherwise unknown. A manifest age_group column overrides.';

const ADULT_SOURCES = new Set([
  'rtchanon/Machine-Learning-for-COVID-19-detection-from-chest-X-RAYS',
  's-mostafa-a/covid-chestxray-dataset',
  'ieee8023/covid-chestxray-dataset',
  'armiro/COVID-CXNet',
  'agchung/Figure1-COVID-chestxray-dataset',
  'agchung/Actualmed-COVID-chestxray-dataset',
  // Release 3: NIH ChestX-ray8 adult films ("No Finding" and "Pneumonia") by way of this repository.
  'muhammedtalo/COVID-19',
]);

/** Kermany-derived repositories and the labels whose images there are pediatric. */
const PEDIATRIC_SOURCES = new Map<string, readonly string[]>([
  ['skytells-research/COVID-19-XRay-Dataset', ['normal', 'pneumonia']],
  ['abzargar/COVID-Classifier', ['normal', 'pneumonia']],
  ['MPdeM/imaging_diagnosis', ['normal', 'pneumonia']],
  ['achafi/Covid19Detector', ['normal', 'pneumonia']],
  ['devindatt/covid19-chest_xrays-analysis', ['normal', 'pneumonia']],
  ['darius-luca-tech/Web_Covid-Z', ['normal']],
  ['ChirilaLaura/COVID-Z', ['normal']],
  ['AhmedHamada0/COVID-19-Chest-X-Ray-Dataset-image', ['normal']],
]);

export type AgeGroup = 'adult' | 'pediatric' | 'unknown';

/** Age group of one image of the shared data set (see CXR_AGE_GROUP_RULE). */
export function cxrAgeGroup(sourceRepo: string | undefined, label: string, ageGroupColumn?: string): AgeGroup {
  const explicit = ageGroupColumn?.trim().toLowerCase();
  if (explicit === 'adult' || explicit === 'pediatric') return explicit;
  if (explicit === 'paediatric' || explicit === 'child') return 'pediatric';
  if (!sourceRepo) return 'unknown';
  if (ADULT_SOURCES.has(sourceRepo)) return 'adult';
  if (PEDIATRIC_SOURCES.get(sourceRepo)?.includes(label)) return 'pediatric';
  return 'unknown';
}
