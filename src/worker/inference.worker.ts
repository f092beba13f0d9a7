/// <reference lib="webworker" />
// The inference worker: owns tfjs in the browser. A file arrives as a Blob; it is read, decoded,
// preprocessed and classified here, and only the prediction and the model-input thumbnail go back,
// so the page never blocks on decoding or on the GPU.
import * as tf from '@tensorflow/tfjs-core';
import { Classifier } from '../ml/classifier';
import { ModelLoadError, loadModelFiles, type FileReader } from '../ml/io';
import { initBrowserBackend, type BackendInfo } from '../ml/backend';
import { decodeImageFile } from '../ml/decode-browser';
import { ImageDecodeError } from '../ml/decode';
import { inputToGray8, preprocessDecoded } from '../ml/preprocess';
import type { ClassifyResult, ErrorKind, LoadPhase, ModelInfo, ModelSource, WorkerRequest, WorkerResponse } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

let classifier: Classifier | null = null;
let backend: BackendInfo | null = null;

function post(msg: WorkerResponse, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

function progress(id: number, phase: LoadPhase, fraction: number | null, extra: { loadedBytes?: number; totalBytes?: number } = {}): void {
  post({ type: 'progress', id, phase, fraction, ...extra });
}

/** Fetch-backed reader for a model folder URL; reports byte progress of the weight shards. */
function urlReader(baseUrl: string, onBytes: (path: string, loaded: number, total: number | null) => void): FileReader {
  return async (rel) => {
    const url = new URL(rel, baseUrl).href;
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new Error(`network error (${(e as Error).message}); are you offline before the first visit finished caching?`);
    }
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText} for ${url}`);
    const total = Number(res.headers.get('content-length')) || null;
    if (!res.body) return new Uint8Array(await res.arrayBuffer());
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let loaded = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      onBytes(rel, loaded, total);
    }
    const out = new Uint8Array(loaded);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.byteLength;
    }
    return out;
  };
}

function artifactsReader(files: Record<string, Uint8Array>): FileReader {
  return async (rel) => {
    const f = files[rel];
    if (!f) throw new Error(`${rel} is not among the model files given (${Object.keys(files).join(', ')})`);
    return f;
  };
}

async function load(id: number, source: ModelSource, order: WorkerRequest & { type: 'load' }): Promise<ModelInfo> {
  const t0 = performance.now();
  progress(id, 'backend', null);
  if (!backend) backend = await initBrowserBackend(order.backends);
  progress(id, 'metadata', null);
  let weightBytes = 0;
  const read =
    source.kind === 'url'
      ? urlReader(source.baseUrl, (path, loaded, total) => {
          if (path.endsWith('.json')) return;
          progress(id, 'weights', total ? loaded / total : null, { loadedBytes: loaded, totalBytes: total ?? undefined });
        })
      : artifactsReader(source.files);
  const counting: FileReader = async (rel) => {
    const bytes = await read(rel);
    if (!rel.endsWith('.json')) weightBytes += bytes.byteLength;
    return bytes;
  };
  const { model, metadata } = await loadModelFiles(counting, (f) => progress(id, 'weights', f));
  const next = new Classifier(model, metadata);
  classifier?.dispose();
  classifier = next;
  const loadMs = performance.now() - t0;
  let warmupMs = 0;
  if (order.warmup !== false) {
    // First run compiles the WebGL shaders / wasm kernels; do it now, not on the user's image.
    progress(id, 'warmup', null);
    const t1 = performance.now();
    const s = metadata.preprocessing.inputSize;
    await next.predict([new Float32Array(s * s)]);
    warmupMs = performance.now() - t1;
  }
  return {
    metadata,
    backend,
    sourceKind: source.kind,
    sourceLabel: source.kind === 'url' ? source.baseUrl : source.label,
    weightBytes,
    loadMs,
    warmupMs,
  };
}

async function classify(req: WorkerRequest & { type: 'classify' }): Promise<ClassifyResult> {
  const c = classifier;
  if (!c || !backend) throw Object.assign(new Error('no model loaded'), { kind: 'not-loaded' as ErrorKind });
  const t0 = performance.now();
  const bytes = req.file instanceof Uint8Array ? req.file : new Uint8Array(await req.file.arrayBuffer());
  const t1 = performance.now();
  const { image, format } = await decodeImageFile(bytes);
  const t2 = performance.now();
  const spec = c.metadata.preprocessing;
  const input = preprocessDecoded(image, spec);
  const t3 = performance.now();
  const out = await c.predict([input]);
  const t4 = performance.now();
  return {
    name: req.name,
    format,
    width: image.width,
    height: image.height,
    bitDepth: image.bitDepth,
    prediction: out.predictions[0],
    thumbnail: { size: spec.inputSize, gray: inputToGray8(input, spec) },
    embedding: req.options?.embedding ? out.embeddings[0] : undefined,
    timings: { readMs: t1 - t0, decodeMs: t2 - t1, preprocessMs: t3 - t2, inferenceMs: t4 - t3, totalMs: t4 - t0 },
    backend: backend.name,
  };
}

function errorOf(e: unknown): { kind: ErrorKind; message: string } {
  if (e instanceof ImageDecodeError) return { kind: 'image', message: e.reason };
  if (e instanceof ModelLoadError) return { kind: 'model', message: e.message };
  const kind = (e as { kind?: ErrorKind }).kind ?? 'internal';
  return { kind, message: (e as Error)?.message ?? String(e) };
}

// Requests are handled one at a time, in order: the GPU is one resource, and the page decides the
// pace (it sends the next file when a result comes back, which is also how a batch is cancelled).
let queue: Promise<void> = Promise.resolve();

self.onmessage = (ev: MessageEvent<WorkerRequest>) => {
  const req = ev.data;
  queue = queue.then(() => handle(req));
};

async function handle(req: WorkerRequest): Promise<void> {
  try {
    switch (req.type) {
      case 'load': {
        try {
          const info = await load(req.id, req.source, req);
          post({ type: 'loaded', id: req.id, info });
        } catch (e) {
          const err = errorOf(e);
          post({ type: 'error', id: req.id, error: { kind: err.kind === 'internal' ? 'model' : err.kind, message: err.message } });
        }
        return;
      }
      case 'classify': {
        const result = await classify(req);
        const transfer: Transferable[] = [result.thumbnail.gray.buffer as ArrayBuffer];
        if (result.embedding) transfer.push(result.embedding.buffer as ArrayBuffer);
        post({ type: 'result', id: req.id, result }, transfer);
        return;
      }
      case 'memory': {
        const m = tf.memory();
        post({ type: 'memory', id: req.id, memory: { numTensors: m.numTensors, numBytes: m.numBytes, numDataBuffers: m.numDataBuffers, backend: tf.getBackend() ?? null } });
        return;
      }
      case 'preprocess': {
        if (!classifier) throw Object.assign(new Error('no model loaded (its metadata defines the preprocessing)'), { kind: 'not-loaded' as ErrorKind });
        const bytes = req.file instanceof Uint8Array ? req.file : new Uint8Array(await req.file.arrayBuffer());
        const { image, format } = await decodeImageFile(bytes);
        const input = preprocessDecoded(image, classifier.metadata.preprocessing);
        post({ type: 'preprocessed', id: req.id, result: { input, format, width: image.width, height: image.height, bitDepth: image.bitDepth } }, [input.buffer as ArrayBuffer]);
        return;
      }
      case 'unload': {
        classifier?.dispose();
        classifier = null;
        post({ type: 'unloaded', id: req.id });
        return;
      }
    }
  } catch (e) {
    post({ type: 'error', id: req.id, error: errorOf(e) });
  }
}
