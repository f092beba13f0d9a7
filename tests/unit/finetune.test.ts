// Fine-tuning (src/ml/finetune/) in Node: head training on embeddings, reproducibility, the stop
// signal, tensor hygiene, composing/exporting the full model, and last-block fine-tuning.
import { beforeAll, describe, expect, it } from 'vitest';
import type * as tfTypes from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/ml/tf-node';
import { createRng } from '../../src/core/random';
import {
  DEFAULT_HEAD_CONFIG,
  classWeights,
  composeModel,
  createEmbedder,
  embed,
  embeddingModel,
  exportModelFiles,
  findLastBlock,
  foldStandardisation,
  predictHead,
  standardisation,
  trainHead,
  trainLastBlock,
  trunkFeatures,
  type EmbeddingData,
  type EpochLog,
  type HeadConfig,
} from '../../src/ml/finetune';
import { buildClassifier, LAYER_NAMES } from '../../src/ml/model';
import { loadModelFiles } from '../../src/ml/io';
import { forgetGradCamModel, gradCam } from '../../src/ml/gradcam';
import { DEFAULT_PREPROCESSING } from '../../src/image/preprocess';
import type { ModelMetadata } from '../../src/core/metadata';
import { fitTemperature, sensitivitySpecificityAt } from '../../src/core/metrics';
import { DEFAULT_TARGET_SENSITIVITY, fitCalibration } from '../../src/core/operating-point';
import { OodScorer, WIDEN_MARGIN, oodStatsProblem, packSymmetric, refitOodStats, type ImageFeatures, type OodSamples, type OodStats } from '../../src/core/ood';

let tf: typeof tfTypes;

beforeAll(async () => {
  tf = await initNodeBackend('cpu');
});

/** k Gaussian clusters in `dim` dimensions, with non-negative, unevenly scaled features (like GAP outputs). */
function clusters(n: number, k: number, dim: number, seed: number, spread = 1): EmbeddingData {
  const rng = createRng(seed);
  const centres = Array.from({ length: k }, () => Array.from({ length: dim }, () => 3 * rng.next()));
  const scale = Array.from({ length: dim }, (_, j) => 0.5 + 5 * (j % 4));
  const x = new Float32Array(n * dim);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % k;
    labels.push(c);
    for (let j = 0; j < dim; j++) x[i * dim + j] = Math.max(0, (centres[c][j] + spread * rng.normal()) * scale[j]);
  }
  return { x, labels };
}

const config = (over: Partial<HeadConfig> = {}): HeadConfig => ({ ...DEFAULT_HEAD_CONFIG, epochs: 12, batchSize: 16, patience: 0, ...over });

function tinyBackbone(seed = 3): { model: tfTypes.LayersModel; metadata: ModelMetadata } {
  const spec = { ...DEFAULT_PREPROCESSING, inputSize: 32 };
  const model = buildClassifier({
    inputSize: 32,
    stages: [
      { filters: 4, convs: 1 },
      { filters: 8, convs: 1 },
    ],
    numClasses: 3,
    dropout: 0,
    l2: 0,
    seed,
  });
  const metadata: ModelMetadata = {
    name: 'tiny',
    version: 't1',
    task: 'test',
    classNames: ['a', 'b', 'c'],
    input: { shape: [1, 32, 32, 1], dtype: 'float32', layout: 'NHWC' },
    preprocessing: spec,
    layers: { embedding: LAYER_NAMES.embedding, lastConv: LAYER_NAMES.lastConv, logits: LAYER_NAMES.logits },
    uncertainBelow: 0.6,
  };
  return { model, metadata };
}

function randomInputs(n: number, size: number, seed: number): { inputs: Float32Array[]; labels: number[] } {
  const rng = createRng(seed);
  const inputs: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const x = new Float32Array(size * size);
    // Class 1 is brighter in the top half: learnable from pooled conv features.
    for (let p = 0; p < x.length; p++) x[p] = rng.next() * 2 - 1 + (label === 1 && p < x.length / 2 ? 0.8 : 0);
    inputs.push(x);
    labels.push(label);
  }
  return { inputs, labels };
}

