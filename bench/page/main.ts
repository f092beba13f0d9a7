// Bench-only page: reads the parameters from the query string, runs the timing in a worker (as the
// app runs its model in a worker) and leaves the result on window.cxrBench for bench/bench.ts.
import { stats } from '../lib/stats';
import type { BenchBackend, BenchRequest, BenchResponse, BenchResult, ThreadsReply, ThreadsRequest, ThreadsResult } from './protocol';

declare global {
  interface Window {
    cxrBench?: { done: boolean; result: BenchResult | null; threads?: ThreadsResult; error: string | null; log: string[] };
  }
}

const state: NonNullable<Window['cxrBench']> = { done: false, result: null, error: null, log: [] };
window.cxrBench = state;
const logEl = document.getElementById('log')!;
const say = (m: string) => {
  state.log.push(m);
  logEl.textContent += m + '\n';
};

const q = new URLSearchParams(location.search);
const num = (k: string, d: number) => {
  const v = Number(q.get(k));
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : d;
};
const req: BenchRequest = {
  backend: (q.get('backend') ?? 'wasm') as BenchBackend,
  modelUrl: new URL(q.get('model') ?? 'model/', document.baseURI).href,
  warmup: num('warmup', 5),
  runs: num('runs', 50),
  batch: num('batch', 16),
  batches: num('batches', 3),
  batchWarmup: q.get('batchWarmup') !== '0',
};
if (q.get('mode') === 'threads') void threadsComparison();
else runModels();

function runModels(): void {
  say(`request ${JSON.stringify(req)}`);
  const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module', name: 'cxr-bench' });
  worker.onmessage = (ev: MessageEvent<BenchResponse>) => {
    const m = ev.data;
    if (m.type === 'progress') say(m.message);
    else if (m.type === 'done') {
      state.result = m.result;
      state.done = true;
      say('done');
    } else {
      state.error = m.message;
      state.done = true;
      say(`error: ${m.message}`);
    }
  };
  worker.onerror = (e) => {
    state.error = `worker error: ${e.message}`;
    state.done = true;
  };
  worker.postMessage(req);
}

/**
 * Threaded vs single-threaded wasm, interleaved: two workers hold the shipped model, one on the
 * threaded binary and one on the single-threaded one, and timed runs alternate between them
 * (threaded, single, threaded, …) so both see the same machine state.
 */
async function threadsComparison(): Promise<void> {
  try {
    const start = (threads: 'always' | false) => {
      const w = new Worker(new URL('./threads.worker.ts', import.meta.url), { type: 'module', name: `cxr-bench-threads-${threads}` });
      const call = (m: ThreadsRequest) =>
        new Promise<ThreadsReply>((resolve, reject) => {
          w.onmessage = (ev: MessageEvent<ThreadsReply>) => (ev.data.type === 'error' ? reject(new Error(ev.data.message)) : resolve(ev.data));
          w.onerror = (e) => reject(new Error(`worker error: ${e.message}`));
          w.postMessage(m);
        });
      return call;
    };
    const threaded = start('always');
    const single = start(false);
    const [a, b] = await Promise.all([
      threaded({ type: 'init', modelUrl: req.modelUrl, threads: 'always' }),
      single({ type: 'init', modelUrl: req.modelUrl, threads: false }),
    ]);
    if (a.type !== 'ready' || b.type !== 'ready') throw new Error('workers did not start');
    say(`threaded: ${a.details.join(', ')}; single: ${b.details.join(', ')}; crossOriginIsolated ${a.crossOriginIsolated}`);
    const time = async (call: typeof threaded, batch: number) => {
      const r = await call({ type: 'run', batch });
      if (r.type !== 'ms') throw new Error('no timing');
      return r.ms;
    };
    for (let i = 0; i < req.warmup; i++) {
      await time(threaded, 1);
      await time(single, 1);
    }
    await time(threaded, req.batch);
    await time(single, req.batch);
    const lat: [number[], number[]] = [[], []];
    for (let i = 0; i < req.runs; i++) {
      lat[0].push(await time(threaded, 1));
      lat[1].push(await time(single, 1));
    }
    const per: [number[], number[]] = [[], []];
    for (let i = 0; i < req.batches; i++) {
      per[0].push((await time(threaded, req.batch)) / req.batch);
      per[1].push((await time(single, req.batch)) / req.batch);
    }
    const side = (details: string[], l: number[], p: number[]) => ({ details, latency: stats(l), batchPerImage: stats(p) });
    const t = side(a.details, lat[0], per[0]);
    const s = side(b.details, lat[1], per[1]);
    state.threads = {
      crossOriginIsolated: a.crossOriginIsolated,
      hardwareConcurrency: navigator.hardwareConcurrency,
      runs: req.runs,
      batch: req.batch,
      threaded: t,
      single: s,
      speedup: { latencyMedian: s.latency.medianMs / t.latency.medianMs, batchPerImage: s.batchPerImage.medianMs / t.batchPerImage.medianMs },
    };
    say('done');
  } catch (e) {
    state.error = (e as Error).message;
    say(`error: ${state.error}`);
  }
  state.done = true;
}
