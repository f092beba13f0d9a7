// Fine-tuning the shipped classifier on new labelled images, platform-neutral (Node tests, the
// browser's training worker). Two stages, both with a hand-written training loop so that every source
// of randomness (initialisation, shuffling, dropout masks, augmentation) comes from the seeded RNG
// and the same seed, data and backend give the same curves:
//
// 1. Head: the backbone's embedding (global-average-pooled features) is frozen and computed once per
//    image; a small head (optional hidden layer + dropout + logits) is trained on those vectors.
//    Inputs are standardised with the training set's mean/std; the standardisation is folded into the
//    first dense layer when the full model is composed, so the exported model takes images as before.
// 2. Optional last block: the last conv (+ its BatchNorm, kept in inference mode, and ReLU) is
//    unfrozen and trained together with the head on augmented images, at a lower learning rate.
//
// Early stopping watches the validation loss (patience); a stop signal is honoured between batches,
// and the weights always come from a finished epoch. Per-epoch callbacks get train/val loss and
// accuracy and the validation probabilities. Everything is disposed: tf.memory().numTensors is flat.
import * as tf from './tf';
import { stackInputs } from './batch';
import type { ModelMetadata } from '../core/metadata';
import { createRng, type Rng } from '../core/random';
import { serializeModel } from './io';
import { modelCardMarkdown } from '../core/model-card';
import type { MetricsReport } from '../core/report';

// ---------------------------------------------------------------------------------------------
// Configuration and results
// ---------------------------------------------------------------------------------------------

export { DEFAULT_BLOCK_CONFIG, DEFAULT_HEAD_CONFIG } from './finetune-config';
export type { BlockConfig, EpochLog, HeadConfig, StopReason } from './finetune-config';
import type { BlockConfig, EpochLog, HeadConfig, StopReason } from './finetune-config';

export interface DenseWeights {
  kernel: Float32Array;
  bias: Float32Array;
  inDim: number;
  outDim: number;
}

/** A trained head as plain arrays (no tensors: nothing to dispose, cheap to post between threads). */
export interface HeadWeights {
  dim: number;
  numClasses: number;
  /** Standardisation of the embedding, folded into the first dense layer on export. */
  mean: Float32Array;
  std: Float32Array;
  hidden: DenseWeights | null;
  logits: DenseWeights;
}

export interface TrainOutcome {
  head: HeadWeights;
  history: EpochLog[];
  /** Epoch whose weights are kept (0: stopped before any epoch finished: the initial weights). */
  keptEpoch: number;
  stopReason: StopReason;
  /** Validation probabilities of the kept weights (nVal × numClasses), or null without validation. */
  valProbs: Float32Array | null;
}

export interface BlockOutcome extends TrainOutcome {
  /** Fine-tuned last-block weights, in the conv layer's getWeights() order (kernel[, bias]). */
  blockWeights: Float32Array[];
}

export interface LoopHooks {
  /** Called after every finished epoch. Awaited (the worker posts the update here). */
  onEpoch?: (log: EpochLog, valProbs: Float32Array | null) => void | Promise<void>;
  /** Polled between batches; true = stop now and keep the last finished epoch. */
  shouldStop?: () => boolean;
  /** Lets the host process messages (e.g. a Stop click) now and then; awaited between batches. */
  yieldNow?: () => Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Embeddings
// ---------------------------------------------------------------------------------------------

/**
 * A view of `model` that outputs the embedding layer. Shares the model's layers: never dispose it
 * (dispose the model instead).
 */
export function embeddingModel(model: tf.LayersModel, metadata: ModelMetadata): tf.LayersModel {
  const layer = model.getLayer(metadata.layers.embedding);
  return tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor, name: 'embedding_view' });
}

/** Embeddings of preprocessed inputs (each inputSize² floats), one Float32Array per input. */
export async function embed(embedder: tf.LayersModel, inputs: Float32Array[], inputSize: number): Promise<Float32Array[]> {
  if (inputs.length === 0) return [];
  const out = tf.tidy(() => {
    const y = embedder.predict(stackInputs(inputs, inputSize)) as tf.Tensor;
    return y.reshape([inputs.length, -1]);
  });
  const data = (await out.data()) as Float32Array;
  const d = out.shape[1] as number;
  out.dispose();
  return inputs.map((_, i) => data.slice(i * d, (i + 1) * d));
}

