// Tolerant reader of public/model/shift.json (written by `npm run evaluate:shift`,
// scripts/evaluate-shift.ts): the acquisition-shift, source-probe and leave-source-out tables shown on
// the Model card. Anything malformed reads as absent rather than throwing.

export interface ShiftVariantView {
  id: string;
  description: string;
  accuracy: number | null;
  deltaPoints: number | null;
  covidSensitivity: number | null;
  oodRate: number | null;
}

export interface LsoRowView {
  group: string;
  description: string;
  label: string;
  n: number | null;
  sensitivity: number | null;
  calledAs: string;
}

export interface ProbeRowView {
  label: string;
  sources: string;
  balancedAccuracy: number | null;
  chance: number | null;
}

export interface ShiftView {
  testImages: number | null;
  untouched: { accuracy: number | null; oodRate: number | null } | null;
  variants: ShiftVariantView[];
  lso: { recipe: string; epochs: number | null; epochSize: number | null; rows: LsoRowView[] } | null;
  probe: ProbeRowView[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export function readShift(json: unknown): ShiftView | null {
  if (!isObj(json)) return null;
  const acq = isObj(json.acquisition) ? json.acquisition : null;
  const untouched = acq && isObj(acq.untouched) ? { accuracy: num(acq.untouched.accuracy), oodRate: num(acq.untouched.oodRate) } : null;
  const variants =
    acq && Array.isArray(acq.variants)
      ? acq.variants.filter(isObj).map((v) => ({
          id: str(v.id),
          description: str(v.description),
          accuracy: num(v.accuracy),
          deltaPoints: num(v.deltaPoints),
          covidSensitivity: num(v.covidSensitivity),
          oodRate: num(v.oodRate),
        }))
      : [];
  const l = isObj(json.lso) ? json.lso : null;
  const lsoRows: LsoRowView[] = [];
  if (l && Array.isArray(l.results)) {
    for (const r of l.results.filter(isObj)) {
      const g = isObj(r.group) ? r.group : {};
      for (const p of Array.isArray(r.perLabel) ? r.perLabel.filter(isObj) : []) {
        const called = isObj(p.calledAs)
          ? Object.entries(p.calledAs)
              .map(([k, v]) => `${k} ${String(v)}`)
              .join(', ')
          : '';
        lsoRows.push({
          group: str(g.id),
          description: str(g.description),
          label: str(p.label),
          n: num(p.n),
          sensitivity: num(p.sensitivity),
          calledAs: called,
        });
      }
    }
  }
  const probe = Array.isArray(json.probe)
    ? json.probe.filter(isObj).map((p) => ({
        label: str(p.label),
        sources: Array.isArray(p.sources)
          ? p.sources
              .filter(isObj)
              .map((s) => str(s.source))
              .join('; ')
          : '',
        balancedAccuracy: num(p.balancedAccuracy),
        chance: num(p.chance),
      }))
    : [];
  if (!variants.length && !lsoRows.length && !probe.length) return null;
  const meta = isObj(json.meta) && isObj(json.meta.data) ? json.meta.data : {};
  return {
    testImages: num(meta.testImages),
    untouched,
    variants,
    lso: l ? { recipe: str(l.recipe), epochs: num(l.epochs), epochSize: num(l.epochSize), rows: lsoRows } : null,
    probe,
  };
}
