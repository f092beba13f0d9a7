// The Train page's copies check (issue: the same images loaded twice, as a folder and as a zip, land
// on both sides of the split): sets of exact and near copies among the prepared images
// (src/core/duplicates.ts), the split that honours the teacher's choice (keep each set on one side,
// or drop the extra copies), and the images the shipped base network was trained on
// (public/model/train-hashes.json, fetched lazily from the app's own origin), which the teacher may
// keep out of validation. No ML here: the hashes come from the training worker with each image.
import { extraCopies, findDuplicateGroups, groupedStratifiedSplit, isConflict, type DuplicateGroup } from '../../../core/duplicates';
import { knownTrainingImages, parseTrainHashes, type TrainHashSet } from '../../../core/train-hashes';
import type { ImageEntry, TrainerState } from './store';

/** Fetches and checks the base network's training-image hashes (next to model.json). */
export async function fetchTrainHashes(modelUrl: string): Promise<TrainHashSet> {
  const url = new URL('train-hashes.json', modelUrl).href;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`train-hashes.json could not be fetched (${(e as Error).message})`);
  }
  if (!res.ok) throw new Error(`train-hashes.json could not be loaded (HTTP ${res.status})`);
  return parseTrainHashes(await res.text());
}

/** Ids of the images (with a perceptual hash) that are copies of a base-network training image. */
export function baseTrainedIds(images: readonly Pick<ImageEntry, 'id' | 'phash'>[], set: TrainHashSet): Set<number> {
  const withHash = images.filter((im) => im.phash);
  return new Set(
    knownTrainingImages(
      withHash.map((im) => im.phash!),
      set,
    ).map((m) => withHash[m.index].id),
  );
}

export interface CopySet {
  kind: DuplicateGroup['kind'];
  /** Image ids, by path. */
  ids: number[];
  /** Distinct class indices of its members (more than one: a conflict the teacher must resolve). */
  classes: number[];
  conflict: boolean;
  /** Ids dropped under "Remove the extra copies" (all but one per class). */
  extra: number[];
}

export interface CopiesView {
  /** Prepared images in classes (the ones a split uses), and their class indices. */
  ready: ImageEntry[];
  labels: number[];
  groups: DuplicateGroup[];
  sets: CopySet[];
  /** Images in some set. */
  inSets: number;
  /** Indices into ready dropped under "Remove the extra copies". */
  extraIdx: number[];
}

const groupCache = new WeakMap<readonly ImageEntry[], { ready: ImageEntry[]; groups: DuplicateGroup[] }>();

/** The sets of copies among the prepared images (recomputed only when the image list changes). */
export function copiesOf(s: Pick<TrainerState, 'classes' | 'images'>): CopiesView {
  const index = new Map(s.classes.map((c, i) => [c.key, i]));
  let cached = groupCache.get(s.images);
  if (!cached) {
    const all = s.images.filter((im) => im.status === 'ready');
    cached = { ready: all, groups: findDuplicateGroups(all) };
    groupCache.set(s.images, cached);
  }
  // A class removed since: its images leave the split and their sets.
  const ready = cached.ready.filter((im) => index.has(im.classKey));
  const pos = new Map(ready.map((im, i) => [im.id, i]));
  const groups = cached.groups
    .map((g) => ({ kind: g.kind, members: g.members.map((i) => pos.get(cached.ready[i].id)).filter((i): i is number => i !== undefined) }))
    .filter((g) => g.members.length > 1);
  const labels = ready.map((im) => index.get(im.classKey)!);
  const keys = ready.map((im) => im.path);
  const extraIdx = extraCopies(groups, labels, keys);
  const extra = new Set(extraIdx);
  const sets = groups.map((g) => {
    const members = [...g.members].sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
    return {
      kind: g.kind,
      ids: members.map((i) => ready[i].id),
      classes: [...new Set(members.map((i) => labels[i]))].sort((a, b) => a - b),
      conflict: isConflict(g, labels),
      extra: members.filter((i) => extra.has(i)).map((i) => ready[i].id),
    };
  });
  return { ready, labels, groups, sets, inSets: groups.reduce((a, g) => a + g.members.length, 0), extraIdx };
}

export interface CopiesSplit {
  /** Indices into `view.ready`. */
  train: number[];
  val: number[];
  view: CopiesView;
  /** Ids left out as extra copies (under "Remove the extra copies"). */
  removed: number[];
}

/** The split of the prepared images under the teacher's copies and leakage choices. */
export function splitWithCopies(s: Pick<TrainerState, 'classes' | 'images' | 'settings'>): CopiesSplit {
  const view = copiesOf(s);
  const { ready, labels } = view;
  const drop = s.settings.duplicates === 'remove' ? new Set(view.extraIdx) : new Set<number>();
  const kept = ready.map((_, i) => i).filter((i) => !drop.has(i));
  const groupOf = new Array<number>(ready.length).fill(-1);
  view.groups.forEach((g, k) => {
    for (const i of g.members) groupOf[i] = k;
  });
  const split = groupedStratifiedSplit(
    kept.map((i) => labels[i]),
    kept.map((i) => ready[i].path),
    kept.map((i) => groupOf[i]),
    s.settings.valFraction,
    s.settings.seed,
    s.settings.excludeBaseTrainedFromVal ? kept.map((i) => ready[i].baseTrained === true) : undefined,
  );
  return { train: split.train.map((j) => kept[j]), val: split.val.map((j) => kept[j]), view, removed: [...drop].map((i) => ready[i].id) };
}
