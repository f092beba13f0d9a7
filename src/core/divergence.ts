// Overfitting detection on per-epoch loss curves: the epoch from which the validation loss rises
// persistently while the training loss keeps falling. Pure (no tfjs, no DOM), so the Train page's
// chart and the unit tests share it.

export interface DivergenceOptions {
  /** Centred moving-average window (odd, in epochs) applied to both curves before comparing. */
  window: number;
  /** Epochs after the validation minimum that must stay above it by the margin, to the end. */
  minRising: number;
  /** Margin above the smoothed validation minimum, as a fraction of it (0.05 = 5 %). */
  relMargin: number;
  /** Absolute margin floor (loss units), so a near-zero minimum does not make noise count. */
  absMargin: number;
}

export const DEFAULT_DIVERGENCE: DivergenceOptions = { window: 3, minRising: 2, relMargin: 0.05, absMargin: 0.01 };

/** Centred moving average; the window shrinks at the ends. */
export function smooth(xs: number[], window: number): number[] {
  const h = Math.max(0, Math.floor(window / 2));
  return xs.map((_, i) => {
    let s = 0;
    let n = 0;
    for (let j = Math.max(0, i - h); j <= Math.min(xs.length - 1, i + h); j++) {
      s += xs[j];
      n++;
    }
    return s / n;
  });
}

export interface Divergence {
  /** 1-based epoch of the smoothed validation-loss minimum: from here on validation loss rises. */
  epoch: number;
  /** First epoch (1-based) whose smoothed validation loss is above the minimum by the margin. */
  firstAbove: number;
}

/**
 * Given per-epoch training and validation loss (same length, epoch 1 first), returns where they
 * diverge, or null: too short, no validation, validation never rises persistently, or training
 * loss does not keep falling over the same epochs.
 *
 * Rule: take the minimum of the smoothed validation loss; after it, at least `minRising` epochs
 * must have a smoothed validation loss above that minimum by the margin, without falling back
 * below it up to the last epoch, and the smoothed training loss at the last epoch must be below
 * its value at the minimum (training still improving: memorising, not just a bad learning rate).
 */
export function detectDivergence(trainLoss: number[], valLoss: (number | null)[], options: Partial<DivergenceOptions> = {}): Divergence | null {
  const o = { ...DEFAULT_DIVERGENCE, ...options };
  const n = Math.min(trainLoss.length, valLoss.length);
  if (n < o.minRising + 2) return null;
  const val: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = valLoss[i];
    if (v === null || !Number.isFinite(v) || !Number.isFinite(trainLoss[i])) return null;
    val.push(v);
  }
  const sv = smooth(val, o.window);
  const st = smooth(trainLoss.slice(0, n), o.window);
  let best = 0;
  for (let i = 1; i < n; i++) if (sv[i] < sv[best]) best = i;
  const after = n - 1 - best;
  if (after < o.minRising) return null;
  const margin = Math.max(o.absMargin, o.relMargin * Math.abs(sv[best]));
  let first = -1;
  for (let i = best + 1; i < n; i++)
    if (sv[i] > sv[best] + margin) {
      first = i;
      break;
    }
  if (first < 0 || n - first < o.minRising) return null;
  for (let i = first; i < n; i++) if (!(sv[i] > sv[best] + margin)) return null;
  if (!(st[n - 1] < st[best])) return null;
  return { epoch: best + 1, firstAbove: first + 1 };
}
