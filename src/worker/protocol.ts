// The inference worker's protocol: the request map (InferenceRpc, at the end) that src/worker/rpc.ts
// carries between the page (client.ts) and inference.worker.ts, and the types in it. Each call gets
// one reply or an error (WorkerError with an ErrorKind), 'load' reports LoadProgress meanwhile.
import type { ModelMetadata } from '../core/metadata';
import type { AuditMask } from '../core/audit';
import type { OperatingPointDecision } from '../core/operating-point';
import type { Prediction } from '../ml/classifier';
import type { BackendInfo, BackendName, BackendOptions } from '../ml/backend';
import type { ImageFormat } from '../image/decode';
import type { DicomMeta } from '../core/dicom-meta';

/**
 * Where the model comes from:
 * - 'url': a folder (absolute URL, ending in '/') holding model.json, its weight shards and
 *   metadata.json — the shipped model is `new URL('model/', document.baseURI)`.
 * - 'artifacts': the same files given in the message (relative path → bytes), e.g. a fine-tuned model
 *   read from IndexedDB. Must include 'model.json', 'metadata.json' and every shard model.json names.
 */
export type ModelSource = { kind: 'url'; baseUrl: string } | { kind: 'artifacts'; files: Record<string, Uint8Array>; label: string };

export interface ClassifyOptions {
  /** Also return the pooled embedding (for OOD scoring / fine-tuning later). */
  embedding?: boolean;
  /**
   * The shortcut audit's mask (src/core/audit.ts, `npm run audit`): black out the centre or the
   * border of the cropped pixels before normalisation, as the audit does. The OOD checks still see
   * the unmasked image.
   */
  auditMask?: AuditMask;
}

export interface LoadRequest {
  source: ModelSource;
  backends?: BackendName[];
  warmup?: boolean;
  threads?: BackendOptions['threads'];
}

export interface ClassifyItem {
  name: string;
  file: Blob | Uint8Array;
}

export type LoadPhase = 'backend' | 'metadata' | 'weights' | 'warmup';

export interface ModelInfo {
  metadata: ModelMetadata;
  backend: BackendInfo;
  sourceKind: ModelSource['kind'];
  /** The URL or the label of the loaded model, for display and for the CSV. */
  sourceLabel: string;
  /** Bytes of weights loaded. */
  weightBytes: number;
  loadMs: number;
  warmupMs: number;
  /**
   * When each start-up step of the worker finished, as wall-clock times (performance.timeOrigin +
   * performance.now(), ms since the epoch) so the page can place them on its own timeline: the
   * worker created, its scripts evaluated, the backend ready, the model files downloaded, the model
   * built, and the warm-up done (equal to modelBuiltAt when an image was waiting and no warm-up ran).
   */
  phases?: { workerCreatedAt: number; scriptsReadyAt: number; backendReadyAt: number; filesReadyAt: number; modelBuiltAt: number; warmedUpAt: number };
}

export interface ClassifyResult {
  /** Worker-assigned id of this result, for follow-up requests ('gradcam'). */
  resultId: number;
  name: string;
  format: ImageFormat;
  /** Size of the decoded image (after EXIF orientation). */
  width: number;
  height: number;
  bitDepth: 8 | 16;
  /**
   * The classification. `prediction.ood` (OodResult, src/core/ood.ts) is the out-of-distribution
   * verdict, present when the model's metadata has trust.ood: when `prediction.ood.flagged` the image
   * looks unlike the training chest X-rays and no confident class should be shown.
   */
  prediction: Prediction;
  /** Exactly what the model saw: inputSize² gray pixels (0..255, row-major). */
  thumbnail: { size: number; gray: Uint8Array };
  embedding?: Float32Array;
  /**
   * The covid operating-point decision (src/core/operating-point.ts) with the producing model's
   * metadata.trust.covidThreshold; null when that model has none.
   */
  covidScreen?: OperatingPointDecision | null;
  timings: { readMs: number; decodeMs: number; preprocessMs: number; inferenceMs: number; totalMs: number };
  backend: BackendName;
  /**
   * DICOM input only: the header facts used (view, age, sex, modality, manufacturer…; never name,
   * ID, birth date or accession), its notes (pediatric film, first of several frames, window
   * choice), for display, the CSV and per-site grouping (siteKey).
   */
  dicom?: DicomMeta;
}

