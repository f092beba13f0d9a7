// Copies inside one data set, pure arithmetic: images are grouped into sets of copies (exact: the
// same file bytes, fnv1a64Hex; near: perceptual hashes within NEAR_DUPLICATE_DISTANCE bits, e.g. the
// same X-ray re-encoded or resized), transitively. A seeded, stratified split that keeps each set on
// one side (so a copy in training never makes a validation image look easy), and the extra copies a
// teacher may choose to drop (one kept per set and class). Sets whose members carry different
// labels are conflicts: reported, never resolved here by picking a label.
import { hashWords, isImageHash, wordsDistance } from './image-hash';
import { createRng } from './random';
import { NEAR_DUPLICATE_DISTANCE } from './train-hashes';

export interface HashedItem {
  /** Exact content hash of the file bytes (16 hex digits). */
  fileHash?: string | null;
  /** Perceptual hash of the model crop (16 hex digits). */
  phash?: string | null;
}

export interface DuplicateGroup {
  /** Indices into the input, ascending; at least 2. */
  members: number[];
  /** 'exact' when every member has the same file bytes, else 'near'. */
  kind: 'exact' | 'near';
}

function find(parent: Int32Array, i: number): number {
  let r = i;
  while (parent[r] !== r) r = parent[r];
  while (parent[i] !== r) {
    const next = parent[i];
    parent[i] = r;
    i = next;
  }
  return r;
}

function union(parent: Int32Array, a: number, b: number): void {
  const ra = find(parent, a);
  const rb = find(parent, b);
  if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
}

/**
 * Sets of copies: items with the same file hash, or whose perceptual hashes differ in at most
 * maxDistance bits, are in one set (transitively: a~b and b~c put a, b, c together). Items without
 * hashes are never grouped. Candidate pairs come from a multi-index (pigeonhole: two hashes within d
 * bits agree exactly on at least one of d+1 blocks), so it stays near linear on thousands of images.
 * Groups are ordered by their first member.
 */
export function findDuplicateGroups(items: readonly HashedItem[], maxDistance = NEAR_DUPLICATE_DISTANCE): DuplicateGroup[] {
  const n = items.length;
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const byFile = new Map<string, number>();
  items.forEach((it, i) => {
    if (!it.fileHash) return;
    const first = byFile.get(it.fileHash);
    if (first === undefined) byFile.set(it.fileHash, i);
    else union(parent, first, i);
  });
  const hashed: number[] = [];
  const words = new Uint32Array(n * 2);
  items.forEach((it, i) => {
    if (!isImageHash(it.phash)) return;
    const [hi, lo] = hashWords(it.phash);
    words[i * 2] = hi;
    words[i * 2 + 1] = lo;
    hashed.push(i);
  });
  const d = Math.max(0, Math.floor(maxDistance));
  if (d + 1 > 16) {
    for (let a = 0; a < hashed.length; a++)
      for (let b = a + 1; b < hashed.length; b++) {
        const i = hashed[a];
        const j = hashed[b];
        if (wordsDistance(words[i * 2], words[i * 2 + 1], words[j * 2], words[j * 2 + 1]) <= d) union(parent, i, j);
      }
  } else {
    // d+1 blocks of hex digits; two hashes within d bits share at least one block exactly.
    const blocks = d + 1;
    const cuts: number[] = [];
    for (let b = 0; b <= blocks; b++) cuts.push(Math.round((b * 16) / blocks));
    const index = new Map<string, number[]>();
    for (const i of hashed) {
      const h = items[i].phash!;
      for (let b = 0; b < blocks; b++) {
        const key = `${b}:${h.slice(cuts[b], cuts[b + 1])}`;
        const list = index.get(key);
        if (!list) {
          index.set(key, [i]);
          continue;
        }
        for (const j of list) {
          if (find(parent, i) === find(parent, j)) continue;
          if (wordsDistance(words[i * 2], words[i * 2 + 1], words[j * 2], words[j * 2 + 1]) <= d) union(parent, i, j);
        }
        list.push(i);
      }
    }
  }
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = find(parent, i);
    const list = members.get(r);
    if (list) list.push(i);
    else members.set(r, [i]);
  }
  const groups: DuplicateGroup[] = [];
  for (const list of members.values()) {
    if (list.length < 2) continue;
    const f = items[list[0]].fileHash;
    groups.push({ members: list, kind: f && list.every((i) => items[i].fileHash === f) ? 'exact' : 'near' });
  }
  return groups.sort((a, b) => a.members[0] - b.members[0]);
}