/** Computes embeddings of preprocessed inputs. */
export interface Embedder {
  embed(inputs: Float32Array[]): Promise<Float32Array[]>;
  /** 'fused': BatchNorm folded into the convolutions (fast path); 'layers': the model as it is. */
  readonly kind: 'fused' | 'layers';
  readonly dim: number;
  dispose(): void;
}

type FusedStep =
  | { op: 'conv'; filter: tf.Tensor4D; bias: tf.Tensor1D | null; strides: [number, number]; pad: 'same' | 'valid'; dilation: [number, number]; relu: boolean }
  | { op: 'affine'; scale: tf.Tensor1D; shift: tf.Tensor1D }
  | { op: 'relu' }
  | { op: 'maxPool' | 'avgPool'; size: [number, number]; strides: [number, number]; pad: 'same' | 'valid' }
  | { op: 'gap' };

const pair = (v: number | number[] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v]);

function isRelu(layer: tf.layers.Layer): boolean {
  const c = layer.getConfig() as { activation?: string; maxValue?: number | null; negativeSlope?: number; threshold?: number };
  if (layer.getClassName() === 'ReLU') return (c.maxValue === undefined || c.maxValue === null) && !c.negativeSlope && !c.threshold;
  return layer.getClassName() === 'Activation' && c.activation === 'relu';
}

/** BatchNorm (inference mode) as scale/shift tensors. */
function bnAffine(layer: tf.layers.Layer): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
  const c = layer.getConfig() as { epsilon: number; center: boolean; scale: boolean; axis?: number | number[] };
  const w = layer.getWeights();
  let i = 0;
  const gamma = c.scale ? w[i++] : null;
  const beta = c.center ? w[i++] : null;
  const mean = w[i++];
  const variance = w[i++];
  return tf.tidy(() => {
    let scale = tf.rsqrt(variance.add(c.epsilon)) as tf.Tensor1D;
    if (gamma) scale = scale.mul(gamma);
    let shift = tf.neg(mean.mul(scale)) as tf.Tensor1D;
    if (beta) shift = shift.add(beta);
    return { scale, shift };
  });
}

/**
 * The chain of layers from the model input to the embedding layer, compiled to fused ops: every
 * Conv2D + BatchNormalization (+ ReLU) becomes one fused convolution with the normalisation folded
 * into its weights. Null when the graph is not a plain chain of supported layers.
 */
