// npx tsx scripts/ood-sweep.ts [--model public/model] [--out sweep.json]
//
// Measurement only (it writes no model): which features make the best out-of-distribution detector?
// One forward pass over the cxr train/val/test splits and the OOD set collects pooled activations of
// several layers (global average, mean+std, 2×2 spatial average), pixel-space vectors of the model
// input and the image statistics. Then, for each feature set, class means + a shared Ledoit–Wolf
// covariance are fitted on TRAIN, thresholds on VAL, and the flagged rates are reported on TEST and
// on the OOD set, alone and combined with the image checks (as fit-ood combines them). OOD rates are
// given for the whole set and for its two halves (even / odd manifest rows), so that a choice made on
// one half can be checked on the other.
import fs from 'node:fs';
import v8 from 'node:v8';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tfTypes from '@tensorflow/tfjs';
import {
  fitImageChecks,
  fitTiedGaussians,
  layoutTemplateFrom,
  nearestMahalanobis,
  OodScorer,
  packSymmetric,
  percentile,
  pixelVector,
  type ImageFeatures,
} from '../src/core/ood';
import type { DecodedImage } from '../src/image/preprocess';
import { grayAsDecoded } from '../src/image/preprocess';
import { prepareImage } from '../src/image/pipeline';
import { parseArgsOrExit, optString } from './lib/args';
import { displayPath, loadModel } from './lib/evaluation';
import { readOodManifest } from './evaluate-ood';
import { autoPercentile } from './fit-ood';

const REPO_ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const SHARED = path.resolve(REPO_ROOT, '../shared/data');

interface Item {
  split: 'train' | 'val' | 'test' | 'ood';
  label: number;
  kind: string;
  half: number;
  load: () => Promise<DecodedImage>;
}

const args = parseArgsOrExit(process.argv.slice(2), {
  usage: `usage: npx tsx scripts/ood-sweep.ts [--model public/model] [--out sweep.json] [--dump features.v8]
  measures which features make the best out-of-distribution detector (writes no model)
  --dump    also write the collected features (v8-serialised) for re-analysis`,
  options: { model: 'string', out: 'string', dump: 'string' },
});
const modelDir = path.resolve(optString(args, 'model', path.join(REPO_ROOT, 'public/model')));
const outFile = optString(args, 'out', '');
/** --dump file: the collected features (v8-serialised) for re-analysis. */
const dumpFile = optString(args, 'dump', '');
const { initNodeBackend } = await import('../src/ml/tf-node');
const { loadDataset } = await import('./lib/dataset');
const { decodeImageBytes } = await import('../src/image/decode');
const { readImageFileSync } = await import('./lib/node-io');
const { layoutVector } = await import('../src/image/features');
const tf = await initNodeBackend('wasm');
const classifier = await loadModel(modelDir);
const { metadata, model } = classifier;
const spec = metadata.preprocessing;
const nClasses = metadata.classNames.length;

const items: Item[] = [];
for (const split of ['train', 'val', 'test'] as const) {
  const ds = await loadDataset(path.join(SHARED, 'cxr'), { splits: [split], labels: metadata.classNames });
  for (const im of ds.images) items.push({ split, label: im.entry.labelIndex, kind: 'cxr', half: 0, load: async () => grayAsDecoded(im.gray) });
}
const oodDir = path.join(SHARED, 'ood');
readOodManifest(oodDir).forEach((e, i) =>
  items.push({ split: 'ood', label: -1, kind: e.kind, half: i % 2, load: async () => decodeImageBytes(readImageFileSync(path.join(oodDir, e.file))) }),
);

// Layout template from train (as fit-ood).
const layouts: Float64Array[] = [];
for (const it of items.filter((x) => x.split === 'train')) {
  const v = layoutVector(prepareImage(await it.load(), spec).crop, spec.inputSize);
  if (v) layouts.push(v);
}
const template = layoutTemplateFrom(layouts);

