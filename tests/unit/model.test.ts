// The shipped model (public/model), loaded exactly as the browser loads it (loadModelFiles through
// an IO handler): probabilities are a distribution, and repeated predictions leak no tensors.
// Skipped when public/model/model.json is absent (before the first `npm run train`).
// CXR_TEST_MODEL_DIR=<dir> points the test at another model folder (development only).
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import type * as tfTypes from '@tensorflow/tfjs';
import type { Classifier } from '../../src/ml/classifier';

const REPO_ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
const MODEL_DIR = path.resolve(REPO_ROOT, process.env.CXR_TEST_MODEL_DIR ?? 'public/model');
const SHARED_CXR = path.resolve(REPO_ROOT, '../shared/data/cxr');
const hasModel = fs.existsSync(path.join(MODEL_DIR, 'model.json'));

if (!hasModel) console.warn(`model.test.ts: skipped, no model at ${MODEL_DIR} (model.json missing; run \`npm run train\`)`);

let tf: typeof tfTypes;
let classifier: Classifier;
let inputs: Float32Array[];

beforeAll(async () => {
  if (!hasModel) return;
  const { initNodeBackend } = await import('../../src/ml/tf-node');
  const { loadClassifierFromDir, preprocessFile } = await import('../../scripts/lib/node-io');
  const { createRng } = await import('../../src/core/random');
  tf = await initNodeBackend('wasm', { threads: 1 });
  classifier = await loadClassifierFromDir(MODEL_DIR);
  const spec = classifier.metadata.preprocessing;
  inputs = [];
  // Real images when the data set is here (one per class), else seeded noise in the input range.
  const folders = ['covid', 'normal', 'pneumonia'].map((c) => path.join(SHARED_CXR, 'images', c));
  for (const folder of folders) {
    if (!fs.existsSync(folder)) continue;
    const first = fs
      .readdirSync(folder)
      .sort()
      .find((f) => /\.(png|jpe?g)$/i.test(f));
    if (first) inputs.push(await preprocessFile(path.join(folder, first), spec));
  }
  if (inputs.length === 0) {
    const rng = createRng(3);
    const [lo, hi] = spec.range;
    for (let k = 0; k < 3; k++) inputs.push(Float32Array.from({ length: spec.inputSize ** 2 }, () => lo + (hi - lo) * rng.next()));
  }
});

afterAll(() => {
  classifier?.dispose();
});

describe.skipIf(!hasModel)('shipped model', () => {
  it('loads through the IO handler with consistent metadata', () => {
    const m = classifier.metadata;
    expect(m.classNames).toEqual(['covid', 'normal', 'pneumonia']);
    expect(classifier.model.inputs[0].shape).toEqual([null, m.preprocessing.inputSize, m.preprocessing.inputSize, 1]);
    expect(classifier.temperature).toBeGreaterThan(0);
  });

  it('gives probabilities that sum to 1 (calibrated, finite, in [0, 1])', async () => {
    const { predictions, embeddings } = await classifier.predict(inputs);
    expect(predictions).toHaveLength(inputs.length);
    for (const p of predictions) {
      expect(p.probabilities).toHaveLength(3);
      for (const v of p.probabilities) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(classifier.classNames).toContain(p.label);
      expect(p.logits).toHaveLength(3);
    }
    expect(embeddings[0].length).toBeGreaterThan(0);
    // Batch and single-image predictions agree (no cross-talk between batch items).
    const single = await classifier.predict([inputs[0]]);
    single.predictions[0].probabilities.forEach((v, k) => expect(v).toBeCloseTo(predictions[0].probabilities[k], 4));
  });

  it('tf.memory().numTensors stays flat over 20 predictions', async () => {
    await classifier.predict([inputs[0]]); // warm-up: lazily created kernels / weights
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) await classifier.predict([inputs[i % inputs.length]]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
