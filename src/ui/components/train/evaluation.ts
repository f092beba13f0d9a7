// Validation figures of a run, computed on the page from the worker's validation probabilities
// (pure functions over src/core/metrics; cheap enough to redo after every epoch).
import { argmax, confusionMatrix, oneVsRestAuc, perClassMetrics, rocCurve, type ConfusionSummary, type RocPoint } from '../../../core/metrics';

export interface Misclassified {
  id: number;
  trueIndex: number;
  predictedIndex: number;
  /** Probability given to the (wrong) predicted class. */
  confidence: number;
  probabilities: number[];
}

export interface Evaluation {
  classNames: string[];
  n: number;
  confusion: number[][];
  summary: ConfusionSummary;
  auc: (number | null)[];
  macroAuc: number | null;
  roc: RocPoint[][];
  misclassified: Misclassified[];
}

/** Rows of a row-major [n × k] probability array. */
export function probabilityRows(probs: Float32Array, k: number): number[][] {
  const n = Math.floor(probs.length / k);
  return Array.from({ length: n }, (_, i) => Array.from(probs.subarray(i * k, (i + 1) * k)));
}

export function evaluate(classNames: string[], ids: number[], labels: number[], probs: Float32Array): Evaluation | null {
  const k = classNames.length;
  if (!ids.length || probs.length !== ids.length * k) return null;
  const rows = probabilityRows(probs, k);
  const predicted = rows.map((r) => argmax(r));
  const confusion = confusionMatrix(labels, predicted, k);
  const auc = oneVsRestAuc(rows, labels, k);
  const roc = classNames.map((_, c) =>
    rocCurve(
      rows.map((r) => r[c]),
      labels.map((l) => l === c),
    ),
  );
  const misclassified: Misclassified[] = [];
  rows.forEach((r, i) => {
    if (predicted[i] !== labels[i])
      misclassified.push({ id: ids[i], trueIndex: labels[i], predictedIndex: predicted[i], confidence: r[predicted[i]], probabilities: r });
  });
  // Most confident mistakes first: the most instructive ones.
  misclassified.sort((a, b) => b.confidence - a.confidence || a.id - b.id);
  return { classNames, n: ids.length, confusion, summary: perClassMetrics(confusion), auc: auc.perClass, macroAuc: auc.macro, roc, misclassified };
}

export function pct(v: number | null | undefined, digits = 0): string {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : `${(v * 100).toFixed(digits)}%`;
}

export function num(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits);
}

/** Colours for up to 10 classes (Okabe–Ito + two extra), distinguishable with colour-vision deficiency. */
export const CLASS_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#8C6D00', '#000000', '#7F3C8D', '#3B7A57'];
