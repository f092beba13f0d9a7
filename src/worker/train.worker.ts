/// <reference lib="webworker" />
// The training worker: owns tfjs for the Train page, so the page never blocks. It loads the shipped
// model as the frozen backbone, decodes → preprocesses → embeds each dropped image one at a time as
// soon as it arrives (keeping only the embedding and a 64 px thumbnail, so thousands of images fit),
// trains the new head (and optionally the last block) with per-epoch events, and keeps the composed
// model for preview, download and saving in IndexedDB.
import * as tf from '@tensorflow/tfjs';
import { initBrowserBackend, type BackendInfo } from '../ml/backend';
import { decodeImageFile, jpegComponents } from '../ml/decode-browser';
import { ImageDecodeError, jpegSize, sniffFormat } from '../ml/decode';
import { loadModelFiles, type FileReader } from '../ml/io';
import { inputToGray8, preprocessDecoded, resizeRegionArea, toGray8 } from '../ml/preprocess';
import { BASE_MARGIN, DEFAULT_AUGMENT, augmentToInput, makeAugmentBase } from '../ml/augment';
import {
  composeModel,
  createEmbedder,
  exportModelFiles,
  findLastBlock,
  macrotask,
  trainHead,
  trainLastBlock,
  trunkFeatures,
  type Embedder,
  type EpochLog,
  type HeadWeights,
  type LastBlock,
} from '../ml/finetune';
import { saveStoredModel, checkModelFiles } from '../ml/model-store';
import type { ModelMetadata } from '../core/metadata';
import type { Rng } from '../core/random';
import {
  THUMB_SIZE,
  type BaseInfo,
  type EmbedResult,
  type EmbedStats,
  type MemorySample,
  type TrainItem,
  type TrainMessage,
  type TrainRequest,
  type TrainResult,
  type TrainRun,
} from './train-protocol';

declare const self: DedicatedWorkerGlobalScope;

interface Base {
  model: tf.LayersModel;
  metadata: ModelMetadata;
  embedder: Embedder;
  block: LastBlock | null;
  info: BaseInfo;
}

let base: Promise<Base> | null = null;
let backend: BackendInfo | null = null;
let trained: { model: tf.LayersModel; metadata: ModelMetadata; result: TrainResult } | null = null;
let training = false;
let stopRequested = false;
let peakNumBytes = 0;

function post(msg: TrainMessage, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

function wasmHeapBytes(): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8?.buffer.byteLength ?? null;
}

function memorySample(): MemorySample {
  const m = tf.memory();
  peakNumBytes = Math.max(peakNumBytes, m.numBytes);
  return { numTensors: m.numTensors, numBytes: m.numBytes, wasmHeapBytes: wasmHeapBytes(), peakNumBytes, backend: tf.getBackend() ?? null };
}

// ---------------------------------------------------------------------------------------------
// Base model
// ---------------------------------------------------------------------------------------------

function urlReader(baseUrl: string): FileReader {
  return async (rel) => {
    const url = new URL(rel, baseUrl).href;
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new Error(`network error (${(e as Error).message})`);
    }
    if (!res.ok) throw new Error(`HTTP ${res.status} for ${url}`);
    return new Uint8Array(await res.arrayBuffer());
  };
}

async function loadBase(baseUrl: string, backends: TrainRequest & { type: 'init' }): Promise<Base> {
  const t0 = performance.now();
  backend ??= await initBrowserBackend(backends.backends);
  const { model, metadata } = await loadModelFiles(urlReader(baseUrl));
  const embedder = createEmbedder(model, metadata);
  const found = findLastBlock(model, metadata);
  const block = 'block' in found ? found.block : null;
  // Warm-up: compiles kernels / shaders now rather than on the first image.
  const s = metadata.preprocessing.inputSize;
  await embedder.embed([new Float32Array(s * s)]);
  const info: BaseInfo = {
    backend,
    metadata,
    embeddingDim: embedder.dim,
    lastBlockProblem: 'reason' in found ? found.reason : null,
    loadMs: performance.now() - t0,
  };
  return { model, metadata, embedder, block, info };
}

