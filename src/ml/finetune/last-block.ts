// Stage 2: the last conv block unfrozen and trained with the head on augmented images. Part of src/ml/finetune (index.ts describes the two stages).
import * as tf from '../tf';
import type { ModelMetadata } from '../../core/metadata';
import { createRng, type Rng } from '../../core/random';
import type { BlockConfig, HeadConfig } from '../finetune-config';
import type { HeadWeights, BlockOutcome, LoopHooks } from './types';
import { dropoutMask, validateLabels } from './helpers';
import { HeadVars, newVariable } from './head-vars';
import { runLoop } from './loop';

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
  if (prev?.getClassName() !== 'Conv2D') return { reason: 'the last block is not a 2D convolution' };
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
