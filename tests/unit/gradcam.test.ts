// Grad-CAM known-answer tests: tiny models built with the CXR Lab layer names, whose evidence for a
// class sits in a known image quadrant. The heatmap's mass must fall in that quadrant, the class
// picker must move it, and no tensor may leak.
import { beforeAll, describe, expect, it } from 'vitest';
import type * as tfTypes from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/ml/tf-node';
import { buildClassifier, LAYER_NAMES } from '../../src/ml/model';
import { colorizeHeatmap, gradCam, massByRegion, projectHeatmap, turbo, upsampleHeatmap } from '../../src/ml/gradcam';
import { createRng, type Rng } from '../../src/core/random';

type TF = typeof tfTypes;
let tf: TF;
const layers = { lastConv: LAYER_NAMES.lastConv, logits: LAYER_NAMES.logits };

beforeAll(async () => {
  tf = await initNodeBackend('wasm', { threads: 1 });
});

/**
 * Hand-set weights, same head as CXR Lab (conv → last_conv_relu → GAP 'embedding' → dropout →
 * dense 'logits' → softmax). Channel 0 fires on bright pixels (> 0.5), channel 1 on dark ones
 * (< -0.5); logit 0 = mean(channel 0), logit 1 = mean(channel 1).
 */
function brightDarkModel(size: number): tfTypes.LayersModel {
  const input = tf.input({ shape: [size, size, 1], name: 'image' });
  let x = tf.layers
    .conv2d({ filters: 1, kernelSize: 3, padding: 'same', useBias: false, name: 's1_conv1', kernelInitializer: 'zeros' })
    .apply(input) as tfTypes.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 's1_pool' }).apply(x) as tfTypes.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 2, kernelSize: 1, useBias: true, name: 'last_conv' }).apply(x) as tfTypes.SymbolicTensor;
  x = tf.layers.reLU({ name: LAYER_NAMES.lastConv }).apply(x) as tfTypes.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: LAYER_NAMES.embedding }).apply(x) as tfTypes.SymbolicTensor;
  x = tf.layers.dropout({ rate: 0.3, name: 'head_dropout' }).apply(x) as tfTypes.SymbolicTensor;
  const logits = tf.layers.dense({ units: 2, name: LAYER_NAMES.logits }).apply(x) as tfTypes.SymbolicTensor;
  const probs = tf.layers.activation({ activation: 'softmax', name: LAYER_NAMES.probs }).apply(logits) as tfTypes.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: probs });
  const identity3x3 = new Float32Array(9);
  identity3x3[4] = 1;
  model.getLayer('s1_conv1').setWeights([tf.tensor4d(identity3x3, [3, 3, 1, 1])]);
  model.getLayer('last_conv').setWeights([tf.tensor4d([1, -1], [1, 1, 1, 2]), tf.tensor1d([-0.5, -0.5])]);
  model.getLayer(LAYER_NAMES.logits).setWeights([tf.tensor2d([1, 0, 0, 1], [2, 2]), tf.tensor1d([0, 0])]);
  return model;
}

/** Mid-grey image with a bright square in quadrant `q` (0 TL, 1 TR, 2 BL, 3 BR) and a dark one in 3 − q. */
function quadrantImage(size: number, q: number): Float32Array {
  const img = new Float32Array(size * size);
  const half = size / 2;
  const paint = (quad: number, value: number) => {
    const ox = (quad % 2) * half;
    const oy = Math.floor(quad / 2) * half;
    for (let y = half / 4; y < (3 * half) / 4; y++) for (let x = half / 4; x < (3 * half) / 4; x++) img[(oy + y) * size + ox + x] = value;
  };
  paint(q, 1);
  paint(3 - q, -1);
  return img;
}

