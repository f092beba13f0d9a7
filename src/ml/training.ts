// Pieces of the from-scratch training loop that are not tied to Node: balanced sampling weights,
// the learning-rate schedule, one-hot targets with label smoothing, and a train step on a batch of
// preprocessed inputs. scripts/train.ts composes them.
import * as tf from './tf';
import type { Rng } from '../core/random';

/**
 * Sampling weights that give every class the same total weight and, within a class, damp large
 * sources (weight ∝ n_source^-power), so no hospital or age group dominates an epoch.
 */
export function balancedWeights(labels: number[], groups: string[], nClasses: number, power = 0.5): number[] {
  const classCount = new Array(nClasses).fill(0);
  const groupCount = new Map<string, number>();
  labels.forEach((l, i) => {
    classCount[l]++;
    const key = `${l}|${groups[i]}`;
    groupCount.set(key, (groupCount.get(key) ?? 0) + 1);
  });
  const raw = labels.map((l, i) => Math.pow(groupCount.get(`${l}|${groups[i]}`)!, -power));
  const classMass = new Array(nClasses).fill(0);
  raw.forEach((w, i) => (classMass[labels[i]] += w));
  return raw.map((w, i) => w / classMass[labels[i]] / nClasses);
}

/**
 * Like balancedWeights, with one more level: within a class every stratum (e.g. age group: adult /
 * pediatric) gets the same share, and within a stratum sources are damped (weight ∝ n_source^-power).
 * The data's pneumonia class is three quarters pediatric; without this an epoch shows adult
 * pneumonia (mostly one NIH source) too rarely to learn it from the lungs.
 */
export function stratifiedSourceWeights(labels: number[], strata: string[], sources: string[], nClasses: number, power = 0.5): number[] {
  const sourceCount = new Map<string, number>();
  labels.forEach((l, i) => {
    const key = `${l}|${strata[i]}|${sources[i]}`;
    sourceCount.set(key, (sourceCount.get(key) ?? 0) + 1);
  });
  const raw = labels.map((l, i) => Math.pow(sourceCount.get(`${l}|${strata[i]}|${sources[i]}`)!, -power));
  const stratumMass = new Map<string, number>();
  raw.forEach((w, i) => stratumMass.set(`${labels[i]}|${strata[i]}`, (stratumMass.get(`${labels[i]}|${strata[i]}`) ?? 0) + w));
  const strataPerClass = new Array(nClasses).fill(0);
  for (const key of stratumMass.keys()) strataPerClass[Number(key.split('|')[0])]++;
  return raw.map((w, i) => w / stratumMass.get(`${labels[i]}|${strata[i]}`)! / strataPerClass[labels[i]] / nClasses);
}

/** Draws n indices with replacement according to weights (alias-free: cumulative + binary search). */
export function sampleIndices(weights: number[], n: number, rng: Rng): number[] {
  const cum = new Float64Array(weights.length);
  let run = 0;
  weights.forEach((w, i) => {
    run += w;
    cum[i] = run;
  });
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const r = rng.next() * run;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] > r) hi = mid;
      else lo = mid + 1;
    }
    out.push(lo);
  }
  return out;
}

/** Linear warm-up then cosine decay to `floor` × peak. */
export function learningRateAt(step: number, totalSteps: number, peak: number, warmupSteps: number, floor = 0.02): number {
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const t = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  return peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * t)));
}

export function oneHotSmoothed(labels: number[], nClasses: number, smoothing: number): Float32Array {
  const out = new Float32Array(labels.length * nClasses).fill(smoothing / nClasses);
  labels.forEach((l, i) => (out[i * nClasses + l] += 1 - smoothing));
  return out;
}

export { stackInputs } from './batch';

/** Sets the learning rate of a tfjs optimizer (Adam and SGD read it on every step). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}
