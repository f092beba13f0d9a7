// Training-speed benchmark on the tfjs wasm backend (with our gradient kernels).
//   npm run bench:train                 # reference CNN + shipped architecture
//   npm run bench:train -- --profile    # plus a per-kernel profile of one training step
//   npm run bench:train -- --compare    # plus an interleaved A/B of the reference CNN: SIMD kernels
//                                       # and fused gradients off (previous kernels) vs on
//   options: --steps N (timed steps, default 7, min 7), --warmup N (default 3), --batch N (16),
//            --threads N (XNNPACK threads; default CXR_WASM_THREADS or min(4, CPUs))
// The machine may be shared: the 1-minute load average is printed at the start and the end.
// Prints images/s for a training step (Adam, trainOnBatch) and for inference (model.predict),
// and the backward/forward ratio ((train step - forward) / forward). The LAST line is always
// `reference-cnn: <N> images/s` (training throughput of the reference CNN).
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFusedGradientsEnabled } from '../src/ml/kernels/fused-grads';
import { setSimdEnabled } from '../src/ml/kernels/simd';
import { initNodeBackend, wasmThreadsCount } from '../src/ml/tf-node';
import { optNumber, parseArgsOrExit } from './lib/args';

type TF = Awaited<ReturnType<typeof initNodeBackend>>;
type LayersModel = import('@tensorflow/tfjs').LayersModel;

const ARGS = parseArgsOrExit(process.argv.slice(2), {
  usage: `usage: npm run bench:train [-- --profile] [--compare] [--steps 7] [--warmup 3] [--batch 16] [--threads N]
  --profile   add a per-kernel profile of one training step
  --compare   add an interleaved A/B of the reference CNN: SIMD kernels and fused gradients off vs on
  --steps     timed steps (at least 7); --warmup untimed steps first; --batch images per step
  --threads   XNNPACK threads (default CXR_WASM_THREADS or min(4, CPUs))`,
  options: { profile: 'flag', compare: 'flag', steps: 'number', warmup: 'number', batch: 'number', threads: 'number' },
});

/** A positive whole-number option (rounded down), or the default. */
function argValue(name: string, def: number): number {
  const v = optNumber(ARGS, name, def);
  return v > 0 ? Math.floor(v) : def;
}

const PROFILE = ARGS.options.has('profile');
const COMPARE = ARGS.options.has('compare');
const BATCH = argValue('batch', 16);
const STEPS = Math.max(7, argValue('steps', 7));
const WARMUP = argValue('warmup', 3);
const INPUT = 128;
const CLASSES = 3;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Reference CNN: 4 x [conv3x3 same (16,32,64,128) + BN + ReLU + maxpool 2x2], GAP, dense 3 softmax. */
function buildReferenceCnn(tf: TF): LayersModel {
  const input = tf.input({ shape: [INPUT, INPUT, 1] });
  let x = input;
  for (const filters of [16, 32, 64, 128]) {
    x = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false }).apply(x) as typeof input;
    x = tf.layers.batchNormalization().apply(x) as typeof input;
    x = tf.layers.reLU().apply(x) as typeof input;
    x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as typeof input;
  }
  x = tf.layers.globalAveragePooling2d({}).apply(x) as typeof input;
  const out = tf.layers.dense({ units: CLASSES, activation: 'softmax' }).apply(x) as typeof input;
  return tf.model({ inputs: input, outputs: out, name: 'reference_cnn' });
}

interface Result {
  name: string;
  params: number;
  trainMs: number;
  fwdMs: number;
}

async function profileStep(tf: TF, name: string, step: () => Promise<unknown>): Promise<void> {
  const info = await tf.profile(async () => {
    await step();
  });
  const byKernel = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    // tfjs also records custom-gradient ops (e.g. fusedConv2d__op) around the kernels they run:
    // counting them would double-count those kernels
    if (k.name.endsWith('__op')) continue;
    const ms = Number(k.kernelTimeMs) || 0;
    total += ms;
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls += 1;
    byKernel.set(k.name, e);
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const calls = rows.reduce((a, [, e]) => a + e.calls, 0);
  console.log(`\n[profile] ${name}: one training step, ${calls} kernel calls, ${total.toFixed(1)} ms in kernels`);
  console.log('  kernel                                   calls   total ms    share');
  for (const [kname, e] of rows.slice(0, 20)) {
    console.log(`  ${kname.padEnd(40)} ${String(e.calls).padStart(5)} ${e.ms.toFixed(1).padStart(10)} ${((100 * e.ms) / total).toFixed(1).padStart(7)}%`);
  }
}