// ---------------------------------------------------------------------------------------------
// Images: decode → preprocess → embed, one at a time
// ---------------------------------------------------------------------------------------------

interface Stored {
  file: Blob;
  embedding?: Float32Array;
  error?: string;
}

const images = new Map<number, Stored>();
const queue: number[] = [];
let pumping: Promise<void> | null = null;
const stats: EmbedStats = { processed: 0, failed: 0, queued: 0, decodeMs: 0, embedMs: 0, wallMs: 0 };
let pendingResults: EmbedResult[] = [];
let pendingTransfer: Transferable[] = [];
let lastFlush = 0;

function flush(force = false): void {
  if (!pendingResults.length) return;
  if (!force && performance.now() - lastFlush < 100 && pendingResults.length < 32) return;
  stats.queued = queue.length;
  post({ type: 'embedded', results: pendingResults, stats: { ...stats } }, pendingTransfer);
  pendingResults = [];
  pendingTransfer = [];
  lastFlush = performance.now();
}

function errorReason(e: unknown): string {
  if (e instanceof ImageDecodeError) return e.reason;
  return (e as Error)?.message ?? String(e);
}

/** The 64 px thumbnail of a model input. */
function thumbnailOf(input: Float32Array, metadata: ModelMetadata): Uint8Array {
  const s = metadata.preprocessing.inputSize;
  const gray = { width: s, height: s, data: inputToGray8(input, metadata.preprocessing) };
  const small = resizeRegionArea(gray, { x: 0, y: 0, size: s }, THUMB_SIZE);
  const out = new Uint8Array(small.length);
  for (let i = 0; i < small.length; i++) out[i] = Math.round(small[i]);
  return out;
}

async function inputOf(file: Blob, metadata: ModelMetadata): Promise<Float32Array> {
  const { image } = await decodeImageFile(file);
  return preprocessDecoded(image, metadata.preprocessing);
}

let canvas: OffscreenCanvas | null = null;

/**
 * Fast path for embedding: JPEGs through the browser's own decoder (createImageBitmap decodes off
 * the worker's thread, so the next images decode while this one is embedded; several times faster
 * than jpeg-js). Its pixels differ from jpeg-js by ±1 on a few percent of pixels, which does not
 * matter for training; classification (preview, Classify page, Node) keeps the exact jpeg-js path.
 * Anything else, and any failure, goes through decodeImageFile (which gives the user-facing reasons).
 */
async function fastInputOf(file: Blob, metadata: ModelMetadata): Promise<Float32Array> {
  if (typeof createImageBitmap === 'function' && typeof OffscreenCanvas === 'function' && file.size > 0) {
    const head = new Uint8Array(await file.slice(0, 64 * 1024).arrayBuffer());
    const size = sniffFormat(head) === 'jpeg' && jpegComponents(head) !== 4 ? jpegSize(head) : null;
    if (size && size.width * size.height <= 40_000_000) {
      let bitmap: ImageBitmap | null = null;
      try {
        bitmap = await createImageBitmap(file.type === 'image/jpeg' ? file : new Blob([file], { type: 'image/jpeg' }), {
          imageOrientation: 'from-image',
          premultiplyAlpha: 'none',
          colorSpaceConversion: 'none',
        });
        canvas ??= new OffscreenCanvas(1, 1);
        if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
          canvas.width = bitmap.width;
          canvas.height = bitmap.height;
        }
        const ctx = canvas.getContext('2d', { willReadFrequently: true });
        if (ctx) {
          ctx.drawImage(bitmap, 0, 0);
          const { data, width, height } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
          return preprocessDecoded({ width, height, channels: 4, data, bitDepth: 8 }, metadata.preprocessing);
        }
      } catch {
        /* fall back to the exact decoder, which explains failures */
      } finally {
        bitmap?.close();
      }
    }
  }
  return inputOf(file, metadata);
}

/** Images decoded ahead of the one being embedded. */
const PREFETCH = 3;

interface Prepared {
  id: number;
  input?: Float32Array;
  error?: string;
  decodeMs: number;
}

