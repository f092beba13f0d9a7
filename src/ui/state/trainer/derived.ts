import { checkDataset, type DatasetCheck } from '../../../ml/dataset-browser';
import { splitWithCopies } from './copies';
import { TrainerState } from './store';

export interface ClassSummary {
  key: number;
  name: string;
  ready: number;
  queued: number;
  failed: number;
}

export function classSummaries(s: Pick<TrainerState, 'classes' | 'images'>): ClassSummary[] {
  const m = new Map(s.classes.map((c) => [c.key, { key: c.key, name: c.name, ready: 0, queued: 0, failed: 0 }]));
  for (const im of s.images) {
    const c = m.get(im.classKey);
    if (!c) continue;
    if (im.status === 'ready') c.ready++;
    else if (im.status === 'queued') c.queued++;
    else c.failed++;
  }
  return s.classes.map((c) => m.get(c.key)!);
}

export interface PlannedSplit {
  classNames: string[];
  train: { ids: number[]; labels: number[] };
  val: { ids: number[]; labels: number[] };
  perClass: { name: string; train: number; val: number }[];
  /** Sets of copies, images left out as extra copies, base-network training images in train / validation. */
  copies: { sets: number; removed: number; baseTrainedTrain: number; baseTrainedVal: number };
}

/** The split a run would use now: ready images only, classes in card order. */
export function planSplit(s: Pick<TrainerState, 'classes' | 'images' | 'settings'>): PlannedSplit {
  const classNames = s.classes.map((c) => c.name.trim());
  // Sets of copies stay on one side (or lose their extra copies); see copies.ts.
  const split = splitWithCopies(s);
  const { ready, labels } = split.view;
  const perClass = classNames.map((name) => ({ name, train: 0, val: 0 }));
  if (s.settings.maxTrainPerClass > 0) {
    // Keep the first N of each class in the (seeded) split order: same seed, same images.
    const taken = new Map<number, number>();
    split.train = split.train.filter((i) => {
      const t = taken.get(labels[i]) ?? 0;
      taken.set(labels[i], t + 1);
      return t < s.settings.maxTrainPerClass;
    });
  }
  split.train.forEach((i) => perClass[labels[i]].train++);
  split.val.forEach((i) => perClass[labels[i]].val++);
  return {
    classNames,
    train: { ids: split.train.map((i) => ready[i].id), labels: split.train.map((i) => labels[i]) },
    val: { ids: split.val.map((i) => ready[i].id), labels: split.val.map((i) => labels[i]) },
    perClass,
    copies: {
      sets: split.view.sets.length,
      removed: split.removed.length,
      baseTrainedTrain: split.train.filter((i) => ready[i].baseTrained).length,
      baseTrainedVal: split.val.filter((i) => ready[i].baseTrained).length,
    },
  };
}

export function datasetCheck(s: Pick<TrainerState, 'classes' | 'images'>): DatasetCheck {
  return checkDataset(classSummaries(s).map((c) => ({ name: c.name, count: c.ready + c.queued })));
}
