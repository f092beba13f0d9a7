// One verdict per image, in words, from everything the page knows about a result: the most likely
// class, the "uncertain" state, the covid screen at the model's operating point and the
// out-of-distribution check. The card, the announcements and the CSV read it from here, so they can
// never say "normal · uncertain" in one place and "covid screen: positive" in another without
// explaining how both hold.
import type { ClassifyResult } from '../../worker/protocol';
import type { OperatingPointDecision } from '../../core/operating-point';
import { oodHeadline, oodOf } from './ood';

export type VerdictKind = 'withheld' | 'screen-positive' | 'screen-negative' | 'no-screen';

export interface Verdict {
  kind: VerdictKind;
  /** The one sentence shown first. */
  headline: string;
  /** The model's most likely class, null when withheld (the input may not be a chest X-ray). */
  topClass: string | null;
  uncertain: boolean;
  /** One plain sentence on what the covid screen's threshold means, null when no screen applies. */
  screenSentence: string | null;
}

function pct(p: number): string {
  const v = p * 100;
  return `${v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1)} %`;
}

function cap(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

/** "The covid screen is positive when …": the threshold in one sentence (what it is for, what it costs). */
export function screenSentence(d: OperatingPointDecision): string {
  const c = d.className;
  const aim =
    d.targetSensitivity !== null ? ` to catch ${pct(d.targetSensitivity)} of ${c} films in validation (sensitivity ${d.targetSensitivity.toFixed(2)})` : '';
  // A cut-off under one half sits below what many non-covid films reach: say so plainly.
  const cost = d.threshold < 0.5 ? `, so it also flags many images that are not ${c}` : '';
  return `The ${c} screen is positive whenever the ${c} probability is at least ${pct(d.threshold)} (here ${pct(d.probability)}), a cut-off chosen${aim || ' on the validation split'}${cost}.`;
}

export function verdictOf(result: ClassifyResult): Verdict {
  const ood = oodOf(result);
  const { label, uncertain } = result.prediction;
  const screen = result.covidScreen ?? null;
  if (ood?.flagged) return { kind: 'withheld', headline: oodHeadline(ood), topClass: null, uncertain: false, screenSentence: null };
  const likely = uncertain ? `uncertain, most likely ${label}` : label;
  if (!screen) return { kind: 'no-screen', headline: `${cap(likely)}.`, topClass: label, uncertain, screenSentence: null };
  const c = screen.className;
  const sentence = screenSentence(screen);
  if (screen.positive) {
    const headline =
      label === c && !uncertain
        ? `${cap(c)}: the ${c} screen is positive and ${c} is the most likely class.`
        : `Possible ${c}: the ${c} screen is positive, although the most likely class is ${label}${uncertain ? ' (uncertain)' : ''}.`;
    return { kind: 'screen-positive', headline, topClass: label, uncertain, screenSentence: sentence };
  }
  const headline =
    label === c ? `Most likely ${c}${uncertain ? ' (uncertain)' : ''}, but below the ${c} screen's cut-off.` : `${cap(likely)}; ${c} screen negative.`;
  return { kind: 'screen-negative', headline, topClass: label, uncertain, screenSentence: sentence };
}
