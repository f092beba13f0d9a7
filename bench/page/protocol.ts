// Messages between bench/page/main.ts and bench/page/bench.worker.ts (bench-only page; not part of the app).
import type { BackendName } from '../../src/ml/backend';

/** The app's backends, and WebGPU, which only the bench measures. */
export type BenchBackend = BackendName | 'webgpu';

export interface BenchRequest {
  backend: BenchBackend;
  /** Folder URL of the shipped model (model.json, weights, metadata.json), ending in '/'. */
  modelUrl: string;
  /** Untimed batch-1 runs of each model before timing (WebGL compiles its shaders here). */
  warmup: number;
  /** Timed batch-1 runs of each model (interleaved: ours, reference, ours, ...). */
  runs: number;
  /** Batch size of the throughput measurement. */
  batch: number;
  /** Timed batches of each model (interleaved), after one untimed batch when `batchWarmup`. */
  batches: number;
  batchWarmup: boolean;
}

export type { Stats as TimingStats } from '../lib/stats';
import type { Stats as TimingStats } from '../lib/stats';

export interface ModelTiming {
  name: string;
  inputShape: number[];
  params: number;
  /** Batch-1 latency of one forward pass: input upload, predict, read back the outputs. */
  latency: TimingStats;
  /** Batch `batch`: images/s over all timed batches, and the per-batch statistics. */
  throughput: { batch: number; batches: number; imagesPerSecond: number; perBatch: TimingStats };
}

export interface BenchResult {
  backend: BenchBackend;
  backendDetails: string[];
  /** WebGL: the unmasked renderer; WebGPU: the adapter (e.g. SwiftShader), when the browser tells it. */
  renderer: string | null;
  hardwareConcurrency: number;
  userAgent: string;
  warmupMs: { ours: number; reference: number };
  ours: ModelTiming;
  reference: ModelTiming;
  /** ours / reference: batch-1 median latency, and per-image time at batch `batch`. */
  ratio: { latencyMedian: number; latencyP90: number; throughputTimePerImage: number };
  /** tf.memory().numTensors before and after all timed runs (equal = no leak). */
  tensors: { before: number; after: number };
  totalMs: number;
}

export type BenchResponse = { type: 'progress'; message: string } | { type: 'done'; result: BenchResult } | { type: 'error'; message: string };

// ?mode=threads: two workers (bench/page/threads.worker.ts), one threaded, one single-threaded.
export type ThreadsRequest = { type: 'init'; modelUrl: string; threads: 'always' | false } | { type: 'run'; batch: number };
export type ThreadsReply = { type: 'ready'; details: string[]; crossOriginIsolated: boolean } | { type: 'ms'; ms: number } | { type: 'error'; message: string };

export interface ThreadsSide {
  details: string[];
  latency: TimingStats;
  /** Per-image time at batch `batch` (ms/image), statistics over the timed batches. */
  batchPerImage: TimingStats;
}

export interface ThreadsResult {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  runs: number;
  batch: number;
  threaded: ThreadsSide;
  single: ThreadsSide;
  /** single / threaded: batch-1 median latency, and per-image median time at batch `batch`. */
  speedup: { latencyMedian: number; batchPerImage: number };
}
