// The CXR Lab network: a small VGG-style CNN trained from scratch (no third-party weights).
// Plain 3x3 convolutions + BatchNorm + ReLU, max-pooling between stages, global average pooling as
// the named embedding layer (fine-tuning reuses it), a linear "logits" layer and a softmax output.
import * as tf from './tf';

export interface StageConfig {
  filters: number;
  convs: number;
}

export interface ModelConfig {
  inputSize: number;
  stages: StageConfig[];
  numClasses: number;
  dropout: number;
  l2: number;
  seed: number;
}

/** Layer names other code relies on (Grad-CAM, embeddings, calibration). */
export const LAYER_NAMES = {
  embedding: 'embedding',
  lastConv: 'last_conv_relu',
  logits: 'logits',
  probs: 'probs',
} as const;

/**
 * v2 (release 3): 112 px input and narrower early stages, half the batch-1 cost of v1 (128 px,
 * 16/32/64×2/128×2/192, 505,491 parameters, 149 M MACs): `npm run bench:arch` measured v1 at 0.97×
 * and this at 0.47× MobileNetV2-0.35@224 on wasm. The lower resolution also leaves less of the
 * export texture that told hospitals apart.
 */
export const DEFAULT_MODEL_CONFIG: ModelConfig = {
  inputSize: 112,
  stages: [
    { filters: 12, convs: 1 },
    { filters: 24, convs: 1 },
    { filters: 48, convs: 2 },
    { filters: 96, convs: 2 },
    { filters: 160, convs: 1 },
  ],
  numClasses: 3,
  dropout: 0.3,
  l2: 1e-4,
  seed: 1234,
};

/** The v1 network (shipped until release 3), kept for recipe comparisons (`npm run train -- --recipe v1`). */
export const V1_MODEL_CONFIG: ModelConfig = {
  ...DEFAULT_MODEL_CONFIG,
  inputSize: 128,
  stages: [
    { filters: 16, convs: 1 },
    { filters: 32, convs: 1 },
    { filters: 64, convs: 2 },
    { filters: 128, convs: 2 },
    { filters: 192, convs: 1 },
  ],
};

export function buildClassifier(config: ModelConfig = DEFAULT_MODEL_CONFIG): tf.LayersModel {
  const { inputSize, stages, numClasses, dropout, l2, seed } = config;
  const input = tf.input({ shape: [inputSize, inputSize, 1], name: 'image' });
  let x: tf.SymbolicTensor = input;
  let layerSeed = seed;
  const reg = l2 > 0 ? tf.regularizers.l2({ l2 }) : undefined;
  stages.forEach((stage, s) => {
    for (let c = 0; c < stage.convs; c++) {
      const last = s === stages.length - 1 && c === stage.convs - 1;
      const base = last ? 'last_conv' : `s${s + 1}_conv${c + 1}`;
      x = tf.layers
        .conv2d({
          filters: stage.filters,
          kernelSize: 3,
          padding: 'same',
          useBias: false,
          kernelInitializer: tf.initializers.heNormal({ seed: layerSeed++ }),
          kernelRegularizer: reg,
          name: base,
        })
        .apply(x) as tf.SymbolicTensor;
      x = tf.layers.batchNormalization({ name: `${base}_bn`, momentum: 0.9 }).apply(x) as tf.SymbolicTensor;
      x = tf.layers.reLU({ name: `${base}_relu` }).apply(x) as tf.SymbolicTensor;
    }
    if (s < stages.length - 1) {
      x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `s${s + 1}_pool` }).apply(x) as tf.SymbolicTensor;
    }
  });
  x = tf.layers.globalAveragePooling2d({ name: LAYER_NAMES.embedding }).apply(x) as tf.SymbolicTensor;
  if (dropout > 0) x = tf.layers.dropout({ rate: dropout, seed: layerSeed++, name: 'head_dropout' }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers
    .dense({
      units: numClasses,
      kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed++ }),
      kernelRegularizer: reg,
      name: LAYER_NAMES.logits,
    })
    .apply(x) as tf.SymbolicTensor;
  const probs = tf.layers.activation({ activation: 'softmax', name: LAYER_NAMES.probs }).apply(logits) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: probs, name: 'cxrnet' });
}

/** The reference CNN from the issue (4 × conv3x3 16-32-64-128 + BN + maxpool, GAP, dense 3), for benchmarks. */
export function buildReferenceCnn(inputSize = 128, numClasses = 3): tf.LayersModel {
  const input = tf.input({ shape: [inputSize, inputSize, 1] });
  let x: tf.SymbolicTensor = input;
  for (const filters of [16, 32, 64, 128]) {
    x = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  }
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: numClasses, activation: 'softmax' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'reference_cnn' });
}
