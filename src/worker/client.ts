// Promise-based client for the inference worker (no React here: the hooks in src/ui/hooks wrap it).
import type { BackendName, BackendOptions } from '../ml/backend';
import type {
  BatchItemResult,
  ClassifyOptions,
  ClassifyResult,
  ErrorKind,
  GradCamPayload,
  MemoryInfo,
  PreprocessResult,
  ModelInfo,
  ModelSource,
  RequestBody,
  WorkerResponse,
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

export type ProgressEvent = Extract<WorkerResponse, { type: 'progress' }>;

interface Pending {
  resolve: (msg: WorkerResponse) => void;
  reject: (e: Error) => void;
  onProgress?: (p: ProgressEvent) => void;
}

export class InferenceClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private dead: Error | null = null;

  constructor(worker?: Worker) {
    this.worker = worker ?? new Worker(new URL('./inference.worker.ts', import.meta.url), { type: 'module', name: 'cxr-inference' });
    this.worker.onmessage = (ev: MessageEvent<WorkerResponse>) => this.onMessage(ev.data);
    this.worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.failAll(new WorkerError('internal', `the inference worker crashed: ${ev.message || 'could not start (blocked script or unsupported browser)'}`));
    };
    this.worker.onmessageerror = () => this.failAll(new WorkerError('internal', 'a worker message could not be read'));
  }

  private onMessage(msg: WorkerResponse): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === 'progress') {
      p.onProgress?.(msg);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.type === 'error') p.reject(new WorkerError(msg.error.kind, msg.error.message));
    else p.resolve(msg);
  }

  private failAll(e: Error): void {
    this.dead = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private request(body: RequestBody, onProgress?: (p: ProgressEvent) => void, transfer: Transferable[] = []): Promise<WorkerResponse> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ ...body, id }, transfer);
    });
  }

  async load(
    source: ModelSource,
    opts: { backends?: BackendName[]; warmup?: boolean; threads?: BackendOptions['threads']; onProgress?: (p: ProgressEvent) => void } = {},
  ): Promise<ModelInfo> {
    const msg = await this.request({ type: 'load', source, backends: opts.backends, warmup: opts.warmup, threads: opts.threads }, opts.onProgress);
    return (msg as Extract<WorkerResponse, { type: 'loaded' }>).info;
  }

  async classify(name: string, file: Blob | Uint8Array, options?: ClassifyOptions): Promise<ClassifyResult> {
    const msg = await this.request({ type: 'classify', name, file, options });
    return (msg as Extract<WorkerResponse, { type: 'result' }>).result;
  }

  /** Several files in one model run; one entry per file, in order (errors per file, not thrown). */
  async classifyBatch(items: { name: string; file: Blob | Uint8Array }[], options?: ClassifyOptions): Promise<BatchItemResult[]> {
    const msg = await this.request({ type: 'classifyBatch', items, options });
    return (msg as Extract<WorkerResponse, { type: 'results' }>).results;
  }

  async memory(): Promise<MemoryInfo> {
    const msg = await this.request({ type: 'memory' });
    return (msg as Extract<WorkerResponse, { type: 'memory' }>).memory;
  }

  /** Grad-CAM of a recent result (by ClassifyResult.resultId) for a class; default the predicted one. */
  async gradcam(resultId: number, classIndex?: number): Promise<GradCamPayload> {
    const msg = await this.request({ type: 'gradcam', resultId, classIndex });
    return (msg as Extract<WorkerResponse, { type: 'gradcam' }>).result;
  }

  async preprocess(file: Blob | Uint8Array): Promise<PreprocessResult> {
    const msg = await this.request({ type: 'preprocess', file });
    return (msg as Extract<WorkerResponse, { type: 'preprocessed' }>).result;
  }

  async unload(): Promise<void> {
    await this.request({ type: 'unload' });
  }

  terminate(): void {
    this.worker.terminate();
    this.failAll(new WorkerError('internal', 'worker terminated'));
  }
}

/** The shipped model's folder, relative to the page (works from any sub-path). */
export function shippedModelUrl(base: string = document.baseURI): string {
  return new URL('model/', base).href;
}
