/// <reference lib="webworker" />
// The inference worker: owns tfjs in the browser. A file arrives as a Blob; it is read, decoded,
// preprocessed and classified here, and only the prediction and the model-input thumbnail go back,
// so the page never blocks on decoding or on the GPU. Requests (InferenceRpc, protocol.ts) arrive
// through src/worker/rpc.ts; a cancelled one stops between the steps of an image.
import * as tf from '../ml/tf';
import { Classifier, type Prediction } from '../ml/classifier';
import { ModelLoadError, prefetchingReader, type FileReader } from '../ml/io';
import { initBrowserBackend, type BackendInfo } from '../ml/backend';
import { decodeImageFile } from '../image/decode-browser';
import { ImageDecodeError } from '../image/decode';
import { inputToGray8, preprocessDecoded } from '../image/preprocess';
import { prepareImage, type PreparedImage } from '../image/pipeline';
import { warmupJpegBytes } from '../image/warmup-jpeg';
import { forgetGradCamModel, gradCam } from '../ml/gradcam';
import { covidScreen } from '../core/operating-point';
import {
  GRADCAM_PREVIEW_SIDE,
  type BatchItemResult,
  type ClassifyItem,
  type ClassifyOptions,
  type ClassifyResult,
  type ErrorKind,
  type GradCamPayload,
  type InferenceRpc,
  type LoadPhase,
  type LoadRequest,
  type ModelInfo,
  type WorkCounters,
} from './protocol';
import { abortError, serve, type HandlerContext } from './rpc';

declare const self: DedicatedWorkerGlobalScope;

// Wall-clock time (ms since the epoch) for ModelInfo.phases; this line runs once the worker's scripts are evaluated.
const wallClock = () => performance.timeOrigin + performance.now();
const scriptsReadyAt = wallClock();

let classifier: Classifier | null = null;
let backend: BackendInfo | null = null;

// The model input and original geometry of recent results, so that a Grad-CAM request needs only the
// result id (no re-upload, no second decode). Least recently used first; about 64 KiB (input) plus
// at most GRADCAM_PREVIEW_SIDE² bytes (preview) each. Cleared when another model is loaded.
const KEEP_RESULTS = 64;
interface KeptResult {
  input: Float32Array;
  original: GradCamPayload['original'];
}
const kept = new Map<number, KeptResult>();
let nextResultId = 1;

function keepResult(entry: KeptResult): number {
  const resultId = nextResultId++;
  kept.set(resultId, entry);
  while (kept.size > KEEP_RESULTS) kept.delete(kept.keys().next().value as number);
  return resultId;
}

function forgetResults(): void {
  kept.clear();
}

const counters: WorkCounters = { imagesClassified: 0, requestsAborted: 0 };

/** Throws the AbortError when the page cancelled this request (checked between the steps of an image). */
function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

// A cancel is a message: it lands only between tasks, not between the microtasks of one request.
// Yielding one task (a MessageChannel round trip, well under a millisecond) before the model run
// lets a cancel that came during decoding stop the request before its most expensive step.
const yieldChannel = new MessageChannel();
const yieldWaiting: (() => void)[] = [];
yieldChannel.port1.onmessage = () => yieldWaiting.shift()?.();
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    yieldWaiting.push(resolve);
    yieldChannel.port2.postMessage(null);
  });
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

