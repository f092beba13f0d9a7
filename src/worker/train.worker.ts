/// <reference lib="webworker" />
// The training worker: owns tfjs for the Train page, so the page never blocks. It loads the shipped
// model as the frozen backbone, decodes (once: src/worker/embed-common.ts) → preprocesses → embeds
// each dropped image as soon as it arrives (keeping the embedding, a 64 px thumbnail and the
// pipeline's crop, features and augmentation base, about 36 KiB an image),
// trains the new head (and optionally the last block) with per-epoch events, fits the composed
// model's trust numbers (the base's "Not a chest X-ray?" gate refitted on the images, temperature and
// covid operating point on the validation split: src/ml/finetune-trust.ts), and keeps the model for
// preview (calibrated, behind the gate), download (with metrics.json and model-card.md) and saving
// in IndexedDB. Its parts: train/base.ts (the base network), train/images.ts (the image queue and
// the embedding helpers), train/memory.ts, lessons.ts (the shortcut lesson and augmentation preview).
// Requests and events: TrainRpc / TrainEvent (train-protocol.ts) through src/worker/rpc.ts.
import * as tf from '../ml/tf';
import { loadModelFiles } from '../ml/io';
import { inputToGray8 } from '../image/preprocess';
import { decodeImageFile } from '../image/decode-browser';
import { prepareImage } from '../image/pipeline';
import { errorReason, inputOfKept, thumbnailOf } from './embed-common';
import { serve } from './rpc';
import { augmentToInput } from '../image/augment';
import { TRAIN_AUGMENT } from './train-augment';
import { augmentPreview, shortcutRun } from './lessons';
import { composeModel, exportModelFiles, macrotask, trainHead, trainLastBlock, trunkFeatures, type EpochLog, type HeadWeights } from '../ml/finetune';
import { saveStoredModel, checkModelFiles } from '../ml/model-store';
import { fitFinetuneTrust, type TrustImage } from '../ml/finetune-trust';
import { Classifier } from '../ml/classifier';
import { forgetGradCamModel, gradCam } from '../ml/gradcam';
import type { ModelMetadata } from '../core/metadata';
import type { Rng } from '../core/random';
import { type GradCamReply, type TrainEvent, type TrainEvents, type TrainItem, type TrainResult, type TrainRpc, type TrainRun } from './train-protocol';

declare const self: DedicatedWorkerGlobalScope;

import { loadBase, type Base } from './train/base';
import { connectImages, embeddingsIdle, flush, gather, images, keptOf, pendingResults, pump, queue, stats, decodesTotal } from './train/images';
import { memorySample } from './train/memory';

let base: Promise<Base> | null = null;
let trained: { model: tf.LayersModel; metadata: ModelMetadata; result: TrainResult; metrics: Record<string, unknown> | null; classifier: Classifier } | null =
  null;
let training = false;
let stopRequested = false;

/** Sends an event to the page (the requests' replies are the handlers' return values, at the end). */
function post(msg: TrainEvent, transfer: Transferable[] = []): void {
  served.emit(msg.type, msg, transfer);
}

// The image queue (./train/images.ts) embeds with the base network and reports through `post`.
connectImages({ base: () => needBase(), post });

// ---------------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------------

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
