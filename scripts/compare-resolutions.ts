// npm run compare:resolutions [-- --sizes 96,128,160 --epochs 3 --epoch-size 800 --out file.json]
// How the input resolution trades accuracy against speed, measured rather than assumed: trains the
// same recipe (scripts/train.ts, same seed, same architecture, same number of samples) at several input
// sizes for a short budget, then reports for each the best validation accuracy / macro AUC / loss,
// the training throughput, and the inference latency at batch 1 (median of 30 after warm-up, wasm).
// Short runs rank the sizes; they are not the shipped model's numbers (see public/model/metrics.json).
// Models go to .cache/resolution-<size>; the JSON result to bench/results/resolutions-<date>.json.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { initNodeBackend } from '../src/ml/tf-node';
import { parseArgsOrExit, optNumber, optString } from './lib/args';
import { REPO_ROOT, loadClassifierFromDir, logErr } from './lib/node-io';

const args = parseArgsOrExit(process.argv.slice(2), {
  usage: `usage: npm run compare:resolutions [-- --sizes 96,128,160] [--epochs 3] [--epoch-size 800] [--out file.json]
  trains the same short recipe at each input size and reports validation accuracy / AUC / loss and speed`,
  options: { sizes: 'string', epochs: 'number', 'epoch-size': 'number', out: 'string' },
});
const sizes = optString(args, 'sizes', '96,128,160')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n >= 32);
const epochs = optNumber(args, 'epochs', 3);
const epochSize = optNumber(args, 'epoch-size', 800);
const date = new Date().toISOString().slice(0, 10);
const outFile = path.resolve(optString(args, 'out', path.join(REPO_ROOT, `bench/results/resolutions-${date}.json`)));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Row {
  size: number;
  bestEpoch: number;
  valAcc: number;
  valMacroAuc: number;
  valLoss: number;
  trainImagesPerSecond: number;
  inferenceMsBatch1: number;
  parameters: number;
}

const rows: Row[] = [];
for (const size of sizes) {
  const dir = path.join(REPO_ROOT, '.cache', `resolution-${size}`);
  logErr(`--- ${size}px: training ${epochs} epochs of ${epochSize} samples → ${path.relative(REPO_ROOT, dir)}`);
  const run = spawnSync(
    'npx',
    [
      'tsx',
      'scripts/train.ts',
      '--size',
      String(size),
      '--epochs',
      String(epochs),
      '--epoch-size',
      String(epochSize),
      '--patience',
      '99',
      '--out',
      dir,
      '--no-evaluate',
      '--no-ood',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (run.status !== 0) {
    logErr(`training at ${size}px failed (exit ${run.status})`);
    process.exit(1);
  }
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8'));
  const history = meta.training.history as Array<Record<string, number>>;
  const best = history.find((h) => h.epoch === meta.training.bestEpoch) ?? history[history.length - 1];
  rows.push({
    size,
    bestEpoch: best.epoch,
    valAcc: best.valAcc,
    valMacroAuc: best.valMacroAuc,
    valLoss: best.valLoss,
    trainImagesPerSecond: median(history.map((h) => h.imagesPerSecond)),
    inferenceMsBatch1: NaN,
    parameters: meta.training.hyperparameters?.parameters ?? NaN,
  });
}

// Inference latency, all sizes in this process so they share the machine's state.
const tf = await initNodeBackend('wasm');
for (const row of rows) {
  const classifier = await loadClassifierFromDir(path.join(REPO_ROOT, '.cache', `resolution-${row.size}`));
  const input = new Float32Array(row.size * row.size).fill(0.1);
  const times: number[] = [];
  for (let i = 0; i < 40; i++) {
    const t0 = performance.now();
    await classifier.predict([input]);
    if (i >= 10) times.push(performance.now() - t0);
  }
  row.inferenceMsBatch1 = median(times);
  classifier.dispose();
}
const numTensors = tf.memory().numTensors;

const result = {
  date,
  command: `npm run compare:resolutions -- --sizes ${sizes.join(',')} --epochs ${epochs} --epoch-size ${epochSize}`,
  backend: tf.getBackend(),
  numTensorsAfter: numTensors,
  rows,
};
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
console.log('size  best-epoch  val-acc  val-macroAUC  val-loss  train img/s  infer ms (b=1, wasm)');
for (const r of rows) {
  console.log(
    `${String(r.size).padStart(4)}  ${String(r.bestEpoch).padStart(10)}  ${r.valAcc.toFixed(4)}  ${r.valMacroAuc.toFixed(4).padStart(12)}  ${r.valLoss.toFixed(4).padStart(8)}  ${r.trainImagesPerSecond.toFixed(1).padStart(11)}  ${r.inferenceMsBatch1.toFixed(2).padStart(8)}`,
  );
}
console.log(`wrote ${path.relative(REPO_ROOT, outFile)}`);
