// Small helpers of fine-tuning: class weights, standardisation, seeded initialisers, dropout masks, host yields. Part of src/ml/finetune (index.ts describes the two stages).
import * as tf from '../tf';
import type { Rng } from '../../core/random';

/** Class weights n / (k · n_c) (balanced) or all 1; classes without samples get 0. */
export function classWeights(labels: readonly number[], numClasses: number, mode: 'none' | 'balanced'): number[] {
  if (mode === 'none') return new Array(numClasses).fill(1);
  const counts = new Array(numClasses).fill(0);
  for (const l of labels) counts[l]++;
  return counts.map((c) => (c > 0 ? labels.length / (numClasses * c) : 0));
}

/** Per-dimension mean and standard deviation (std floored so constant features do not explode). */
export function standardisation(x: Float32Array, n: number, dim: number): { mean: Float32Array; std: Float32Array } {
  const mean = new Float32Array(dim);
  const std = new Float32Array(dim);
  if (n === 0) return { mean, std: std.fill(1) };
  const sum = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const v = x[i * dim + j];
      sum[j] += v;
      sq[j] += v * v;
    }
  }
  let meanVar = 0;
  for (let j = 0; j < dim; j++) {
    mean[j] = sum[j] / n;
    const v = Math.max(0, sq[j] / n - mean[j] * mean[j]);
    std[j] = Math.sqrt(v);
    meanVar += v;
  }
  const floor = Math.max(1e-6, 1e-3 * Math.sqrt(meanVar / dim));
  for (let j = 0; j < dim; j++) std[j] = Math.max(std[j], floor);
  return { mean, std };
}

/** Glorot-uniform matrix from the seeded RNG (identical on every backend). */
export function glorot(rng: Rng, inDim: number, outDim: number): Float32Array {
  const limit = Math.sqrt(6 / (inDim + outDim));
  const w = new Float32Array(inDim * outDim);
  for (let i = 0; i < w.length; i++) w[i] = (rng.next() * 2 - 1) * limit;
  return w;
}

/** He-uniform (for the ReLU hidden layer). */
export function heUniform(rng: Rng, inDim: number, outDim: number): Float32Array {
  const limit = Math.sqrt(6 / inDim);
  const w = new Float32Array(inDim * outDim);
  for (let i = 0; i < w.length; i++) w[i] = (rng.next() * 2 - 1) * limit;
  return w;
}

export function dropoutMask(rng: Rng, rows: number, cols: number, rate: number): tf.Tensor2D {
  const keep = 1 - rate;
  const m = new Float32Array(rows * cols);
  for (let i = 0; i < m.length; i++) m[i] = rng.next() < keep ? 1 / keep : 0;
  return tf.tensor2d(m, [rows, cols]);
}

let yieldChannel: MessageChannel | null = null;
const yieldWaiters: (() => void)[] = [];

/**
 * Host yield: a macrotask, so queued messages (a Stop click) are handled. A MessageChannel round
 * trip where available (setTimeout(0) is clamped to 4 ms once nested).
 */
export function macrotask(): Promise<void> {
  if (typeof MessageChannel === 'undefined' || typeof process !== 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  if (!yieldChannel) {
    yieldChannel = new MessageChannel();
    yieldChannel.port1.onmessage = () => yieldWaiters.shift()?.();
  }
  return new Promise((resolve) => {
    yieldWaiters.push(resolve);
    yieldChannel!.port2.postMessage(null);
  });
}

export function validateLabels(labels: readonly number[], numClasses: number, what: string): void {
  labels.forEach((l, i) => {
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) throw new RangeError(`${what}: label ${l} at ${i} is not a class index in 0..${numClasses - 1}`);
  });
}