async function prepare(id: number, file: Blob, metadata: ModelMetadata): Promise<Prepared> {
  const t0 = performance.now();
  try {
    const input = await fastInputOf(file, metadata);
    return { id, input, decodeMs: performance.now() - t0 };
  } catch (e) {
    return { id, error: errorReason(e), decodeMs: performance.now() - t0 };
  }
}

function pump(): Promise<void> {
  pumping ??= (async () => {
    const b = await base!;
    const wall0 = performance.now();
    const ahead: Promise<Prepared>[] = [];
    for (;;) {
      while (ahead.length < PREFETCH && queue.length) {
        const id = queue.shift()!;
        const item = images.get(id);
        if (!item || item.embedding || item.error) continue; // removed meanwhile, or done
        ahead.push(prepare(id, item.file, b.metadata));
      }
      if (!ahead.length) break;
      const p = await ahead.shift()!;
      const item = images.get(p.id);
      if (!item) continue;
      stats.decodeMs += p.decodeMs;
      if (p.input) {
        try {
          const t1 = performance.now();
          const [e] = await b.embedder.embed([p.input]);
          stats.embedMs += performance.now() - t1;
          item.embedding = e;
          const thumb = thumbnailOf(p.input, b.metadata);
          pendingResults.push({ id: p.id, thumb });
          pendingTransfer.push(thumb.buffer as ArrayBuffer);
        } catch (e) {
          p.error = errorReason(e);
        }
      }
      if (p.error) {
        item.error = p.error;
        stats.failed++;
        pendingResults.push({ id: p.id, error: p.error });
      }
      stats.processed++;
      stats.wallMs = performance.now() - wall0;
      if (stats.processed % 16 === 0) memorySample();
      flush();
    }
    stats.wallMs = performance.now() - wall0;
    memorySample();
    flush(true);
  })().finally(() => {
    pumping = null;
    if (queue.length) void pump();
  });
  return pumping;
}

async function embeddingsIdle(): Promise<void> {
  while (pumping || queue.length) await (pumping ?? pump());
}

// ---------------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------------

function gather(ids: number[], dim: number): Float32Array {
  const x = new Float32Array(ids.length * dim);
  ids.forEach((id, i) => {
    const e = images.get(id)?.embedding;
    if (!e) throw new Error(`image ${id} has no embedding (it was skipped or removed)`);
    x.set(e, i * dim);
  });
  return x;
}

/** Augmentation bases are cached up to this many bytes; beyond, images are decoded again. */
const BASE_CACHE_BYTES = 96 * 1024 * 1024;