function compileFused(model: tf.LayersModel, metadata: ModelMetadata): FusedStep[] | null {
  let layer: tf.layers.Layer;
  try {
    layer = model.getLayer(metadata.layers.embedding);
  } catch {
    return null;
  }
  if (layer.getClassName() !== 'GlobalAveragePooling2D') return null;
  const chain: tf.layers.Layer[] = [];
  for (let l: tf.layers.Layer | null = layer; l; ) {
    const nodes: { inboundLayers: tf.layers.Layer[] }[] = (l as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes;
    if (l.getClassName() === 'InputLayer') break;
    if (nodes.length !== 1 || nodes[0].inboundLayers.length !== 1) return null;
    chain.unshift(l);
    l = nodes[0].inboundLayers[0];
  }
  const steps: FusedStep[] = [];
  const created: tf.Tensor[] = [];
  try {
    for (let i = 0; i < chain.length; i++) {
      const l = chain[i];
      const cls = l.getClassName();
      const cfg = l.getConfig() as Record<string, unknown>;
      if ((cfg.dataFormat ?? 'channelsLast') !== 'channelsLast') return null;
      if (cls === 'Conv2D') {
        const act = (cfg.activation as string | undefined) ?? 'linear';
        if (act !== 'linear' && act !== 'relu') return null;
        const w = l.getWeights();
        let filter = w[0] as tf.Tensor4D;
        let bias = cfg.useBias ? (w[1] as tf.Tensor1D) : null;
        let relu = act === 'relu';
        const next = chain[i + 1];
        if (!relu && next && next.getClassName() === 'BatchNormalization') {
          const { scale, shift } = bnAffine(next);
          const [f, b] = tf.tidy(() => [filter.mul(scale) as tf.Tensor4D, (bias ? bias.mul(scale).add(shift) : shift.clone()) as tf.Tensor1D]);
          scale.dispose();
          shift.dispose();
          filter = f;
          bias = b;
          i++;
        } else {
          filter = filter.clone();
          bias = bias ? bias.clone() : null;
        }
        created.push(filter);
        if (bias) created.push(bias);
        if (!relu && chain[i + 1] && isRelu(chain[i + 1])) {
          relu = true;
          i++;
        }
        steps.push({
          op: 'conv',
          filter,
          bias,
          strides: pair(cfg.strides as number[], 1),
          pad: cfg.padding as 'same' | 'valid',
          dilation: pair(cfg.dilationRate as number[], 1),
          relu,
        });
      } else if (cls === 'BatchNormalization') {
        const { scale, shift } = bnAffine(l);
        created.push(scale, shift);
        steps.push({ op: 'affine', scale, shift });
      } else if (isRelu(l)) {
        steps.push({ op: 'relu' });
      } else if (cls === 'MaxPooling2D' || cls === 'AveragePooling2D') {
        const size = pair(cfg.poolSize as number[], 2);
        steps.push({
          op: cls === 'MaxPooling2D' ? 'maxPool' : 'avgPool',
          size,
          strides: pair((cfg.strides as number[] | null) ?? size, 2),
          pad: cfg.padding as 'same' | 'valid',
        });
      } else if (cls === 'Dropout' || cls === 'SpatialDropout2D') {
        // identity at inference
      } else if (cls === 'GlobalAveragePooling2D' && i === chain.length - 1) {
        steps.push({ op: 'gap' });
      } else {
        return null;
      }
    }
    created.length = 0;
    return steps;
  } finally {
    if (created.length) tf.dispose(created); // only on failure
  }
}

function runFused(steps: FusedStep[], x: tf.Tensor4D): tf.Tensor2D {
  let y: tf.Tensor = x;
  for (const s of steps) {
    switch (s.op) {
      case 'conv':
        y = tf.fused.conv2d({
          x: y as tf.Tensor4D,
          filter: s.filter,
          strides: s.strides,
          pad: s.pad,
          dilations: s.dilation,
          bias: s.bias ?? undefined,
          activation: s.relu ? 'relu' : 'linear',
        });
        break;
      case 'affine':
        y = y.mul(s.scale).add(s.shift);
        break;
      case 'relu':
        y = tf.relu(y);
        break;
      case 'maxPool':
        y = tf.maxPool(y as tf.Tensor4D, s.size, s.strides, s.pad);
        break;
      case 'avgPool':
        y = tf.avgPool(y as tf.Tensor4D, s.size, s.strides, s.pad);
        break;
      case 'gap':
        y = tf.mean(y, [1, 2]);
        break;
    }
  }
  return y as tf.Tensor2D;
}

/**
 * The fastest available embedder for the model: the fused chain when the backbone is a plain
 * conv/BN/ReLU/pool chain (the CXR Lab network is), else the layers model itself. Results agree to
 * float rounding (tests/unit/finetune.test.ts).
 */
export function createEmbedder(model: tf.LayersModel, metadata: ModelMetadata, opts: { fused?: boolean } = {}): Embedder {
  const size = metadata.preprocessing.inputSize;
  const steps = opts.fused === false ? null : compileFused(model, metadata);
  const view = steps ? null : embeddingModel(model, metadata);
  const dim = (model.getLayer(metadata.layers.embedding).outputShape as number[])[1];
  return {
    kind: steps ? 'fused' : 'layers',
    dim,
    async embed(inputs) {
      if (!inputs.length) return [];
      const out = tf.tidy(() => {
        const x = stackInputs(inputs, size);
        return (steps ? runFused(steps, x) : (view!.predict(x) as tf.Tensor)).reshape([inputs.length, -1]);
      });
      const data = (await out.data()) as Float32Array;
      out.dispose();
      return inputs.map((_, i) => data.slice(i * dim, (i + 1) * dim));
    },
    dispose() {
      if (!steps) return;
      for (const s of steps) {
        if (s.op === 'conv') {
          s.filter.dispose();
          s.bias?.dispose();
        } else if (s.op === 'affine') {
          s.scale.dispose();
          s.shift.dispose();
        }
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

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
function glorot(rng: Rng, inDim: number, outDim: number): Float32Array {
  const limit = Math.sqrt(6 / (inDim + outDim));
  const w = new Float32Array(inDim * outDim);
  for (let i = 0; i < w.length; i++) w[i] = (rng.next() * 2 - 1) * limit;
  return w;
}

/** He-uniform (for the ReLU hidden layer). */
function heUniform(rng: Rng, inDim: number, outDim: number): Float32Array {
  const limit = Math.sqrt(6 / inDim);
  const w = new Float32Array(inDim * outDim);
  for (let i = 0; i < w.length; i++) w[i] = (rng.next() * 2 - 1) * limit;
  return w;
}

function dropoutMask(rng: Rng, rows: number, cols: number, rate: number): tf.Tensor2D {
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

function validateLabels(labels: readonly number[], numClasses: number, what: string): void {
  labels.forEach((l, i) => {
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) throw new RangeError(`${what}: label ${l} at ${i} is not a class index in 0..${numClasses - 1}`);
  });
}

// ---------------------------------------------------------------------------------------------
// The head as trainable variables
// ---------------------------------------------------------------------------------------------

class HeadVars {
  readonly mean: tf.Tensor1D;
  readonly std: tf.Tensor1D;
  readonly hiddenKernel: tf.Variable | null;
  readonly hiddenBias: tf.Variable | null;
  readonly logitsKernel: tf.Variable;
  readonly logitsBias: tf.Variable;

  constructor(readonly init: HeadWeights) {
    this.mean = tf.tensor1d(init.mean);
    this.std = tf.tensor1d(init.std);
    const v = (a: Float32Array, shape: number[], name: string) => newVariable(tf.tensor(a, shape), name);
    this.hiddenKernel = init.hidden ? v(init.hidden.kernel, [init.hidden.inDim, init.hidden.outDim], 'ft_hidden_kernel') : null;
    this.hiddenBias = init.hidden ? v(init.hidden.bias, [init.hidden.outDim], 'ft_hidden_bias') : null;
    this.logitsKernel = v(init.logits.kernel, [init.logits.inDim, init.logits.outDim], 'ft_logits_kernel');
    this.logitsBias = v(init.logits.bias, [init.logits.outDim], 'ft_logits_bias');
  }

  get variables(): tf.Variable[] {
    return [this.hiddenKernel, this.hiddenBias, this.logitsKernel, this.logitsBias].filter((x): x is tf.Variable => x !== null);
  }

  get kernels(): tf.Variable[] {
    return [this.hiddenKernel, this.logitsKernel].filter((x): x is tf.Variable => x !== null);
  }

  /** Logits from raw embeddings [n, dim]. `masks` (training): dropout masks for each dense input. */
  logits(emb: tf.Tensor2D, masks: (tf.Tensor2D | null)[] = []): tf.Tensor2D {
    let x = emb.sub(this.mean).div(this.std) as tf.Tensor2D;
    if (this.hiddenKernel && this.hiddenBias) {
      if (masks[0]) x = x.mul(masks[0]);
      x = tf.relu(x.matMul(this.hiddenKernel).add(this.hiddenBias)) as tf.Tensor2D;
      if (masks[1]) x = x.mul(masks[1]);
    } else if (masks[0]) {
      x = x.mul(masks[0]);
    }
    return x.matMul(this.logitsKernel).add(this.logitsBias) as tf.Tensor2D;
  }

  /** Widths of the dense inputs (for dropout masks). */
  get denseInputs(): number[] {
    return this.init.hidden ? [this.init.dim, this.init.hidden.outDim] : [this.init.dim];
  }

  async read(): Promise<HeadWeights> {
    const [hk, hb, lk, lb] = await Promise.all([this.hiddenKernel?.data(), this.hiddenBias?.data(), this.logitsKernel.data(), this.logitsBias.data()]);
    const h = this.init.hidden;
    return {
      ...this.init,
      mean: this.init.mean.slice(),
      std: this.init.std.slice(),
      hidden: h ? { ...h, kernel: Float32Array.from(hk as Float32Array), bias: Float32Array.from(hb as Float32Array) } : null,
      logits: { ...this.init.logits, kernel: Float32Array.from(lk as Float32Array), bias: Float32Array.from(lb as Float32Array) },
    };
  }

  dispose(): void {
    this.mean.dispose();
    this.std.dispose();
    for (const v of this.variables) v.dispose();
  }
}

let varCounter = 0;

/** A trainable variable holding `init`'s values; `init` is disposed (the variable keeps the data). */
function newVariable(init: tf.Tensor, name: string): tf.Variable {
  const v = tf.variable(init, true, `${name}_${varCounter++}`);
  init.dispose();
  return v;
}

/** A freshly initialised head (seeded) for embeddings of width `dim`. */
export function initHead(dim: number, numClasses: number, hiddenUnits: number, seed: number, stats: { mean: Float32Array; std: Float32Array }): HeadWeights {
  const rng = createRng(seed);
  const hidden: DenseWeights | null =
    hiddenUnits > 0 ? { kernel: heUniform(rng, dim, hiddenUnits), bias: new Float32Array(hiddenUnits), inDim: dim, outDim: hiddenUnits } : null;
  const inDim = hidden ? hiddenUnits : dim;
  return {
    dim,
    numClasses,
    mean: stats.mean,
    std: stats.std,
    hidden,
    logits: { kernel: glorot(rng, inDim, numClasses), bias: new Float32Array(numClasses), inDim, outDim: numClasses },
  };
}

// ---------------------------------------------------------------------------------------------
// The shared training loop
// ---------------------------------------------------------------------------------------------

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

async function runLoop(s: LoopSpec): Promise<LoopResult> {
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

// ---------------------------------------------------------------------------------------------
// Stage 1: the head on frozen embeddings
// ---------------------------------------------------------------------------------------------

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
  const val = opts.val && opts.val.labels.length ? opts.val : undefined;
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

// ---------------------------------------------------------------------------------------------
// Stage 2: the last block
// ---------------------------------------------------------------------------------------------

export interface LastBlock {
  /** Model input → the last block's input (shares layers with the model: never dispose). */
  trunk: tf.LayersModel;
  convName: string;
  bnName: string | null;
  /** Shape of the trunk output (without batch). */
  featureShape: number[];
}

function inboundLayer(layer: tf.layers.Layer): tf.layers.Layer | null {
  const nodes = (layer as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes;
  return nodes?.[0]?.inboundLayers?.[0] ?? null;
}

/**
 * The model's last block: conv2d → [batchNormalization] → ReLU feeding the embedding (global average
 * pooling). Null (with a reason) when the model is built differently.
 */
export function findLastBlock(model: tf.LayersModel, metadata: ModelMetadata): { block: LastBlock } | { reason: string } {
  let emb: tf.layers.Layer;
  try {
    emb = model.getLayer(metadata.layers.embedding);
  } catch {
    return { reason: `no layer named ${metadata.layers.embedding}` };
  }
  if (emb.getClassName() !== 'GlobalAveragePooling2D') return { reason: 'the embedding layer is not global average pooling' };
  const act = inboundLayer(emb);
  const actOk =
    act && (act.getClassName() === 'ReLU' || (act.getClassName() === 'Activation' && (act.getConfig() as { activation?: string }).activation === 'relu'));
  if (!act || !actOk) return { reason: 'the embedding is not fed by a ReLU' };
  let prev = inboundLayer(act);
  let bn: tf.layers.Layer | null = null;
  if (prev && prev.getClassName() === 'BatchNormalization') {
    bn = prev;
    prev = inboundLayer(prev);
  }
  if (!prev || prev.getClassName() !== 'Conv2D') return { reason: 'the last block is not a 2D convolution' };
  const cfg = prev.getConfig() as { activation?: string; dataFormat?: string };
  if (cfg.activation && cfg.activation !== 'linear') return { reason: 'the last convolution has its own activation' };
  if (cfg.dataFormat && cfg.dataFormat !== 'channelsLast') return { reason: 'the last convolution is not channels-last' };
  const convInput = prev.input as tf.SymbolicTensor;
  const trunk = tf.model({ inputs: model.inputs, outputs: convInput, name: 'trunk_view' });
  return { block: { trunk, convName: prev.name, bnName: bn?.name ?? null, featureShape: convInput.shape.slice(1) as number[] } };
}

class BlockVars {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | null;
  private readonly scale: tf.Tensor1D | null;
  private readonly shift: tf.Tensor1D | null;
  private readonly strides: [number, number];
  private readonly padding: 'same' | 'valid';
  private readonly dilation: [number, number];

  constructor(model: tf.LayersModel, block: LastBlock) {
    const conv = model.getLayer(block.convName);
    const cfg = conv.getConfig() as { strides: number | number[]; padding: 'same' | 'valid'; dilationRate: number | number[]; useBias: boolean };
    const pair = (v: number | number[]): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v]);
    this.strides = pair(cfg.strides);
    this.dilation = pair(cfg.dilationRate);
    this.padding = cfg.padding;
    const w = conv.getWeights();
    this.kernel = newVariable(w[0].clone(), 'ft_block_kernel');
    this.bias = cfg.useBias && w[1] ? newVariable(w[1].clone(), 'ft_block_bias') : null;
    if (block.bnName) {
      // Inference-mode BatchNorm as a fixed affine map: scale = γ/√(σ²+ε), shift = β − μ·scale.
      const bn = model.getLayer(block.bnName);
      const c = bn.getConfig() as { epsilon: number; center: boolean; scale: boolean };
      const weights = bn.getWeights();
      let i = 0;
      const gamma = c.scale ? weights[i++] : null;
      const beta = c.center ? weights[i++] : null;
      const mean = weights[i++];
      const variance = weights[i++];
      const [scale, shift] = tf.tidy(() => {
        let sc = tf.rsqrt(variance.add(c.epsilon)) as tf.Tensor1D;
        if (gamma) sc = sc.mul(gamma);
        let sh = tf.neg(mean.mul(sc)) as tf.Tensor1D;
        if (beta) sh = sh.add(beta);
        return [sc, sh];
      });
      this.scale = scale;
      this.shift = shift;
    } else {
      this.scale = null;
      this.shift = null;
    }
  }

  get variables(): tf.Variable[] {
    return this.bias ? [this.kernel, this.bias] : [this.kernel];
  }

  /** Trunk features [n, h, w, c] → embedding [n, channels]. */
  embedding(features: tf.Tensor4D): tf.Tensor2D {
    let y = tf.conv2d(features, this.kernel as tf.Tensor4D, this.strides, this.padding, 'NHWC', this.dilation);
    if (this.bias) y = y.add(this.bias);
    if (this.scale && this.shift) y = y.mul(this.scale).add(this.shift);
    return tf.mean(tf.relu(y), [1, 2]) as tf.Tensor2D;
  }

  async read(): Promise<Float32Array[]> {
    return Promise.all(this.variables.map(async (v) => Float32Array.from((await v.data()) as Float32Array)));
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
    this.scale?.dispose();
    this.shift?.dispose();
  }
}

/** Trunk features of preprocessed inputs, one Float32Array per input (product of featureShape). */
export async function trunkFeatures(block: LastBlock, inputs: Float32Array[], inputSize: number): Promise<Float32Array[]> {
  if (!inputs.length) return [];
  const t = tf.tidy(() => {
    const flat = new Float32Array(inputs.length * inputSize * inputSize);
    inputs.forEach((x, i) => flat.set(x, i * inputSize * inputSize));
    return block.trunk.predict(tf.tensor4d(flat, [inputs.length, inputSize, inputSize, 1])) as tf.Tensor;
  });
  const data = (await t.data()) as Float32Array;
  t.dispose();
  const per = data.length / inputs.length;
  return inputs.map((_, i) => data.slice(i * per, (i + 1) * per));
}

export interface TrainBlockOptions {
  model: tf.LayersModel;
  block: LastBlock;
  head: HeadWeights;
  inputSize: number;
  numClasses: number;
  trainLabels: number[];
  /** The i-th training image as an (augmented) model input; `rng` drives the augmentation. */
  trainInput: (i: number, rng: Rng) => Promise<Float32Array>;
  /** Trunk features of the validation images (see trunkFeatures) and their labels. */
  valFeatures: Float32Array[];
  valLabels: number[];
  head_config: HeadConfig;
  config: BlockConfig;
  epochOffset: number;
  hooks?: LoopHooks;
}

/**
 * Fine-tunes the last block together with the head on augmented images. The model's own weights are
 * not changed: the tuned block weights are returned (composeModel applies them to the export).
 */
export async function trainLastBlock(opts: TrainBlockOptions): Promise<BlockOutcome> {
  const { model, block, numClasses, config, head_config: hc } = opts;
  validateLabels(opts.trainLabels, numClasses, 'trainLastBlock (train)');
  validateLabels(opts.valLabels, numClasses, 'trainLastBlock (val)');
  const blockVars = new BlockVars(model, block);
  const head = new HeadVars(opts.head);
  const fs = block.featureShape;
  const per = fs.reduce((a, b) => a * b, 1);
  let valT: tf.Tensor4D | null = null;
  if (opts.valFeatures.length) {
    const flat = new Float32Array(opts.valFeatures.length * per);
    opts.valFeatures.forEach((f, i) => flat.set(f, i * per));
    valT = tf.tensor4d(flat, [opts.valFeatures.length, fs[0], fs[1], fs[2]]);
  }
  const maskRng = createRng(hc.seed + 12);
  try {
    const result = await runLoop({
      stage: 'block',
      epochOffset: opts.epochOffset,
      nTrain: opts.trainLabels.length,
      trainLabels: opts.trainLabels,
      valLabels: opts.valLabels,
      numClasses,
      epochs: config.epochs,
      batchSize: Math.max(1, Math.floor(config.batchSize)),
      learningRate: config.learningRate,
      patience: hc.patience,
      restoreBest: hc.restoreBest,
      classWeighting: hc.classWeighting,
      labelSmoothing: hc.labelSmoothing,
      l2: hc.l2,
      rng: createRng(hc.seed + 11),
      variables: [...blockVars.variables, ...head.variables],
      regularised: head.kernels,
      batchInput: async (idx, rng) => {
        const inputs: Float32Array[] = [];
        for (const i of idx) inputs.push(await opts.trainInput(i, rng));
        const s = opts.inputSize;
        return tf.tidy(() => {
          const flat = new Float32Array(inputs.length * s * s);
          inputs.forEach((x, j) => flat.set(x, j * s * s));
          return block.trunk.predict(tf.tensor4d(flat, [inputs.length, s, s, 1])) as tf.Tensor;
        });
      },
      forward: (x, rng) => {
        const emb = blockVars.embedding(x as tf.Tensor4D);
        const n = x.shape[0];
        const masks = rng && hc.dropout > 0 ? head.denseInputs.map((w) => dropoutMask(maskRng, n, w, hc.dropout)) : [];
        return head.logits(emb, masks);
      },
      valLogits: () => {
        if (!valT) return null;
        const v = valT;
        return tf.tidy(() => {
          // In chunks: the block on many feature maps at once can be large.
          const parts: tf.Tensor2D[] = [];
          for (let i = 0; i < v.shape[0]; i += 64) {
            const n = Math.min(64, v.shape[0] - i);
            parts.push(head.logits(blockVars.embedding(v.slice([i, 0, 0, 0], [n, fs[0], fs[1], fs[2]]))));
          }
          return tf.concat(parts, 0);
        });
      },
      hooks: opts.hooks ?? {},
    });
    return { ...result, head: await head.read(), blockWeights: await blockVars.read() };
  } finally {
    blockVars.dispose();
    head.dispose();
    valT?.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Composing and exporting the fine-tuned model
// ---------------------------------------------------------------------------------------------

/** Folds the standardisation into the first dense layer: ((x−μ)/σ)W + b = x(W/σ) + (b − (μ/σ)W). */
export function foldStandardisation(first: DenseWeights, mean: Float32Array, std: Float32Array): DenseWeights {
  const { inDim, outDim } = first;
  const kernel = new Float32Array(inDim * outDim);
  const bias = Float64Array.from(first.bias);
  for (let i = 0; i < inDim; i++) {
    const inv = 1 / std[i];
    for (let j = 0; j < outDim; j++) {
      const w = first.kernel[i * outDim + j] * inv;
      kernel[i * outDim + j] = w;
      bias[j] -= mean[i] * w;
    }
  }
  return { kernel, bias: Float32Array.from(bias), inDim, outDim };
}

export interface ComposeOptions {
  classNames: string[];
  name: string;
  version?: string;
  /** Last-block weights from trainLastBlock (applied to the exported copy). */
  block?: { convName: string; weights: Float32Array[] };
  /** Recorded in metadata.training. */
  training?: ModelMetadata['training'];
  notes?: string[];
}

export const FINETUNE_LAYERS = { hidden: 'ft_hidden', logits: 'logits', probs: 'probs' } as const;

/**
 * The full fine-tuned model: the backbone up to its embedding layer + the head (standardisation
 * folded in) + softmax, as an independent LayersModel (its own weights; the backbone is untouched),
 * with metadata carrying the new class names and the backbone's preprocessing.
 */
export async function composeModel(
  backbone: tf.LayersModel,
  baseMetadata: ModelMetadata,
  head: HeadWeights,
  opts: ComposeOptions,
): Promise<{ model: tf.LayersModel; metadata: ModelMetadata }> {
  if (opts.classNames.length !== head.numClasses)
    throw new Error(`composeModel: ${opts.classNames.length} class names for a head with ${head.numClasses} outputs`);
  const emb = backbone.getLayer(baseMetadata.layers.embedding).output as tf.SymbolicTensor;
  const first = head.hidden ?? head.logits;
  const folded = foldStandardisation(first, head.mean, head.std);
  const denses: { layer: tf.layers.Layer; w: DenseWeights }[] = [];
  let x = emb;
  if (head.hidden) {
    const layer = tf.layers.dense({ units: head.hidden.outDim, activation: 'relu', name: FINETUNE_LAYERS.hidden });
    x = layer.apply(x) as tf.SymbolicTensor;
    denses.push({ layer, w: folded });
  }
  const logitsLayer = tf.layers.dense({ units: head.numClasses, name: FINETUNE_LAYERS.logits });
  x = logitsLayer.apply(x) as tf.SymbolicTensor;
  denses.push({ layer: logitsLayer, w: head.hidden ? head.logits : folded });
  const probsLayer = tf.layers.activation({ activation: 'softmax', name: FINETUNE_LAYERS.probs });
  const probs = probsLayer.apply(x) as tf.SymbolicTensor;
  const temp = tf.model({ inputs: backbone.inputs, outputs: probs, name: 'cxrnet_finetuned' });
  let artifacts: tf.io.ModelArtifacts | undefined;
  try {
    for (const { layer, w } of denses) setWeightsFrom(layer, [w.kernel, w.bias]);
    await temp.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  } finally {
    // Only the new layers belong to us; the backbone's layers stay alive.
    for (const l of [...denses.map((d) => d.layer), probsLayer]) {
      try {
        l.dispose();
      } catch {
        /* never built */
      }
    }
  }
  if (!artifacts) throw new Error('composeModel: the model could not be saved');
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  if (opts.block) {
    setWeightsFrom(model.getLayer(opts.block.convName), opts.block.weights);
  }
  const metadata: ModelMetadata = {
    name: opts.name,
    version: opts.version ?? new Date().toISOString().slice(0, 19).replace(/[-:T]/g, ''),
    task: `${opts.classNames.join(' / ')}: fine-tuned in the browser from ${baseMetadata.name} (${baseMetadata.version}). Research and education only; not for clinical use.`,
    classNames: [...opts.classNames],
    input: baseMetadata.input,
    preprocessing: { ...baseMetadata.preprocessing },
    layers: { embedding: baseMetadata.layers.embedding, lastConv: baseMetadata.layers.lastConv, logits: FINETUNE_LAYERS.logits },
    uncertainBelow: baseMetadata.uncertainBelow,
    trust: { temperature: 1 },
    training: opts.training,
    notes: [
      `Backbone: ${baseMetadata.name} (${baseMetadata.version}) up to its embedding layer${opts.block ? ', last block fine-tuned' : ', frozen'}; new head trained in the browser (CXR Lab Train page).`,
      ...(opts.notes ?? []),
    ],
  };
  return { model, metadata };
}

/** Sets a layer's weights from plain arrays (shapes taken from the layer); no tensor is left behind. */
function setWeightsFrom(layer: tf.layers.Layer, values: Float32Array[]): void {
  const shapes = layer.getWeights().map((w) => w.shape);
  if (shapes.length !== values.length) throw new Error(`layer ${layer.name} has ${shapes.length} weights, got ${values.length}`);
  const tensors = values.map((v, i) => tf.tensor(v, shapes[i]));
  try {
    layer.setWeights(tensors); // copies the values
  } finally {
    tf.dispose(tensors);
  }
}

export type ExportedFileName = 'model.json' | 'weights.bin' | 'metadata.json' | 'metrics.json' | 'model-card.md';

/**
 * model.json + weights.bin + metadata.json of a composed model (float32 weights: exact predictions),
 * and, given the validation report (src/ml/finetune-trust.ts), its metrics.json and model-card.md:
 * the Model card travels with the weights.
 */
export async function exportModelFiles(
  model: tf.LayersModel,
  metadata: ModelMetadata,
  metrics: (Record<string, unknown> & Partial<MetricsReport>) | null = null,
): Promise<Partial<Record<ExportedFileName, Uint8Array>> & Record<'model.json' | 'weights.bin' | 'metadata.json', Uint8Array>> {
  const { modelJson, weights } = await serializeModel(model, 'none', 'weights.bin');
  const enc = new TextEncoder();
  return {
    'model.json': enc.encode(modelJson),
    'weights.bin': weights,
    'metadata.json': enc.encode(JSON.stringify(metadata, null, 2) + '\n'),
    ...(metrics ? { 'metrics.json': enc.encode(JSON.stringify(metrics) + '\n') } : {}),
    'model-card.md': enc.encode(modelCardMarkdown(metadata, metrics && Array.isArray(metrics.confusionMatrix) ? (metrics as MetricsReport) : null)),
  };
}
