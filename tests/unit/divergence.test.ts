import { describe, expect, it } from 'vitest';
import { detectDivergence, smooth } from '../../src/core/divergence';
import { createRng } from '../../src/core/random';

const epochs = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('detectDivergence', () => {
  it('finds the epoch where validation loss turns up while training loss keeps falling', () => {
    // Training falls all the way; validation falls to a minimum at epoch 10, then climbs.
    const train = epochs(30).map((i) => 1.2 * Math.exp(-i / 6) + 0.01);
    const val = epochs(30).map((i) => 0.6 + 0.004 * (i - 9) ** 2);
    const d = detectDivergence(train, val);
    expect(d).not.toBeNull();
    expect(d!.epoch).toBeGreaterThanOrEqual(9);
    expect(d!.epoch).toBeLessThanOrEqual(11);
    expect(d!.firstAbove).toBeGreaterThan(d!.epoch);
  });

  it('finds it through noise', () => {
    const rng = createRng(7);
    const train = epochs(40).map((i) => Math.exp(-i / 8) + 0.02 * (rng.next() - 0.5));
    const val = epochs(40).map((i) => 0.5 + 0.003 * Math.max(0, i - 14) ** 1.5 - 0.01 * Math.min(i, 14) + 0.04 * (rng.next() - 0.5));
    const d = detectDivergence(train, val);
    expect(d).not.toBeNull();
    expect(Math.abs(d!.epoch - 15)).toBeLessThanOrEqual(3);
  });

  it('stays quiet on noisy curves that do not overfit', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = createRng(seed);
      const train = epochs(30).map((i) => 0.9 * Math.exp(-i / 10) + 0.2 + 0.03 * (rng.next() - 0.5));
      const val = epochs(30).map((i) => 0.8 * Math.exp(-i / 10) + 0.3 + 0.06 * (rng.next() - 0.5));
      expect(detectDivergence(train, val), `seed ${seed}`).toBeNull();
    }
  });

  it('needs the training loss to keep falling (both rising is not overfitting)', () => {
    const rising = epochs(20).map((i) => 0.5 + 0.002 * (i - 5) ** 2);
    expect(detectDivergence(rising, rising)).toBeNull();
  });

  it('returns null when too short, without validation, or when the rise is not persistent', () => {
    expect(detectDivergence([1, 0.8, 0.6], [0.7, 0.6, 0.9])).toBeNull();
    expect(detectDivergence([], [])).toBeNull();
    expect(
      detectDivergence(
        epochs(10).map((i) => 1 - i / 20),
        epochs(10).map(() => null),
      ),
    ).toBeNull();
    // Up by one epoch, then back down: a blip, not a trend.
    const train = epochs(12).map((i) => 1 - i / 20);
    const val = [0.8, 0.7, 0.6, 0.55, 0.5, 0.5, 0.7, 0.52, 0.48, 0.47, 0.46, 0.45];
    expect(detectDivergence(train, val)).toBeNull();
  });
});

describe('smooth', () => {
  it('is a centred moving average that shrinks at the ends', () => {
    expect(smooth([1, 2, 3, 4], 3)).toEqual([1.5, 2, 3, 3.5]);
  });
});