async function train(run: TrainRun): Promise<TrainResult> {
  const b = await base!;
  await embeddingsIdle();
  const t0 = performance.now();
  const k = run.classNames.length;
  const dim = b.info.embeddingDim;
  const xTrain = gather(run.train.ids, dim);
  const xVal = gather(run.val.ids, dim);
  stopRequested = false;
  training = true;
  const history: EpochLog[] = [];
  const onEpoch = (log: EpochLog, valProbs: Float32Array | null) => {
    history.push(log);
    const copy = valProbs ? valProbs.slice() : null;
    post({ type: 'epoch', log, valProbs: copy, memory: memorySample() }, copy ? [copy.buffer as ArrayBuffer] : []);
  };
  const hooks = { onEpoch, shouldStop: () => stopRequested, yieldNow: macrotask };
  try {
    post({ type: 'stage', stage: 'head' });
    const headOut = await trainHead({
      train: { x: xTrain, labels: run.train.labels },
      val: run.val.ids.length ? { x: xVal, labels: run.val.labels } : undefined,
      dim,
      numClasses: k,
      config: run.head,
      hooks,
    });
    const tHead = performance.now();
    let head: HeadWeights = headOut.head;
    let keptEpoch = headOut.keptEpoch;
    let stopReason = headOut.stopReason;
    let valProbs = headOut.valProbs;
    let blockWeights: Float32Array[] | null = null;
    let tPrep = tHead;
    if (run.block && run.block.epochs > 0 && b.block && headOut.stopReason !== 'stopped' && keptEpoch > 0) {
      post({ type: 'stage', stage: 'block-prepare', detail: `${run.val.ids.length} validation images through the frozen layers` });
      const spec = b.metadata.preprocessing;
      const size = spec.inputSize;
      const valFeatures: Float32Array[] = [];
      for (const id of run.val.ids) {
        if (stopRequested) break;
        const input = await inputOf(images.get(id)!.file, b.metadata);
        valFeatures.push(...(await trunkFeatures(b.block, [input], size)));
      }
      tPrep = performance.now();
      if (!stopRequested) {
        post({ type: 'stage', stage: 'block' });
        const baseSize = Math.round(size * BASE_MARGIN);
        const cache = new Map<number, { pixels: Uint8Array; size: number }>();
        let cached = 0;
        const trainInput = async (i: number, rng: Rng) => {
          const id = run.train.ids[i];
          let aug = cache.get(id);
          if (!aug) {
            const { image } = await decodeImageFile(images.get(id)!.file);
            aug = makeAugmentBase(toGray8(image), spec, baseSize);
            if (cached + aug.pixels.byteLength <= BASE_CACHE_BYTES) {
              cache.set(id, aug);
              cached += aug.pixels.byteLength;
            }
          }
          return augmentToInput(aug, spec, DEFAULT_AUGMENT, rng);
        };
        const blockOut = await trainLastBlock({
          model: b.model,
          block: b.block,
          head,
          inputSize: size,
          numClasses: k,
          trainLabels: run.train.labels,
          trainInput,
          valFeatures,
          valLabels: run.val.labels,
          head_config: run.head,
          config: run.block,
          epochOffset: history.length ? history[history.length - 1].epoch : 0,
          hooks,
        });
        cache.clear();
        stopReason = blockOut.stopReason === 'stopped' ? 'stopped' : stopReason === 'early-stopped' ? 'early-stopped' : blockOut.stopReason;
        if (blockOut.history.length > 0) {
          head = blockOut.head;
          blockWeights = blockOut.blockWeights;
          keptEpoch = blockOut.keptEpoch;
          valProbs = blockOut.valProbs;
        }
      }
      if (stopRequested) stopReason = 'stopped';
    }
    const tBlock = performance.now();
    post({ type: 'stage', stage: 'compose' });
    const composed = await composeModel(b.model, b.metadata, head, {
      classNames: run.classNames,
      name: run.modelName,
      block: blockWeights && b.block ? { convName: b.block.convName, weights: blockWeights } : undefined,
      training: {
        date: new Date().toISOString(),
        seed: run.head.seed,
        backend: tf.getBackend(),
        epochs: history.length,
        bestEpoch: keptEpoch,
        trainingSeconds: (tBlock - t0) / 1000,
        data: `${run.train.ids.length} training + ${run.val.ids.length} validation images in ${k} classes, dropped on the Train page`,
        hyperparameters: { head: run.head, block: run.block, stopReason, base: `${b.metadata.name}@${b.metadata.version}`, ...(run.notes ?? {}) },
        history: history.map((h) => ({ epoch: h.epoch, trainLoss: h.trainLoss, trainAcc: h.trainAcc, valLoss: h.valLoss ?? NaN, valAcc: h.valAcc ?? NaN, seconds: h.seconds })),
      },
    });
    const tEnd = performance.now();
    const result: TrainResult = {
      history,
      keptEpoch,
      stopReason,
      valProbs,
      valIds: run.val.ids,
      metadata: composed.metadata,
      blockTuned: blockWeights !== null,
      timings: { headMs: tHead - t0, blockPrepareMs: tPrep - tHead, blockMs: tBlock - tPrep, composeMs: tEnd - tBlock, totalMs: tEnd - t0 },
      memory: memorySample(),
    };
    trained?.model.dispose();
    trained = { model: composed.model, metadata: composed.metadata, result };
    return result;
  } finally {
    training = false;
    stopRequested = false;
  }
}

