import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/random';

// Reference mulberry32 as commonly published, to pin our implementation to the canonical stream.
function referenceMulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('createRng', () => {
  it('matches the reference mulberry32 stream', () => {
    for (const seed of [0, 1, 42, 123456789, 0xffffffff]) {
      const rng = createRng(seed);
      const ref = referenceMulberry32(seed);
      for (let i = 0; i < 100; i++) expect(rng.next()).toBe(ref());
    }
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = createRng(7);
    const b = createRng(7);
    const c = createRng(8);
    const seqA = Array.from({ length: 20 }, () => a.next());
    const seqB = Array.from({ length: 20 }, () => b.next());
    const seqC = Array.from({ length: 20 }, () => c.next());
    expect(seqA).toEqual(seqB);
    expect(seqA).not.toEqual(seqC);
  });

  it('next() stays in [0, 1) with a roughly uniform mean', () => {
    const rng = createRng(3);
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      min = Math.min(min, x);
      max = Math.max(max, x);
      sum += x;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / n).toBeCloseTo(0.5, 1);
  });

  it('int(n) covers exactly 0..n-1 and rejects bad n', () => {
    const rng = createRng(11);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const k = rng.int(6);
      expect(Number.isInteger(k)).toBe(true);
      seen.add(k);
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(createRng(1).int(1)).toBe(0);
    expect(() => rng.int(0)).toThrow(RangeError);
    expect(() => rng.int(2.5)).toThrow(RangeError);
  });

  it('normal() has mean ~0 and variance ~1', () => {
    const rng = createRng(5);
    const n = 20000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      sum += x;
      sumSq += x * x;
    }
    const mean = sum / n;
    expect(Number.isFinite(sumSq)).toBe(true);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(sumSq / n - mean * mean - 1)).toBeLessThan(0.05);
  });

  it('shuffle() permutes in place, deterministically', () => {
    const original = Array.from({ length: 50 }, (_, i) => i);
    const a = original.slice();
    const returned = createRng(9).shuffle(a);
    expect(returned).toBe(a);
    expect(a.slice().sort((x, y) => x - y)).toEqual(original);
    expect(a).not.toEqual(original);
    expect(createRng(9).shuffle(original.slice())).toEqual(a);
    expect(createRng(9).shuffle([])).toEqual([]);
  });

  it('accepts any finite seed and rejects non-finite ones', () => {
    expect(createRng(-1).next()).toBe(referenceMulberry32(0xffffffff)());
    expect(createRng(1.5).next()).not.toBe(createRng(1).next());
    expect(() => createRng(NaN)).toThrow(RangeError);
    expect(() => createRng(Infinity)).toThrow(RangeError);
  });
});
