// npm run bench — speed, start-up, memory and size of CXR Lab, measured on this machine against a
// reference measured in the same run. See bench/README.md for how to read the output.
//
//   npm run bench                      # full run (about 10-15 min on 2 cores)
//   npm run bench -- --quick           # fewer repetitions (a few minutes); results marked quick
//
// Parts (all in headless Debian Chromium via playwright-core, production build, localhost):
//   models     per backend (webgl, wasm, cpu), in a bench-only page (bench/page, not in the app):
//              the shipped model vs. MobileNetV2 alpha 0.35 at 224×224×3 (Teachable Machine's
//              backbone, random weights): batch-1 latency (median, p90) and batch-16 throughput
//   cold start navigation → model ready → first prediction shown, fresh browser contexts
//   threads    the shipped model on wasm, threaded vs single-threaded binary, interleaved in one page
//   memory     worker tf.memory() and JS heaps after 1 and after N predictions (app, wasm)
//   bytes      model files; gzip size of the JavaScript loaded before the first prediction; the
//              service worker's precache (files, bytes, JavaScript bytes, duplicates)
//   node       training images/s (npm run bench:train) and evaluate images/s (npm run evaluate)
//
// Options: --backends webgl,wasm,cpu  --runs 50  --warmup 5  --batch 16  --batches 4
//          --cold 5  --predictions 500  --eval-limit 0 (0 = whole test split)
//          --skip models,threads,cold,memory,node  --out <file.json>  --no-build (use dist/ as it is)
// Writes bench/results/<date>-<host-kind>[-quick].json (or --out) and prints a table. The last line is
//   ratio wasm: <r> webgl: <r> model-bytes: <n> first-prediction-ms: <n>
// after `threads-speedup: <x>` (wasm batch-1 median, single-threaded / threaded, interleaved) and
// `js-precache-bytes: <n>` (JavaScript in the service worker's precache).
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { REPO_ROOT, ensureBuild, hasData, launchBrowser, manifest, skipReason, startPreview, testImages } from '../tests/browser/helpers';
import { coldStarts, memoryRun, modelBytes, type AppBackend, type ColdStartSummary, type MemoryResult } from './lib/app';
import { benchEvaluate, benchTrain, type EvaluateBench, type TrainBench } from './lib/node';
import { buildBenchPage, serveBenchPage } from './lib/page-build';
import type { BenchResult, ThreadsResult } from './page/protocol';
import { precacheSummary, type PrecacheSummary } from '../scripts/lib/build-report';
import { optNumber, optString, parseArgsOrExit } from '../scripts/lib/args';
import { COVID_CLASS } from '../src/core/labels';

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const ARGS = parseArgsOrExit(argv, {
  usage: `usage: npm run bench [-- --quick] [--backends webgl,wasm,cpu,webgpu] [--runs 50] [--warmup 5] [--batch 16] [--batches 3]
                   [--cold 5] [--predictions 500] [--eval-limit 0] [--skip models,threads,cold,memory,node] [--out file.json] [--no-build]
  --quick       fewer repetitions (a few minutes); results marked quick
  --eval-limit  images of the test split for the evaluate speed (0 = all)
  --no-build    use dist/ as it is`,
  options: {
    quick: 'flag',
    backends: 'string',
    runs: 'number',
    warmup: 'number',
    batch: 'number',
    batches: 'number',
    cold: 'number',
    predictions: 'number',
    'eval-limit': 'number',
    skip: 'string',
    out: 'string',
    'no-build': 'flag',
  },
});
const has = (f: string) => ARGS.options.has(f);
const opt = (name: string, fallback: string) => optString(ARGS, name, fallback);
const QUICK = has('quick');
const num = (name: string, full: number, quick: number) => {
  const v = optNumber(ARGS, name, QUICK ? quick : full);
  if (v < 0) {
    process.stderr.write(`error: --${name} must not be negative\n`);
    process.exit(2);
  }
  return Math.floor(v);
};
const BACKENDS = opt('backends', 'webgl,wasm,cpu')
  .split(',')
  .filter((b): b is AppBackend => b === 'webgl' || b === 'webgpu' || b === 'wasm' || b === 'cpu');
