// Reads metrics.json (written by `npm run evaluate`) tolerantly: the page shows whatever it finds
// (confusion matrix, per-class metrics, AUCs, scalars) and never breaks on a field it does not know.
import { perClassMetrics, type ConfusionSummary } from '../../core/metrics';
import type { CalibrationReport, ConfidenceIntervals, GroupReport, OperatingPointReport, ReportSamples, RocPointJson } from '../../core/report';

export interface MetricsView {
  split: string | null;
  classNames: string[];
  confusion: number[][] | null;
  summary: ConfusionSummary | null;
  /** One-vs-rest AUC per class (same order as classNames) when present. */
  auc: (number | null)[] | null;
  macroAuc: number | null;
  /** Other top-level numbers / strings, for a generic table. */
  scalars: [string, string | number][];
  // Fields of the report written by `npm run evaluate` (src/core/report.ts), null when absent.
  balancedAccuracy: number | null;
  majorityClass: { className: string; rate: number } | null;
  intervals: ConfidenceIntervals | null;
  calibration: CalibrationReport | null;
  operatingPoint: OperatingPointReport | null;
  roc: Record<string, RocPointJson[]> | null;
  groups: Record<string, GroupReport[]> | null;
  /** Per-image labels and calibrated scores (for the threshold slider), when well formed. */
  samples: ReportSamples | null;
  /** meta.model.version / meta.date of the evaluation run. */
  evaluatedModel: string | null;
  date: string | null;
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isMatrix = (v: unknown): v is number[][] =>
  Array.isArray(v) && v.length > 0 && v.every((r) => Array.isArray(r) && r.length === v.length && r.every((x) => typeof x === 'number'));

function pick(o: Json, keys: string[]): unknown {
  for (const k of keys) if (k in o) return o[k];
  return undefined;
}

export function readMetrics(json: unknown, fallbackClassNames: string[]): MetricsView {
  let root: Json = isObj(json) ? json : {};
  const meta = isObj(root.meta) ? root.meta : {};
  // Accept {test: {...}} or {splits: {test: {...}}} as well as a flat object.
  const nested = pick(root, ['test', 'testSplit']) ?? (isObj(root.splits) ? (root.splits as Json).test : undefined);
  const split = typeof root.split === 'string' ? root.split : typeof meta.split === 'string' ? meta.split : nested ? 'test' : null;
  if (isObj(nested)) root = { ...root, ...nested };
  const classNames = Array.isArray(root.classNames) && root.classNames.every((c) => typeof c === 'string') ? (root.classNames as string[]) : fallbackClassNames;
  let confusion = pick(root, ['confusion', 'confusionMatrix', 'confusion_matrix']);
  if (isObj(confusion) && isMatrix(confusion.matrix)) confusion = confusion.matrix;
  const matrix = isMatrix(confusion) && confusion.length === classNames.length ? confusion : null;
  let auc: (number | null)[] | null = null;
  let macroAuc: number | null = null;
  const aucRaw = pick(root, ['auc', 'oneVsRestAuc', 'aucs']);
  const perClass = isObj(root.perClass) ? root.perClass : null;
  if (perClass && classNames.every((c) => isObj(perClass[c]))) {
    auc = classNames.map((c) => {
      const v = (perClass[c] as Json).auc;
      return typeof v === 'number' ? v : null;
    });
  }
  if (isObj(root.macro) && typeof root.macro.auc === 'number') macroAuc = root.macro.auc;
  if (auc) {
    /* from the report */
  } else if (isObj(aucRaw)) {
    if (Array.isArray(aucRaw.perClass)) auc = aucRaw.perClass.map((v) => (typeof v === 'number' ? v : null));
    else auc = classNames.map((c) => (typeof aucRaw[c] === 'number' ? (aucRaw[c] as number) : null));
    const m = aucRaw.macro ?? aucRaw.mean;
    macroAuc = typeof m === 'number' ? m : macroAuc;
  } else if (Array.isArray(aucRaw)) {
    auc = aucRaw.map((v) => (typeof v === 'number' ? v : null));
  }
  const scalars: [string, string | number][] = [];
  for (const [k, v] of Object.entries(root)) {
    if ((typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length < 200)) scalars.push([k, v]);
  }
  const model = isObj(meta.model) ? meta.model : {};
  return {
    split,
    classNames,
    confusion: matrix,
    summary: matrix ? perClassMetrics(matrix) : null,
    auc,
    macroAuc,
    scalars,
    balancedAccuracy: typeof root.balancedAccuracy === 'number' ? root.balancedAccuracy : null,
    majorityClass: isObj(root.majorityClass) ? (root.majorityClass as unknown as MetricsView['majorityClass']) : null,
    intervals: isObj(root.confidenceIntervals) ? (root.confidenceIntervals as unknown as ConfidenceIntervals) : null,
    calibration: isObj(root.calibration) ? (root.calibration as unknown as CalibrationReport) : null,
    operatingPoint: isObj(root.operatingPoint) ? (root.operatingPoint as unknown as OperatingPointReport) : null,
    roc: isObj(root.roc) ? (root.roc as Record<string, RocPointJson[]>) : null,
    groups: isObj(root.groups) ? (root.groups as Record<string, GroupReport[]>) : null,
    samples: readSamples(root.samples, classNames),
    evaluatedModel: typeof model.name === 'string' ? `${model.name}@${String(model.version)}` : null,
    date: typeof meta.date === 'string' ? meta.date : null,
  };
}

/** samples as written by src/core/report.ts, or null when missing or inconsistent (lengths, labels, scores). */
export function readSamples(v: unknown, classNames: string[]): ReportSamples | null {
  if (!isObj(v) || !Array.isArray(v.label) || !isObj(v.scores)) return null;
  const label = v.label as unknown[];
  const n = label.length;
  if (n === 0 || !label.every((y) => Number.isInteger(y) && (y as number) >= 0 && (y as number) < classNames.length)) return null;
  const scores: Record<string, number[]> = {};
  for (const c of classNames) {
    const s = (v.scores as Json)[c];
    if (!Array.isArray(s) || s.length !== n || !s.every((x) => typeof x === 'number' && Number.isFinite(x))) return null;
    scores[c] = s as number[];
  }
  return {
    label: label as number[],
    scores,
    decimals: typeof v.decimals === 'number' ? v.decimals : 6,
    groups: isObj(v.groups) ? (v.groups as ReportSamples['groups']) : {},
  };
}

export function fmt(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
}
