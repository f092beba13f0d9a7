/// <reference lib="webworker" />
// The training worker: owns tfjs for the Train page, so the page never blocks. It loads the shipped
// model as the frozen backbone, decodes (once: src/worker/embed-common.ts) → preprocesses → embeds
// each dropped image as soon as it arrives (keeping the embedding, a 64 px thumbnail and the
// pipeline's crop, features and augmentation base, about 36 KiB an image),
// trains the new head (and optionally the last block) with per-epoch events, fits the composed
// model's trust numbers (the base's "Not a chest X-ray?" gate refitted on the images, temperature and
// covid operating point on the validation split: src/ml/finetune-trust.ts), and keeps the model for
// preview (calibrated, behind the gate), download (with metrics.json and model-card.md) and saving
// in IndexedDB.
import * as tf from '../ml/tf';
import { initBrowserBackend, type BackendInfo } from '../ml/backend';
import { loadModelFiles, type FileReader } from '../ml/io';
import { inputToGray8 } from '../image/preprocess';
import { decodeImageFile } from '../image/decode-browser';
import { prepareImage } from '../image/pipeline';
import { decodesSoFar, errorReason, inputOfKept, prepareTrainImage, thumbnailOf, type EmbedRpc, type HelperEmbedded, type KeptImage } from './embed-common';
import { type RpcClient, serve, workerClient } from './rpc';
import { augmentToInput } from '../image/augment';
import { TRAIN_AUGMENT } from './train-augment';
import { augmentPreview, shortcutRun } from './lessons';
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
import { fitFinetuneTrust, type TrustImage } from '../ml/finetune-trust';
import { Classifier } from '../ml/classifier';
import { forgetGradCamModel, gradCam } from '../ml/gradcam';
import type { ModelMetadata } from '../core/metadata';
import type { Rng } from '../core/random';
import { sha256Hex } from '../core/manifest';
import {
  type BaseInfo,
  type EmbedResult,
  type EmbedStats,
  type GradCamReply,
  type MemorySample,
  type TrainEvent,
  type TrainEvents,
  type TrainItem,
  type TrainResult,
  type TrainRpc,
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
let trained: { model: tf.LayersModel; metadata: ModelMetadata; result: TrainResult; metrics: Record<string, unknown> | null; classifier: Classifier } | null =
  null;
let training = false;
let stopRequested = false;
let peakNumBytes = 0;

/** Sends an event to the page (the requests' replies are the handlers' return values, at the end). */
function post(msg: TrainEvent, transfer: Transferable[] = []): void {
  served.emit(msg.type, msg, transfer);
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

async function loadBase(baseUrl: string, backends: TrainRpc['init']['request']): Promise<Base> {
  const t0 = performance.now();
  backend ??= await initBrowserBackend(backends.backends);
  const read = urlReader(baseUrl);
  const files: Record<string, Uint8Array> = {};
  const { model, metadata } = await loadModelFiles(async (p) => (files[p] = await read(p)));
  baseFiles = files;
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
    identity: `${metadata.name}@${metadata.version} ${sha256Hex(
      Object.keys(files)
        .sort()
        .map((f) => `${f}:${sha256Hex(files[f])}`)
        .join(','),
    ).slice(0, 16)}`,
  };
  return { model, metadata, embedder, block, info };
}

// ---------------------------------------------------------------------------------------------
// Images: decode → preprocess → embed, one at a time
// ---------------------------------------------------------------------------------------------

interface Stored {
  file: Blob;
  embedding?: Float32Array;
  /** What the pipeline gave at the image's one decode (crop, features, augmentation base). */
  kept?: KeptImage;
  error?: string;
}

const images = new Map<number, Stored>();
const queue: number[] = [];
let pumping: Promise<void> | null = null;
const stats: EmbedStats = { processed: 0, failed: 0, queued: 0, decodeMs: 0, embedMs: 0, wallMs: 0, helpers: 0, byHelpers: 0 };
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

/** Images decoded ahead of the one being embedded, per lane. */
const PREFETCH = 3;

interface Done {
  id: number;
  embedding?: Float32Array;
  thumb?: Uint8Array;
  kept?: KeptImage;
  error?: string;
  decodeMs: number;
  embedMs: number;
}

/** Latest decodesSoFar() reported by each helper worker. */
const helperDecodes = new Map<object, number>();

/** Dataset decodes so far by this worker and its helpers (the Train page decodes each image once). */
function decodesTotal(): number {
  let n = decodesSoFar();
  for (const v of helperDecodes.values()) n += v;
  return n;
}

/** The kept pipeline output of an embedded image (never decoded again). */
function keptOf(id: number): KeptImage {
  const kept = images.get(id)?.kept;
  if (!kept) throw new Error(`image ${id} is not prepared (it was skipped or removed)`);
  return kept;
}

/** Records a finished image and queues its result for the page. */
function deliver(d: Done): void {
  const item = images.get(d.id);
  if (!item) return; // removed meanwhile
  stats.decodeMs += d.decodeMs;
  stats.embedMs += d.embedMs;
  if (d.embedding) {
    item.embedding = d.embedding;
    item.kept = d.kept;
    pendingResults.push({ id: d.id, thumb: d.thumb, fileHash: d.kept?.fileHash, phash: d.kept?.phash });
    if (d.thumb) pendingTransfer.push(d.thumb.buffer as ArrayBuffer);
  } else {
    item.error = d.error ?? 'could not be read';
    stats.failed++;
    pendingResults.push({ id: d.id, error: item.error });
  }
  stats.processed++;
  if (stats.processed % 16 === 0) memorySample();
  flush();
}

/** Next image waiting to be embedded (skipping removed or finished ones). */
function takeNext(): { id: number; file: Blob } | null {
  while (queue.length) {
    const id = queue.shift()!;
    const item = images.get(id);
    if (item && !item.embedding && !item.error) return { id, file: item.file };
  }
  return null;
}

/** This worker's own lane: decode up to PREFETCH images ahead, embed one at a time. */
async function localLane(b: Base): Promise<void> {
  const ahead: Promise<Done & { input?: Float32Array }>[] = [];
  for (;;) {
    while (ahead.length < PREFETCH) {
      const next = takeNext();
      if (!next) break;
      const t0 = performance.now();
      ahead.push(
        prepareTrainImage(next.file, b.metadata).then(
          ({ input, kept }) => ({ id: next.id, input, kept, decodeMs: performance.now() - t0, embedMs: 0 }),
          (e) => ({ id: next.id, error: errorReason(e), decodeMs: performance.now() - t0, embedMs: 0 }),
        ),
      );
    }
    if (!ahead.length) return;
    const p = await ahead.shift()!;
    if (p.input && images.has(p.id)) {
      try {
        const t1 = performance.now();
        const [e] = await b.embedder.embed([p.input]);
        p.embedMs = performance.now() - t1;
        p.embedding = e;
        p.thumb = thumbnailOf(p.input, b.metadata);
      } catch (e) {
        p.error = errorReason(e);
      }
    }
    deliver(p);
  }
}

// ---------------------------------------------------------------------------------------------
// Embedding helpers (other cores)
// ---------------------------------------------------------------------------------------------

interface Helper {
  rpc: RpcClient<EmbedRpc>;
  ready: Promise<boolean>;
  alive: boolean;
}

let helpers: Helper[] | null = null;
let baseFiles: Record<string, Uint8Array> | null = null;

/** Number of helper workers: other cores, on CPU backends only (one GPU gains nothing from more contexts). */
function helperCount(backend: BackendInfo): number {
  if (backend.name !== 'wasm' && backend.name !== 'cpu') return 0;
  // Threaded wasm already spreads each image over the cores; helpers would only compete with it.
  if (backend.details.some((d) => / threads$/.test(d))) return 0;
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  return Math.max(0, Math.min(3, cores - 1));
}

function startHelpers(b: Base): Helper[] {
  if (helpers) return helpers;
  helpers = [];
  const n = baseFiles ? helperCount(b.info.backend) : 0;
  for (let i = 0; i < n; i++) {
    let worker: Worker;
    try {
      worker = new Worker(new URL('./embed.worker.ts', import.meta.url), { type: 'module', name: `cxr-embed-${i + 1}` });
    } catch {
      break; // nested workers unsupported: embed here only
    }
    // A crash rejects what it had in hand (the lane puts it back in the queue).
    const { rpc } = workerClient<EmbedRpc>(worker, { crashed: () => new Error('helper crashed') });
    const h: Helper = { rpc, ready: Promise.resolve(false), alive: true };
    const files: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(baseFiles!)) files[k] = v.slice();
    h.ready = rpc.call('init', { files, backend: b.info.backend.name }, { transfer: Object.values(files).map((f) => f.buffer as ArrayBuffer) }).then(
      ({ dim }) => dim === b.info.embeddingDim,
      () => {
        h.alive = false;
        return false;
      },
    );
    helpers.push(h);
  }
  return helpers;
}

