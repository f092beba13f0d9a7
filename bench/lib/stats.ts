// Summary statistics for timings (pure; used in the bench page and in Node).

/** Nearest-rank percentile (p in 0..100) of a non-empty sample. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Stats {
  n: number;
  medianMs: number;
  p90Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
}

export function stats(xs: number[]): Stats {
  return {
    n: xs.length,
    medianMs: median(xs),
    p90Ms: percentile(xs, 90),
    meanMs: xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length),
    minMs: Math.min(...xs),
    maxMs: Math.max(...xs),
  };
}
