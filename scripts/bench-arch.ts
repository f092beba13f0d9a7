// npm run bench:arch: batch-1 forward latency of candidate CXR Lab architectures against the
// bench's reference (MobileNetV2 alpha 0.35 at 224×224×3 + Teachable Machine head), interleaved in
// one process on the wasm backend (single-threaded, as the browser runs without cross-origin
// isolation), with parameters and MACs. Used to pick the v2 architecture ("half the cost");
// `npm run bench` measures the shipped model in the browser.
//   npx tsx scripts/bench-arch.ts [--runs 40] [--threads 1]
import { initNodeBackend } from '../src/ml/tf-node';
import { buildClassifier, DEFAULT_MODEL_CONFIG, type ModelConfig } from '../src/ml/model';
import { buildMobileNetV2 } from '../bench/lib/mobilenet-v2';
import { countMacs } from '../bench/lib/macs';
import { parseArgs, optNumber } from './lib/args';
import { runIfMain } from './lib/cli';

export const CANDIDATES: Record<string, Partial<ModelConfig>> = {
  'v1 (128px, 16/32/64x2/128x2/192)': {
    inputSize: 128,
    stages: [
      { filters: 16, convs: 1 },
      { filters: 32, convs: 1 },
      { filters: 64, convs: 2 },
      { filters: 128, convs: 2 },
      { filters: 192, convs: 1 },
    ],
  },
  'v2 (default: 112px, 12/24/48x2/96x2/160)': {},
  '96px, 16/32/64x2/128x2/192': {
    inputSize: 96,
    stages: [
      { filters: 16, convs: 1 },
      { filters: 32, convs: 1 },
      { filters: 64, convs: 2 },
      { filters: 128, convs: 2 },
      { filters: 192, convs: 1 },
    ],
  },
  '112px, 16/32/48x2/96x2/160': {
    inputSize: 112,
    stages: [
      { filters: 16, convs: 1 },
      { filters: 32, convs: 1 },
      { filters: 48, convs: 2 },
      { filters: 96, convs: 2 },
      { filters: 160, convs: 1 },
    ],
  },
  '96px, 16/32/64x2/128x2/160': {
    inputSize: 96,
    stages: [
      { filters: 16, convs: 1 },
      { filters: 32, convs: 1 },
      { filters: 64, convs: 2 },
      { filters: 128, convs: 2 },
      { filters: 160, convs: 1 },
    ],
  },
  '96px, 16/32/48x2/96x2/160': {
    inputSize: 96,
    stages: [
      { filters: 16, convs: 1 },
      { filters: 32, convs: 1 },
      { filters: 48, convs: 2 },
      { filters: 96, convs: 2 },
      { filters: 160, convs: 1 },
    ],
  },
};

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    usage:
      'usage: npx tsx scripts/bench-arch.ts [--runs 40] [--threads 1]\n  batch-1 forward latency, parameters and MACs of the candidate architectures (wasm)',
    options: { runs: 'number', threads: 'number' },
  });
  const runs = optNumber(args, 'runs', 40);
  const tf = await initNodeBackend('wasm', { threads: optNumber(args, 'threads', 1) });
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ref = buildMobileNetV2({ alpha: 0.35, inputSize: 224, channels: 3, classes: 3 });
  const models = Object.entries(CANDIDATES).map(([name, cfg]) => ({ name, model: buildClassifier({ ...DEFAULT_MODEL_CONFIG, ...cfg }) }));
  const all = [{ name: 'MobileNetV2-0.35@224 (reference)', model: ref }, ...models];
  const times = all.map(() => [] as number[]);
  const inputs = all.map(({ model }) => tf.zeros([1, ...(model.inputs[0].shape.slice(1) as number[])]));
  for (let r = -5; r < runs; r++) {
    all.forEach(({ model }, i) => {
      const t0 = performance.now();
      const y = model.predict(inputs[i]) as ReturnType<typeof tf.zeros>;
      y.dataSync();
      y.dispose();
      if (r >= 0) times[i].push(performance.now() - t0);
    });
  }
  const refMedian = median(times[0]);
  for (let i = 0; i < all.length; i++) {
    const { name, model } = all[i];
    const m = median(times[i]);
    console.log(
      `${name.padEnd(40)} params ${String(model.countParams()).padStart(8)}  MACs ${(countMacs(model).total / 1e6).toFixed(1).padStart(6)} M  b1 median ${m.toFixed(2)} ms  ratio ${(m / refMedian).toFixed(2)}`,
    );
  }
  inputs.forEach((t) => t.dispose());
  all.forEach(({ model }) => model.dispose());
  return 0;
}

runIfMain(import.meta.url, main);