/** One file of a 'classifyBatch' request: its result, or why it could not be classified. */
export type BatchItemResult = { ok: true; result: ClassifyResult } | { ok: false; error: { kind: ErrorKind; message: string } };

export interface PreprocessResult {
  input: Float32Array;
  format: ImageFormat;
  width: number;
  height: number;
  bitDepth: 8 | 16;
}

/** A gray picture of the original image, downscaled (long side at most GRADCAM_PREVIEW_SIDE). */
export interface OriginalPreview {
  width: number;
  height: number;
  gray: Uint8Array;
}

export const GRADCAM_PREVIEW_SIDE = 384;

export interface GradCamPayload {
  resultId: number;
  /** Class explained (index into metadata.classNames). */
  classIndex: number;
  /** Heatmap normalised to [0, 1], row-major, at the last conv layer's resolution. */
  heatmap: Float32Array;
  width: number;
  height: number;
  /** Largest value before normalisation (0: nothing in the image adds evidence for the class). */
  rawMax: number;
  /** The model input it explains: inputSize² gray pixels (as ClassifyResult.thumbnail). */
  inputSize: number;
  /** Geometry of the original image, to draw the map over it: decoded size and the crop the model saw. */
  original: { width: number; height: number; crop: { x: number; y: number; size: number }; preview: OriginalPreview };
  /** Layer the map was computed on (metadata.layers.lastConv). */
  layer: string;
  ms: number;
}

export interface MemoryInfo {
  numTensors: number;
  numBytes: number;
  numDataBuffers: number;
  backend: string | null;
}

/** 'expired': the result a follow-up request names is no longer kept (too old, or another model was loaded). */
export type ErrorKind = 'image' | 'model' | 'not-loaded' | 'expired' | 'internal';

export interface LoadProgress {
  phase: LoadPhase;
  fraction: number | null;
  loadedBytes?: number;
  totalBytes?: number;
}

/** What the worker has done since it started (tests and the debug hooks: cancelled work really stops). */
export interface WorkCounters {
  /** Images read, decoded, preprocessed and run through the model. */
  imagesClassified: number;
  /** Requests that stopped early (or whose answer was dropped) because the page cancelled them. */
  requestsAborted: number;
}

/**
 * The inference worker's requests (src/worker/rpc.ts request map). A cancelled 'classify' /
 * 'classifyBatch' stops between the steps of an image (read, decode, preprocess, model run) and
 * between the images of a batch; nothing of it is sent back.
 */
export type InferenceRpc = {
  load: { request: LoadRequest; reply: ModelInfo; progress: LoadProgress };
  classify: { request: ClassifyItem & { options?: ClassifyOptions }; reply: ClassifyResult };
  /** Several files in one model run (see inference.worker.ts classifyBatch); one entry per file, in order. */
  classifyBatch: { request: { items: ClassifyItem[]; options?: ClassifyOptions }; reply: BatchItemResult[] };
  memory: { request: null; reply: MemoryInfo };
  counters: { request: null; reply: WorkCounters };
  /** Decode + preprocess only (no model run): the exact model input, for parity checks and tools. */
  preprocess: { request: { file: Blob | Uint8Array }; reply: PreprocessResult };
  /**
   * Grad-CAM of a recent result (ClassifyResult.resultId) for a class (default: the predicted one),
   * on the model that produced it; the worker keeps the model input of recent results, so the file
   * is not sent again. An 'expired' error once the result is gone.
   */
  gradcam: { request: { resultId: number; classIndex?: number }; reply: GradCamPayload };
  unload: { request: null; reply: null };
};