async function bench(tf: TF, name: string, model: LayersModel): Promise<Result> {
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const xs = tf.randomNormal([BATCH, INPUT, INPUT, 1]);
  const labels = tf.tensor1d(
    Array.from({ length: BATCH }, (_, i) => i % CLASSES),
    'int32',
  );
  const ys = tf.oneHot(labels, CLASSES).toFloat();
  labels.dispose();

  const step = () => model.trainOnBatch(xs, ys);
  for (let i = 0; i < WARMUP; i++) await step();
  const trainTimes: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    await step(); // resolves after the loss is read back, i.e. after the whole step ran
    trainTimes.push(performance.now() - t0);
  }

  const fwd = () => {
    const out = model.predict(xs) as import('@tensorflow/tfjs').Tensor;
    out.dataSync();
    out.dispose();
  };
  for (let i = 0; i < 2; i++) fwd();
  const fwdTimes: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    fwd();
    fwdTimes.push(performance.now() - t0);
  }

  if (PROFILE) await profileStep(tf, name, step);

  const res: Result = { name, params: model.countParams(), trainMs: median(trainTimes), fwdMs: median(fwdTimes) };
  const ratio = (res.trainMs - res.fwdMs) / res.fwdMs;
  console.log(
    `${name}: ${res.params} params, batch ${BATCH}: train step ${res.trainMs.toFixed(1)} ms (${((BATCH * 1000) / res.trainMs).toFixed(1)} images/s), ` +
      `forward ${res.fwdMs.toFixed(1)} ms (${((BATCH * 1000) / res.fwdMs).toFixed(1)} images/s), backward/forward ${ratio.toFixed(2)}`,
  );
  tf.dispose([xs, ys]);
  model.dispose();
  return res;
}

/** Interleaved A/B of training steps: previous kernels (SIMD + fused gradients off) vs current. */
async function compare(tf: TF, model: LayersModel): Promise<void> {
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const xs = tf.randomNormal([BATCH, INPUT, INPUT, 1]);
  const labels = tf.tensor1d(
    Array.from({ length: BATCH }, (_, i) => i % CLASSES),
    'int32',
  );
  const ys = tf.oneHot(labels, CLASSES).toFloat();
  labels.dispose();
  const setMode = (on: boolean) => {
    setSimdEnabled(on);
    setFusedGradientsEnabled(on);
  };
  const times: Record<'off' | 'on', number[]> = { off: [], on: [] };
  for (const on of [false, true]) {
    setMode(on);
    for (let i = 0; i < WARMUP; i++) await model.trainOnBatch(xs, ys);
  }
  for (let i = 0; i < STEPS; i++) {
    for (const on of i % 2 === 0 ? [false, true] : [true, false]) {
      setMode(on);
      const t0 = performance.now();
      await model.trainOnBatch(xs, ys);
      times[on ? 'on' : 'off'].push(performance.now() - t0);
    }
  }
  setMode(true);
  tf.dispose([xs, ys]);
  model.dispose();
  const off = median(times.off);
  const on = median(times.on);
  console.log(
    `[compare] reference-cnn, interleaved steps (median of ${STEPS} each): previous kernels ${off.toFixed(1)} ms ` +
      `(${((BATCH * 1000) / off).toFixed(1)} images/s), SIMD + fused gradients ${on.toFixed(1)} ms ` +
      `(${((BATCH * 1000) / on).toFixed(1)} images/s), speed-up ${(off / on).toFixed(2)}x`,
  );
}

async function main(): Promise<void> {
  const threads = argValue('threads', 0);
  const tf = await initNodeBackend('wasm', threads > 0 ? { threads } : {});
  console.log(
    `backend ${tf.getBackend()} (${wasmThreadsCount()} thread(s)), batch ${BATCH}, ${WARMUP} warm-up + ${STEPS} timed steps (median); ` +
      `load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPUs`,
  );
  if (COMPARE) await compare(tf, buildReferenceCnn(tf));

  const ref = await bench(tf, 'reference-cnn', buildReferenceCnn(tf));

  const here = path.dirname(fileURLToPath(import.meta.url));
  const modelPath = path.join(here, '..', 'src', 'ml', 'model.ts');
  let shippedLine = 'shipped: skipped (src/ml/model.ts not present)';
  if (existsSync(modelPath)) {
    try {
      const mod = (await import('../src/ml/model')) as {
        buildClassifier?: (cfg?: unknown) => LayersModel;
        DEFAULT_MODEL_CONFIG?: unknown;
      };
      if (typeof mod.buildClassifier !== 'function') {
        shippedLine = 'shipped: skipped (src/ml/model.ts has no buildClassifier)';
      } else {
        const r = await bench(tf, 'shipped', mod.buildClassifier(mod.DEFAULT_MODEL_CONFIG));
        shippedLine =
          `shipped: ${((BATCH * 1000) / r.trainMs).toFixed(1)} images/s training, ` +
          `${((BATCH * 1000) / r.fwdMs).toFixed(1)} images/s inference, backward/forward ${((r.trainMs - r.fwdMs) / r.fwdMs).toFixed(2)}`;
      }
    } catch (e) {
      shippedLine = `shipped: failed (${(e as Error).message})`;
    }
  }
  console.log('');
  console.log(shippedLine);
  console.log(
    `reference-cnn inference: ${((BATCH * 1000) / ref.fwdMs).toFixed(1)} images/s, backward/forward ${((ref.trainMs - ref.fwdMs) / ref.fwdMs).toFixed(2)}`,
  );
  console.log(`load average at the end: ${os.loadavg()[0].toFixed(2)}`);
  console.log(`reference-cnn: ${((BATCH * 1000) / ref.trainMs).toFixed(1)} images/s`);
}

await main();