/** The distinct labels of a group's members, ascending. */
export function groupLabels(group: DuplicateGroup, labels: readonly number[]): number[] {
  return [...new Set(group.members.map((i) => labels[i]))].sort((a, b) => a - b);
}

/** True when a group's members carry different labels (the teacher must say which is right). */
export function isConflict(group: DuplicateGroup, labels: readonly number[]): boolean {
  return groupLabels(group, labels).length > 1;
}

const byKey = (keys: readonly string[]) => (a: number, b: number) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b);

/**
 * The copies to drop when the teacher removes extra copies: in each group, all but the first member
 * (by key, then index) of each label. A conflicting group keeps one image per label: which label is
 * right is the teacher's call, not this function's. Ascending indices.
 */
export function extraCopies(groups: readonly DuplicateGroup[], labels: readonly number[], keys: readonly string[]): number[] {
  const out: number[] = [];
  for (const g of groups) {
    const seen = new Set<number>();
    for (const i of [...g.members].sort(byKey(keys))) {
      if (seen.has(labels[i])) out.push(i);
      else seen.add(labels[i]);
    }
  }
  return out.sort((a, b) => a - b);
}

export interface GroupedSplit {
  /** Indices into the input arrays, ascending. */
  train: number[];
  val: number[];
}

/**
 * Seeded, stratified split that keeps each group on one side. `groupOf[i]` names item i's group (any
 * number; -1 or undefined: alone). A group is stratified by its label set, so a conflicting group
 * forms its own stratum. Within a stratum, units (groups and single items) are ordered by their
 * smallest key, shuffled with the seed, and go to validation while they fit in round(n·fraction)
 * images (at least one unit when the stratum has 2 or more units, never all). Units with a
 * `trainOnly` member go to training and do not count. Without groups and trainOnly this is the same
 * split as stratifiedSplit (src/ml/dataset-browser.ts) for the same seed.
 */
export function groupedStratifiedSplit(
  labels: readonly number[],
  keys: readonly string[],
  groupOf: readonly number[],
  valFraction: number,
  seed: number,
  trainOnly?: readonly boolean[],
): GroupedSplit {
  if (labels.length !== keys.length) throw new RangeError('groupedStratifiedSplit: labels and keys differ in length');
  const f = Math.max(0, Math.min(0.9, valFraction));
  const rng = createRng(seed);
  const units = new Map<string, number[]>();
  labels.forEach((_, i) => {
    const g = groupOf[i];
    const id = g === undefined || g < 0 ? `i${i}` : `g${g}`;
    const list = units.get(id);
    if (list) list.push(i);
    else units.set(id, [i]);
  });
  const train: number[] = [];
  const val: number[] = [];
  const strata = new Map<string, { labels: number[]; units: number[][] }>();
  for (const unit of units.values()) {
    if (trainOnly && unit.some((i) => trainOnly[i])) {
      train.push(...unit);
      continue;
    }
    const ls = [...new Set(unit.map((i) => labels[i]))].sort((a, b) => a - b);
    const key = ls.join(',');
    const s = strata.get(key);
    if (s) s.units.push(unit);
    else strata.set(key, { labels: ls, units: [unit] });
  }
  const order = [...strata.values()].sort((a, b) => {
    if (a.labels.length !== b.labels.length) return a.labels.length === 1 ? -1 : b.labels.length === 1 ? 1 : a.labels.length - b.labels.length;
    for (let k = 0; k < a.labels.length; k++) if (a.labels[k] !== b.labels[k]) return a.labels[k] - b.labels[k];
    return 0;
  });
  const cmp = byKey(keys);
  for (const s of order) {
    const list = s.units.map((u) => [...u].sort(cmp)).sort((a, b) => cmp(a[0], b[0]));
    rng.shuffle(list);
    const n = list.reduce((acc, u) => acc + u.length, 0);
    let nVal = f > 0 ? Math.round(n * f) : 0;
    if (f > 0 && n >= 2) nVal = Math.min(n - 1, Math.max(1, nVal));
    if (n < 2) nVal = 0;
    const toVal = new Array<boolean>(list.length).fill(false);
    let taken = 0;
    list.forEach((u, k) => {
      if (taken + u.length <= nVal) {
        toVal[k] = true;
        taken += u.length;
      }
    });
    if (taken === 0 && nVal > 0 && list.length >= 2) {
      // Every unit is larger than the validation share: the smallest one validates.
      let best = 0;
      list.forEach((u, k) => {
        if (u.length < list[best].length) best = k;
      });
      toVal[best] = true;
    }
    list.forEach((u, k) => (toVal[k] ? val : train).push(...u));
  }
  train.sort((a, b) => a - b);
  val.sort((a, b) => a - b);
  return { train, val };
}
