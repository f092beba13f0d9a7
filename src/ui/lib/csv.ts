// CSV export of the batch table (RFC 4180: quoted fields, CRLF line ends).
import type { Row } from '../state/batch';
import { oodOf } from './ood';
import type { DicomMeta } from '../../core/dicom-meta';

export interface CsvContext {
  classNames: string[];
  backend: string;
  modelVersion: string;
}

/** Quotes when needed; a leading = + - @ is neutralised so spreadsheets do not run it as a formula. */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Columns, saying what the page says. `covid_screen` is positive / negative at the model's operating
 * point (`covid_threshold`), empty when the model has none. A withheld row (the input was flagged
 * as possibly not a chest X-ray, `ood_flagged` true) has `withheld` true and an empty `label`,
 * `uncertain` and `covid_screen`, as on the page; its `prob_*` stay for inspection only, and
 * `withheld` marks them so.
 */
export function csvHeader(classNames: string[]): string[] {
  return [
    'file',
    ...classNames.map((c) => `prob_${c}`),
    'label',
    'uncertain',
    'withheld',
    'covid_screen',
    'covid_threshold',
    'ood_flagged',
    'ood_score',
    'ood_reasons',
    'backend',
    'model_version',
    'inference_ms',
    'status',
    'error',
    // DICOM header facts (empty for other formats); never name, ID, birth date or accession.
    'view',
    'patient_age',
    'patient_sex',
    'modality',
    'manufacturer',
    'manufacturer_model',
    'notes',
  ];
}

function dicomCells(d: DicomMeta | undefined): string[] {
  const view = d?.viewPosition ?? (d?.patientOrientation ? `orientation ${d.patientOrientation.join('\\')}` : '');
  return [view, d?.patientAge ?? '', d?.patientSex ?? '', d?.modality ?? '', d?.manufacturer ?? '', d?.manufacturerModel ?? '', (d?.notes ?? []).join('; ')];
}

export function rowsToCsv(rows: Row[], ctx: CsvContext): string {
  const lines = [csvHeader(ctx.classNames).map(csvField).join(',')];
  for (const r of rows) {
    const p = r.result?.prediction;
    const screen = r.result?.covidScreen;
    const ood = oodOf(r.result);
    const withheld = ood?.flagged === true;
    const cells: (string | number | null | undefined)[] = [
      r.name,
      ...ctx.classNames.map((_, i) => (p ? p.probabilities[i].toFixed(6) : '')),
      p && !withheld ? p.label : '',
      p && !withheld ? String(p.uncertain) : '',
      p ? String(withheld) : '',
      screen && !withheld ? (screen.positive ? 'positive' : 'negative') : '',
      screen ? String(screen.threshold) : '',
      ood ? String(ood.flagged) : '',
      ood && Number.isFinite(ood.score) ? ood.score.toFixed(6) : '',
      ood ? ood.reasons.join('; ') : '',
      r.result?.backend ?? '',
      r.model ?? (r.result ? ctx.modelVersion : ''),
      r.result ? r.result.timings.inferenceMs.toFixed(1) : '',
      r.status,
      r.error ?? '',
      ...dicomCells(r.result?.dicom),
    ];
    lines.push(cells.map(csvField).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

export function downloadText(text: string, fileName: string, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function timestampedName(prefix: string, ext: string, d = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${prefix}-${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}.${ext}`;
}
