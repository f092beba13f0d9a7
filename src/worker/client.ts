// Promise-based client for the inference worker (no React here: the hooks in src/ui/hooks wrap it):
// typed calls of the InferenceRpc map over src/worker/rpc.ts. classify / classifyBatch take an
// AbortSignal: aborting rejects with an AbortError and stops the worker's work on that request.
import type { BackendName, BackendOptions } from '../ml/backend';
import { type RpcClient, workerClient } from './rpc';
import type {
  BatchItemResult,
  ClassifyItem,
  ClassifyOptions,
  ClassifyResult,
  ErrorKind,
  GradCamPayload,
  InferenceRpc,
  LoadProgress,
  MemoryInfo,
  ModelInfo,
  ModelSource,
  PreprocessResult,
  WorkCounters,
} from './protocol';

export class WorkerError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'WorkerError';
  }
}

export type ProgressEvent = LoadProgress;

export class InferenceClient {
  private readonly worker: Worker;
  private readonly rpc: RpcClient<InferenceRpc>;

  constructor(worker?: Worker) {
    const w = worker ?? new Worker(new URL('./inference.worker.ts', import.meta.url), { type: 'module', name: 'cxr-inference' });
    ({ worker: this.worker, rpc: this.rpc } = workerClient<InferenceRpc>(w, {
      makeError: (e) => new WorkerError((e.kind as ErrorKind | undefined) ?? 'internal', e.message),
      crashed: (f) =>
        new WorkerError(
          'internal',
          f.kind === 'messageerror'
            ? 'a worker message could not be read'
            : `the inference worker crashed: ${f.message || 'could not start (blocked script or unsupported browser)'}`,
        ),
    }));
  }

  load(
    source: ModelSource,
    opts: { backends?: BackendName[]; warmup?: boolean; threads?: BackendOptions['threads']; onProgress?: (p: ProgressEvent) => void } = {},
  ): Promise<ModelInfo> {
    return this.rpc.call('load', { source, backends: opts.backends, warmup: opts.warmup, threads: opts.threads }, { onProgress: opts.onProgress });
  }

  classify(name: string, file: Blob | Uint8Array, options?: ClassifyOptions, signal?: AbortSignal): Promise<ClassifyResult> {
    return this.rpc.call('classify', { name, file, options }, { signal });
  }

  /** Several files in one model run; one entry per file, in order (errors per file, not thrown). */
  classifyBatch(items: ClassifyItem[], options?: ClassifyOptions, signal?: AbortSignal): Promise<BatchItemResult[]> {
    return this.rpc.call('classifyBatch', { items, options }, { signal });
  }

  memory(): Promise<MemoryInfo> {
    return this.rpc.call('memory', null);
  }

  /** What the worker has done so far (images classified, requests stopped by a cancel). */
  counters(): Promise<WorkCounters> {
    return this.rpc.call('counters', null);
  }

  /** Grad-CAM of a recent result (by ClassifyResult.resultId) for a class; default the predicted one. */
  gradcam(resultId: number, classIndex?: number): Promise<GradCamPayload> {
    return this.rpc.call('gradcam', { resultId, classIndex });
  }

  preprocess(file: Blob | Uint8Array): Promise<PreprocessResult> {
    return this.rpc.call('preprocess', { file });
  }

  async unload(): Promise<void> {
    await this.rpc.call('unload', null);
  }

  terminate(): void {
    this.worker.terminate();
    this.rpc.close(new WorkerError('internal', 'worker terminated'));
  }
}

/** The shipped model's folder, relative to the page (works from any sub-path). */
export function shippedModelUrl(base: string = document.baseURI): string {
  return new URL('model/', base).href;
}