const RUNS = num('runs', 50, 12);
const WARMUP = num('warmup', 5, 2);
const BATCH = num('batch', 16, 16);
const BATCHES = num('batches', 3, 2);
const COLD = num('cold', 5, 2);
const PREDICTIONS = Math.max(2, num('predictions', 500, 50));
const EVAL_LIMIT = num('eval-limit', 0, 96);
const SKIP = new Set(opt('skip', '').split(',').filter(Boolean));
// The cpu backend (plain JavaScript) is by far the slowest; its batch-1 runs stay at >= 50 in a full
// run, but its batch-16 throughput uses at most 2 timed batches and no untimed one (plain JavaScript
// compiles no shaders), to keep the run near 15 minutes on 2 cores.
const CPU_BATCHES = Math.min(BATCHES, 2);

const log = (s = '') => process.stdout.write(s + '\n');
const t0All = Date.now();
const elapsed = () => `${((Date.now() - t0All) / 1000).toFixed(0)} s`;

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
  /** How far from the target (measured / limit), when missed. */
  factor: number | null;
}

interface Results {
  meta: {
    tool: 'bench/bench.ts';
    command: string;
    date: string;
    gitCommit: string | null;
    gitDirty: boolean | null;
    quick: boolean;
    options: Record<string, unknown>;
    host: { kind: string; platform: string; arch: string; cpus: number; cpuModel: string; memoryGiB: number; node: string; chromium: string | null };
    model: { dir: string; name: string | null; version: string | null };
    durationSeconds: number;
    /** os.loadavg() (1, 5, 15 min) at the start and the end: other work on the machine skews absolute times. */
    loadAverage: { start: number[]; end: number[] };
    notes: string[];
  };
  models: Partial<Record<AppBackend, BenchResult | { error: string }>>;
  coldStart: Partial<Record<'wasm' | 'default', ColdStartSummary | { error: string }>>;
  memory: MemoryResult | { error: string } | null;
  /** wasm threaded vs single-threaded, interleaved in one page (bench/page, ?mode=threads). */
  threads: ThreadsResult | { error: string } | null;
  bytes: {
    model: ReturnType<typeof modelBytes>;
    /** The app's service-worker precache (dist/sw.js): files, bytes, JavaScript bytes, duplicates. */
    precache: PrecacheSummary;
    /** Largest over the cold starts of each kind (same build, same files each time). */
    jsBeforeFirstPredictionGzip: Partial<Record<'wasm' | 'default', { gzip: number; bytes: number; files: { file: string; bytes: number; gzip: number }[] }>>;
  };
  node: { train: TrainBench | null; evaluate: EvaluateBench | null };
  targets: Target[];
  lastLine: string;
}