const LAYERS = ['s3_conv2_relu', 's4_conv2_relu', metadata.layers.lastConv];
const view = tf.model({ inputs: model.inputs, outputs: LAYERS.map((l) => model.getLayer(l).output as tfTypes.SymbolicTensor) });
const sets: Record<string, Float32Array[]> = {};
const add = (name: string, rows: Float32Array[]) => {
  sets[name] ??= [];
  sets[name].push(...rows);
};
const features: ImageFeatures[] = [];
const pixels: Record<number, Float64Array[]> = { 8: [], 12: [], 16: [] };
const t0 = Date.now();
const B = 32;
for (let i = 0; i < items.length; i += B) {
  const batch = items.slice(i, i + B);
  const inputs: Float32Array[] = [];
  for (const it of batch) {
    const img = await it.load();
    const { input, features: f } = prepareImage(img, spec, { layoutTemplate: template });
    features.push(f!);
    inputs.push(input);
    for (const s of [8, 12, 16]) pixels[s].push(pixelVector(input, s));
  }
  const outs = tf.tidy(() => {
    const flat = new Float32Array(inputs.length * spec.inputSize ** 2);
    inputs.forEach((x, k) => flat.set(x, k * spec.inputSize ** 2));
    const ys = view.predict(tf.tensor4d(flat, [inputs.length, spec.inputSize, spec.inputSize, 1])) as tfTypes.Tensor4D[];
    const res: Record<string, tfTypes.Tensor2D> = {};
    ys.forEach((y, j) => {
      const name = LAYERS[j];
      const mean = tf.mean(y, [1, 2]) as tfTypes.Tensor2D;
      res[`gap:${name}`] = mean;
      const sd = tf.sqrt(tf.add(tf.mean(tf.square(tf.sub(y, tf.reshape(mean, [inputs.length, 1, 1, -1]))), [1, 2]), 1e-6)) as tfTypes.Tensor2D;
      res[`meanstd:${name}`] = tf.concat([mean, sd], 1);
      if (name !== 's3_conv2_relu') {
        const h = y.shape[1];
        res[`sp2:${name}`] = tf.reshape(tf.avgPool(y, [h / 2, h / 2], [h / 2, h / 2], 'valid'), [inputs.length, -1]) as tfTypes.Tensor2D;
      }
    });
    return res;
  });
  for (const [name, t] of Object.entries(outs)) {
    const d = (await t.data()) as Float32Array;
    const w = t.shape[1];
    add(
      name,
      batch.map((_, k) => d.slice(k * w, (k + 1) * w)),
    );
    t.dispose();
  }
  if (process.stderr.isTTY || i % (B * 20) === 0)
    process.stderr.write(`\r${Math.min(items.length, i + B)}/${items.length} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
process.stderr.write('\n');
// (The view shares its layers with the model: nothing to dispose separately; the process ends here.)
if (dumpFile)
  fs.writeFileSync(
    dumpFile,
    v8.serialize({ items: items.map(({ split, label, kind, half }) => ({ split, label, kind, half })), sets, features, pixels, template }),
  );
for (const s of [8, 12, 16]) sets[`pixels${s}`] = pixels[s].map((v) => Float32Array.from(v));

const idx = (split: Item['split']) => items.map((it, i) => (it.split === split ? i : -1)).filter((i) => i >= 0);
const train = idx('train');
const val = idx('val');
const test = idx('test');
const ood = idx('ood');
const kinds = [...new Set(ood.map((i) => items[i].kind))].sort();

// Image checks fitted on train (fit-ood defaults).
const imageChecks = fitImageChecks(train.map((i) => features[i]));
const imageScorer = new OodScorer({
  version: 1,
  embedding: { layer: 'x', dim: 1, means: [[0]], precision: packSymmetric([1], 1), shrinkage: 0, threshold: 1, percentile: 100 },
  imageChecks,
  layoutTemplate: template,
});
const imageFlag = features.map((f) => imageScorer.imageChecks(f).some((c) => c.fired));

/** Distances of every item to the train-fitted tied Gaussians of a feature set. */
function distances(name: string): number[] {
  const rows = sets[name];
  const g = fitTiedGaussians(
    train.map((i) => rows[i]),
    train.map((i) => items[i].label),
    nClasses,
  );
  return rows.map((r) => nearestMahalanobis(r, g).distance);
}

interface Row {
  detector: string;
  percentile: number;
  valFlagged: number;
  testFlagged: number;
  ood: number;
  oodEven: number;
  oodOdd: number;
  perKind: Record<string, number>;
}
const rows: Row[] = [];
const rate = (ids: number[], flagged: (i: number) => boolean) => ids.filter(flagged).length / Math.max(1, ids.length);
function report(detector: string, p: number, flagged: (i: number) => boolean): void {
  const row: Row = {
    detector,
    percentile: p,
    valFlagged: rate(val, flagged),
    testFlagged: rate(test, flagged),
    ood: rate(ood, flagged),
    oodEven: rate(
      ood.filter((i) => items[i].half === 0),
      flagged,
    ),
    oodOdd: rate(
      ood.filter((i) => items[i].half === 1),
      flagged,
    ),
    perKind: Object.fromEntries(
      kinds.map((k) => [
        k,
        rate(
          ood.filter((i) => items[i].kind === k),
          flagged,
        ),
      ]),
    ),
  };
  rows.push(row);
  const pc = (v: number) => `${(100 * v).toFixed(1)}`.padStart(6);
  process.stdout.write(
    `${detector.padEnd(44)}${String(p).padStart(6)}${pc(row.valFlagged)}${pc(row.testFlagged)}${pc(row.ood)}${pc(row.oodEven)}${pc(row.oodOdd)}  ${kinds.map((k) => `${k} ${pc(row.perKind[k]).trim()}`).join('  ')}\n`,
  );
}

process.stdout.write(
  `OOD sweep: model ${metadata.name} (${displayPath(modelDir)}); train ${train.length}, val ${val.length}, test ${test.length}, OOD ${ood.length}\n`,
);
process.stdout.write(
  `${'detector'.padEnd(44)}${'pct'.padStart(6)}${'val%'.padStart(6)}${'test%'.padStart(6)}${'OOD%'.padStart(6)}${'even'.padStart(6)}${'odd'.padStart(6)}  per kind (%)\n`,
);
report('image checks alone', 100, (i) => imageFlag[i]);
const dist: Record<string, number[]> = {};
for (const name of Object.keys(sets)) {
  dist[name] = distances(name);
  const t = percentile(
    val.map((i) => dist[name][i]),
    99,
  );
  report(`${name} alone`, 99, (i) => dist[name][i] > t);
}
const none = val.map(() => false);
const combos: string[][] = [
  [`gap:${metadata.layers.lastConv}`],
  [`gap:${metadata.layers.lastConv}`, 'pixels12'],
  ...Object.keys(sets)
    .filter((n) => !n.startsWith('pixels'))
    .map((n) => [n, 'pixels12']),
  ['gap:s4_conv2_relu', `gap:${metadata.layers.lastConv}`, 'pixels12'],
  ['sp2:s4_conv2_relu', 'pixels12'],
  ['sp2:s4_conv2_relu', 'pixels16'],
  ['meanstd:s4_conv2_relu', `gap:${metadata.layers.lastConv}`, 'pixels12'],
];
for (const withImage of [false, true]) {
  for (const combo of combos) {
    const lists = combo.map((n) => val.map((i) => dist[n][i]));
    const p = autoPercentile(lists, withImage ? val.map((i) => imageFlag[i]) : none, 0.01);
    const ts = lists.map((l) => percentile(l, p));
    report(`${combo.join(' + ')}${withImage ? ' + image' : ''}`, p, (i) => (withImage && imageFlag[i]) || combo.some((n, j) => dist[n][i] > ts[j]));
  }
}
if (outFile) fs.writeFileSync(outFile, JSON.stringify({ model: displayPath(modelDir), rows }, null, 1));