describe('helpers', () => {
  it('balanced class weights give every class the same total weight', () => {
    const w = classWeights([0, 0, 0, 1], 2, 'balanced');
    expect(w[0] * 3).toBeCloseTo(w[1] * 1, 10);
    expect(classWeights([0, 1], 3, 'balanced')[2]).toBe(0);
    expect(classWeights([0, 0, 1], 2, 'none')).toEqual([1, 1]);
  });

  it('folding the standardisation into a dense layer gives the same outputs', () => {
    const data = clusters(20, 2, 5, 1);
    const { mean, std } = standardisation(data.x, 20, 5);
    const rng = createRng(9);
    const dense = { kernel: Float32Array.from({ length: 15 }, () => rng.normal()), bias: Float32Array.from([0.1, -0.2, 0.3]), inDim: 5, outDim: 3 };
    const folded = foldStandardisation(dense, mean, std);
    for (let i = 0; i < 20; i++) {
      for (let j = 0; j < 3; j++) {
        let a = dense.bias[j];
        let b = folded.bias[j];
        for (let d = 0; d < 5; d++) {
          const v = data.x[i * 5 + d];
          a += ((v - mean[d]) / std[d]) * dense.kernel[d * 3 + j];
          b += v * folded.kernel[d * 3 + j];
        }
        expect(b).toBeCloseTo(a, 3);
      }
    }
  });
});

/** Rows [from, to) of a data set. */
function rows(d: EmbeddingData, dim: number, from: number, to: number): EmbeddingData {
  return { x: d.x.slice(from * dim, to * dim), labels: d.labels.slice(from, to) };
}

