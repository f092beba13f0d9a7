// The training worker's protocol (src/worker/train.worker.ts): the request map TrainRpc that
// src/worker/rpc.ts carries (each call: one reply, or an error with the worker's message) and the
// events it pushes unasked (TrainEvent): 'embedded' while images are decoded and embedded, 'epoch'
// and 'stage' while a run trains. Calls are handled concurrently: 'stop' gets through while a run
// trains (the loop checks between two batches).
import type { ModelMetadata } from '../core/metadata';
import type { BackendInfo, BackendName } from '../ml/backend';
import type { BlockConfig, EpochLog, HeadConfig, StopReason } from '../ml/finetune-config';
import type { StoredModelSummary } from '../ml/model-store';
import type { PreparedImage } from '../core/project';

export interface TrainItem {
  /** Chosen by the page; unique for the page's lifetime. */
  id: number;
  file: Blob;
  /** From a saved project under the same base network (BaseInfo.identity): no decode, no embedding. */
  prepared?: Omit<PreparedImage, 'thumb'> & { thumb?: Uint8Array };
}

/** An added image as a project keeps it: the original file and, once embedded, what its decode kept. */
export interface ProjectItem {
  id: number;
  file: Blob;
  prepared?: Omit<PreparedImage, 'thumb'>;
}

export interface TrainRun {
  classNames: string[];
  train: { ids: number[]; labels: number[] };
  val: { ids: number[]; labels: number[] };
  head: HeadConfig;
  /** Last-block fine-tuning after the head (null = head only). */
  block: BlockConfig | null;
  /** Name written into metadata.json. */
  modelName: string;
  /** Facts recorded in metadata.training (data description, split seed…). */
  notes?: Record<string, string | number>;
  /** Classroom pace: each epoch takes at least this long (the worker waits after it; Stop still stops). */
  minEpochMs?: number;
}

export interface BaseInfo {
  backend: BackendInfo;
  metadata: ModelMetadata;
  embeddingDim: number;
  /** Null when the last block can be fine-tuned, else why not. */
  lastBlockProblem: string | null;
  loadMs: number;
  /** name@version and a hash of the base network's files: saved embeddings are reused only under the same one. */
  identity: string;
}

export interface EmbedResult {
  id: number;
  /** 64×64 gray (0..255) of the model input, or absent on error. */
  thumb?: Uint8Array;
  /** Why the file was skipped. */
  error?: string;
  /** Exact file hash and perceptual hash (src/core/image-hash.ts), for the copies check. */
  fileHash?: string;
  phash?: string;
}

export interface EmbedStats {
  /** Images embedded (or failed) since the worker started. */
  processed: number;
  failed: number;
  /** Images waiting. */
  queued: number;
  /** Milliseconds spent reading + decoding + preprocessing, and in the network, in total. */
  decodeMs: number;
  embedMs: number;
  /** Wall-clock ms from the first queued image to the queue running empty (last burst). */
  wallMs: number;
  /** Embedding helper workers that are up (other cores, wasm/cpu backends), and images they did. */
  helpers: number;
  byHelpers: number;
}

export interface MemorySample {
  numTensors: number;
  numBytes: number;
  /** Bytes of the wasm heap (wasm backend only; it only grows, so it is also the peak). */
  wasmHeapBytes: number | null;
  /** Largest tf.memory().numBytes seen at sampling points (embedding, epochs). */
  peakNumBytes: number;
  backend: string | null;
}

export interface TrainResult {
  /** Image decodes by the training worker and its helpers so far (each dropped image is decoded once). */
  decodes: number;
  history: EpochLog[];
  keptEpoch: number;
  stopReason: StopReason;
  /** Probabilities of the kept model on run.val.ids, row-major [nVal × k]. */
  valProbs: Float32Array | null;
  valIds: number[];
  metadata: ModelMetadata;
  /** True when the kept model includes a fine-tuned last block. */
  blockTuned: boolean;
  /** calibrateMs: fitting the gate, the temperature and the operating point (src/ml/finetune-trust.ts). */
  timings: { headMs: number; blockPrepareMs: number; blockMs: number; composeMs: number; calibrateMs: number; totalMs: number };
  memory: MemorySample;
}

