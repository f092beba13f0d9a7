// Stage 1: the head trained on frozen embeddings. Part of src/ml/finetune (index.ts describes the two stages).
import * as tf from '../tf';
import { createRng } from '../../core/random';
import type { HeadConfig } from '../finetune-config';
import type { HeadWeights, TrainOutcome, LoopHooks } from './types';
import { standardisation, dropoutMask, validateLabels } from './helpers';
import { HeadVars, initHead } from './head-vars';
import { runLoop } from './loop';

export interface EmbeddingData {
  /** Row-major [n, dim]. */
  x: Float32Array;
  labels: number[];
}

export interface TrainHeadOptions {
  train: EmbeddingData;
  val?: EmbeddingData;
  dim: number;
  numClasses: number;
  config: HeadConfig;
  hooks?: LoopHooks;
}

/** Trains a new head on embeddings. No tensor outlives the call. */
export async function trainHead(opts: TrainHeadOptions): Promise<TrainOutcome> {
  const { train, dim, numClasses, config } = opts;
  const val = opts.val?.labels.length ? opts.val : undefined;
  const nTrain = train.labels.length;
  if (nTrain === 0) throw new Error('trainHead: no training samples');
  if (train.x.length !== nTrain * dim) throw new Error(`trainHead: train.x has ${train.x.length} values, expected ${nTrain}×${dim}`);
  if (val && val.x.length !== val.labels.length * dim) throw new Error('trainHead: val.x does not match val.labels × dim');
  validateLabels(train.labels, numClasses, 'trainHead (train)');
  if (val) validateLabels(val.labels, numClasses, 'trainHead (val)');
  const stats = standardisation(train.x, nTrain, dim);
  const init = initHead(dim, numClasses, config.hiddenUnits, config.seed, stats);
  const head = new HeadVars(init);
  const xTrain = tf.tensor2d(train.x, [nTrain, dim]);
  const xVal = val ? tf.tensor2d(val.x, [val.labels.length, dim]) : null;
  const maskRng = createRng(config.seed + 2);
  try {
    const result = await runLoop({
      stage: 'head',
      epochOffset: 0,
      nTrain,
      trainLabels: train.labels,
      valLabels: val?.labels ?? [],
      numClasses,
      epochs: config.epochs,
      batchSize: Math.max(1, Math.floor(config.batchSize)),
      learningRate: config.learningRate,
      patience: config.patience,
      restoreBest: config.restoreBest,
      classWeighting: config.classWeighting,
      labelSmoothing: config.labelSmoothing,
      l2: config.l2,
      rng: createRng(config.seed + 1),
      variables: head.variables,
      regularised: head.kernels,
      batchInput: async (idx) => tf.tidy(() => tf.gather(xTrain, tf.tensor1d(Int32Array.from(idx), 'int32'))),
      forward: (x, rng) => {
        const n = x.shape[0];
        const masks = rng && config.dropout > 0 ? head.denseInputs.map((w) => dropoutMask(maskRng, n, w, config.dropout)) : [];
        return head.logits(x as tf.Tensor2D, masks);
      },
      valLogits: () => (xVal ? tf.tidy(() => head.logits(xVal)) : null),
      hooks: opts.hooks ?? {},
    });
    return { ...result, head: await head.read() };
  } finally {
    head.dispose();
    xTrain.dispose();
    xVal?.dispose();
  }
}

/** Probabilities of a head on raw embeddings (row-major [n, k]). */
export function predictHead(head: HeadWeights, x: Float32Array, n: number): Float32Array {
  if (n === 0) return new Float32Array(0);
  const vars = new HeadVars(head);
  try {
    return tf.tidy(() => tf.softmax(vars.logits(tf.tensor2d(x, [n, head.dim]))).dataSync() as Float32Array).slice();
  } finally {
    vars.dispose();
  }
}
