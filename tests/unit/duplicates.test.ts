// Sets of copies inside a data set and the split that keeps each set on one side
// (src/core/duplicates.ts): exact (file hash) and near (perceptual hash within
// NEAR_DUPLICATE_DISTANCE bits) copies, transitive sets, conflicts between labels, the extra copies a
// teacher may drop, and the group-aware split (the same as stratifiedSplit when nothing is copied).
import { describe, expect, it } from 'vitest';
import { extraCopies, findDuplicateGroups, groupedStratifiedSplit, groupLabels, isConflict, type HashedItem } from '../../src/core/duplicates';
import fs from 'node:fs';
import { hammingDistance, hashWords, wordsDistance } from '../../src/core/image-hash';
import { NEAR_DUPLICATE_DISTANCE, parseTrainHashes } from '../../src/core/train-hashes';
import { stratifiedSplit } from '../../src/ml/dataset-browser';
import { createRng } from '../../src/core/random';

function randomHash(rng: ReturnType<typeof createRng>): string {
  let h = '';
  for (let i = 0; i < 16; i++) h += rng.int(16).toString(16);
  return h;
}

/** The hash with `bits` distinct bits flipped (chosen by the rng). */
function flip(h: string, bits: number, rng: ReturnType<typeof createRng>): string {
  const positions = rng.shuffle(Array.from({ length: 64 }, (_, i) => i)).slice(0, bits);
  const digits = h.split('').map((c) => parseInt(c, 16));
  for (const p of positions) digits[p >> 2] ^= 8 >> (p & 3);
  return digits.map((d) => d.toString(16)).join('');
}

