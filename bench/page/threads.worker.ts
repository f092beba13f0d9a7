/// <reference lib="webworker" />
// One side of the threads comparison (bench/page/main.ts, ?mode=threads): the shipped model on
// wasm through the app's own code, threaded or single-threaded as asked. The page runs two of these
// and alternates timed runs between them, so both see the same machine state.
import { initBrowserBackend } from '../../src/ml/backend';
import { Classifier } from '../../src/ml/classifier';
import type { ThreadsReply, ThreadsRequest } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

let model: Classifier | null = null;
const inputs = new Map<number, Float32Array[]>();

function pseudoRandom(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296;
  }
  return out;
}

async function handle(req: ThreadsRequest): Promise<ThreadsReply> {
  if (req.type === 'init') {
    const backend = await initBrowserBackend(['wasm'], { threads: req.threads });
    const read = async (rel: string) => {
      const res = await fetch(new URL(rel, req.modelUrl));
      if (!res.ok) throw new Error(`HTTP ${res.status} for ${rel}`);
      return new Uint8Array(await res.arrayBuffer());
    };
    model = await Classifier.load(read);
    return { type: 'ready', details: backend.details, crossOriginIsolated: self.crossOriginIsolated };
  }
  if (!model) throw new Error('not initialised');
  const s = model.inputSize;
  let x = inputs.get(req.batch);
  if (!x) {
    x = Array.from({ length: req.batch }, (_, i) => pseudoRandom(s * s, 7 + i));
    inputs.set(req.batch, x);
  }
  const t0 = performance.now();
  await model.predict(x);
  return { type: 'ms', ms: performance.now() - t0 };
}

self.onmessage = (ev: MessageEvent<ThreadsRequest>) => {
  handle(ev.data).then(
    (r) => self.postMessage(r),
    (e: Error) => self.postMessage({ type: 'error', message: e?.message ?? String(e) } satisfies ThreadsReply),
  );
};
