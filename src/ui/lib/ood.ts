// The out-of-distribution verdict of a result, read tolerantly: the detector's output may sit on the
// result (ClassifyResult.ood) or on its prediction (Prediction.ood), and older results, models
// without OOD statistics or a worker that does not score OOD have none. Malformed values count as
// absent, so the page never breaks on them.
import type { ClassifyResult } from '../../worker/protocol';

export interface OodView {
  flagged: boolean;
  score: number;
  threshold: number;
  reasons: string[];
}

function read(v: unknown): OodView | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.flagged !== 'boolean') return null;
  const num = (x: unknown) => (typeof x === 'number' ? x : Number.NaN);
  const reasons = Array.isArray(o.reasons) ? o.reasons.filter((r): r is string => typeof r === 'string' && r.length > 0) : [];
  return { flagged: o.flagged, score: num(o.score), threshold: num(o.threshold), reasons };
}

export function oodOf(result: ClassifyResult | null | undefined): OodView | null {
  if (!result) return null;
  return read((result as unknown as { ood?: unknown }).ood) ?? read((result.prediction as unknown as { ood?: unknown }).ood);
}

/** True when the result must not be presented as a confident class. */
export function isWithheld(result: ClassifyResult | null | undefined): boolean {
  return oodOf(result)?.flagged === true;
}

/** "Not a chest X-ray? (reason; reason)" — the text the card, the table and announcements share. */
export function oodHeadline(ood: OodView): string {
  return ood.reasons.length ? `Not a chest X-ray? (${ood.reasons.join('; ')})` : 'Not a chest X-ray?';
}