describe('trainHead', () => {
  const all = clusters(165, 3, 24, 11);
  const train = rows(all, 24, 0, 120);
  const val = rows(all, 24, 120, 165);

  it('decreases the loss and learns separable clusters; no tensor is left behind', async () => {
    const before = tf.memory().numTensors;
    const logs: EpochLog[] = [];
    const out = await trainHead({ train, val, dim: 24, numClasses: 3, config: config(), hooks: { onEpoch: (l) => void logs.push(l) } });
    expect(tf.memory().numTensors).toBe(before);
    expect(out.history).toHaveLength(12);
    expect(logs.map((l) => l.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(out.history[11].trainLoss).toBeLessThan(out.history[0].trainLoss * 0.6);
    expect(out.history[11].valLoss!).toBeLessThan(out.history[0].valLoss!);
    expect(out.history[11].valAcc!).toBeGreaterThan(0.9);
    expect(out.stopReason).toBe('completed');
    expect(out.valProbs).toHaveLength(45 * 3);
    // The returned head reproduces the reported validation probabilities.
    const probs = predictHead(out.head, val.x, 45);
    for (let i = 0; i < probs.length; i++) expect(Math.abs(probs[i] - out.valProbs![i])).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('same seed → same history and weights; another seed → different', async () => {
    const a = await trainHead({ train, val, dim: 24, numClasses: 3, config: config({ epochs: 5 }) });
    const b = await trainHead({ train, val, dim: 24, numClasses: 3, config: config({ epochs: 5 }) });
    const c = await trainHead({ train, val, dim: 24, numClasses: 3, config: config({ epochs: 5, seed: 7 }) });
    const strip = (h: EpochLog[]) => h.map(({ seconds: _s, ...rest }) => rest);
    expect(strip(a.history)).toEqual(strip(b.history));
    expect(Array.from(a.head.logits.kernel)).toEqual(Array.from(b.head.logits.kernel));
    expect(strip(c.history)).not.toEqual(strip(a.history));
  });

  it('a linear head (no hidden layer) and class weighting "none" work too', async () => {
    const out = await trainHead({
      train,
      val,
      dim: 24,
      numClasses: 3,
      config: config({ hiddenUnits: 0, classWeighting: 'none', dropout: 0, learningRate: 0.03 }),
    });
    expect(out.head.hidden).toBeNull();
    expect(out.history[out.history.length - 1].valAcc!).toBeGreaterThan(0.9);
  });

  it('stop during an epoch keeps the weights of the last finished epoch', async () => {
    const before = tf.memory().numTensors;
    const probsAt: Float32Array[] = [];
    let finished = 0;
    let polls = 0;
    const out = await trainHead({
      train,
      val,
      dim: 24,
      numClasses: 3,
      config: config({ epochs: 20, batchSize: 8 }),
      hooks: {
        onEpoch: (_l, p) => {
          finished++;
          probsAt.push(p!);
        },
        // Stop in the middle of epoch 4 (15 batches per epoch).
        shouldStop: () => finished === 3 && ++polls > 7,
      },
    });
    expect(out.stopReason).toBe('stopped');
    expect(out.history).toHaveLength(3);
    expect(out.keptEpoch).toBe(3);
    const probs = predictHead(out.head, val.x, 45);
    for (let i = 0; i < probs.length; i++) expect(Math.abs(probs[i] - probsAt[2][i])).toBeLessThan(1e-5);
    expect(out.valProbs).toEqual(probsAt[2]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('early stopping with patience keeps the best epoch', async () => {
    // Overlapping clusters + a large learning rate: the validation loss turns up quickly.
    const noisy = clusters(80, 2, 24, 21, 4);
    const noisyTrain = rows(noisy, 24, 0, 40);
    const noisyVal = rows(noisy, 24, 40, 80);
    const out = await trainHead({
      train: noisyTrain,
      val: noisyVal,
      dim: 24,
      numClasses: 2,
      config: config({ epochs: 200, patience: 3, learningRate: 0.05, dropout: 0, l2: 0 }),
    });
    expect(out.stopReason).toBe('early-stopped');
    expect(out.history.length).toBeLessThan(200);
    const best = out.history.reduce((a, b) => (b.valLoss! < a.valLoss! ? b : a));
    expect(out.keptEpoch).toBe(best.epoch);
    expect(out.history.length - best.epoch).toBe(3);
  });
});

describe('createEmbedder', () => {
  it('the fused (BatchNorm-folded) embedder equals the layers model', async () => {
    const { model, metadata } = tinyBackbone(4);
    // Non-trivial BatchNorm statistics, so that folding matters.
    for (const l of model.layers.filter((x) => x.getClassName() === 'BatchNormalization')) {
      const rng = createRng(l.name.length);
      l.setWeights(
        l.getWeights().map((w, i) =>
          tf.tensor(
            Float32Array.from({ length: w.size }, () => (i === 3 ? 0.5 + rng.next() : rng.normal() * 0.5)),
            w.shape,
          ),
        ),
      );
    }
    const before = tf.memory().numTensors;
    const fused = createEmbedder(model, metadata);
    const plain = createEmbedder(model, metadata, { fused: false });
    expect(fused.kind).toBe('fused');
    expect(plain.kind).toBe('layers');
    expect(fused.dim).toBe(8);
    const { inputs } = randomInputs(5, 32, 77);
    const a = await fused.embed(inputs);
    const b = await plain.embed(inputs);
    for (let i = 0; i < a.length; i++) for (let j = 0; j < a[i].length; j++) expect(Math.abs(a[i][j] - b[i][j])).toBeLessThan(1e-4 * (1 + Math.abs(b[i][j])));
    fused.dispose();
    plain.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('composeModel / export', () => {
  it('the exported model reproduces the head on the backbone, after a round trip through the files', async () => {
    const { model, metadata } = tinyBackbone();
    const before = tf.memory().numTensors;
    const { inputs, labels } = randomInputs(24, 32, 5);
    const embedder = embeddingModel(model, metadata);
    const emb = await embed(embedder, inputs, 32);
    const dim = emb[0].length;
    const x = new Float32Array(emb.length * dim);
    emb.forEach((e, i) => x.set(e, i * dim));
    const out = await trainHead({ train: { x, labels }, dim, numClasses: 2, config: config({ epochs: 4 }) });
    const headProbs = predictHead(out.head, x, emb.length);
    const composed = await composeModel(model, metadata, out.head, { classNames: ['clear', 'opaque'], name: 'test fine-tune' });
    expect(composed.metadata.classNames).toEqual(['clear', 'opaque']);
    expect(composed.metadata.preprocessing).toEqual(metadata.preprocessing);
    expect(composed.metadata.layers.logits).toBe('logits');
    const predict = (m: tfTypes.LayersModel) =>
      tf.tidy(() => {
        const flat = new Float32Array(inputs.length * 32 * 32);
        inputs.forEach((v, i) => flat.set(v, i * 32 * 32));
        return (m.predict(tf.tensor4d(flat, [inputs.length, 32, 32, 1])) as tfTypes.Tensor).dataSync().slice();
      });
    const p1 = predict(composed.model);
    for (let i = 0; i < p1.length; i++) expect(Math.abs(p1[i] - headProbs[i])).toBeLessThan(1e-5);
    const files = await exportModelFiles(composed.model, composed.metadata);
    const loaded = await loadModelFiles(async (p) => {
      const f = files[p as keyof typeof files];
      if (!f) throw new Error(`no ${p}`);
      return f;
    });
    expect(loaded.metadata.classNames).toEqual(['clear', 'opaque']);
    const p2 = predict(loaded.model);
    for (let i = 0; i < p2.length; i++) expect(Math.abs(p2[i] - p1[i])).toBeLessThan(1e-6);
    composed.model.dispose();
    loaded.model.dispose();
    // The backbone still works (its layers were shared, never disposed) and nothing leaked.
    expect((await embed(embedder, inputs.slice(0, 1), 32))[0]).toEqual(emb[0]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('Grad-CAM of a composed model (the Train page gallery)', () => {
  it('runs from the composed metadata layers (last conv → embedding → new head → logits); logits match the exported probabilities; no leaks', async () => {
    const { model, metadata } = tinyBackbone(5);
    const { inputs, labels } = randomInputs(16, 32, 9);
    const embedder = embeddingModel(model, metadata);
    const emb = await embed(embedder, inputs, 32);
    const dim = emb[0].length;
    const x = new Float32Array(emb.length * dim);
    emb.forEach((e, i) => x.set(e, i * dim));
    const out = await trainHead({ train: { x, labels }, dim, numClasses: 2, config: config({ epochs: 3, hiddenUnits: 8 }) });
    const composed = await composeModel(model, metadata, out.head, { classNames: ['p', 'q'], name: 'cam' });
    const before = tf.memory().numTensors;
    const layers = { lastConv: composed.metadata.layers.lastConv, logits: composed.metadata.layers.logits };
    const probs = tf.tidy(() => (composed.model.predict(tf.tensor4d(inputs[0], [1, 32, 32, 1])) as tfTypes.Tensor).dataSync().slice());
    const predicted = probs[0] >= probs[1] ? 0 : 1;
    const r = gradCam(composed.model, inputs[0], layers);
    expect(r.classIndex).toBe(predicted);
    expect(r.logits).toHaveLength(2);
    // softmax(logits) = the model's probabilities: the map explains the exported model's own output.
    const m = Math.max(...r.logits);
    const e = r.logits.map((l) => Math.exp(l - m));
    e.forEach((v, i) => expect(Math.abs(v / (e[0] + e[1]) - probs[i])).toBeLessThan(1e-5));
    const fmapShape = composed.model.getLayer(layers.lastConv).outputShape as number[];
    expect([r.height, r.width]).toEqual([fmapShape[1], fmapShape[2]]);
    for (const v of r.heatmap) expect(v >= 0 && v <= 1).toBe(true);
    if (r.rawMax > 0) expect(Math.max(...r.heatmap)).toBeCloseTo(1, 6);
    // Another class on request.
    expect(gradCam(composed.model, inputs[0], layers, 1 - predicted).classIndex).toBe(1 - predicted);
    forgetGradCamModel(composed.model);
    expect(tf.memory().numTensors).toBe(before);
    composed.model.dispose();
    model.dispose();
  });
});

describe('trainLastBlock', () => {
  it('fine-tunes the last conv with the head; the composed model matches; no leaks', async () => {
    const { model, metadata } = tinyBackbone(8);
    const found = findLastBlock(model, metadata);
    if (!('block' in found)) throw new Error(found.reason);
    const block = found.block;
    expect(block.convName).toBe('last_conv');
    const before = tf.memory().numTensors;
    const train = randomInputs(16, 32, 31);
    const val = randomInputs(8, 32, 32);
    const embedder = embeddingModel(model, metadata);
    const emb = await embed(embedder, train.inputs, 32);
    const dim = emb[0].length;
    const x = new Float32Array(emb.length * dim);
    emb.forEach((e, i) => x.set(e, i * dim));
    const head = await trainHead({ train: { x, labels: train.labels }, dim, numClasses: 2, config: config({ epochs: 2 }) });
    const valFeatures = await trunkFeatures(block, val.inputs, 32);
    const kernelBefore = model.getLayer('last_conv').getWeights()[0].dataSync().slice();
    const logs: EpochLog[] = [];
    const out = await trainLastBlock({
      model,
      block,
      head: head.head,
      inputSize: 32,
      numClasses: 2,
      trainLabels: train.labels,
      trainInput: async (i, rng) => train.inputs[i].map((v) => v + 0.05 * rng.normal()),
      valFeatures,
      valLabels: val.labels,
      head_config: config(),
      config: { epochs: 2, learningRate: 1e-3, batchSize: 8 },
      epochOffset: 2,
      hooks: { onEpoch: (l) => void logs.push(l) },
    });
    expect(logs.map((l) => [l.epoch, l.stage])).toEqual([
      [3, 'block'],
      [4, 'block'],
    ]);
    expect(out.blockWeights[0]).toHaveLength(kernelBefore.length);
    expect(Array.from(out.blockWeights[0])).not.toEqual(Array.from(kernelBefore));
    // The backbone itself is unchanged.
    expect(Array.from(model.getLayer('last_conv').getWeights()[0].dataSync())).toEqual(Array.from(kernelBefore));
    expect(tf.memory().numTensors).toBe(before);
    const composed = await composeModel(model, metadata, out.head, {
      classNames: ['x', 'y'],
      name: 'block',
      block: { convName: block.convName, weights: out.blockWeights },
    });
    const probs = tf.tidy(() => {
      const flat = new Float32Array(val.inputs.length * 32 * 32);
      val.inputs.forEach((v, i) => flat.set(v, i * 32 * 32));
      return (composed.model.predict(tf.tensor4d(flat, [val.inputs.length, 32, 32, 1])) as tfTypes.Tensor).dataSync().slice();
    });
    for (let i = 0; i < probs.length; i++) expect(Math.abs(probs[i] - out.valProbs![i])).toBeLessThan(1e-4);
    composed.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// Trust numbers of a fine-tuned model (the same fitting code as the shipped model's)
// ---------------------------------------------------------------------------------------------

describe('fitCalibration (temperature + covid operating point on the validation split)', () => {
  /** Over-confident logits: the covid logit is 4× a noisy signal, so T > 1 fits better. */
  function valLogits(n: number, seed: number): { logits: number[][]; labels: number[] } {
    const rng = createRng(seed);
    const logits: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const y = i % 2;
      const s = (y === 0 ? 1 : -1) * 0.8 + rng.normal();
      logits.push([4 * s, -4 * s]);
      labels.push(y);
    }
    return { logits, labels };
  }

  it('fits the temperature the shipped model would get, and a covid threshold that reaches the target sensitivity on val, stating the split size', () => {
    const { logits, labels } = valLogits(40, 1);
    const fit = fitCalibration(logits, labels, ['covid', 'normal']);
    expect(fit.temperature).toBeCloseTo(fitTemperature(logits, labels).temperature, 10);
    expect(fit.temperature).toBeGreaterThan(1.5);
    expect(fit.temperatureFit.valImages).toBe(40);
    expect(fit.temperatureFit.nllAfter).toBeLessThan(fit.temperatureFit.nllBefore);
    const op = fit.covidThreshold!;
    expect(op).toMatchObject({ targetSensitivity: DEFAULT_TARGET_SENSITIVITY, valImages: 40, valPositives: 20 });
    const scores = fit.calibrated.map((p) => p[0]);
    const positives = labels.map((y) => y === 0);
    const at = sensitivitySpecificityAt(scores, positives, op.threshold);
    expect(at.sensitivity).toBeGreaterThanOrEqual(0.95);
    expect(op.valSensitivity).toBe(at.sensitivity);
    expect(op.valSpecificity).toBe(at.specificity);
    // The highest such threshold: one step up loses sensitivity.
    const above = Math.min(...scores.filter((s) => s > op.threshold));
    expect(sensitivitySpecificityAt(scores, positives, above).sensitivity!).toBeLessThan(0.95);
  });

  it('a perfectly separated validation split drives the temperature to its lower bound; minTemperature (fine-tuned models: 1) stops the sharpening', () => {
    const logits = [
      [2, -2],
      [1.5, -1],
      [-1, 1],
      [-2, 2],
    ];
    const labels = [0, 0, 1, 1];
    expect(fitCalibration(logits, labels, ['covid', 'normal']).temperature).toBeCloseTo(0.05, 6);
    const bounded = fitCalibration(logits, labels, ['covid', 'normal'], { minTemperature: 1 });
    expect(bounded.temperature).toBeCloseTo(1, 6);
    expect(bounded.temperatureFit.minTemperature).toBe(1);
  });

  it('finds the covid class by name wherever it is, and gives no operating point without a covid class', () => {
    const { logits, labels } = valLogits(20, 2);
    const swapped = fitCalibration(
      logits.map(([a, b]) => [b, a]),
      labels.map((y) => 1 - y),
      ['normal', 'covid'],
    );
    expect(swapped.covidThreshold!.threshold).toBeCloseTo(fitCalibration(logits, labels, ['covid', 'normal']).covidThreshold!.threshold, 10);
    expect(fitCalibration(logits, labels, ['sick', 'healthy']).covidThreshold).toBeUndefined();
  });
});

describe('refitOodStats (the base gate, refitted on the fine-tuning images)', () => {
  const grey = (over: Partial<ImageFeatures> = {}): ImageFeatures => ({
    colourFraction: 0,
    colourMean: 0,
    contrast: 50,
    dominantFraction: 0.05,
    brightFraction: 0.01,
    roughness: 0.05,
    symmetry: 0.8,
    layout: 0.9,
    entropy: 7.5,
    aspect: 0.2,
    ...over,
  });
  /** Base gate: 3 class means in 2-D, identity precision, distance threshold 3, contrast ≥ 10. */
  const base = (): OodStats => ({
    version: 1,
    embedding: {
      layer: 'embedding',
      dim: 2,
      means: [
        [0, 0],
        [10, 0],
        [0, 10],
      ],
      precision: packSymmetric([1, 0, 0, 1], 2),
      shrinkage: 0.1,
      threshold: 3,
      percentile: 99,
    },
    imageChecks: [
      { feature: 'contrast', side: 'low', limit: 10, source: 'fitted' },
      { feature: 'colourFraction', side: 'high', limit: 0.02, source: 'fixed' },
    ],
  });
  const samples = (points: number[][], labels: number[], features?: ImageFeatures[]): OodSamples => ({
    embeddings: points,
    features: features ?? points.map(() => grey()),
    labels,
  });

  it('keeps the base thresholds and limits when every fine-tuning image passes them; the means become the new classes', () => {
    const train = samples(
      [
        [0, 1],
        [0, -1],
        [10, 1],
        [10, -1],
      ],
      [0, 0, 1, 1],
    );
    const val = samples(
      [
        [0.5, 0],
        [9.5, 0],
      ],
      [0, 1],
    );
    const s = refitOodStats(base(), train, val, 2);
    expect(s.embedding.means).toEqual([
      [0, 0],
      [10, 0],
    ]);
    expect(s.embedding.threshold).toBe(3);
    expect(s.embedding.precision).toBe(base().embedding.precision);
    expect(s.imageChecks).toEqual(base().imageChecks);
    expect(s.fit).toMatchObject({ trainImages: 4, valImages: 2, flaggedBeforeRefit: 0, flaggedAfterRefit: 0, widened: [] });
    expect(oodStatsProblem(s, 2)).toBeNull();
  });

  it('widens exactly what the fine-tuning images fail, so that they all pass; a colour image and a far one are still withheld', () => {
    // Class 1 lies far from every base mean (a kind of film the base never saw) and one image has low contrast.
    const train = samples(
      [
        [0, 0],
        [0, 1],
        [30, 30],
        [30, 34],
      ],
      [0, 0, 1, 1],
      [grey(), grey({ contrast: 6 }), grey(), grey()],
    );
    const val = samples([[30, 36]], [1]);
    const before = new OodScorer(base());
    expect(train.embeddings.filter((e, i) => before.score(e, train.features[i]).flagged)).toHaveLength(3);
    const s = refitOodStats(base(), train, val, 2);
    expect(s.fit).toMatchObject({ flaggedBeforeRefit: 4, flaggedAfterRefit: 0 });
    expect(s.fit!.widened).toEqual(['embedding', 'contrast:low']);
    expect(s.embedding.means).toEqual([
      [0, 0.5],
      [30, 32],
    ]);
    expect(s.embedding.threshold).toBeCloseTo(4 * WIDEN_MARGIN, 10); // the farthest image: (30, 36) from (30, 32)
    expect(s.imageChecks[0].limit).toBeLessThanOrEqual(6);
    const after = new OodScorer(s);
    for (const set of [train, val]) for (const [i, e] of set.embeddings.entries()) expect(after.score(e, set.features[i]).flagged).toBe(false);
    expect(after.score([0, 0], grey({ colourFraction: 0.5, colourMean: 60 })).flagged).toBe(true);
    expect(after.score([15, 15], grey()).flagged).toBe(true);
  });

  it('refuses a class without training images', () => {
    expect(() => refitOodStats(base(), samples([[0, 0]], [0]), samples([], []), 2)).toThrow(/class 1 has no training image/);
  });
});