describe('gradCam on a hand-set model', () => {
  it('puts the mass of the predicted class in the quadrant holding its evidence, for every quadrant', () => {
    const model = brightDarkModel(32);
    for (let q = 0; q < 4; q++) {
      const img = quadrantImage(32, q);
      const cam = gradCam(model, img, layers);
      expect(cam.width).toBe(16);
      expect(cam.height).toBe(16);
      // Both squares are the same size, so logits tie; a slightly brighter square decides.
      expect([0, 1]).toContain(cam.classIndex);
      const bright = gradCam(model, img, layers, 0);
      const mass = massByRegion(bright.heatmap, bright.width, bright.height);
      expect(mass[q]).toBeGreaterThan(0.99);
      expect(Math.max(...bright.heatmap)).toBeCloseTo(1, 6);
      // The class picker: the "dark" class points at the opposite quadrant.
      const dark = gradCam(model, img, layers, 1);
      expect(massByRegion(dark.heatmap, dark.width, dark.height)[3 - q]).toBeGreaterThan(0.99);
    }
    model.dispose();
  });

  it('defaults to the predicted class and returns all-zero maps when there is no positive evidence', () => {
    const model = brightDarkModel(32);
    const img = new Float32Array(32 * 32);
    for (let i = 0; i < 64; i++) img[i] = 1; // top rows bright, nothing dark
    const cam = gradCam(model, img, layers);
    expect(cam.classIndex).toBe(0);
    expect(cam.logits[0]).toBeGreaterThan(cam.logits[1]);
    const none = gradCam(model, img, layers, 1);
    expect(none.rawMax).toBe(0);
    expect(none.heatmap.every((v) => v === 0)).toBe(true);
    expect(() => gradCam(model, img, layers, 5)).toThrow(/out of range/);
    model.dispose();
  });

  it('leaks no tensors (including a tensor input the caller keeps)', () => {
    const model = brightDarkModel(32);
    const img = quadrantImage(32, 1);
    gradCam(model, img, layers); // warm-up builds the cached sub-model
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) gradCam(model, img, layers, i % 2);
    const t = tf.tensor4d(img, [1, 32, 32, 1]);
    gradCam(model, t, layers);
    expect(t.isDisposed).toBe(false);
    t.dispose();
    expect(() => gradCam(model, img, layers, 9)).toThrow();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

/** 32×32 noise images; class 1 = a bright blob somewhere inside the top-left quadrant, class 0 = none. */
function blobImage(rng: Rng, size: number, positive: boolean): Float32Array {
  const img = new Float32Array(size * size);
  for (let i = 0; i < img.length; i++) img[i] = -0.5 + 0.3 * rng.normal();
  if (positive) {
    const half = size / 2;
    const cx = 3 + rng.next() * (half - 6);
    const cy = 3 + rng.next() * (half - 6);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) img[y * size + x] += 1.5 * Math.exp(-((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2) / 4);
    }
  }
  return img;
}

describe('gradCam on a briefly trained CXR Lab network', () => {
  it('whose class depends only on the top-left quadrant: the heatmap mass lies in that quadrant', async () => {
    const size = 32;
    const model = buildClassifier({
      inputSize: size,
      stages: [
        { filters: 8, convs: 1 },
        { filters: 16, convs: 1 },
      ],
      numClasses: 2,
      dropout: 0.1,
      l2: 0,
      seed: 7,
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const rng = createRng(42);
    for (let step = 0; step < 60; step++) {
      const labels = Array.from({ length: 16 }, (_, i) => i % 2);
      const flat = new Float32Array(16 * size * size);
      labels.forEach((l, i) => flat.set(blobImage(rng, size, l === 1), i * size * size));
      const x = tf.tensor4d(flat, [16, size, size, 1]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 2);
      await model.trainOnBatch(x, y);
      tf.dispose([x, y]);
    }
    const before = tf.memory().numTensors;
    const masses: number[] = [];
    let correct = 0;
    for (let i = 0; i < 8; i++) {
      const cam = gradCam(model, blobImage(rng, size, true), layers, 1);
      if (cam.logits[1] > cam.logits[0]) correct++;
      masses.push(massByRegion(cam.heatmap, cam.width, cam.height)[0]);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(correct).toBeGreaterThanOrEqual(7);
    const mean = masses.reduce((a, b) => a + b, 0) / masses.length;
    expect(mean).toBeGreaterThan(0.6);
    expect(Math.min(...masses)).toBeGreaterThan(0.4);
    model.dispose();
  });
});

describe('drawing helpers', () => {
  it('upsamples a heatmap keeping its peak in place', () => {
    const h = new Float32Array(16);
    h[0] = 1; // top-left cell of 4×4
    const up = upsampleHeatmap(h, 4, 4, 16, 16);
    expect(up[0]).toBeCloseTo(1);
    expect(massByRegion(up, 16, 16)[0]).toBeGreaterThan(0.95);
    expect(up[15 * 16 + 15]).toBe(0);
  });

  it('projects onto the original image through the crop, NaN outside it', () => {
    const h = new Float32Array([1, 0, 0, 0]); // 2×2, top-left
    // A 200×100 original: the model saw the centred 100×100 square at x = 50.
    const out = projectHeatmap(h, 2, 2, { width: 200, height: 100 }, { x: 50, y: 0, size: 100 }, 200, 100);
    expect(Number.isNaN(out[10])).toBe(true); // x = 10 is left of the crop
    expect(out[10 * 200 + 55]).toBeCloseTo(1); // near the crop's top-left corner
    expect(out[90 * 200 + 145]).toBeCloseTo(0);
  });

  it('colourises with transparency for NaN and weak values, and a monotone-ish colour ramp', () => {
    const px = colorizeHeatmap([NaN, 0, 1], 0.5);
    expect(px[3]).toBe(0);
    expect(px[7]).toBe(0);
    expect(px[11]).toBe(128);
    expect(turbo(0.25)[2]).toBeGreaterThan(turbo(0.25)[0]); // cool end
    expect(turbo(0.9)[0]).toBeGreaterThan(turbo(0.9)[2]); // hot end
  });
});
