// npm run bench:finetune — the Train page end to end in headless Chromium (production build, wasm
// backend): a folder of 500 images of 2 classes from ../shared/data/cxr is handed to the page, every
// image is decoded → preprocessed → embedded in the training worker, then a head is trained for 30
// epochs (no early stopping). Prints the embedding and training times, throughput and peak memory
// (Chromium process tree RSS, page JS heap, worker tf.memory / wasm heap). Last line:
//   finetune-500: <seconds> s        (embedding + training, from the hand-over of the files to the
//                                     trained model; loading the page and the network not included)
//
// Options: --images 500 --classes covid,normal --splits train --epochs 30 --backend wasm --model <dir>
//          --no-build --json <file> (write the figures as JSON too)
// Large data sets: --images 5000 --classes covid,normal,pneumonia --splits train,val,test
// The model: public/model when present, else .scratch/model, else the generated dev model.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { DATA_DIR, REPO_ROOT, freePort, hasData, launchBrowser, manifest, skipReason } from '../tests/browser/helpers';
import type { TrainerState } from '../src/ui/state/trainer';
import { optString, parseArgsOrExit } from '../scripts/lib/args';

const ARGS = parseArgsOrExit(process.argv.slice(2), {
  usage: `usage: npm run bench:finetune [-- --images 500] [--classes covid,normal] [--splits train] [--epochs 30] [--backend wasm]
                            [--model <dir>] [--no-build] [--json file.json]
  the Train page end to end in headless Chromium: embedding and training times, throughput, peak memory`,
  options: { images: 'number', classes: 'string', splits: 'string', epochs: 'number', backend: 'string', model: 'string', 'no-build': 'flag', json: 'string' },
});
const arg = (name: string, fallback: string) => optString(ARGS, name, fallback);
const flag = (name: string) => ARGS.options.has(name);

const N_IMAGES = Number(arg('images', '500'));
const CLASSES = arg('classes', 'covid,normal').split(',');
const EPOCHS = Number(arg('epochs', '30'));
const BACKEND = arg('backend', 'wasm');
const OUT_DIR = path.join(REPO_ROOT, '.cache/bench-dist');
const STAMP = path.join(REPO_ROOT, '.cache/bench-build-stamp.json');
const VITE = path.join(REPO_ROOT, 'node_modules/.bin/vite');

const log = (s: string) => process.stdout.write(s + '\n');

function pickModelDir(): string {
  const explicit = arg('model', '');
  if (explicit) return path.resolve(explicit);
  for (const d of ['public/model', '.scratch/model']) if (fs.existsSync(path.join(REPO_ROOT, d, 'model.json'))) return path.join(REPO_ROOT, d);
  return path.join(REPO_ROOT, '.cache/dev-model');
}

function newest(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...fs.readdirSync(p).map((n) => newest(path.join(p, n))));
}

