import { describe, expect, it } from 'vitest';
import { majorityShare, shortcutVerdict } from '../../src/core/shortcut-verdict';

const labels = (a: number, b: number) => [...Array(a).fill(0), ...Array(b).fill(1)];

describe('shortcutVerdict', () => {
  it('border-only as good as the whole image: learning the hospital', () => {
    const v = shortcutVerdict({ correct: 38, total: 40 }, { correct: 35, total: 40 }, labels(20, 20));
    expect(v.kind).toBe('hospital');
    expect(v.borderAboveChance).toBe(true);
    expect(v.overlaps).toBe(true);
    expect(v.text).toMatch(/learning the hospital, not the disease/);
  });

  it('border-only above chance but below the whole image: partly the hospital', () => {
    const v = shortcutVerdict({ correct: 400, total: 400 }, { correct: 300, total: 400 }, labels(200, 200));
    expect(v.kind).toBe('partly');
    expect(v.overlaps).toBe(false);
    expect(v.text).toMatch(/border alone/);
  });

  it('border-only at chance, whole image well above: the border alone is not enough', () => {
    const v = shortcutVerdict({ correct: 190, total: 200 }, { correct: 104, total: 200 }, labels(100, 100));
    expect(v.kind).toBe('lungs');
    expect(v.borderAboveChance).toBe(false);
    expect(v.text).toMatch(/not enough/);
  });

  it('chance is the largest class share, not 1/k: 70 % on a 70/30 split is not above chance', () => {
    expect(majorityShare(labels(70, 30))).toBeCloseTo(0.7);
    const v = shortcutVerdict({ correct: 98, total: 100 }, { correct: 70, total: 100 }, labels(70, 30));
    expect(v.borderAboveChance).toBe(false);
    expect(v.kind).toBe('lungs');
  });

  it('border-only near chance but within reach of a small validation set: undecided, and it says more images would tell', () => {
    // 9 of 10 vs 6 of 10 with 5/5 classes: 60–98 % and 31–83 % overlap; 31 % is not above 50 %.
    const v = shortcutVerdict({ correct: 9, total: 10 }, { correct: 6, total: 10 }, labels(5, 5));
    expect(v.overlaps).toBe(true);
    expect(v.borderAboveChance).toBe(false);
    expect(v.kind).toBe('undecided');
    expect(v.text).toMatch(/more validation images would tell/);
  });

  it('no validation images: undecided, with intervals absent', () => {
    const v = shortcutVerdict({ correct: 0, total: 0 }, { correct: 0, total: 0 }, []);
    expect(v.kind).toBe('undecided');
    expect(v.border.lower).toBeNull();
  });
});