/** Groups by brute force over all pairs (the reference for the multi-index). */
function bruteGroups(items: HashedItem[], d: number): number[][] {
  const parent = items.map((_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : root(parent[i]));
  for (let i = 0; i < items.length; i++)
    for (let j = i + 1; j < items.length; j++) {
      const same = items[i].fileHash && items[i].fileHash === items[j].fileHash;
      const near = items[i].phash && items[j].phash && hammingDistance(items[i].phash!, items[j].phash!) <= d;
      if (same || near) parent[Math.max(root(i), root(j))] = Math.min(root(i), root(j));
    }
  const m = new Map<number, number[]>();
  items.forEach((_, i) => m.set(root(i), [...(m.get(root(i)) ?? []), i]));
  return [...m.values()].filter((g) => g.length > 1).sort((a, b) => a[0] - b[0]);
}

describe('findDuplicateGroups', () => {
  it('finds exactly the sets brute force finds: 600 images with planted copies 0–4 bits away, none at 6 or more', () => {
    const rng = createRng(3);
    const items: HashedItem[] = [];
    for (let i = 0; i < 500; i++) items.push({ fileHash: `f${i}`, phash: randomHash(rng) });
    const planted: [number, number][] = [];
    for (let k = 0; k < 100; k++) {
      const src = rng.int(500);
      const bits = [0, 2, 4, 6, 10][k % 5];
      planted.push([src, bits]);
      items.push({ fileHash: bits === 0 && k % 2 === 0 ? items[src].fileHash : `c${k}`, phash: flip(items[src].phash!, bits, rng) });
    }
    const groups = findDuplicateGroups(items);
    expect(groups.map((g) => g.members)).toEqual(bruteGroups(items, NEAR_DUPLICATE_DISTANCE));
    // Every copy within 4 bits is found with its source; 6 and 10 bits apart are other images.
    const groupOf = new Map<number, number>();
    groups.forEach((g, k) => g.members.forEach((i) => groupOf.set(i, k)));
    planted.forEach(([src, bits], k) => {
      const copy = 500 + k;
      if (bits <= 4) expect(groupOf.get(copy), `copy ${k} (${bits} bits)`).toBe(groupOf.get(src));
    });
    expect(groups.length).toBeGreaterThanOrEqual(55);
  });

  it('joins sets transitively, tells exact from near copies, and never groups images without hashes', () => {
    const a = '0f0f0f0f0f0f0f0f';
    const b = flip(a, 4, createRng(1));
    const c = flip(b, 4, createRng(2)); // up to 8 bits from a: joined through b
    const items: HashedItem[] = [
      { fileHash: 'x', phash: a },
      { fileHash: 'y', phash: b },
      { fileHash: 'z', phash: c },
      { fileHash: 'w', phash: 'ffff0000ffff0000' },
      { fileHash: 'w', phash: 'ffff0000ffff0000' },
      { fileHash: 'v', phash: 'f0f0f0f0f0f0f0f0' },
      { fileHash: null, phash: null },
      { fileHash: null, phash: 'not a hash' },
    ];
    const groups = findDuplicateGroups(items);
    expect(groups).toEqual([
      { members: [0, 1, 2], kind: 'near' },
      { members: [3, 4], kind: 'exact' },
    ]);
    // Same bytes are copies even if a hash failed.
    expect(findDuplicateGroups([{ fileHash: 'q' }, { fileHash: 'q', phash: a }])).toEqual([{ members: [0, 1], kind: 'exact' }]);
    expect(findDuplicateGroups([])).toEqual([]);
  });

  it('reports a set whose copies carry different labels as a conflict', () => {
    const items: HashedItem[] = [{ phash: 'aaaaaaaaaaaaaaaa' }, { phash: 'aaaaaaaaaaaaaaaa' }, { phash: '5555555555555555' }, { phash: '5555555555555555' }];
    const labels = [0, 1, 1, 1];
    const groups = findDuplicateGroups(items);
    expect(groups.map((g) => groupLabels(g, labels))).toEqual([[0, 1], [1]]);
    expect(groups.map((g) => isConflict(g, labels))).toEqual([true, false]);
  });
});

describe('extraCopies', () => {
  it('keeps the first copy by name of each set, and one per label in a conflicting set', () => {
    const keys = ['b.png', 'a.png', 'c.png', 'x/d.png', 'y/d.png', 'z/d.png'];
    const labels = [0, 0, 0, 0, 1, 1];
    const groups = [
      { members: [0, 1, 2], kind: 'exact' as const },
      { members: [3, 4, 5], kind: 'near' as const },
    ];
    // a.png stays of the first; x/d.png (label 0) and y/d.png (label 1) of the conflicting one.
    expect(extraCopies(groups, labels, keys)).toEqual([0, 2, 5]);
  });
});

describe('groupedStratifiedSplit', () => {
  const n = 80;
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  const keys = labels.map((_, i) => `img-${String(i).padStart(3, '0')}.png`);

  it('without copies, is exactly stratifiedSplit for the same seed', () => {
    for (const seed of [1, 42, 7]) {
      for (const f of [0.1, 0.2, 0.5]) {
        expect(groupedStratifiedSplit(labels, keys, [], f, seed)).toEqual(stratifiedSplit(labels, keys, f, seed));
      }
    }
  });

  it('keeps every set of copies on one side, close to the asked share, the same for the same seed', () => {
    // Sets of 2–4 copies of the same class among singles.
    const groupOf = labels.map(() => -1);
    let g = 0;
    for (let i = 0; i + 9 < n; i += 10) {
      for (let k = 0; k < 2 + (g % 3); k++) if (labels[i + 3 * k] === labels[i]) groupOf[i + 3 * k] = g;
      g++;
    }
    const sets = new Map<number, number[]>();
    groupOf.forEach((gi, i) => gi >= 0 && sets.set(gi, [...(sets.get(gi) ?? []), i]));
    expect([...sets.values()].every((m) => m.length >= 2)).toBe(true);
    for (const seed of [1, 2, 3, 42]) {
      const s = groupedStratifiedSplit(labels, keys, groupOf, 0.25, seed);
      expect([...s.train, ...s.val].sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
      const inVal = new Set(s.val);
      for (const m of sets.values()) expect(new Set(m.map((i) => inVal.has(i))).size, `seed ${seed}`).toBe(1);
      for (let c = 0; c < 3; c++) {
        const total = labels.filter((l) => l === c).length;
        const v = s.val.filter((i) => labels[i] === c).length;
        expect(v).toBe(Math.round(total * 0.25));
      }
      expect(groupedStratifiedSplit(labels, keys, groupOf, 0.25, seed)).toEqual(s);
    }
    expect(groupedStratifiedSplit(labels, keys, groupOf, 0.25, 1)).not.toEqual(groupedStratifiedSplit(labels, keys, groupOf, 0.25, 2));
  });

  it('splits conflicting sets as a whole (their own stratum), and when every unit is larger than the share, still validates one', () => {
    // The same 8 images filed under both classes: 8 conflicting pairs.
    const l = [...Array(8).fill(0), ...Array(8).fill(1)];
    const k = l.map((c, i) => `${c}/${i % 8}.png`);
    const groupOf = l.map((_, i) => i % 8);
    const s = groupedStratifiedSplit(l, k, groupOf, 0.5, 42);
    expect(s.val).toHaveLength(8);
    for (let i = 0; i < 8; i++) expect(s.val.includes(i)).toBe(s.val.includes(i + 8));
    // Two sets of 3 copies, 20 %: round(6·0.2) = 1 image, smaller than any set: one set validates.
    const s2 = groupedStratifiedSplit([0, 0, 0, 0, 0, 0], ['a', 'b', 'c', 'd', 'e', 'f'], [0, 0, 0, 1, 1, 1], 0.2, 1);
    expect(s2.val).toHaveLength(3);
    expect(s2.train).toHaveLength(3);
  });

  it('keeps trainOnly images (and their sets) out of validation, and splits the rest by the asked share', () => {
    const trainOnly = labels.map((_, i) => i < 30);
    const groupOf = labels.map((_, i) => (i === 5 || i === 50 ? 0 : -1));
    const s = groupedStratifiedSplit(labels, keys, groupOf, 0.2, 42, trainOnly);
    expect(s.val.some((i) => i < 30 || i === 50)).toBe(false);
    expect(s.val).toHaveLength([0, 1, 2].reduce((acc, c) => acc + Math.round(labels.filter((l, i) => l === c && i >= 30 && i !== 50).length * 0.2), 0));
  });
});

describe('on the shipped train-hashes.json (real, clustered hashes)', () => {
  it("groups the base network's 4,848 training hashes exactly as brute force does (21 sets of near copies at 4 bits)", () => {
    const set = parseTrainHashes(fs.readFileSync(new URL('../../public/model/train-hashes.json', import.meta.url), 'utf8'));
    const hashes = [...set.exact];
    const groups = findDuplicateGroups(hashes.map((phash) => ({ phash }))).map((g) => g.members);
    // Brute force over all 11.7 M pairs, on the 32-bit halves.
    const w = hashes.flatMap((h) => hashWords(h));
    const parent = hashes.map((_, i) => i);
    const root = (i: number): number => (parent[i] === i ? i : root(parent[i]));
    for (let i = 0; i < hashes.length; i++)
      for (let j = i + 1; j < hashes.length; j++)
        if (wordsDistance(w[2 * i], w[2 * i + 1], w[2 * j], w[2 * j + 1]) <= NEAR_DUPLICATE_DISTANCE)
          parent[Math.max(root(i), root(j))] = Math.min(root(i), root(j));
    const m = new Map<number, number[]>();
    hashes.forEach((_, i) => m.set(root(i), [...(m.get(root(i)) ?? []), i]));
    const brute = [...m.values()].filter((g) => g.length > 1).sort((a, b) => a[0] - b[0]);
    expect(groups).toEqual(brute);
    expect(groups).toHaveLength(21);
  });
});
