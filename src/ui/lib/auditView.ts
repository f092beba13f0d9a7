// Tolerant reader of public/model/audit.json (written by `npm run audit`, scripts/audit.ts): the
// shortcut audit, shown on the Model card. Anything malformed reads as absent rather than throwing.

export interface AuditModeView {
  mode: string;
  description: string;
  accuracy: number | null;
  balancedAccuracy: number | null;
  macroAuc: number | null;
}

export interface AuditView {
  split: string | null;
  n: number | null;
  majority: { className: string; rate: number } | null;
  modes: AuditModeView[];
  check: { borderOnlyMaxAccuracy: number; borderOnlyAccuracy: number | null; passed: boolean } | null;
  /**
   * Centre-only against full accuracy: a model that reads the lungs loses at most `maxDrop` (a
   * fraction) with only the centre visible. `drop` = full − centre-only; null without both modes.
   */
  centre: { fullAccuracy: number; centreOnlyAccuracy: number; drop: number; maxDrop: number; passed: boolean } | null;
}

/**
 * The centre-only target (README, "Shortcut audit"): within 5 points of full accuracy. audit.json's
 * check.centreOnlyMaxDrop overrides it when present.
 */
export const CENTRE_ONLY_MAX_DROP = 0.05;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readAudit(json: unknown): AuditView | null {
  if (!isObj(json) || !Array.isArray(json.modes)) return null;
  const modes = json.modes.filter(isObj).map((m) => ({
    mode: String(m.mode ?? '?'),
    description: typeof m.description === 'string' ? m.description : '',
    accuracy: num(m.accuracy),
    balancedAccuracy: num(m.balancedAccuracy),
    macroAuc: num(m.macroAuc),
  }));
  if (!modes.length) return null;
  const maj = isObj(json.majorityClass) ? json.majorityClass : null;
  const majRate = maj ? num(maj.rate) : null;
  const check =
    isObj(json.check) && num(json.check.borderOnlyMaxAccuracy) !== null
      ? {
          borderOnlyMaxAccuracy: num(json.check.borderOnlyMaxAccuracy)!,
          borderOnlyAccuracy: num(json.check.borderOnlyAccuracy),
          passed: json.check.passed === true,
        }
      : null;
  const meta = isObj(json.meta) ? json.meta : {};
  const full = modes.find((m) => m.mode === 'full')?.accuracy ?? null;
  const centreOnly = modes.find((m) => m.mode === 'centre-only')?.accuracy ?? null;
  const maxDrop = (isObj(json.check) ? num(json.check.centreOnlyMaxDrop) : null) ?? CENTRE_ONLY_MAX_DROP;
  // Rounded to 1e-9 so that a drop of exactly the target counts as within it.
  const drop = full !== null && centreOnly !== null ? Math.round((full - centreOnly) * 1e9) / 1e9 : null;
  const centre =
    full !== null && centreOnly !== null && drop !== null
      ? { fullAccuracy: full, centreOnlyAccuracy: centreOnly, drop, maxDrop, passed: drop <= maxDrop }
      : null;
  return {
    split: typeof meta.split === 'string' ? meta.split : null,
    n: num(json.n),
    majority: maj && majRate !== null ? { className: String(maj.className ?? maj.name ?? '?'), rate: majRate } : null,
    modes,
    check,
    centre,
  };
}