async function load(order: LoadRequest, ctx: HandlerContext<InferenceRpc['load']['progress']>): Promise<ModelInfo> {
  const { source } = order;
  const progress = (phase: LoadPhase, fraction: number | null, extra: { loadedBytes?: number; totalBytes?: number } = {}) =>
    ctx.progress({ phase, fraction, ...extra });
  const t0 = performance.now();
  progress('backend', null);
  let weightBytes = 0;
  // The model files download while the backend initialises (compiling the wasm binary or the
  // WebGL context takes as long as the download); nothing waits for the other.
  const read = prefetchingReader(
    source.kind === 'url'
      ? urlReader(source.baseUrl, (path, loaded, total) => {
          if (path.endsWith('.json')) return;
          progress('weights', total ? loaded / total : null, { loadedBytes: loaded, totalBytes: total ?? undefined });
        })
      : artifactsReader(source.files),
  );
  if (!backend) backend = await initBrowserBackend(order.backends, { threads: order.threads });
  const backendReadyAt = wallClock();
  // (Downloads went on meanwhile; this waits for the rest, so the phases say which step was last.)
  const filesReadyAt = await Promise.all([read('model.json'), read('metadata.json')]).then(wallClock, wallClock);
  progress('metadata', null);
  const counting: FileReader = async (rel) => {
    const bytes = await read(rel);
    if (!rel.endsWith('.json')) weightBytes += bytes.byteLength;
    return bytes;
  };
  const next = await Classifier.load(counting, (f) => progress('weights', f));
  const { metadata } = next;
  if (classifier) {
    forgetGradCamModel(classifier.model);
    classifier.dispose();
  }
  classifier = next;
  forgetResults();
  const loadMs = performance.now() - t0;
  const modelBuiltAt = wallClock();
  let warmupMs = 0;
  // Let requests already posted to the worker arrive first (building the model held the thread): an
  // image that came meanwhile then counts as waiting, and it warms the kernels instead of a dummy.
  await nextTask();
  if (order.warmup !== false && imagesWaiting === 0) {
    // First run compiles the WebGL shaders / wasm kernels; do it now, not on the user's image. The
    // image path too: the first decode and preprocessing run cold JavaScript (several times slower
    // than the next), so a tiny synthetic JPEG goes through them first.
    progress('warmup', null);
    const t1 = performance.now();
    try {
      const { image } = await decodeImageFile(warmupJpegBytes());
      prepareImage(image, metadata.preprocessing, { layoutTemplate: next.layoutTemplate, previewSide: GRADCAM_PREVIEW_SIDE });
    } catch {
      // Only a warm-up: the user's image reports its own errors.
    }
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
    phases: { workerCreatedAt: performance.timeOrigin, scriptsReadyAt, backendReadyAt, filesReadyAt, modelBuiltAt, warmedUpAt: wallClock() },
  };
}

interface Prepared {
  name: string;
  format: ClassifyResult['format'];
  /** prepareImage's output (input, features, crop geometry, preview, DICOM facts). */
  image: PreparedImage;
  readMs: number;
  decodeMs: number;
  preprocessMs: number;
}

function loaded(): Classifier {
  if (!classifier || !backend) throw Object.assign(new Error('no model loaded'), { kind: 'not-loaded' as ErrorKind });
  return classifier;
}

interface Decoded {
  image: Awaited<ReturnType<typeof decodeImageFile>>['image'];
  format: ClassifyResult['format'];
  readMs: number;
  decodeMs: number;
}

/** Read and decode one file (needs no model). */
async function readAndDecode(file: Blob | Uint8Array, signal?: AbortSignal): Promise<Decoded> {
  const t0 = performance.now();
  checkSignal(signal);
  const bytes = file instanceof Uint8Array ? file : new Uint8Array(await file.arrayBuffer());
  checkSignal(signal);
  const t1 = performance.now();
  const { image, format } = await decodeImageFile(bytes);
  checkSignal(signal);
  return { image, format, readMs: t1 - t0, decodeMs: performance.now() - t1 };
}

/**
 * Read, decode and preprocess one file (everything before the model runs). `early`: the file's
 * decoding, started when it arrived during a model load (see the classify handler).
 */
async function prepare(
  c: Classifier,
  name: string,
  file: Blob | Uint8Array,
  options: ClassifyOptions | undefined,
  signal?: AbortSignal,
  early?: Promise<Decoded> | null,
): Promise<Prepared> {
  const { image, format, readMs, decodeMs } = await (early ?? readAndDecode(file, signal));
  checkSignal(signal);
  const t2 = performance.now();
  // The one pipeline: model input (audit-masked when asked), the OOD statistics of the decoded image
  // (colour is only visible here, before the conversion to grey), the Grad-CAM preview.
  const prepared = prepareImage(image, c.metadata.preprocessing, {
    layoutTemplate: c.layoutTemplate,
    auditMask: options?.auditMask,
    previewSide: GRADCAM_PREVIEW_SIDE,
  });
  const t3 = performance.now();
  return { name, format, image: prepared, readMs, decodeMs, preprocessMs: t3 - t2 };
}

