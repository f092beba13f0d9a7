// The shortcut lesson's verdict (Train page): the normal run's validation accuracy against the same
// run trained and validated on border-only images (lungs blacked out), both with 95 % Wilson
// intervals, and chance = always answering the largest validation class. Pure arithmetic.
import { wilsonInterval, type ProportionInterval } from './intervals';

export type ShortcutVerdictKind = 'hospital' | 'partly' | 'lungs' | 'undecided';

export interface ShortcutVerdict {
  kind: ShortcutVerdictKind;
  normal: ProportionInterval;
  border: ProportionInterval;
  /** Accuracy of always answering the largest validation class. */
  chance: number;
  /** The border-only interval lies entirely above chance. */
  borderAboveChance: boolean;
  /** The border-only interval reaches the normal run's interval. */
  overlaps: boolean;
  text: string;
}

/** Share of the largest class among `labels` (0 when there are none). */
export function majorityShare(labels: readonly number[]): number {
  if (!labels.length) return 0;
  const counts = new Map<number, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return Math.max(...counts.values()) / labels.length;
}

export function shortcutVerdict(
  normal: { correct: number; total: number },
  border: { correct: number; total: number },
  valLabels: readonly number[],
): ShortcutVerdict {
  const n = wilsonInterval(normal.correct, normal.total);
  const b = wilsonInterval(border.correct, border.total);
  const chance = majorityShare(valLabels);
  const base = { normal: n, border: b, chance };
  if (n.lower === null || n.upper === null || b.lower === null || b.upper === null) {
    return { ...base, kind: 'undecided', borderAboveChance: false, overlaps: false, text: 'No validation images: there is nothing to compare.' };
  }
  const borderAboveChance = b.lower > chance;
  const overlaps = b.upper >= n.lower && b.lower <= n.upper;
  const normalAboveChance = n.lower > chance;
  let kind: ShortcutVerdictKind;
  let text: string;
  if (borderAboveChance && overlaps) {
    kind = 'hospital';
    text =
      'The model can score from the border alone: with the lungs blacked out it does about as well as on the whole image. It is learning the hospital, not the disease.';
  } else if (borderAboveChance) {
    kind = 'partly';
    text =
      'The model can score from the border alone: with the lungs blacked out it is still well above chance (though below the whole image). Part of what it learns is the hospital, not the disease.';
  } else if (overlaps && normalAboveChance) {
    kind = 'undecided';
    text =
      'Too few validation images to tell: the border-only score is not clearly above chance, yet not clearly below the whole-image score. The model may be able to score from the border alone (learning the hospital, not the disease); more validation images would tell.';
  } else if (overlaps) {
    kind = 'undecided';
    text = 'Neither run is clearly above chance: the model has not learnt enough to tell what it uses. Add images or train longer.';
  } else {
    kind = 'lungs';
    text = 'The border alone is not enough: with the lungs blacked out the model scores near chance, so its whole-image score needs what is inside the chest.';
  }
  return { ...base, kind, borderAboveChance, overlaps, text };
}
