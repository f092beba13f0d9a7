/// <reference lib="webworker" />
// Times the shipped model and the reference MobileNetV2 (alpha 0.35, 224×224×3, random weights) on
// one backend, in one worker, interleaved, so that both see the same machine state. The shipped
// model runs through the app's own code (src/ml/backend.ts, io.ts, classifier.ts): the same backend
// set-up and the same forward pass (logits + embedding) the inference worker does per image.
import * as tf from '@tensorflow/tfjs';
import { initBrowserBackend } from '../../src/ml/backend';
import { Classifier } from '../../src/ml/classifier';
import { buildMobileNetV2 } from '../lib/mobilenet-v2';
import { stats } from '../lib/stats';
import type { BenchRequest, BenchResponse, BenchResult, ModelTiming } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

const post = (m: BenchResponse) => self.postMessage(m);
const say = (message: string) => post({ type: 'progress', message });

function pseudoRandom(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296;
  }
  return out;
}

function webglRenderer(): string | null {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2') as WebGL2RenderingContext | null;
    if (!gl) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  } catch {
    return null;
  }
}

/**
 * WebGPU is not one of the app's backends (src/ml/backend.ts: it was measured slower than WebGL;
 * bench/README.md, "WebGPU"), so the bench registers it itself to keep measuring it
 * (`npm run bench -- --backends webgpu,webgl`; tfjs-backend-webgpu is a dev dependency).
 */
async function initWebGpu(): Promise<{ name: 'webgpu'; details: string[] }> {
  if (!(navigator as unknown as { gpu?: unknown }).gpu) throw new Error('WebGPU is not available in this browser');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend did not initialise');
  await tf.ready();
  return { name: 'webgpu', details: [] };
}

/** The WebGPU adapter's vendor and architecture (e.g. "google swiftshader" without a GPU). */
async function webgpuAdapter(): Promise<string | null> {
  try {
    const gpu = (
      navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null> } }
    ).gpu;
    const a = await gpu?.requestAdapter();
    if (!a) return null;
    return [a.info?.vendor, a.info?.architecture, a.info?.description].filter(Boolean).join(' ') || 'unknown adapter';
  } catch {
    return null;
  }
}

async function time(run: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
}

async function bench(req: BenchRequest): Promise<BenchResult> {
  const tStart = performance.now();
  const backend = req.backend === 'webgpu' ? await initWebGpu() : await initBrowserBackend([req.backend]);
  say(`backend ${backend.name} ${backend.details.join(', ')}`);

  const read = async (rel: string) => {
    const res = await fetch(new URL(rel, req.modelUrl));
    if (!res.ok) throw new Error(`HTTP ${res.status} for ${rel}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  const ours = await Classifier.load(read);
  const { model, metadata } = ours;
  const reference = buildMobileNetV2({ alpha: 0.35, inputSize: 224, channels: 3, classes: metadata.classNames.length });
  const s = ours.inputSize;
  const R = 224;

  // Inputs are made once; every run uploads them, runs the model and reads the outputs back.
  const oursIn1 = [pseudoRandom(s * s, 1)];
  const oursInB = Array.from({ length: req.batch }, (_, i) => pseudoRandom(s * s, 100 + i));
  const refIn1 = pseudoRandom(R * R * 3, 2);
  const refInB = pseudoRandom(req.batch * R * R * 3, 3);
  const runOurs = (inputs: Float32Array[]) => async () => {
    await ours.predict(inputs);
  };
  const runRef = (x: Float32Array, n: number) => async () => {
    const out = tf.tidy(() => reference.predict(tf.tensor4d(x, [n, R, R, 3])) as tf.Tensor);
    await out.data();
    out.dispose();
  };

  const tensorsBefore = tf.memory().numTensors;
  say(`warm-up: ${req.warmup} runs of each model at batch 1${req.batchWarmup ? `, one at batch ${req.batch}` : ''}`);
  const wOurs = await time(async () => {
    for (let i = 0; i < req.warmup; i++) await runOurs(oursIn1)();
    if (req.batchWarmup) await runOurs(oursInB)();
  });
  const wRef = await time(async () => {
    for (let i = 0; i < req.warmup; i++) await runRef(refIn1, 1)();
    if (req.batchWarmup) await runRef(refInB, req.batch)();
  });

  say(`latency: ${req.runs} timed batch-1 runs of each model, interleaved`);
  const latOurs: number[] = [];
  const latRef: number[] = [];
  for (let i = 0; i < req.runs; i++) {
    latOurs.push(await time(runOurs(oursIn1)));
    latRef.push(await time(runRef(refIn1, 1)));
  }
  say(`throughput: ${req.batches} timed batches of ${req.batch} of each model, interleaved`);
  const thOurs: number[] = [];
  const thRef: number[] = [];
  for (let i = 0; i < req.batches; i++) {
    thOurs.push(await time(runOurs(oursInB)));
    thRef.push(await time(runRef(refInB, req.batch)));
  }
  const tensorsAfter = tf.memory().numTensors;

  const timing = (name: string, inputShape: number[], params: number, lat: number[], th: number[]): ModelTiming => ({
    name,
    inputShape,
    params,
    latency: stats(lat),
    throughput: { batch: req.batch, batches: th.length, imagesPerSecond: (req.batch * th.length * 1000) / th.reduce((a, b) => a + b, 0), perBatch: stats(th) },
  });
  const o = timing(`${metadata.name}@${metadata.version}`, [1, s, s, 1], model.countParams(), latOurs, thOurs);
  const r = timing('MobileNetV2 alpha 0.35 + Teachable Machine head (random weights)', [1, R, R, 3], reference.countParams(), latRef, thRef);
  ours.dispose();
  reference.dispose();
  return {
    backend: backend.name,
    backendDetails: backend.details,
    renderer: req.backend === 'webgl' ? webglRenderer() : req.backend === 'webgpu' ? await webgpuAdapter() : null,
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    warmupMs: { ours: wOurs, reference: wRef },
    ours: o,
    reference: r,
    ratio: {
      latencyMedian: o.latency.medianMs / r.latency.medianMs,
      latencyP90: o.latency.p90Ms / r.latency.p90Ms,
      throughputTimePerImage: r.throughput.imagesPerSecond / o.throughput.imagesPerSecond,
    },
    tensors: { before: tensorsBefore, after: tensorsAfter },
    totalMs: performance.now() - tStart,
  };
}

self.onmessage = (ev: MessageEvent<BenchRequest>) => {
  bench(ev.data).then(
    (result) => post({ type: 'done', result }),
    (e: Error) => post({ type: 'error', message: e?.message ?? String(e) }),
  );
};