/** The result of a prepared image once the model has run (`inferenceMs`: its share of the run). */
function finish(c: Classifier, p: Prepared, prediction: Prediction, embedding: Float32Array | undefined, inferenceMs: number): ClassifyResult {
  const spec = c.metadata.preprocessing;
  const im = p.image;
  const preview = im.preview!;
  const resultId = keepResult({
    input: im.input,
    original: { width: im.width, height: im.height, crop: im.region, preview: { width: preview.width, height: preview.height, gray: preview.data } },
  });
  return {
    resultId,
    name: p.name,
    format: p.format,
    width: im.width,
    height: im.height,
    bitDepth: im.bitDepth,
    prediction,
    covidScreen: covidScreen(prediction.probabilities, c.classNames, c.metadata.trust),
    thumbnail: { size: spec.inputSize, gray: inputToGray8(im.input, spec) },
    embedding,
    timings: {
      readMs: p.readMs,
      decodeMs: p.decodeMs,
      preprocessMs: p.preprocessMs,
      inferenceMs,
      totalMs: p.readMs + p.decodeMs + p.preprocessMs + inferenceMs,
    },
    backend: backend!.name,
    ...(im.dicom ? { dicom: im.dicom } : {}),
  };
}

async function classify(req: ClassifyItem & { options?: ClassifyOptions }, signal: AbortSignal, early: Promise<Decoded> | null): Promise<ClassifyResult> {
  const c = loaded();
  const p = await prepare(c, req.name, req.file, req.options, signal, early);
  await nextTask();
  checkSignal(signal);
  const t0 = performance.now();
  const out = await c.predict([p.image.input], { features: [p.image.features], dicom: [p.image.dicom] });
  const inferenceMs = performance.now() - t0;
  counters.imagesClassified++;
  checkSignal(signal);
  return finish(c, p, out.predictions[0], req.options?.embedding ? out.embeddings[0] : undefined, inferenceMs);
}

/**
 * Several files, one model run: each is read, decoded and preprocessed as `classify` does, then
 * the readable ones are predicted as one batch (a file that cannot be decoded gets its error and
 * does not stop the others). Each result's inferenceMs is its equal share of the batch's run.
 */
async function classifyBatch(req: { items: ClassifyItem[]; options?: ClassifyOptions }, signal: AbortSignal): Promise<BatchItemResult[]> {
  const c = loaded();
  const out: BatchItemResult[] = [];
  const ready: { at: number; p: Prepared }[] = [];
  for (const item of req.items) {
    try {
      ready.push({ at: out.length, p: await prepare(c, item.name, item.file, req.options, signal) });
      out.push({ ok: false, error: { kind: 'internal', message: 'not run' } });
    } catch (e) {
      if (signal.aborted) throw abortError(signal);
      out.push({ ok: false, error: errorOf(e) });
    }
  }
  if (ready.length === 0) return out;
  await nextTask();
  checkSignal(signal);
  const t0 = performance.now();
  const run = await c.predict(
    ready.map((r) => r.p.image.input),
    { features: ready.map((r) => r.p.image.features), dicom: ready.map((r) => r.p.image.dicom) },
  );
  const share = (performance.now() - t0) / ready.length;
  counters.imagesClassified += ready.length;
  checkSignal(signal);
  ready.forEach(
    (r, i) => (out[r.at] = { ok: true, result: finish(c, r.p, run.predictions[i], req.options?.embedding ? run.embeddings[i] : undefined, share) }),
  );
  return out;
}

/** Grad-CAM of a kept result on the loaded model's metadata.layers.lastConv (tidy: no tensor survives). */
function explain(req: InferenceRpc['gradcam']['request']): GradCamPayload {
  const c = classifier;
  if (!c) throw Object.assign(new Error('no model loaded'), { kind: 'not-loaded' as ErrorKind });
  const entry = kept.get(req.resultId);
  if (!entry) {
    throw Object.assign(
      new Error('this result is no longer kept in memory (older results are dropped, and all of them when another model is loaded); add the image again'),
      {
        kind: 'expired' as ErrorKind,
      },
    );
  }
  // Most recently used last.
  kept.delete(req.resultId);
  kept.set(req.resultId, entry);
  const k = c.classNames.length;
  if (req.classIndex !== undefined && !(Number.isInteger(req.classIndex) && req.classIndex >= 0 && req.classIndex < k)) {
    throw new Error(`class index ${req.classIndex} is not in 0..${k - 1}`);
  }
  const t0 = performance.now();
  const layers = { lastConv: c.metadata.layers.lastConv, logits: c.metadata.layers.logits };
  const r = gradCam(c.model, entry.input, layers, req.classIndex);
  return {
    resultId: req.resultId,
    classIndex: r.classIndex,
    heatmap: r.heatmap,
    width: r.width,
    height: r.height,
    rawMax: r.rawMax,
    inputSize: c.inputSize,
    original: entry.original,
    layer: layers.lastConv,
    ms: performance.now() - t0,
  };
}