async function build(modelDir: string): Promise<void> {
  if (!fs.existsSync(path.join(modelDir, 'model.json'))) {
    const { makeDevModel } = await import('../scripts/make-dev-model');
    await makeDevModel(modelDir);
  }
  const inputs = Math.max(...['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) => newest(path.join(REPO_ROOT, p))), newest(modelDir));
  let stamp: { modelDir?: string; time?: number } = {};
  try {
    stamp = JSON.parse(fs.readFileSync(STAMP, 'utf8'));
  } catch {
    /* first build */
  }
  if (flag('no-build') || (fs.existsSync(path.join(OUT_DIR, 'index.html')) && stamp.modelDir === modelDir && (stamp.time ?? 0) >= inputs)) return;
  const env = { ...process.env };
  if (modelDir === path.join(REPO_ROOT, 'public/model')) delete env.CXR_MODEL_DIR;
  else env.CXR_MODEL_DIR = modelDir;
  const started = Date.now();
  const r = spawnSync(VITE, ['build', '--logLevel', 'warn', '--outDir', OUT_DIR, '--emptyOutDir'], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
  fs.mkdirSync(path.dirname(STAMP), { recursive: true });
  fs.writeFileSync(STAMP, JSON.stringify({ modelDir, time: started }));
}

async function preview(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(VITE, ['preview', '--outDir', OUT_DIR, '--port', String(port), '--strictPort', '--host', '127.0.0.1'], {
    cwd: REPO_ROOT,
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).ok) return { url, child };
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill();
  throw new Error('vite preview did not start');
}

/**
 * A temporary data-set folder: <tmp>/dataset/<class>/<file>.jpg, N images shared as evenly as the
 * classes allow (a class with fewer images gives its share to the others), from the --splits splits
 * (train by default; e.g. --splits train,val,test for the 5,000-image memory check).
 */
function makeDataset(): { dir: string; count: number; perClass: Record<string, number> } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-bench-'));
  const dir = path.join(root, 'dataset');
  const splits = arg('splits', 'train').split(',');
  const rows = manifest().filter((r) => splits.includes(r.split));
  const available = new Map(CLASSES.map((c) => [c, rows.filter((r) => r.label === c)]));
  const total = [...available.values()].reduce((a, l) => a + l.length, 0);
  if (total < N_IMAGES) throw new Error(`only ${total} images of ${CLASSES.join(', ')} in the ${splits.join('/')} splits of ${DATA_DIR}`);
  const perClass: Record<string, number> = {};
  let remaining = N_IMAGES;
  const bySize = [...CLASSES].sort((a, b) => available.get(a)!.length - available.get(b)!.length);
  bySize.forEach((c, i) => {
    perClass[c] = Math.min(available.get(c)!.length, Math.floor(remaining / (bySize.length - i)));
    remaining -= perClass[c];
  });
  let count = 0;
  for (const c of CLASSES) {
    fs.mkdirSync(path.join(dir, c), { recursive: true });
    for (const r of available.get(c)!.slice(0, perClass[c])) {
      fs.copyFileSync(r.path, path.join(dir, c, path.basename(r.path)));
      count++;
    }
  }
  return { dir, count, perClass };
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * RSS (bytes) and CPU time (user + system seconds, all threads: the page, the training worker and
 * its embedding helpers) of every descendant process of `root` (the Chromium tree), vite preview excluded.
 */
function treeStats(root: number, exclude: Set<number>): { rss: number; cpuS: number; byType: Record<string, number> } {
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      cpu.set(Number(name), (Number(fields[11]) + Number(fields[12])) / CLK_TCK);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      /* gone */
    }
  }
  let rss = 0;
  let cpuS = 0;
  const byType: Record<string, number> = {};
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      if (exclude.has(c)) continue;
      cpuS += cpu.get(c) ?? 0;
      let type = 'browser';
      try {
        type = /--type=([\w-]+)/.exec(fs.readFileSync(`/proc/${c}/cmdline`, 'utf8'))?.[1] ?? 'browser';
      } catch {
        /* gone */
      }
      byType[type] = (byType[type] ?? 0) + (cpu.get(c) ?? 0);
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${c}/status`, 'utf8'));
        if (m) rss += Number(m[1]) * 1024;
      } catch {
        /* gone */
      }
      walk(c);
    }
  };
  walk(root);
  return { rss, cpuS, byType };
}

const treeRss = (root: number, exclude: Set<number>) => treeStats(root, exclude).rss;
const treeCpu = (root: number, exclude: Set<number>) => treeStats(root, exclude);

/** CPU seconds between two samples, in total and per Chromium process type (renderer = page + workers). */
function cpuBetween(a: ReturnType<typeof treeCpu>, b: ReturnType<typeof treeCpu>): { total: number; text: string } {
  const types = [...new Set([...Object.keys(a.byType), ...Object.keys(b.byType)])];
  const parts = types
    .map((t) => [t, (b.byType[t] ?? 0) - (a.byType[t] ?? 0)] as const)
    .filter(([, v]) => v >= 0.05)
    .sort((x, y) => y[1] - x[1])
    .map(([t, v]) => `${t} ${v.toFixed(1)}`);
  return { total: b.cpuS - a.cpuS, text: parts.join(', ') };
}

const state = (page: Page) => page.evaluate(() => window.cxrLabTrain!.state()) as Promise<TrainerState>;

async function main(): Promise<void> {
  if (!hasData()) {
    log(skipReason());
    process.exit(2);
  }
  const modelDir = pickModelDir();
  log(`model: ${path.relative(REPO_ROOT, modelDir) || modelDir}   backend: ${BACKEND}   images: ${N_IMAGES} (${CLASSES.join(', ')})   head epochs: ${EPOCHS}`);
  await build(modelDir);
  const { dir, count, perClass } = makeDataset();
  log(
    `data: ${Object.entries(perClass)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ')}`,
  );
  const server = await preview();
  const browser = await launchBrowser(['--enable-precise-memory-info', '--js-flags=--expose-gc']);
  const exclude = new Set([server.child.pid!]);
  let peakRss = 0;
  let peakPageHeap = 0;
  let peakWorkerBytes = 0;
  let peakWasmHeap = 0;
  let page: Page | null = null;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, treeRss(process.pid, exclude));
    if (page) {
      page
        .evaluate(async () => {
          const mem = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
          const w = await window.cxrLabTrain?.memory().catch(() => null);
          return { heap: mem?.usedJSHeapSize ?? 0, worker: w?.peakNumBytes ?? 0, wasm: w?.wasmHeapBytes ?? 0 };
        })
        .then((m) => {
          peakPageHeap = Math.max(peakPageHeap, m.heap);
          peakWorkerBytes = Math.max(peakWorkerBytes, m.worker);
          peakWasmHeap = Math.max(peakWasmHeap, m.wasm);
        })
        .catch(() => {});
    }
  }, 250);
  try {
    const context = await browser.newContext();
    await context.addInitScript(() => localStorage.setItem('cxr-lab.notice-acknowledged.v1', 'yes'));
    page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    const tLoad = Date.now();
    await page.goto(`${server.url}?backend=${BACKEND}#/train`);
    await page.getByTestId('base-status').and(page.locator('[data-status="ready"], [data-status="error"]')).waitFor({ timeout: 180_000 });
    const s0 = await state(page);
    if (s0.base.status !== 'ready') throw new Error(`network failed to load: ${s0.base.error}`);
    log(
      `page + network ready in ${((Date.now() - tLoad) / 1000).toFixed(1)} s (backend ${s0.base.info!.backend.name} ${s0.base.info!.backend.details.join(', ')}, embedding ${s0.base.info!.embeddingDim}-d)`,
    );

    // Settings: 30 epochs, no early stopping (the benchmark wants every epoch).
    await page.getByTestId('epochs').fill(String(EPOCHS));
    await page.locator('.tr-advanced summary').click();
    await page.getByTestId('patience').fill('0');

    // Embedding: files handed over → every image embedded.
    const load0 = os.loadavg()[0];
    const cpu0 = treeCpu(process.pid, exclude);
    const tEmbed = Date.now();
    await page.getByTestId('dataset-folder-input').setInputFiles(dir);
    await page.waitForFunction(
      (n) => {
        const s = window.cxrLabTrain!.state();
        return s.images.length >= n && s.images.every((im) => im.status !== 'queued');
      },
      count,
      { timeout: 600_000, polling: 100 },
    );
    const embedS = (Date.now() - tEmbed) / 1000;
    const cpu1 = treeCpu(process.pid, exclude);
    const s1 = await state(page);
    const failed = s1.images.filter((im) => im.status === 'error').length;
    const st = s1.embed.stats!;

    // Training.
    const tTrain = Date.now();
    await page.getByTestId('train-button').click();
    await page.waitForFunction(() => ['done', 'error'].includes(window.cxrLabTrain!.state().run.status), undefined, { timeout: 600_000, polling: 50 });
    const trainS = (Date.now() - tTrain) / 1000;
    const cpu2 = treeCpu(process.pid, exclude);
    const load1 = os.loadavg()[0];
    const s2 = await state(page);
    if (s2.run.status !== 'done' || !s2.run.result) throw new Error(`training failed: ${s2.run.error}`);
    const r = s2.run.result;
    const last = r.history[r.history.length - 1];
    const mem = await page.evaluate(() => window.cxrLabTrain!.memory());
    peakRss = Math.max(peakRss, treeRss(process.pid, exclude));

    const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
    log('');
    log(`embedding: ${count} images (${failed} skipped) in ${embedS.toFixed(2)} s = ${(count / embedS).toFixed(1)} img/s`);
    log(
      `  workers busy (summed over lanes): decode+preprocess ${(st.decodeMs / 1000).toFixed(2)} s, embed ${(st.embedMs / 1000).toFixed(2)} s (${(st.embedMs / Math.max(1, st.processed)).toFixed(1)} ms/img); ${st.helpers} embedding helper worker(s) did ${st.byHelpers} of ${st.processed} images`,
    );
    log(`training: ${r.history.length} head epochs on ${s2.run.trainCount} train / ${s2.run.valIds.length} val embeddings in ${trainS.toFixed(2)} s`);
    log(
      `  worker: head ${(r.timings.headMs / 1000).toFixed(2)} s (${(r.timings.headMs / r.history.length).toFixed(0)} ms/epoch), compose ${(r.timings.composeMs / 1000).toFixed(2)} s, calibrate ${(r.timings.calibrateMs / 1000).toFixed(2)} s; final train acc ${(last.trainAcc * 100).toFixed(1)}%, val acc ${((last.valAcc ?? NaN) * 100).toFixed(1)}%, kept epoch ${r.keptEpoch}`,
    );
    log(
      `memory: peak Chromium RSS ${mb(peakRss)}, peak page JS heap ${mb(peakPageHeap)}, worker tf peak ${mb(Math.max(peakWorkerBytes, mem.peakNumBytes))}, wasm heap ${mem.wasmHeapBytes ? mb(Math.max(peakWasmHeap, mem.wasmHeapBytes)) : 'n/a'}, tensors after ${mem.numTensors}`,
    );
    // Other processes compete for the cores on a shared machine: the browser's own CPU time tells how
    // much work the run needed, whatever the wall clock says.
    const cpuEmbed = cpuBetween(cpu0, cpu1);
    const cpuTrain = cpuBetween(cpu1, cpu2);
    log(
      `cpu: Chromium used ${cpuEmbed.total.toFixed(1)} CPU-s embedding (${cpuEmbed.text}) + ${cpuTrain.total.toFixed(1)} CPU-s training (${cpuTrain.text}) on ${os.cpus().length} cores; machine load average ${load0.toFixed(1)} → ${load1.toFixed(1)}`,
    );
    if (problems.length) log(`page problems: ${problems.join(' | ')}`);
    const total = embedS + trainS;
    const json = arg('json', '');
    if (json) {
      fs.writeFileSync(
        json,
        JSON.stringify(
          {
            images: count,
            failed,
            embedSeconds: embedS,
            trainSeconds: trainS,
            totalSeconds: total,
            embedCpuSeconds: cpuEmbed.total,
            trainCpuSeconds: cpuTrain.total,
            loadAverage: [load0, load1],
            epochs: r.history.length,
            backend: mem.backend,
            peakRssBytes: peakRss,
            peakPageHeapBytes: peakPageHeap,
            workerPeakTfBytes: Math.max(peakWorkerBytes, mem.peakNumBytes),
            wasmHeapBytes: mem.wasmHeapBytes,
            model: modelDir,
          },
          null,
          2,
        ),
      );
    }
    log(`finetune-${count}: ${total.toFixed(1)} s`);
  } finally {
    clearInterval(sampler);
    await browser.close();
    server.child.kill('SIGTERM');
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
