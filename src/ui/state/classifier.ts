// The page's handle on the inference worker: one worker and one loaded model for the whole app
// (kept across page switches), with status and load progress for the UI. No ML here: the worker
// does the work, this only tracks state.
import { InferenceClient, WorkerError, shippedModelUrl } from '../../worker/client';
import { isAbortError } from '../../worker/rpc';
import type {
  BatchItemResult,
  ClassifyOptions,
  ClassifyResult,
  GradCamPayload,
  LoadPhase,
  MemoryInfo,
  ModelInfo,
  ModelSource,
  WorkCounters,
} from '../../worker/protocol';
import type { BackendName, BackendOptions } from '../../ml/backend';
import { Store } from '../lib/store';

export type ModelStatus = 'idle' | 'loading' | 'ready' | 'error';

export interface ModelState {
  status: ModelStatus;
  phase: LoadPhase | null;
  /** 0..1, or null when the current phase has no measurable progress. */
  fraction: number | null;
  loadedBytes: number | null;
  totalBytes: number | null;
  info: ModelInfo | null;
  error: string | null;
  source: ModelSource | null;
}

const initial: ModelState = { status: 'idle', phase: null, fraction: null, loadedBytes: null, totalBytes: null, info: null, error: null, source: null };

export const modelStore = new Store<ModelState>(initial);

let client: InferenceClient | null = null;
let loading: Promise<ModelInfo> | null = null;

export function getClient(): InferenceClient {
  client ??= new InferenceClient();
  return client;
}

/** Backend order from `?backend=wasm` or `?backend=cpu,wasm` (for comparisons and tests). */
export function backendsFromUrl(search: string = window.location.search): BackendName[] | undefined {
  const raw = new URLSearchParams(search).get('backend');
  if (!raw) return undefined;
  const names = raw.split(',').filter((n): n is BackendName => n === 'webgl' || n === 'wasm' || n === 'cpu');
  return names.length ? names : undefined;
}

/**
 * `?threads=0` keeps wasm single-threaded even on a cross-origin isolated page; `?threads=1` uses the
 * threaded binary whenever the page is isolated, even on a device with too few cores to gain from
 * it (comparisons and tests; see MIN_CORES_FOR_THREADS).
 */
export function threadsFromUrl(search: string = window.location.search): BackendOptions['threads'] {
  const v = new URLSearchParams(search).get('threads');
  return v === '0' ? false : v === '1' ? 'always' : undefined;
}

export function shippedSource(): ModelSource {
  return { kind: 'url', baseUrl: shippedModelUrl() };
}

/** Loads a model (the shipped one by default) into the worker, replacing the current one. */
export function loadModel(source: ModelSource = shippedSource()): Promise<ModelInfo> {
  modelStore.set((s) => ({ ...initial, status: 'loading', phase: 'backend', source, info: s.info }));
  performance.mark('cxr:model-load-start');
  const p = getClient()
    .load(source, {
      backends: backendsFromUrl(),
      threads: threadsFromUrl(),
      onProgress: (ev) =>
        modelStore.set((s) => ({
          ...s,
          phase: ev.phase,
          fraction: ev.fraction,
          loadedBytes: ev.loadedBytes ?? s.loadedBytes,
          totalBytes: ev.totalBytes ?? s.totalBytes,
        })),
    })
    .then(
      (info) => {
        performance.mark('cxr:model-ready');
        modelStore.set((s) => ({ ...s, status: 'ready', phase: null, fraction: 1, info, error: null }));
        return info;
      },
      (e: Error) => {
        modelStore.set((s) => ({ ...s, status: 'error', phase: null, info: null, error: e.message }));
        loading = null;
        throw e;
      },
    );
  loading = p;
  return p;
}

/** Resolves once a model is loaded; starts loading the shipped model if nothing is loaded yet. */
export function ensureModel(): Promise<ModelInfo> {
  return loading ?? loadModel();
}

/** Classifies one file; aborting `signal` rejects with an AbortError and stops the worker's work on it. */
export function classifyFile(name: string, file: Blob | Uint8Array, options?: ClassifyOptions, signal?: AbortSignal): Promise<ClassifyResult> {
  // Sent at once: the worker handles requests in order, so the image waits there behind the model
  // load (and makes it skip the warm-up run) rather than here for a round trip after it.
  const model = ensureModel();
  return getClient()
    .classify(name, file, options, signal)
    .catch(async (e: unknown) => {
      if (!isAbortError(e)) await model; // a failed load explains a failed image better than "no model loaded"
      throw e;
    });
}

/** Several files in one model run of the worker (the Evaluate page); per-file results or errors. */
export function classifyFiles(items: { name: string; file: Blob | Uint8Array }[], options?: ClassifyOptions): Promise<BatchItemResult[]> {
  return ensureModel().then(() => getClient().classifyBatch(items, options));
}

/** Grad-CAM of a recent result in the worker (no caching here; see useGradCam for the page's cache). */
export function gradCamOf(resultId: number, classIndex?: number): Promise<GradCamPayload> {
  return getClient().gradcam(resultId, classIndex);
}

export function workerMemory(): Promise<MemoryInfo> {
  return getClient().memory();
}

/** What the inference worker has done (images classified, requests stopped by a cancel). */
export function workerCounters(): Promise<WorkCounters> {
  return getClient().counters();
}

export { WorkerError };