function errorOf(e: unknown): { kind: ErrorKind; message: string } {
  if (e instanceof ImageDecodeError) return { kind: 'image', message: e.reason };
  if (e instanceof ModelLoadError) return { kind: 'model', message: e.message };
  const kind = (e as { kind?: ErrorKind }).kind ?? 'internal';
  return { kind, message: (e as Error)?.message ?? String(e) };
}

// Requests are handled one at a time, in order: the GPU is one resource, and the page decides the
// pace (it sends the next file when a result comes back). A request cancelled while it waits here
// never starts; one cancelled while it runs stops at its next check (checkSignal).
let queue: Promise<unknown> = Promise.resolve();
// Images queued behind a model load: when there is one, the load skips its warm-up run and the
// first real image warms the kernels instead of waiting behind a dummy input.
let imagesWaiting = 0;
// Model loads in progress. An image that arrives during one is read and decoded at once instead of
// when its turn comes: the load mostly waits (wasm compilation, downloads), and on a cold start the
// first image's decoding then fits in that wait rather than after it.
let modelLoads = 0;

function inOrder<T>(signal: AbortSignal, run: () => T | Promise<T>): Promise<T> {
  const p = queue.then(() => {
    checkSignal(signal);
    return run();
  });
  queue = p.catch(() => undefined);
  return p.catch((e: unknown) => {
    if (signal.aborted) counters.requestsAborted++;
    throw e;
  });
}

serve<InferenceRpc>(
  self,
  {
    load: (req, ctx) => {
      modelLoads++;
      return inOrder(ctx.signal, () =>
        load(req, ctx).catch((e: unknown) => {
          const err = errorOf(e);
          throw Object.assign(new Error(err.message), { kind: err.kind === 'internal' ? 'model' : err.kind });
        }),
      ).finally(() => modelLoads--);
    },
    classify: (req, { signal, transfer }) => {
      imagesWaiting++;
      const early = modelLoads > 0 ? readAndDecode(req.file, signal) : null;
      early?.catch(() => {}); // its error is reported when its turn comes
      return inOrder(signal, async () => {
        const result = await classify(req, signal, early);
        transfer(result.thumbnail.gray.buffer as ArrayBuffer);
        if (result.embedding) transfer(result.embedding.buffer as ArrayBuffer);
        return result;
      }).finally(() => imagesWaiting--);
    },
    classifyBatch: (req, { signal, transfer }) =>
      inOrder(signal, async () => {
        const results = await classifyBatch(req, signal);
        for (const r of results)
          if (r.ok) transfer(r.result.thumbnail.gray.buffer as ArrayBuffer, ...(r.result.embedding ? [r.result.embedding.buffer as ArrayBuffer] : []));
        return results;
      }),
    memory: (_, { signal }) =>
      inOrder(signal, () => {
        const m = tf.memory();
        return { numTensors: m.numTensors, numBytes: m.numBytes, numDataBuffers: m.numDataBuffers, backend: tf.getBackend() ?? null };
      }),
    // Answered at once (not queued): it reports on the queue's work.
    counters: () => ({ ...counters }),
    preprocess: (req, { signal, transfer }) =>
      inOrder(signal, async () => {
        if (!classifier) throw Object.assign(new Error('no model loaded (its metadata defines the preprocessing)'), { kind: 'not-loaded' as ErrorKind });
        const bytes = req.file instanceof Uint8Array ? req.file : new Uint8Array(await req.file.arrayBuffer());
        const { image, format } = await decodeImageFile(bytes);
        const input = preprocessDecoded(image, classifier.metadata.preprocessing);
        transfer(input.buffer as ArrayBuffer);
        return { input, format, width: image.width, height: image.height, bitDepth: image.bitDepth };
      }),
    gradcam: (req, { signal, transfer }) =>
      inOrder(signal, () => {
        const result = explain(req);
        transfer(result.heatmap.buffer as ArrayBuffer);
        return result;
      }),
    unload: (_, { signal }) =>
      inOrder(signal, () => {
        if (classifier) forgetGradCamModel(classifier.model);
        classifier?.dispose();
        classifier = null;
        forgetResults();
        return null;
      }),
  },
  { errorOf: (e) => errorOf(e) },
);
