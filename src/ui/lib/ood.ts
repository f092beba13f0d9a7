// The out-of-distribution verdict of a result, read tolerantly: the detector's output may sit on the
// result (ClassifyResult.ood) or on its prediction (Prediction.ood), and older results, models
// without OOD statistics or a worker that does not score OOD have none. Malformed values count as
// absent, so the page never breaks on them.
//
// What the page says about a flagged input: one plain sentence first (oodHeadline), the detector's
// numbers ("dominantFraction 1.00 > 0.273") only behind a disclosure (oodDetails).
import type { ClassifyResult } from '../../worker/protocol';

export interface OodCheckView {
  /** 'embedding', 'pixels' or an image feature name (src/core/ood.ts). */
  id: string;
  side: string;
  fired: boolean;
  /** The detector's own line, with its numbers. */
  reason: string;
}

export interface OodView {
  flagged: boolean;
  score: number;
  threshold: number;
  reasons: string[];
  /** Every evaluated check, when the detector reported them (empty otherwise). */
  checks: OodCheckView[];
}

function readChecks(v: unknown): OodCheckView[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((c): OodCheckView[] => {
    if (typeof c !== 'object' || c === null) return [];
    const o = c as Record<string, unknown>;
    if (typeof o.id !== 'string' || typeof o.fired !== 'boolean') return [];
    return [{ id: o.id, side: typeof o.side === 'string' ? o.side : '', fired: o.fired, reason: typeof o.reason === 'string' ? o.reason : '' }];
  });
}

function read(v: unknown): OodView | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.flagged !== 'boolean') return null;
  const num = (x: unknown) => (typeof x === 'number' ? x : Number.NaN);
  const reasons = Array.isArray(o.reasons) ? o.reasons.filter((r): r is string => typeof r === 'string' && r.length > 0) : [];
  return { flagged: o.flagged, score: num(o.score), threshold: num(o.threshold), reasons, checks: readChecks(o.checks) };
}

export function oodOf(result: ClassifyResult | null | undefined): OodView | null {
  if (!result) return null;
  return read((result as unknown as { ood?: unknown }).ood) ?? read((result.prediction as unknown as { ood?: unknown }).ood);
}

/** True when the result must not be presented as a confident class. */
export function isWithheld(result: ClassifyResult | null | undefined): boolean {
  return oodOf(result)?.flagged === true;
}

/** One sentence per check (id:side), in the words a user needs; the numbers stay in the details. */
const PLAIN: Record<string, string> = {
  'colourFraction:high': 'It is a colour image; X-rays are grey.',
  'colourMean:high': 'It is coloured or tinted; X-rays are grey.',
  'contrast:low': 'It is blank or nearly uniform.',
  'contrast:high': 'Its contrast is harsher than in any X-ray the model was trained on.',
  'dominantFraction:high': 'Most of it is one flat shade, like a blank page or a filled area.',
  'brightFraction:high': 'It is mostly white, like a document or a screenshot.',
  'roughness:high': 'Its texture looks like noise or text, not like an X-ray.',
  'symmetry:low': 'It is not left–right symmetric like a frontal chest film.',
  'layout:low': 'Its layout does not look like a frontal chest X-ray.',
  'entropy:low': 'It has too few shades of grey for an X-ray.',
  'entropy:high': 'Its shades of grey are spread like noise.',
  'aspect:high': 'It is far too long or too wide for a chest film.',
  'pixels:high': 'Its layout does not look like a frontal chest X-ray.',
  'embedding:high': 'It does not resemble the chest X-rays the model was trained on.',
};

/** "large flat area (dominantFraction 1.00 > 0.273)" → "Large flat area." */
function stripNumbers(reason: string): string {
  const words = reason.replace(/\s*\([^()]*\)\s*$/, '').trim();
  return words ? `${words[0].toUpperCase()}${words.slice(1)}.` : '';
}

/**
 * The plain reason for a flag: the first fired image check (what is visibly wrong with the picture),
 * else the learnt checks (layout, resemblance to the training films).
 */
export function oodPlainReason(ood: OodView): string {
  const fired = ood.checks.filter((c) => c.fired);
  const rank = (id: string) => (id === 'embedding' ? 2 : id === 'pixels' ? 1 : 0);
  const first = [...fired].sort((a, b) => rank(a.id) - rank(b.id))[0];
  if (first) return PLAIN[`${first.id}:${first.side}`] ?? stripNumbers(first.reason);
  if (ood.reasons.length) return stripNumbers(ood.reasons[0]);
  return 'It does not resemble the chest X-rays the model was trained on.';
}

/** "Not a chest X-ray? Most of it is one flat shade, …" — the text the card, the table and announcements share. */
export function oodHeadline(ood: OodView): string {
  return `Not a chest X-ray? ${oodPlainReason(ood)}`;
}

/** The detector's lines with their numbers, for the disclosure under the headline. */
export function oodDetails(ood: OodView): string[] {
  const lines = ood.checks.length ? ood.checks.filter((c) => c.fired && c.reason).map((c) => c.reason) : [...ood.reasons];
  if (Number.isFinite(ood.score) && Number.isFinite(ood.threshold))
    lines.push(`out-of-distribution score ${ood.score.toFixed(3)}, threshold ${ood.threshold.toFixed(3)}`);
  return lines;
}