/** One helper slot: takes images from the shared queue until it is empty. */
async function helperLane(h: Helper): Promise<void> {
  if (!(await h.ready)) return;
  stats.helpers = helpers?.filter((x) => x.alive).length ?? 0;
  for (;;) {
    if (!h.alive) return;
    const next = takeNext();
    if (!next) return;
    let r: HelperEmbedded;
    try {
      r = await h.rpc.call('embed', { file: next.file });
    } catch {
      h.alive = false;
      queue.unshift(next.id); // helper died: someone else does it
      return;
    }
    if (r.decodes !== undefined) helperDecodes.set(h, r.decodes);
    if (images.has(next.id)) stats.byHelpers++;
    deliver({ id: next.id, embedding: r.embedding, thumb: r.thumb, kept: r.kept, error: r.error, decodeMs: r.decodeMs, embedMs: r.embedMs });
  }
}

/** Helpers are worth starting for more than this many waiting images. */
const HELPER_THRESHOLD = 24;

function pump(): Promise<void> {
  pumping ??= (async () => {
    const b = await base!;
    const wall0 = performance.now();
    const lanes: Promise<void>[] = [localLane(b)];
    if (queue.length > HELPER_THRESHOLD || helpers) {
      // Two images in flight per helper: one embedding, the next decoding.
      for (const h of startHelpers(b)) lanes.push(helperLane(h), helperLane(h));
    }
    await Promise.all(lanes);
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
  const pace = Math.max(0, run.minEpochMs ?? 0);
  let epochStart = performance.now();
  const onEpoch = async (log: EpochLog, valProbs: Float32Array | null) => {
    history.push(log);
    const copy = valProbs ? valProbs.slice() : null;
    post({ type: 'epoch', log, valProbs: copy, memory: memorySample() }, copy ? [copy.buffer as ArrayBuffer] : []);
    // Classroom pace: wait out the rest of the epoch's minimum time in short sleeps, so a Stop
    // message (handled concurrently) ends the wait within ~50 ms.
    while (pace > 0 && !stopRequested && performance.now() - epochStart < pace) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, pace - (performance.now() - epochStart))));
    }
    epochStart = performance.now();
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
        valFeatures.push(...(await trunkFeatures(b.block, [inputOfKept(keptOf(id), spec)], size)));
      }
      tPrep = performance.now();
      if (!stopRequested) {
        post({ type: 'stage', stage: 'block' });
        // The augmentation bases were made at each image's one decode.
        const trainInput = async (i: number, rng: Rng) => augmentToInput(keptOf(run.train.ids[i]).base, spec, TRAIN_AUGMENT, rng);
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
        history: history.map((h) => ({
          epoch: h.epoch,
          trainLoss: h.trainLoss,
          trainAcc: h.trainAcc,
          valLoss: h.valLoss ?? NaN,
          valAcc: h.valAcc ?? NaN,
          seconds: h.seconds,
        })),
      },
    });
    // The trust numbers, fitted on the composed model as the Classify page will run it: the gate on
    // train + val, temperature and operating point on val (from what each image's one decode kept).
    const tCompose = performance.now();
    const nTrust = run.train.ids.length + run.val.ids.length;
    post({ type: 'stage', stage: 'calibrate', detail: `${nTrust} images` });
    const spec = composed.metadata.preprocessing;
    const baseOod = b.metadata.trust?.ood;
    const trustImage =
      (ids: number[], labels: number[]) =>
      async (i: number): Promise<TrustImage> => {
        if (!images.has(ids[i])) throw new Error(`image ${ids[i]} was removed during training`);
        const kept = keptOf(ids[i]);
        return { input: inputOfKept(kept, spec), features: kept.features, label: labels[i] };
      };
    const fit = await fitFinetuneTrust({
      model: composed.model,
      metadata: composed.metadata,
      baseOod,
      trainCount: run.train.ids.length,
      valCount: run.val.ids.length,
      trainImage: trustImage(run.train.ids, run.train.labels),
      valImage: trustImage(run.val.ids, run.val.labels),
      onProgress: (done) => post({ type: 'stage', stage: 'calibrate', detail: `${done} of ${nTrust} images` }),
      date: new Date().toISOString(),
    }).catch((e: unknown) => {
      // No half-finished model stays behind: the previous one (if any) remains the kept model.
      composed.model.dispose();
      throw e;
    });
    const count = (labels: number[]) => run.classNames.map((_, c) => labels.filter((l) => l === c).length);
    composed.metadata.trust = fit.trust;
    composed.metadata.training = {
      ...composed.metadata.training,
      split: { classNames: [...run.classNames], train: count(run.train.labels), val: count(run.val.labels) },
      ...(fit.report
        ? { validation: { images: fit.report.n, accuracy: fit.report.accuracy, balancedAccuracy: fit.report.balancedAccuracy, macroAuc: fit.report.macro.auc } }
        : {}),
    };
    const tEnd = performance.now();
    const result: TrainResult = {
      decodes: decodesTotal(),
      history,
      keptEpoch,
      stopReason,
      valProbs,
      valIds: run.val.ids,
      metadata: composed.metadata,
      blockTuned: blockWeights !== null,
      timings: {
        headMs: tHead - t0,
        blockPrepareMs: tPrep - tHead,
        blockMs: tBlock - tPrep,
        composeMs: tCompose - tBlock,
        calibrateMs: tEnd - tCompose,
        totalMs: tEnd - t0,
      },
      memory: memorySample(),
    };
    if (trained) {
      forgetGradCamModel(trained.model);
      trained.model.dispose();
    }
    // The preview classifies as the Classify page will: calibrated, behind the gate.
    trained = {
      model: composed.model,
      metadata: composed.metadata,
      result,
      metrics: fit.metrics,
      classifier: new Classifier(composed.model, composed.metadata),
    };
    return result;
  } finally {
    training = false;
    stopRequested = false;
  }
}

