// The shared training loop: seeded shuffling, batches, early stopping, stop signal, per-epoch logs. Part of src/ml/finetune (index.ts describes the two stages).
import * as tf from '../tf';
import type { Rng } from '../../core/random';
import type { EpochLog, StopReason } from '../finetune-config';
import type { LoopHooks } from './types';
import { classWeights } from './helpers';

interface LoopSpec {
  stage: 'head' | 'block';
  epochOffset: number;
  nTrain: number;
  trainLabels: readonly number[];
  valLabels: readonly number[];
  numClasses: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  restoreBest: boolean;
  classWeighting: 'none' | 'balanced';
  labelSmoothing: number;
  l2: number;
  rng: Rng;
  variables: tf.Variable[];
  regularised: tf.Variable[];
  /** Builds the batch's input tensor (async: may decode and augment images). */
  batchInput: (idx: number[], rng: Rng) => Promise<tf.Tensor>;
  /** Logits for a batch input; `rng` is given in training (dropout), null in evaluation. */
  forward: (x: tf.Tensor, rng: Rng | null) => tf.Tensor2D;
  /** Validation logits, all at once [nVal, k] (caller's tensors; disposed here). */
  valLogits: () => tf.Tensor2D | null;
  hooks: LoopHooks;
}

interface LoopResult {
  history: EpochLog[];
  keptEpoch: number;
  stopReason: StopReason;
  valProbs: Float32Array | null;
}

function crossEntropyStats(logits: tf.Tensor2D, labels: tf.Tensor1D, k: number): { ce: tf.Tensor1D; correct: tf.Tensor1D } {
  const logp = tf.logSoftmax(logits);
  const ce = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(labels, k)), 1)) as tf.Tensor1D;
  const correct = tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32') as tf.Tensor1D;
  return { ce, correct };
}

export async function runLoop(s: LoopSpec): Promise<LoopResult> {
  const k = s.numClasses;
  const cw = classWeights(s.trainLabels, k, s.classWeighting);
  const optimizer = tf.train.adam(s.learningRate);
  const history: EpochLog[] = [];
  const snapshot = async () => Promise.all(s.variables.map(async (v) => Float32Array.from((await v.data()) as Float32Array)));
  const restore = (values: Float32Array[]) => tf.tidy(() => s.variables.forEach((v, i) => v.assign(tf.tensor(values[i], v.shape))));
  let lastFinished = await snapshot();
  let best: { epoch: number; loss: number; values: Float32Array[]; probs: Float32Array | null } | null = null;
  let lastProbs: Float32Array | null = null;
  let sinceBest = 0;
  let stopReason: StopReason = 'completed';
  let lastYield = now();
  const valLabelsT = s.valLabels.length ? tf.tensor1d(Int32Array.from(s.valLabels), 'int32') : null;
  try {
    epochs: for (let e = 1; e <= s.epochs; e++) {
      const t0 = now();
      const order = s.rng.shuffle(Array.from({ length: s.nTrain }, (_, i) => i));
      let stats = tf.zeros([3]); // [sum ce, sum correct, n]
      for (let b = 0; b < order.length; b += s.batchSize) {
        if (s.hooks.shouldStop?.()) {
          stats.dispose();
          stopReason = 'stopped';
          break epochs;
        }
        const idx = order.slice(b, b + s.batchSize);
        const x = await s.batchInput(idx, s.rng);
        const labels = idx.map((i) => s.trainLabels[i]);
        const yT = tf.tensor1d(Int32Array.from(labels), 'int32');
        const wT = tf.tensor1d(labels.map((l) => cw[l]));
        const out: { stats?: tf.Tensor } = {};
        const cost = optimizer.minimize(
          () => {
            const logits = s.forward(x, s.rng);
            const { ce, correct } = crossEntropyStats(logits, yT, k);
            out.stats = tf.keep(tf.stack([tf.sum(ce), tf.sum(correct), tf.scalar(idx.length)]));
            let target = ce;
            if (s.labelSmoothing > 0) {
              // (1-ε)·CE(y) + ε·mean over classes of -log p
              const uniform = tf.neg(tf.mean(tf.logSoftmax(logits), 1)) as tf.Tensor1D;
              target = ce.mul(1 - s.labelSmoothing).add(uniform.mul(s.labelSmoothing));
            }
            let loss = tf.mean(tf.mul(target, wT)) as tf.Scalar;
            if (s.l2 > 0) for (const v of s.regularised) loss = loss.add(tf.sum(tf.square(v)).mul(s.l2)) as tf.Scalar;
            return loss;
          },
          true,
          s.variables,
        );
        cost?.dispose();
        x.dispose();
        yT.dispose();
        wT.dispose();
        const next = stats.add(out.stats!);
        stats.dispose();
        out.stats?.dispose();
        stats = next;
        if (s.hooks.yieldNow && now() - lastYield > 30) {
          await s.hooks.yieldNow();
          lastYield = now();
        }
      }
      const [ceSum, correctSum, n] = Array.from(await stats.data());
      stats.dispose();
      // Validation.
      let valLoss: number | null = null;
      let valAcc: number | null = null;
      let probs: Float32Array | null = null;
      const vl = valLabelsT ? s.valLogits() : null;
      if (vl && valLabelsT) {
        const [p, st] = tf.tidy(() => {
          const { ce, correct } = crossEntropyStats(vl, valLabelsT, k);
          return [tf.softmax(vl), tf.stack([tf.mean(ce), tf.mean(correct)])];
        });
        vl.dispose();
        probs = Float32Array.from((await p.data()) as Float32Array);
        const [l, a] = Array.from(await st.data());
        p.dispose();
        st.dispose();
        valLoss = l;
        valAcc = a;
      }
      const log: EpochLog = {
        epoch: s.epochOffset + e,
        stage: s.stage,
        trainLoss: n > 0 ? ceSum / n : NaN,
        trainAcc: n > 0 ? correctSum / n : NaN,
        valLoss,
        valAcc,
        seconds: (now() - t0) / 1000,
      };
      history.push(log);
      lastFinished = await snapshot();
      lastProbs = probs;
      const monitored = valLoss ?? log.trainLoss;
      if (!best || monitored < best.loss - 1e-6) {
        best = { epoch: log.epoch, loss: monitored, values: lastFinished, probs };
        sinceBest = 0;
      } else {
        sinceBest++;
      }
      await s.hooks.onEpoch?.(log, probs);
      if (s.hooks.yieldNow) await s.hooks.yieldNow();
      lastYield = now();
      if (s.patience > 0 && sinceBest >= s.patience && e < s.epochs) {
        stopReason = 'early-stopped';
        break;
      }
    }
    // Which weights to keep.
    let keptEpoch = history.length ? history[history.length - 1].epoch : s.epochOffset;
    let valProbs = lastProbs;
    if (stopReason === 'stopped') {
      restore(lastFinished);
    } else if (s.restoreBest && best && best.epoch !== keptEpoch) {
      restore(best.values);
      keptEpoch = best.epoch;
      valProbs = best.probs;
    }
    if (stopReason === 'stopped' && history.length === 0) keptEpoch = s.epochOffset;
    return { history, keptEpoch, stopReason, valProbs };
  } finally {
    optimizer.dispose();
    valLabelsT?.dispose();
  }
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
