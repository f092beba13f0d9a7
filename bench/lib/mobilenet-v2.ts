// The benchmark's reference architecture: MobileNetV2 (Sandler et al. 2018) as Keras builds it
// (keras.applications.MobileNetV2), here with tf.layers and random weights — timing only.
//
// Teachable Machine's image model is MobileNetV2 alpha 0.35 at 224×224×3, truncated at 'out_relu'
// (7×7×1280), followed by global average pooling, dense(100, relu) and dense(classes, softmax);
// `head: 'teachable-machine'` (the default) builds exactly that. `head: 'none'` stops at the pooled
// features.
//
// Faithful to Keras: first conv 3×3/2 to make_divisible(32·alpha, 8) channels; 17 inverted residual
// blocks (expansion 6 except the first block, which has none), each expand 1×1 → BN → ReLU6 →
// depthwise 3×3 (stride 2 blocks use ZeroPadding2D 'correct_pad' + valid padding) → BN → ReLU6 →
// project 1×1 (linear) → BN, with a residual add when stride is 1 and channels match; pointwise
// widths make_divisible(int(c·alpha), 8); last 1×1 conv 1280 channels (alpha <= 1); BN epsilon 1e-3,
// momentum 0.999; convolutions without bias. With alpha 0.35 and no head this has 410,208 parameters,
// the count Keras reports for MobileNetV2(alpha=0.35, include_top=False).
import * as tf from '@tensorflow/tfjs';

export interface MobileNetV2Options {
  alpha?: number;
  inputSize?: number;
  channels?: number;
  classes?: number;
  head?: 'teachable-machine' | 'none';
  seed?: number;
}

/** Keras' _make_divisible: rounds to the nearest multiple of `divisor`, never more than 10% down. */
export function makeDivisible(v: number, divisor = 8, minValue?: number): number {
  const min = minValue ?? divisor;
  let n = Math.max(min, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/** (expansion t, output channels c, repeats n, first stride s) as in the paper's Table 2. */
export const MOBILENET_V2_BLOCKS: readonly [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

type S = tf.SymbolicTensor;

export function buildMobileNetV2(opts: MobileNetV2Options = {}): tf.LayersModel {
  const alpha = opts.alpha ?? 0.35;
  const size = opts.inputSize ?? 224;
  const channels = opts.channels ?? 3;
  const classes = opts.classes ?? 3;
  const head = opts.head ?? 'teachable-machine';
  let seed = opts.seed ?? 42;
  const init = () => tf.initializers.heNormal({ seed: seed++ });
  const bn = (name: string) => tf.layers.batchNormalization({ epsilon: 1e-3, momentum: 0.999, name });
  const relu6 = (name: string) => tf.layers.reLU({ maxValue: 6, name });
  // Keras correct_pad for a 3×3 kernel: ((0, 1), (0, 1)) on even sizes, ((1, 1), (1, 1)) on odd ones.
  const correctPad = (x: S, name: string): S => {
    const h = x.shape[1] as number;
    const w = x.shape[2] as number;
    const pad: [[number, number], [number, number]] = [h % 2 === 0 ? [0, 1] : [1, 1], w % 2 === 0 ? [0, 1] : [1, 1]];
    return tf.layers.zeroPadding2d({ padding: pad, name }).apply(x) as S;
  };

  const input = tf.input({ shape: [size, size, channels], name: 'input' });
  const firstFilters = makeDivisible(32 * alpha, 8);
  let x = tf.layers
    .conv2d({ filters: firstFilters, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: init(), name: 'Conv1' })
    .apply(input) as S;
  x = bn('bn_Conv1').apply(x) as S;
  x = relu6('Conv1_relu').apply(x) as S;

  let blockId = 0;
  for (const [t, c, n, s] of MOBILENET_V2_BLOCKS) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const inChannels = x.shape[3] as number;
      const outChannels = makeDivisible(Math.floor(c * alpha), 8);
      const prefix = blockId === 0 ? 'expanded_conv_' : `block_${blockId}_`;
      const blockInput = x;
      if (blockId > 0) {
        x = tf.layers
          .conv2d({ filters: t * inChannels, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: init(), name: `${prefix}expand` })
          .apply(x) as S;
        x = bn(`${prefix}expand_BN`).apply(x) as S;
        x = relu6(`${prefix}expand_relu`).apply(x) as S;
      }
      if (stride === 2) x = correctPad(x, `${prefix}pad`);
      x = tf.layers
        .depthwiseConv2d({
          kernelSize: 3,
          strides: stride,
          padding: stride === 2 ? 'valid' : 'same',
          useBias: false,
          depthwiseInitializer: init(),
          name: `${prefix}depthwise`,
        })
        .apply(x) as S;
      x = bn(`${prefix}depthwise_BN`).apply(x) as S;
      x = relu6(`${prefix}depthwise_relu`).apply(x) as S;
      x = tf.layers
        .conv2d({ filters: outChannels, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: init(), name: `${prefix}project` })
        .apply(x) as S;
      x = bn(`${prefix}project_BN`).apply(x) as S;
      if (stride === 1 && inChannels === outChannels) x = tf.layers.add({ name: `${prefix}add` }).apply([blockInput, x]) as S;
      blockId++;
    }
  }
  const lastFilters = alpha > 1 ? makeDivisible(1280 * alpha, 8) : 1280;
  x = tf.layers.conv2d({ filters: lastFilters, kernelSize: 1, useBias: false, kernelInitializer: init(), name: 'Conv_1' }).apply(x) as S;
  x = bn('Conv_1_bn').apply(x) as S;
  x = relu6('out_relu').apply(x) as S;
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(x) as S;
  if (head === 'teachable-machine') {
    x = tf.layers
      .dense({ units: 100, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }), name: 'tm_dense_100' })
      .apply(x) as S;
    x = tf.layers
      .dense({ units: classes, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }), name: 'tm_softmax' })
      .apply(x) as S;
  }
  return tf.model({ inputs: input, outputs: x, name: `mobilenetv2_${alpha}_${size}` });
}
