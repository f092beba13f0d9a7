// Typed messages between the page and the inference worker. Every request carries an `id`; the
// worker answers with exactly one final message for it ('loaded' | 'result' | 'memory' | 'error'),
// preceded by any number of 'progress' messages.
import type { ModelMetadata } from '../core/metadata';
import type { Prediction } from '../ml/classifier';
import type { BackendInfo, BackendName } from '../ml/backend';
import type { ImageFormat } from '../ml/decode';

/**
 * Where the model comes from:
 * - 'url': a folder (absolute URL, ending in '/') holding model.json, its weight shards and
 *   metadata.json — the shipped model is `new URL('model/', document.baseURI)`.
 * - 'artifacts': the same files given in the message (relative path → bytes), e.g. a fine-tuned model
 *   read from IndexedDB. Must include 'model.json', 'metadata.json' and every shard model.json names.
 */
export type ModelSource =
  | { kind: 'url'; baseUrl: string }
  | { kind: 'artifacts'; files: Record<string, Uint8Array>; label: string };

export interface ClassifyOptions {
  /** Also return the pooled embedding (for OOD scoring / fine-tuning later). */
  embedding?: boolean;
}

export type WorkerRequest =
  | { type: 'load'; id: number; source: ModelSource; backends?: BackendName[]; warmup?: boolean }
  | { type: 'classify'; id: number; name: string; file: Blob | Uint8Array; options?: ClassifyOptions }
  | { type: 'memory'; id: number }
  /** Decode + preprocess only (no model run): the exact model input, for parity checks and tools. */
  | { type: 'preprocess'; id: number; file: Blob | Uint8Array }
  | { type: 'unload'; id: number };

/** Distributes Omit over the union so each request keeps its own fields. */
export type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

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
}

export interface ClassifyResult {
  name: string;
  format: ImageFormat;
  /** Size of the decoded image (after EXIF orientation). */
  width: number;
  height: number;
  bitDepth: 8 | 16;
  prediction: Prediction;
  /** Exactly what the model saw: inputSize² gray pixels (0..255, row-major). */
  thumbnail: { size: number; gray: Uint8Array };
  embedding?: Float32Array;
  timings: { readMs: number; decodeMs: number; preprocessMs: number; inferenceMs: number; totalMs: number };
  backend: BackendName;
}

export interface PreprocessResult {
  input: Float32Array;
  format: ImageFormat;
  width: number;
  height: number;
  bitDepth: 8 | 16;
}

export interface MemoryInfo {
  numTensors: number;
  numBytes: number;
  numDataBuffers: number;
  backend: string | null;
}

export type ErrorKind = 'image' | 'model' | 'not-loaded' | 'internal';

export type WorkerResponse =
  | { type: 'progress'; id: number; phase: LoadPhase; fraction: number | null; loadedBytes?: number; totalBytes?: number }
  | { type: 'loaded'; id: number; info: ModelInfo }
  | { type: 'result'; id: number; result: ClassifyResult }
  | { type: 'memory'; id: number; memory: MemoryInfo }
  | { type: 'preprocessed'; id: number; result: PreprocessResult }
  | { type: 'unloaded'; id: number }
  | { type: 'error'; id: number; error: { kind: ErrorKind; message: string } };
