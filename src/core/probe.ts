// A linear probe: multinomial logistic regression (softmax, L2) on standardised feature vectors,
// trained by full-batch gradient descent with a fixed step. Used by `npm run evaluate:shift` to ask
// how much hospital (source_repo) information a model's embedding carries within one class: the
// lower the probe's balanced accuracy over chance, the less the model relies on where a film came
// from. Pure TS: no tfjs, no DOM.

export interface ProbeOptions {
  /** L2 penalty on the weights (default 1e-3). */
  l2?: number;
  /** Gradient steps (default 300). */
  iterations?: number;
  /** Step size (default 0.5; features are standardised). */
  step?: number;
}

export interface LinearProbe {
  classes: number;
  mean: Float64Array;
  scale: Float64Array;
  /** classes × (dim + 1), bias last. */
  weights: Float64Array;
  predict(x: ArrayLike<number>): number;
}

export function trainLinearProbe(xs: ArrayLike<number>[], ys: number[], classes: number, options: ProbeOptions = {}): LinearProbe {
  const n = xs.length;
  if (n === 0) throw new Error('trainLinearProbe: no samples');
  const dim = xs[0].length;
  const l2 = options.l2 ?? 1e-3;
  const iterations = options.iterations ?? 300;
  const step = options.step ?? 0.5;
  const mean = new Float64Array(dim);
  const scale = new Float64Array(dim);
  for (const x of xs) for (let d = 0; d < dim; d++) mean[d] += x[d] / n;
  for (const x of xs) for (let d = 0; d < dim; d++) scale[d] += (x[d] - mean[d]) ** 2 / n;
  for (let d = 0; d < dim; d++) scale[d] = Math.sqrt(scale[d]) || 1;
  const z = xs.map((x) => Float64Array.from({ length: dim + 1 }, (_, d) => (d === dim ? 1 : (x[d] - mean[d]) / scale[d])));
  const W = new Float64Array(classes * (dim + 1));
  const grad = new Float64Array(W.length);
  const p = new Float64Array(classes);
  // Class-balanced loss: every class weighs the same in total, so the probe cannot win by the majority.
  const count = new Array(classes).fill(0);
  ys.forEach((y) => count[y]++);
  const present = count.filter((c) => c > 0).length;
  const sampleWeight = ys.map((y) => 1 / (count[y] * present));
  for (let it = 0; it < iterations; it++) {
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      const zi = z[i];
      let max = -Infinity;
      for (let c = 0; c < classes; c++) {
        let s = 0;
        for (let d = 0; d <= dim; d++) s += W[c * (dim + 1) + d] * zi[d];
        p[c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += p[c] = Math.exp(p[c] - max);
      for (let c = 0; c < classes; c++) {
        const g = sampleWeight[i] * (p[c] / sum - (ys[i] === c ? 1 : 0));
        for (let d = 0; d <= dim; d++) grad[c * (dim + 1) + d] += g * zi[d];
      }
    }
    for (let k = 0; k < W.length; k++) W[k] -= step * (grad[k] + (k % (dim + 1) === dim ? 0 : l2 * W[k]));
  }
  return {
    classes,
    mean,
    scale,
    weights: W,
    predict(x) {
      let best = 0;
      let bestScore = -Infinity;
      for (let c = 0; c < classes; c++) {
        let s = W[c * (dim + 1) + dim];
        for (let d = 0; d < dim; d++) s += (W[c * (dim + 1) + d] * (x[d] - mean[d])) / scale[d];
        if (s > bestScore) {
          bestScore = s;
          best = c;
        }
      }
      return best;
    },
  };
}

/** Mean per-class recall of predictions (classes absent from `ys` are skipped). */
export function balancedAccuracy(ys: number[], predicted: number[], classes: number): number {
  let sum = 0;
  let k = 0;
  for (let c = 0; c < classes; c++) {
    const idx = ys.map((y, i) => (y === c ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) continue;
    sum += idx.filter((i) => predicted[i] === c).length / idx.length;
    k++;
  }
  return k > 0 ? sum / k : NaN;
}
