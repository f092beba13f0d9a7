// Per-image CSV of an Evaluate page run: one row per image of the data set, evaluated or skipped.
import type { EvaluationData } from '../../core/evaluation-data';
import { siteOf } from '../../core/evaluation-data';
import type { SkippedImage } from '../../core/evaluation';
import type { ImageOutcome } from '../state/evaluation';
import { csvField } from './csv';

/**
 * Columns: file, site, label (true), prediction (argmax, also for refused images), prob_<class>,
 * correct, ood_refused (true: the app withholds the class, "Not a chest X-ray?"), ood_reasons,
 * covid_screen (positive / negative at the stored operating point; empty without one), status
 * (evaluated / skipped / not run for a cancelled run), error.
 */
export function evaluationCsv(
  data: EvaluationData,
  outcomes: readonly (ImageOutcome | null)[],
  skipped: readonly SkippedImage[],
  classNames: readonly string[],
): string {
  const header = [
    'file',
    'site',
    'label',
    'prediction',
    ...classNames.map((c) => `prob_${c}`),
    'correct',
    'ood_refused',
    'ood_reasons',
    'covid_screen',
    'status',
    'error',
  ];
  const skippedBy = new Map(skipped.map((s) => [s.file, s.reason]));
  const lines = [header.map(csvField).join(',')];
  data.entries.forEach((e, i) => {
    const o = outcomes[i];
    const reason = skippedBy.get(e.file);
    const cells: (string | null)[] = [
      e.file,
      siteOf(e) ?? '',
      e.label,
      o ? classNames[o.predicted] : '',
      ...classNames.map((_, c) => (o ? o.probabilities[c].toFixed(6) : '')),
      o ? String(o.predicted === e.labelIndex) : '',
      o && o.refused !== null ? String(o.refused) : '',
      o ? o.refusedReasons.join('; ') : '',
      o && o.covidPositive !== null ? (o.covidPositive ? 'positive' : 'negative') : '',
      o ? 'evaluated' : reason !== undefined ? 'skipped' : 'not run',
      reason ?? '',
    ];
    lines.push(cells.map(csvField).join(','));
  });
  return lines.join('\r\n') + '\r\n';
}