export interface GradCamReply {
  /** The model input as 8-bit gray, size × size. */
  gray: Uint8Array;
  size: number;
  /** Normalised heatmap in [0, 1], width × height (the last conv feature map's resolution). */
  heatmap: Float32Array;
  width: number;
  height: number;
  /** Class the map explains, and the one the model predicts for this decoding of the image. */
  classIndex: number;
  predictedIndex: number;
  /** Softmax of the model's logits for this image. */
  probabilities: number[];
  /** Largest raw Grad-CAM value (0: no positive evidence for the class anywhere). */
  rawMax: number;
}

/** The shortcut lesson's border-only run (src/worker/lessons.ts): same split, head settings and seed as `run`. */
export interface ShortcutResult {
  history: EpochLog[];
  keptEpoch: number;
  stopReason: StopReason;
  /** Validation images the kept border-only head got right, of valTotal. */
  valCorrect: number;
  valTotal: number;
  /** The masked inputs: how many were embedded, how many have a constant (blacked-out) centre window, and the share of each image blacked out. */
  masked: { images: number; uniformCentre: number; area: number };
  /** The first training image's masked model input (8-bit gray), to show what the run saw. */
  preview: { gray: Uint8Array; size: number } | null;
  /** tf.memory().numTensors before and after the run (equal: nothing leaked). */
  tensorsBefore: number;
  tensorsAfter: number;
  ms: number;
}

/** One training image as the last-block stage's augmentation gives it (8-bit gray model inputs). */
export interface AugmentPreviewImage {
  imageId: number;
  original: Uint8Array;
  variants: Uint8Array[];
}

export interface Prediction {
  /** Calibrated probabilities (as on the Classify page). */
  probabilities: number[];
  thumb: Uint8Array;
  /** The "Not a chest X-ray?" reasons when the gate withholds the image, else null. */
  withheld: string[] | null;
}

export type TrainRpc = {
  init: { request: { baseUrl: string; backends?: BackendName[] }; reply: BaseInfo };
  add: { request: { items: TrainItem[] }; reply: null };
  remove: { request: { ids: number[] }; reply: null };
  train: { request: { run: TrainRun }; reply: TrainResult };
  stop: { request: null; reply: null };
  predict: { request: { file: Blob }; reply: Prediction };
  /** The full-size model input (inputSize² gray) of an added image, e.g. for a detail view. */
  image: { request: { imageId: number }; reply: { gray: Uint8Array; size: number } };
  /**
   * Grad-CAM of the trained (kept) model for an added image: the class `classIndex` (default: the
   * predicted one). The model input comes from the crop kept at the image's one decode (no second decode).
   */
  gradcam: { request: { imageId: number; classIndex?: number }; reply: GradCamReply };
  export: { request: null; reply: Record<string, Uint8Array> };
  save: { request: { name: string; overwrite: boolean }; reply: StoredModelSummary };
  import: { request: { name: string; files: Record<string, Uint8Array>; overwrite: boolean }; reply: StoredModelSummary };
  memory: { request: null; reply: MemorySample };
  /** The shortcut lesson: embed the border-only masked inputs of `run`'s images and train a head on them (the kept model is untouched). */
  shortcut: { request: { run: TrainRun }; reply: ShortcutResult };
  /** `variants` augmented model inputs of each image, exactly as the last-block stage draws them, from `seed`. */
  'augment-preview': { request: { imageIds: number[]; variants: number; seed: number }; reply: { images: AugmentPreviewImage[]; size: number } };
  /** The files (and prepared data) of added images, for saving a project. */
  'project-data': { request: { ids: number[] }; reply: ProjectItem[] };
  /** Makes a saved project's model the kept model (checked by loading it; the previous one stays on failure). */
  'restore-model': { request: { files: Record<string, Uint8Array>; result: TrainResult }; reply: null };
};

/** 'calibrate': the trust numbers of the composed model (gate, temperature, operating point). */
export type TrainStage = 'head' | 'block-prepare' | 'block' | 'compose' | 'calibrate';

export type TrainEvent =
  | { type: 'embedded'; results: EmbedResult[]; stats: EmbedStats }
  | { type: 'stage'; stage: TrainStage; detail?: string }
  | { type: 'epoch'; log: EpochLog; valProbs: Float32Array | null; memory: MemorySample }
  /** Progress of the shortcut lesson's border-only run (never mixed into the normal run's curves). */
  | { type: 'shortcut-progress'; phase: 'embed' | 'train'; done: number; total: number; log?: EpochLog };

/** The events as the rpc layer's event map (type → the event). */
export type TrainEvents = { [K in TrainEvent['type']]: Extract<TrainEvent, { type: K }> };

/** Side of the thumbnails the worker sends back. */
export const THUMB_SIZE = 64;