function gitInfo(): { commit: string | null; dirty: boolean | null } {
  try {
    const commit = execSync('git rev-parse HEAD', { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', { cwd: REPO_ROOT, encoding: 'utf8' }).trim().length > 0;
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

const isError = (x: unknown): x is { error: string } =>
  typeof x === 'object' && x !== null && 'error' in x && typeof (x as { error: unknown }).error === 'string';

// ---------------------------------------------------------------------------------------------
// Parts
// ---------------------------------------------------------------------------------------------

async function benchModels(browser: Browser, modelDir: string, results: Results): Promise<void> {
  const built = await buildBenchPage();
  log(`bench page ${built ? 'built' : 'up to date'} (.cache/bench-page-dist) [${elapsed()}]`);
  const server = await serveBenchPage(modelDir);
  try {
    for (const backend of BACKENDS) {
      const batches = backend === 'cpu' ? CPU_BATCHES : BATCHES;
      log(`models on ${backend}: ${WARMUP} warm-up, ${RUNS} batch-1 runs, ${batches} batches of ${BATCH}, each model, interleaved [${elapsed()}]`);
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        page.on('pageerror', (e) => log(`  page error: ${e.message}`));
        await page.goto(
          `${server.url}?backend=${backend}&runs=${RUNS}&warmup=${WARMUP}&batch=${BATCH}&batches=${batches}&batchWarmup=${backend === 'cpu' ? 0 : 1}`,
        );
        await page.waitForFunction(() => window.cxrBench?.done === true, undefined, { timeout: 900_000, polling: 500 });
        const { result, error } = await page.evaluate(() => ({ result: window.cxrBench!.result, error: window.cxrBench!.error }));
        if (error || !result) throw new Error(error ?? 'no result');
        results.models[backend] = result;
        const o = result.ours;
        const r = result.reference;
        log(
          `  ${backend}${result.renderer ? ` (${result.renderer})` : ''} ${result.backendDetails.join(', ')}: ours ${o.latency.medianMs.toFixed(1)} ms (p90 ${o.latency.p90Ms.toFixed(1)}), ` +
            `reference ${r.latency.medianMs.toFixed(1)} ms (p90 ${r.latency.p90Ms.toFixed(1)}), ratio ${result.ratio.latencyMedian.toFixed(2)}; ` +
            `batch ${BATCH}: ${o.throughput.imagesPerSecond.toFixed(1)} vs ${r.throughput.imagesPerSecond.toFixed(1)} images/s`,
        );
      } catch (e) {
        results.models[backend] = { error: (e as Error).message };
        log(`  ${backend}: failed: ${(e as Error).message}`);
      } finally {
        await context.close();
      }
    }
  } finally {
    await server.close();
  }
}

async function benchThreads(browser: Browser, modelDir: string, results: Results): Promise<void> {
  await buildBenchPage();
  const server = await serveBenchPage(modelDir);
  log(
    `threads: the shipped model on wasm, threaded vs single-threaded, ${RUNS} batch-1 runs and ${BATCHES} batches of ${BATCH} each, interleaved [${elapsed()}]`,
  );
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}?mode=threads&runs=${RUNS}&warmup=${WARMUP}&batch=${BATCH}&batches=${BATCHES}`);
    await page.waitForFunction(() => window.cxrBench?.done === true, undefined, { timeout: 900_000, polling: 500 });
    const { threads, error } = await page.evaluate(() => ({ threads: window.cxrBench!.threads, error: window.cxrBench!.error }));
    if (error || !threads) throw new Error(error ?? 'no result');
    results.threads = threads;
    log(
      `  threaded (${threads.threaded.details.join(', ')}): ${threads.threaded.latency.medianMs.toFixed(1)} ms; single (${threads.single.details.join(', ')}): ${threads.single.latency.medianMs.toFixed(1)} ms; ` +
        `speedup ${threads.speedup.latencyMedian.toFixed(2)} at batch 1, ${threads.speedup.batchPerImage.toFixed(2)} at batch ${BATCH} (${threads.hardwareConcurrency} logical cores)`,
    );
  } catch (e) {
    results.threads = { error: (e as Error).message };
    log(`  failed: ${(e as Error).message}`);
  } finally {
    await context.close();
    await server.close();
  }
}

async function benchApp(browser: Browser, distDir: string, results: Results): Promise<void> {
  if (!hasData()) {
    const why = `skipped: ${skipReason()}`;
    results.coldStart.wasm = { error: why };
    results.memory = { error: why };
    log(why);
    return;
  }
  const server = await startPreview();
  try {
    const image = testImages(COVID_CLASS, 1)[0];
    if (!SKIP.has('cold')) {
      for (const kind of ['wasm', 'default'] as const) {
        log(`cold start (${kind === 'wasm' ? '?backend=wasm' : 'default backend order'}): ${COLD} fresh contexts [${elapsed()}]`);
        try {
          const s = await coldStarts(browser, server.url, distDir, kind === 'wasm' ? 'wasm' : null, image, COLD, log);
          results.coldStart[kind] = s;
          const worst = s.runs.reduce((a, r) => (r.jsBeforeFirstPrediction.gzip > a.jsBeforeFirstPrediction.gzip ? r : a));
          results.bytes.jsBeforeFirstPredictionGzip[kind] = {
            gzip: worst.jsBeforeFirstPrediction.gzip,
            bytes: worst.jsBeforeFirstPrediction.bytes,
            files: worst.jsBeforeFirstPrediction.files,
          };
        } catch (e) {
          results.coldStart[kind] = { error: (e as Error).message };
          log(`  failed: ${(e as Error).message}`);
        }
      }
    }
    if (!SKIP.has('memory')) {
      const images = manifest()
        .filter((r) => r.split === 'test')
        .slice(0, PREDICTIONS)
        .map((r) => r.path);
      log(`memory: ${images.length} predictions in the app (?backend=wasm) [${elapsed()}]`);
      try {
        results.memory = await memoryRun(browser, server.url, 'wasm', images, log);
      } catch (e) {
        results.memory = { error: (e as Error).message };
        log(`  failed: ${(e as Error).message}`);
      }
    }
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const f1 = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(1));
const f2 = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(2));
const kib = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v / 1024).toFixed(1)} KiB`);
const mib = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v / 1024 / 1024).toFixed(1)} MiB`);

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
}

function evaluateTargets(res: Results): Target[] {
  const t: Target[] = [];
  const add = (name: string, target: string, value: number | null, limit: number, fmt: (v: number) => string) =>
    t.push({
      name,
      target,
      measured: value === null ? 'not measured' : fmt(value),
      met: value === null ? null : value <= limit,
      factor: value === null || value <= limit ? null : value / limit,
    });
  for (const b of ['wasm', 'webgl'] as const) {
    const m = res.models[b];
    add(`latency ratio ours/reference, ${b} (batch-1 median)`, '<= 0.5', m && !isError(m) ? m.ratio.latencyMedian : null, 0.5, (v) => v.toFixed(2));
  }
  add('model files loaded before the first prediction', '<= 1 MB (1,000,000 bytes)', res.bytes.model.loadedBytes, 1_000_000, (v) => `${v} bytes`);
  const js = Math.max(...Object.values(res.bytes.jsBeforeFirstPredictionGzip).map((x) => x?.gzip ?? 0));
  add(
    'JavaScript before the first prediction (gzip, wasm and default runs, larger)',
    '<= 400 KB (400,000 bytes)',
    js > 0 ? js : null,
    400_000,
    (v) => `${v} bytes`,
  );
  const cs = res.coldStart.wasm;
  add(
    'first prediction shown after navigation, wasm, localhost (median)',
    '<= 1000 ms',
    cs && !isError(cs) ? cs.median.firstPredictionShownMs : null,
    1000,
    (v) => `${v.toFixed(0)} ms`,
  );
  const mem = res.memory;
  if (mem && !isError(mem)) {
    const d = mem.afterN.tensors - mem.after1.tensors;
    t.push({
      name: `tensors after ${mem.afterN.predictions} predictions = after 1`,
      target: 'equal',
      measured: `${mem.after1.tensors} -> ${mem.afterN.tensors}`,
      met: d === 0,
      factor: null,
    });
  } else t.push({ name: 'tensors after N predictions = after 1', target: 'equal', measured: 'not measured', met: null, factor: null });
  return t;
}

function printReport(res: Results): void {
  log('');
  log(
    `== CXR Lab bench ${res.meta.quick ? '(QUICK: fewer repetitions) ' : ''}— ${res.meta.date}, ${res.meta.host.kind} (${res.meta.host.cpuModel}), Chromium ${res.meta.host.chromium ?? '?'}`,
  );
  log(
    `   model ${res.meta.model.name}@${res.meta.model.version} from ${path.relative(REPO_ROOT, res.meta.model.dir) || res.meta.model.dir}; load average ${res.meta.loadAverage.start.join(' ')} at the start, ${res.meta.loadAverage.end.join(' ')} at the end (${res.meta.host.cpus} CPUs)`,
  );
  log('');
  const rows: string[][] = [['backend', 'model', 'input', 'params', 'b1 median ms', 'b1 p90 ms', `b${BATCH} img/s`, 'ratio b1', `ratio b${BATCH}`]];
  for (const b of BACKENDS) {
    const m = res.models[b];
    if (!m) continue;
    if (isError(m)) {
      rows.push([b, `error: ${m.error.slice(0, 60)}`, '', '', '', '', '', '', '']);
      continue;
    }
    for (const [which, t] of [
      ['ours', m.ours],
      ['MobileNetV2-0.35', m.reference],
    ] as const) {
      rows.push([
        which === 'ours' ? `${b}${m.renderer ? ` (${m.renderer})` : ''}` : '',
        which,
        t.inputShape.slice(1).join('x'),
        String(t.params),
        f1(t.latency.medianMs),
        f1(t.latency.p90Ms),
        f1(t.throughput.imagesPerSecond),
        which === 'ours' ? f2(m.ratio.latencyMedian) : '',
        which === 'ours' ? f2(m.ratio.throughputTimePerImage) : '',
      ]);
    }
  }
  if (rows.length > 1) {
    log(`Model speed (batch-1 latency over ${RUNS} runs after ${WARMUP} warm-up; ratio = ours / reference, lower is better)`);
    table(rows).forEach((l) => log('  ' + l));
    log('');
  }
  for (const kind of ['wasm', 'default'] as const) {
    const c = res.coldStart[kind];
    if (!c) continue;
    if (isError(c)) log(`Cold start (${kind}): ${c.error}`);
    else
      log(
        `Cold start (${kind === 'wasm' ? '?backend=wasm' : 'default order'}, ${c.runs[0]?.backend}, median of ${c.runs.length}): model ready ${f1(c.median.modelReadyMs)} ms, ` +
          `first prediction shown ${f1(c.median.firstPredictionShownMs)} ms (file given at ${f1(c.median.fileGivenMs)} ms; worker load ${f1(c.median.workerLoadMs)} ms + warm-up ${f1(c.median.workerWarmupMs)} ms)`,
      );
    const w = c && !isError(c) ? c.medianWorkerPhasesMs : null;
    if (w)
      log(
        `  phases (median ms after navigation): worker created ${f1(w.created)}, scripts evaluated ${f1(w.scriptsReady)}, backend ready ${f1(w.backendReady)}, ` +
          `model files downloaded ${f1(w.filesReady)}, model built ${f1(w.modelBuilt)}, warm-up done ${f1(w.warmedUp)}`,
      );
  }
  const mem = res.memory;
  if (mem) {
    if (isError(mem)) log(`Memory: ${mem.error}`);
    else {
      log(
        `Memory (app, ${mem.backend}, ${mem.done} done of ${mem.afterN.predictions}, ${(mem.afterN.predictions - 1) / mem.seconds > 0 ? ((mem.afterN.predictions - 1) / mem.seconds).toFixed(1) : '—'} images/s end to end):`,
      );
      log(
        `  after 1:   ${mem.after1.tensors} tensors, ${kib(mem.after1.tensorBytes)} in tensors; JS heap page ${mib(mem.after1.pageHeapBytes)}, worker ${mib(mem.after1.workerHeapBytes)}`,
      );
      log(
        `  after ${mem.afterN.predictions}: ${mem.afterN.tensors} tensors, ${kib(mem.afterN.tensorBytes)} in tensors; JS heap page ${mib(mem.afterN.pageHeapBytes)}, worker ${mib(mem.afterN.workerHeapBytes)}; page after clearing the table ${mib(mem.pageHeapAfterClearBytes)}`,
      );
    }
  }
  const mb = res.bytes.model;
  log(
    `Bytes: model files loaded ${mb.loadedBytes} bytes (${kib(mb.loadedBytes)}; gzip ${kib(mb.loadedGzip)}): ${mb.files
      .filter((f) => f.loadedBeforeFirstPrediction)
      .map((f) => `${f.file} ${f.bytes}`)
      .join(', ')}`,
  );
  for (const [kind, js] of Object.entries(res.bytes.jsBeforeFirstPredictionGzip))
    if (js)
      log(`  JavaScript before the first prediction (${kind}): ${js.gzip} bytes gzip (${kib(js.gzip)}) in ${js.files.length} files, ${kib(js.bytes)} raw`);
  const tr = res.node.train;
  if (tr)
    log(
      `Node (wasm): training ${f1(tr.shippedTrainImagesPerSecond)} images/s (shipped architecture; reference CNN ${f1(tr.referenceCnnTrainImagesPerSecond)}), ` +
        `forward ${f1(tr.shippedInferenceImagesPerSecond)} images/s${tr.ok ? '' : ` — bench:train failed: ${tr.error}`}`,
    );
  const ev = res.node.evaluate;
  if (ev)
    log(
      `Node evaluate: ${f1(ev.imagesPerSecond)} images/s over ${ev.images ?? '—'} test images (${ev.measures ?? ''}; ${ev.backend}, ${ev.threads} thread(s), batch ${ev.batchSize})${ev.ok ? '' : ` — failed: ${ev.error}`}`,
    );
  log('');
  log('Targets');
  table([
    ['', 'target', 'measured', ''],
    ...res.targets.map((t) => [t.name, t.target, t.measured, t.met === null ? 'n/a' : t.met ? 'met' : `MISSED${t.factor ? ` (${t.factor.toFixed(2)}x)` : ''}`]),
  ]).forEach((l) => log('  ' + l));
  log('');
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const git = gitInfo();
  const hostKind = `${os.platform()}-${os.arch()}-${os.cpus().length}cpu`;
  log(
    `npm run bench${QUICK ? ' --quick' : ''}: backends ${BACKENDS.join(',')}, ${RUNS} runs, batch ${BATCH}, ${COLD} cold starts, ${PREDICTIONS} predictions [${hostKind}]`,
  );
  if (has('no-build')) process.env.CXR_SKIP_BUILD = '1';
  else log('building the app (vite build, skipped when dist/ is fresh)…');
  const build = await ensureBuild();
  log(`app build ${build.built ? 'done' : 'up to date'}; model ${build.modelDir} [${elapsed()}]`);
  let meta: { name?: string; version?: string } = {};
  try {
    meta = JSON.parse(fs.readFileSync(path.join(build.modelDir, 'metadata.json'), 'utf8'));
  } catch {
    /* reported as null */
  }

  const results: Results = {
    meta: {
      tool: 'bench/bench.ts',
      command: `npm run bench${argv.length ? ' -- ' + argv.join(' ') : ''}`,
      date: new Date().toISOString(),
      gitCommit: git.commit,
      gitDirty: git.dirty,
      quick: QUICK,
      options: {
        backends: BACKENDS,
        runs: RUNS,
        warmup: WARMUP,
        batch: BATCH,
        batches: BATCHES,
        cpuBatches: CPU_BATCHES,
        cold: COLD,
        predictions: PREDICTIONS,
        evalLimit: EVAL_LIMIT,
        skip: [...SKIP],
      },
      host: {
        kind: hostKind,
        platform: os.platform(),
        arch: os.arch(),
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? '?',
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        chromium: null,
      },
      model: { dir: build.modelDir, name: meta.name ?? null, version: meta.version ?? null },
      durationSeconds: 0,
      loadAverage: { start: os.loadavg().map((v) => Number(v.toFixed(2))), end: [] },
      notes: [
        'WebGL in headless Chromium is SwiftShader (software rendering on the CPU): webgl figures say nothing about real GPUs.',
        'Model latency = one forward pass at batch 1 including input upload and output read-back; decoding and preprocessing are not included (they are in the cold start and memory runs).',
        'The reference is MobileNetV2 alpha 0.35 at 224x224x3 with the Teachable Machine head (GAP, dense 100 relu, dense 3 softmax), random weights, built with tf.layers in the bench page.',
      ],
    },
    models: {},
    coldStart: {},
    memory: null,
    threads: null,
    bytes: { model: modelBytes(build.modelDir), precache: precacheSummary(build.distDir), jsBeforeFirstPredictionGzip: {} },
    node: { train: null, evaluate: null },
    targets: [],
    lastLine: '',
  };
  if (!fs.existsSync(path.join(REPO_ROOT, 'public/model/model.json')))
    results.meta.notes.push(`public/model is absent: this run used ${build.modelDir} (generated dev model), not the shipped model.`);

  // WebGPU is behind a flag in headless Chromium (and uses SwiftShader without a GPU, like WebGL).
  const browser = await launchBrowser(BACKENDS.includes('webgpu') ? ['--enable-unsafe-webgpu'] : []);
  results.meta.host.chromium = browser.version();
  try {
    if (!SKIP.has('models')) await benchModels(browser, build.modelDir, results);
    if (!SKIP.has('threads') && BACKENDS.includes('wasm')) await benchThreads(browser, build.modelDir, results);
    if (!SKIP.has('cold') || !SKIP.has('memory')) await benchApp(browser, build.distDir, results);
  } finally {
    await browser.close();
  }

  if (!SKIP.has('node')) {
    log(`node: npm run bench:train${QUICK ? ' (quick)' : ''} [${elapsed()}]`);
    results.node.train = benchTrain(QUICK);
    log(`node: npm run evaluate (test split${EVAL_LIMIT ? `, --limit ${EVAL_LIMIT}` : ''}, --bootstrap 1) [${elapsed()}]`);
    results.node.evaluate = hasData() ? benchEvaluate(build.modelDir, EVAL_LIMIT) : null;
  }

  results.targets = evaluateTargets(results);
  const ratio = (b: AppBackend) => {
    const m = results.models[b];
    return m && !isError(m) ? m.ratio.latencyMedian.toFixed(2) : 'n/a';
  };
  const cs = results.coldStart.wasm;
  results.lastLine = `ratio wasm: ${ratio('wasm')} webgl: ${ratio('webgl')} model-bytes: ${results.bytes.model.loadedBytes} first-prediction-ms: ${cs && !isError(cs) ? Math.round(cs.median.firstPredictionShownMs) : 'n/a'}`;
  results.meta.durationSeconds = Math.round((Date.now() - t0All) / 1000);
  results.meta.loadAverage.end = os.loadavg().map((v) => Number(v.toFixed(2)));

  const date = results.meta.date.slice(0, 10);
  const out = path.resolve(opt('out', path.join(REPO_ROOT, 'bench/results', `${date}-${hostKind}${QUICK ? '-quick' : ''}.json`)));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  printReport(results);
  log(`wrote ${path.relative(REPO_ROOT, out)} (${results.meta.durationSeconds} s)`);
  const th = results.threads;
  log(`threads-speedup: ${th && !isError(th) ? th.speedup.latencyMedian.toFixed(2) : 'n/a'}`);
  log(`js-precache-bytes: ${results.bytes.precache.jsBytes}`);
  log(results.lastLine);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
