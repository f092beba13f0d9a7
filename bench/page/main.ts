// Bench-only page: reads the parameters from the query string, runs the timing in a worker (as the
// app runs its model in a worker) and leaves the result on window.cxrBench for bench/bench.ts.
import type { BackendName } from '../../src/ml/backend';
import type { BenchRequest, BenchResponse, BenchResult } from './protocol';

declare global {
  interface Window {
    cxrBench?: { done: boolean; result: BenchResult | null; error: string | null; log: string[] };
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
  backend: (q.get('backend') ?? 'wasm') as BackendName,
  modelUrl: new URL(q.get('model') ?? 'model/', document.baseURI).href,
  warmup: num('warmup', 5),
  runs: num('runs', 50),
  batch: num('batch', 16),
  batches: num('batches', 3),
  batchWarmup: q.get('batchWarmup') !== '0',
};
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
