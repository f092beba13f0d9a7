// The Train page's two lessons that run in the training worker, from what each image's one decode
// kept (no second decode):
// - the shortcut lesson: the same run (split, head settings, seed) on border-only inputs — the crop
//   with its central 60 % blacked out by the audit's own mask (applyAuditMask before normalizeInput,
//   exactly as prepareImage's `auditMask: 'border-only'`, `npm run audit` and the Evaluate page's
//   shortcut check do) — embedded by the frozen network and a new head trained on them. Its head is
//   thrown away: the normal run's model stays the one kept and exported.
// - the augmentation preview: a few training images through augmentToInput with the same base,
//   spec and config as the last-block stage.
import * as tf from '../ml/tf';
import { CENTRE_FRACTION, applyAuditMask } from '../core/audit';
import { createRng } from '../core/random';
import type { PreprocessingSpec } from '../core/metadata';
import { inputToGray8, normalizeInput } from '../image/preprocess';
import { augmentToInput } from '../image/augment';
import { macrotask, trainHead, type Embedder, type EpochLog } from '../ml/finetune';
import { TRAIN_AUGMENT } from './train-augment';
import { inputOfKept, type KeptImage } from './embed-common';
import type { AugmentPreviewImage, ShortcutResult, TrainRun } from './train-protocol';

export interface LessonDeps {
  spec: PreprocessingSpec;
  keptOf: (id: number) => KeptImage;
}

/** The border-only model input of a kept image (the audit's mask on the crop, then normalisation). */
export function borderOnlyInput(kept: KeptImage, spec: PreprocessingSpec): Float32Array {
  const crop = kept.crop instanceof Float32Array ? kept.crop : Float32Array.from(kept.crop);
  return normalizeInput(applyAuditMask(crop, spec.inputSize, 'border-only', 0, CENTRE_FRACTION), spec);
}

/** Bounds of the blacked-out central window [lo, hi) (as applyAuditMask computes them). */
function centreWindow(size: number): { lo: number; hi: number } {
  const lo = Math.round((size * (1 - CENTRE_FRACTION)) / 2);
  return { lo, hi: size - lo };
}

/** True when every pixel of the central window has the same value (the mask really applied). */
function centreIsUniform(input: Float32Array, size: number): boolean {
  const { lo, hi } = centreWindow(size);
  const v = input[lo * size + lo];
  for (let y = lo; y < hi; y++) for (let x = lo; x < hi; x++) if (input[y * size + x] !== v) return false;
  return true;
}

const EMBED_BATCH = 16;

export async function shortcutRun(
  deps: LessonDeps & {
    embedder: Embedder;
    run: TrainRun;
    shouldStop: () => boolean;
    onProgress: (phase: 'embed' | 'train', done: number, total: number, log?: EpochLog) => void;
  },
): Promise<ShortcutResult> {
  const { spec, keptOf, embedder, run, shouldStop, onProgress } = deps;
  const t0 = performance.now();
  const tensorsBefore = tf.memory().numTensors;
  const size = spec.inputSize;
  const ids = [...run.train.ids, ...run.val.ids];
  const dim = embedder.dim;
  const x = new Float32Array(ids.length * dim);
  let uniformCentre = 0;
  let preview: ShortcutResult['preview'] = null;
  let embedded = 0;
  onProgress('embed', 0, ids.length);
  for (let i = 0; i < ids.length && !shouldStop(); i += EMBED_BATCH) {
    const inputs = ids.slice(i, i + EMBED_BATCH).map((id) => borderOnlyInput(keptOf(id), spec));
    for (const input of inputs) if (centreIsUniform(input, size)) uniformCentre++;
    if (!preview && run.train.ids.length) preview = { gray: inputToGray8(inputs[0], spec), size };
    const out = await embedder.embed(inputs);
    out.forEach((e, j) => x.set(e, (i + j) * dim));
    embedded += inputs.length;
    onProgress('embed', embedded, ids.length);
    await macrotask();
  }
  const { lo, hi } = centreWindow(size);
  const masked = { images: embedded, uniformCentre, area: ((hi - lo) * (hi - lo)) / (size * size) };
  const nTrain = run.train.ids.length;
  const empty = (): ShortcutResult => ({
    history: [],
    keptEpoch: 0,
    stopReason: 'stopped',
    valCorrect: 0,
    valTotal: run.val.ids.length,
    masked,
    preview,
    tensorsBefore,
    tensorsAfter: tf.memory().numTensors,
    ms: performance.now() - t0,
  });
  if (shouldStop()) return empty();

  const pace = Math.max(0, run.minEpochMs ?? 0);
  const history: EpochLog[] = [];
  let epochStart = performance.now();
  const out = await trainHead({
    train: { x: x.subarray(0, nTrain * dim), labels: run.train.labels },
    val: run.val.ids.length ? { x: x.subarray(nTrain * dim), labels: run.val.labels } : undefined,
    dim,
    numClasses: run.classNames.length,
    config: run.head,
    hooks: {
      shouldStop,
      yieldNow: macrotask,
      onEpoch: async (log) => {
        history.push(log);
        onProgress('train', history.length, run.head.epochs, log);
        // Classroom pace, as for the normal run: short sleeps so Stop ends the wait at once.
        while (pace > 0 && !shouldStop() && performance.now() - epochStart < pace) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(50, pace - (performance.now() - epochStart))));
        }
        epochStart = performance.now();
      },
    },
  });
  const k = run.classNames.length;
  let valCorrect = 0;
  if (out.valProbs) {
    run.val.labels.forEach((label, i) => {
      let best = 0;
      for (let c = 1; c < k; c++) if (out.valProbs![i * k + c] > out.valProbs![i * k + best]) best = c;
      if (best === label) valCorrect++;
    });
  }
  return {
    history,
    keptEpoch: out.keptEpoch,
    stopReason: shouldStop() ? 'stopped' : out.stopReason,
    valCorrect,
    valTotal: out.valProbs ? run.val.labels.length : 0,
    masked,
    preview,
    tensorsBefore,
    tensorsAfter: tf.memory().numTensors,
    ms: performance.now() - t0,
  };
}

/** `variants` augmented inputs of each image, each image with its own seeded stream (same seed, same strip). */
export function augmentPreview(deps: LessonDeps & { imageIds: number[]; variants: number; seed: number }): AugmentPreviewImage[] {
  const { spec, keptOf, imageIds, seed } = deps;
  const variants = Math.max(0, Math.min(12, Math.floor(deps.variants)));
  return imageIds.map((imageId, i) => {
    const kept = keptOf(imageId);
    const rng = createRng(seed * 1009 + i);
    return {
      imageId,
      original: inputToGray8(inputOfKept(kept, spec), spec),
      variants: Array.from({ length: variants }, () => inputToGray8(augmentToInput(kept.base, spec, TRAIN_AUGMENT, rng), spec)),
    };
  });
}
