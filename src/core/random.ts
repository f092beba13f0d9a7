// Small seeded PRNG so that splits, augmentation and bootstrap intervals are reproducible in Node,
// the browser and a Web Worker alike (Math.random cannot be seeded).

export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n), n a positive integer. */
  int(n: number): number;
  /** Standard normal N(0, 1) (Box-Muller). */
  normal(): number;
  /** Fisher-Yates shuffle in place; returns the same array for chaining. */
  shuffle<T>(array: T[]): T[];
}

/** Coerces any finite number (including negatives and fractions) to a uint32 seed. */
function toSeed(seed: number): number {
  if (!Number.isFinite(seed)) throw new RangeError(`createRng: seed must be a finite number, got ${seed}`);
  // Keep fractional information too, so that seeds 1 and 1.5 do not collide.
  return (Math.trunc(seed) ^ Math.trunc((seed % 1) * 0x100000000)) >>> 0;
}

/**
 * mulberry32: 32-bit state, passes the usual practical tests for non-cryptographic use and is
 * tiny. Identical output on every JS engine because it only uses 32-bit integer ops.
 */
export function createRng(seed: number): Rng {
  let state = toSeed(seed);
  // Box-Muller yields two normals per draw; keep the spare so normal() costs one draw on average.
  let spareNormal: number | null = null;

  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(next() * n);
  };

  const normal = (): number => {
    if (spareNormal !== null) {
      const value = spareNormal;
      spareNormal = null;
      return value;
    }
    // 1 - next() is in (0, 1], so log() never sees 0.
    const radius = Math.sqrt(-2 * Math.log(1 - next()));
    const angle = 2 * Math.PI * next();
    spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };

  const shuffle = <T>(array: T[]): T[] => {
    for (let i = array.length - 1; i > 0; i--) {
      const j = int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  };

  return { next, int, normal, shuffle };
}