async function predict(file: Blob): Promise<{ probabilities: number[]; thumb: Uint8Array; withheld: string[] | null }> {
  if (!trained) throw new Error('train a model first');
  const { classifier, metadata } = trained;
  const { image } = await decodeImageFile(file);
  const { input, features } = prepareImage(image, metadata.preprocessing, { layoutTemplate: classifier.layoutTemplate });
  const { predictions } = await classifier.predict([input], { features: [features] });
  const p = predictions[0];
  return { probabilities: p.probabilities, thumb: thumbnailOf(input, metadata), withheld: p.ood?.flagged ? p.ood.reasons : null };
}

/** Grad-CAM of the trained model for an added image (from its kept crop: no second decode). */
async function gradCamOf(imageId: number, classIndex: number | undefined): Promise<GradCamReply> {
  if (!trained) throw new Error('train a model first');
  if (training) throw new Error('wait until training has finished');
  const item = images.get(imageId);
  if (!item) throw new Error('that image is no longer loaded');
  const { model, metadata } = trained;
  const input = inputOfKept(keptOf(imageId), metadata.preprocessing);
  if (training || trained?.model !== model) throw new Error('a new training run started meanwhile');
  const k = metadata.classNames.length;
  if (classIndex !== undefined && (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= k))
    throw new Error(`class index ${classIndex} out of range`);
  const r = gradCam(model, input, { lastConv: metadata.layers.lastConv, logits: metadata.layers.logits }, classIndex);
  const m = Math.max(...r.logits);
  const e = r.logits.map((l) => Math.exp(l - m));
  const sum = e.reduce((a, b) => a + b, 0);
  const probabilities = e.map((v) => v / sum);
  return {
    gray: inputToGray8(input, metadata.preprocessing),
    size: metadata.preprocessing.inputSize,
    heatmap: r.heatmap,
    width: r.width,
    height: r.height,
    classIndex: r.classIndex,
    predictedIndex: probabilities.indexOf(Math.max(...probabilities)),
    probabilities,
    rawMax: r.rawMax,
  };
}

