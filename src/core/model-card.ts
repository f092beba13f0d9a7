// The Model card of a model as plain text (Markdown), written into a fine-tuned model's exported
// files (model-card.md) so that the card travels with the weights: what the model is, its data and
// split, its validation figures, its trust numbers and its caveats. The same facts the Model card
// page shows, from the same fields (metadata.json + metrics.json). Pure TS.
import type { ModelMetadata } from './metadata';
import type { MetricsReport } from './report';

const num = (v: number | null | undefined, digits = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');

/** "2 December 2026" from an ISO timestamp (UTC); the text itself when it is not a date. */
export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  return `${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** Caveats every fine-tuned model's card states (the page shows the same list). */
export function finetuneCaveats(metadata: ModelMetadata): string[] {
  const val = metadata.training?.validation?.images ?? metadata.trust?.temperatureFit?.valImages ?? 0;
  return [
    `Every figure comes from the validation split (${val} image${val === 1 ? '' : 's'}), which also chose the kept epoch, the temperature and the operating point: the figures are optimistic, and with so few images their 95 % intervals are wide.`,
    'The images were chosen by whoever trained the model; nothing checks their labels, their sources or their age groups. A model can learn the source (hospital, scanner, age group) instead of the disease.',
    'No shortcut audit and no source-shift evaluation were run for this model (they exist for the shipped model only).',
    'Research and education only; not for clinical use.',
  ];
}

/** The Markdown model card of a fine-tuned model (metadata.json + its validation report). */
export function modelCardMarkdown(metadata: ModelMetadata, report: MetricsReport | null): string {
  const t = metadata.training;
  const trust = metadata.trust;
  const lines: string[] = [`# Model card: ${metadata.name}`, '', `Version ${metadata.version}. ${metadata.task}`, ''];
  lines.push('## Data and split', '');
  if (t?.data) lines.push(t.data, '');
  if (t?.split) {
    lines.push('| class | training images | validation images |', '|---|---:|---:|');
    t.split.classNames.forEach((c, i) => lines.push(`| ${c} | ${t.split!.train[i]} | ${t.split!.val[i]} |`));
    lines.push('');
  }
  if (t?.date)
    lines.push(
      `Trained on ${formatDate(t.date)}${t.epochs ? `, ${t.epochs} epochs (kept: epoch ${t.bestEpoch ?? '—'})` : ''}${t.backend ? `, ${t.backend} backend` : ''}.`,
      '',
    );
  lines.push('## Validation metrics', '');
  if (report) {
    lines.push(
      `${report.n} images: accuracy ${num(report.accuracy)}${report.confidenceIntervals ? ` (95 % CI ${num(report.confidenceIntervals.accuracy.lower)}–${num(report.confidenceIntervals.accuracy.upper)})` : ''}, balanced accuracy ${num(report.balancedAccuracy)}, macro AUC ${num(report.macro.auc)}.`,
      '',
      '| class | support | sensitivity | specificity | PPV | NPV | F1 | AUC |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...report.classNames.map((c) => {
        const m = report.perClass[c];
        return `| ${c} | ${m.support} | ${num(m.sensitivity)} | ${num(m.specificity)} | ${num(m.ppv)} | ${num(m.npv)} | ${num(m.f1)} | ${num(m.auc)} |`;
      }),
      '',
      `Confusion matrix (rows: true class, columns: predicted): ${report.confusionMatrix.map((r, i) => `${report.classNames[i]} ${r.join('/')}`).join('; ')}.`,
      '',
    );
  } else {
    lines.push('No validation split: no figures, no calibration, no operating point.', '');
  }
  lines.push('## Trust', '');
  if (trust?.temperatureFit) {
    const bound = trust.temperatureFit.minTemperature;
    lines.push(
      `- Softmax temperature ${num(trust.temperature, 3)}, fitted on ${trust.temperatureFit.valImages} validation images (mean NLL ${num(trust.temperatureFit.nllBefore)} → ${num(trust.temperatureFit.nllAfter)})${bound !== undefined ? `, not below ${bound} (a fine-tuned model is never made more confident than its head)` : ''}.`,
    );
  }
  const op = trust?.covidThreshold;
  if (op) {
    lines.push(
      `- Covid operating point: threshold ${num(op.threshold, 4)} on the calibrated covid probability, chosen for sensitivity ${num(op.targetSensitivity, 2)} on ${op.valImages ?? '—'} validation images (${op.valPositives ?? '—'} covid); there: sensitivity ${num(op.valSensitivity)}, specificity ${num(op.valSpecificity)}.`,
    );
  } else {
    lines.push('- No covid operating point (the model has no covid class, or its validation split no covid image).');
  }
  const ood = trust?.ood;
  if (ood) {
    const f = ood.fit ?? {};
    const widened = Array.isArray(f.widened) && f.widened.length ? `widened for: ${(f.widened as string[]).join(', ')}` : 'no limit needed widening';
    lines.push(
      `- "Not a chest X-ray?" check: the base network's, refitted on the ${String(f.trainImages ?? '—')} training and ${String(f.valImages ?? '—')} validation images (class means of these images; ${widened}). The base check would have withheld ${String(f.flaggedBeforeRefit ?? '—')} of them; the refitted one withholds ${String(f.flaggedAfterRefit ?? '—')}.`,
    );
  } else {
    lines.push('- No "Not a chest X-ray?" check.');
  }
  lines.push('', '## Training curves', '');
  const h = t?.history ?? [];
  if (h.length) {
    lines.push('| epoch | training loss | validation loss | training accuracy | validation accuracy |', '|---:|---:|---:|---:|---:|');
    for (const r of h) lines.push(`| ${r.epoch} | ${num(r.trainLoss)} | ${num(r.valLoss)} | ${num(r.trainAcc)} | ${num(r.valAcc)} |`);
    lines.push('');
  }
  lines.push('## Caveats', '', ...finetuneCaveats(metadata).map((c) => `- ${c}`), '');
  return lines.join('\n');
}