async function predict(file: Blob): Promise<{ probabilities: number[]; thumb: Uint8Array }> {
  if (!trained) throw new Error('train a model first');
  const { model, metadata } = trained;
  const input = await inputOf(file, metadata);
  const s = metadata.preprocessing.inputSize;
  const out = tf.tidy(() => model.predict(tf.tensor4d(input, [1, s, s, 1])) as tf.Tensor);
  const probabilities = Array.from((await out.data()) as Float32Array);
  out.dispose();
  return { probabilities, thumb: thumbnailOf(input, metadata) };
}

async function modelFiles(): Promise<Record<string, Uint8Array>> {
  if (!trained) throw new Error('train a model first');
  return exportModelFiles(trained.model, trained.metadata);
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

function needBase(): Promise<Base> {
  if (!base) throw new Error('the training worker was not initialised');
  return base;
}

async function handle(req: TrainRequest): Promise<void> {
  try {
    switch (req.type) {
      case 'init': {
        if (!base) {
          base = loadBase(req.baseUrl, req);
          base.catch(() => (base = null));
        }
        const b = await base;
        post({ type: 'ready', id: req.id, info: b.info });
        return;
      }
      case 'add': {
        for (const it of req.items as TrainItem[]) {
          if (images.has(it.id)) continue;
          images.set(it.id, { file: it.file });
          queue.push(it.id);
        }
        stats.queued = queue.length;
        post({ type: 'ok', id: req.id });
        await needBase();
        void pump();
        return;
      }
      case 'remove': {
        for (const id of req.ids) images.delete(id);
        post({ type: 'ok', id: req.id });
        return;
      }
      case 'train': {
        if (training) throw new Error('a training run is already going on');
        await needBase();
        const result = await train(req.run);
        const probs = result.valProbs ? result.valProbs.slice() : null;
        post({ type: 'trained', id: req.id, result: { ...result, valProbs: probs } }, probs ? [probs.buffer as ArrayBuffer] : []);
        return;
      }
      case 'stop': {
        stopRequested = training;
        post({ type: 'ok', id: req.id });
        return;
      }
      case 'predict': {
        const { probabilities, thumb } = await predict(req.file);
        post({ type: 'prediction', id: req.id, probabilities, thumb }, [thumb.buffer as ArrayBuffer]);
        return;
      }
      case 'image': {
        const b = await needBase();
        const item = images.get(req.imageId);
        if (!item) throw new Error('that image is no longer loaded');
        const input = await inputOf(item.file, b.metadata);
        const gray = inputToGray8(input, b.metadata.preprocessing);
        post({ type: 'image', id: req.id, gray, size: b.metadata.preprocessing.inputSize }, [gray.buffer as ArrayBuffer]);
        return;
      }
      case 'export': {
        const files = await modelFiles();
        post({ type: 'files', id: req.id, files }, Object.values(files).map((f) => f.buffer as ArrayBuffer));
        return;
      }
      case 'save': {
        const files = await modelFiles();
        const r = trained!.result;
        const last = r.history.find((h) => h.epoch === r.keptEpoch);
        const summary = await saveStoredModel(req.name, files, {
          overwrite: req.overwrite,
          origin: 'trained',
          facts: last && last.valAcc !== null ? { 'validation accuracy': Math.round(last.valAcc * 1000) / 10 } : undefined,
        });
        post({ type: 'saved', id: req.id, summary });
        return;
      }
      case 'import': {
        // Loading it for real is the only complete check (shapes, shards, metadata agreement).
        checkModelFiles(req.files);
        await needBase();
        const { model } = await loadModelFiles(async (rel) => {
          const f = req.files[rel];
          if (!f) throw new Error(`${rel} is missing`);
          return f;
        });
        model.dispose();
        const summary = await saveStoredModel(req.name, req.files, { overwrite: req.overwrite, origin: 'imported' });
        post({ type: 'saved', id: req.id, summary });
        return;
      }
      case 'memory': {
        post({ type: 'memory', id: req.id, memory: memorySample() });
        return;
      }
    }
  } catch (e) {
    post({ type: 'error', id: req.id, message: errorReason(e) });
  }
}

self.onmessage = (ev: MessageEvent<TrainRequest>) => {
  // Handled concurrently: 'stop' must get through while a run trains (the loop yields between batches).
  void handle(ev.data);
};