/** A saved project's model becomes the kept model (preview, Grad-CAM, download, save) once it loads. */
async function restoreTrained(files: Record<string, Uint8Array>, result: TrainResult): Promise<void> {
  checkModelFiles(files);
  await needBase();
  const { model, metadata } = await loadModelFiles(async (rel) => {
    const f = files[rel];
    if (!f) throw new Error(`the project's model has no ${rel}`);
    return f;
  });
  let metrics: Record<string, unknown> | null = null;
  if (files['metrics.json']) {
    try {
      metrics = JSON.parse(new TextDecoder().decode(files['metrics.json'])) as Record<string, unknown>;
    } catch {
      model.dispose();
      throw new Error("the project's metrics.json is not valid JSON");
    }
  }
  if (trained) {
    forgetGradCamModel(trained.model);
    trained.model.dispose();
  }
  trained = { model, metadata, result: { ...result, metadata }, metrics, classifier: new Classifier(model, metadata) };
}

async function modelFiles(): Promise<Record<string, Uint8Array>> {
  if (!trained) throw new Error('train a model first');
  return exportModelFiles(trained.model, trained.metadata, trained.metrics);
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

function needBase(): Promise<Base> {
  if (!base) throw new Error('the training worker was not initialised');
  return base;
}

// Calls are handled concurrently: 'stop' must get through while a run trains (the loop yields between batches).
const served = serve<TrainRpc, TrainEvents>(
  self,
  {
    init: async (req) => {
      if (!base) {
        base = loadBase(req.baseUrl, req);
        base.catch(() => (base = null));
      }
      const b = await base;
      return b.info;
    },
    add: (req) => {
      let restored = 0;
      for (const it of req.items as TrainItem[]) {
        if (images.has(it.id)) continue;
        if (it.prepared?.fileHash && it.prepared.phash) {
          // From a saved project under the same base network: kept as it was, nothing decoded.
          // (Prepared data without the copies check's hashes is prepared again, to get them.)
          const { embedding, crop, features, base: augBase, thumb, fileHash, phash } = it.prepared;
          images.set(it.id, { file: it.file, embedding, kept: { crop, features, base: augBase, fileHash, phash } });
          pendingResults.push({ id: it.id, thumb, fileHash, phash });
          restored++;
          continue;
        }
        images.set(it.id, { file: it.file });
        queue.push(it.id);
      }
      if (restored) flush(true);
      stats.queued = queue.length;
      // Answered at once; the embedding starts once the base model is there.
      void (async () => {
        await needBase();
        void pump();
      })().catch(() => undefined);
      return null;
    },
    remove: (req) => {
      for (const id of req.ids) images.delete(id);
      return null;
    },
    train: async (req, { transfer }) => {
      if (training) throw new Error('a training run is already going on');
      await needBase();
      const result = await train(req.run);
      const probs = result.valProbs ? result.valProbs.slice() : null;
      if (probs) transfer(probs.buffer as ArrayBuffer);
      return { ...result, valProbs: probs };
    },
    stop: () => {
      stopRequested = training;
      return null;
    },
    predict: async (req, { transfer }) => {
      const r = await predict(req.file);
      transfer(r.thumb.buffer as ArrayBuffer);
      return r;
    },
    image: async (req, { transfer }) => {
      const b = await needBase();
      const item = images.get(req.imageId);
      if (!item) throw new Error('that image is no longer loaded');
      const gray = inputToGray8(inputOfKept(keptOf(req.imageId), b.metadata.preprocessing), b.metadata.preprocessing);
      transfer(gray.buffer as ArrayBuffer);
      return { gray, size: b.metadata.preprocessing.inputSize };
    },
    gradcam: async (req, { transfer }) => {
      const result = await gradCamOf(req.imageId, req.classIndex);
      transfer(result.gray.buffer as ArrayBuffer, result.heatmap.buffer as ArrayBuffer);
      return result;
    },
    export: async (_, { transfer }) => {
      const files = await modelFiles();
      transfer(...Object.values(files).map((f) => f.buffer as ArrayBuffer));
      return files;
    },
    save: async (req) => {
      const files = await modelFiles();
      const r = trained!.result;
      const last = r.history.find((h) => h.epoch === r.keptEpoch);
      return saveStoredModel(req.name, files, {
        overwrite: req.overwrite,
        origin: 'trained',
        facts: last && last.valAcc !== null ? { 'validation accuracy': Math.round(last.valAcc * 1000) / 10 } : undefined,
      });
    },
    import: async (req) => {
      // Loading it for real is the only complete check (shapes, shards, metadata agreement).
      checkModelFiles(req.files);
      await needBase();
      const { model } = await loadModelFiles(async (rel) => {
        const f = req.files[rel];
        if (!f) throw new Error(`${rel} is missing`);
        return f;
      });
      model.dispose();
      return saveStoredModel(req.name, req.files, { overwrite: req.overwrite, origin: 'imported' });
    },
    memory: () => memorySample(),
    shortcut: async (req, { transfer }) => {
      // The shortcut lesson (./lessons.ts): its head is discarded, `trained` stays the kept model.
      if (training) throw new Error('a training run is already going on');
      const b = await needBase();
      await embeddingsIdle();
      training = true;
      stopRequested = false;
      try {
        const result = await shortcutRun({
          spec: b.metadata.preprocessing,
          keptOf,
          embedder: b.embedder,
          run: req.run,
          shouldStop: () => stopRequested,
          onProgress: (phase, done, total, log) => post({ type: 'shortcut-progress', phase, done, total, log }),
        });
        if (result.preview) transfer(result.preview.gray.buffer as ArrayBuffer);
        return result;
      } finally {
        training = false;
        stopRequested = false;
      }
    },
    'augment-preview': async (req, { transfer }) => {
      const b = await needBase();
      const spec = b.metadata.preprocessing;
      const images = augmentPreview({ spec, keptOf, imageIds: req.imageIds, variants: req.variants, seed: req.seed });
      transfer(...images.flatMap((im) => [im.original.buffer as ArrayBuffer, ...im.variants.map((v) => v.buffer as ArrayBuffer)]));
      return { images, size: spec.inputSize };
    },
    'project-data': (req) =>
      req.ids.map((id) => {
        const it = images.get(id);
        if (!it) throw new Error(`image ${id} is no longer loaded`);
        return { id, file: it.file, prepared: it.embedding && it.kept ? { embedding: it.embedding, ...it.kept } : undefined };
      }),
    'restore-model': async (req) => {
      if (training) throw new Error('wait until training has finished');
      await restoreTrained(req.files, req.result);
      return null;
    },
  },
  { errorOf: (e) => ({ message: errorReason(e) }) },
);
