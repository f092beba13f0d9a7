// Promise-based client for the training worker (no React here: src/ui/state/trainer/ holds the page state around it).
import type { BackendName } from '../ml/backend';
import type { StoredModelSummary } from '../ml/model-store';
import type {
  AugmentPreviewImage,
  BaseInfo,
  GradCamReply,
  MemorySample,
  ShortcutResult,
  ProjectItem,
  TrainEvent,
  TrainItem,
  TrainMessage,
  TrainReply,
  TrainRequestBody,
  TrainResult,
  TrainRun,
} from './train-protocol';

interface Pending {
  resolve: (msg: TrainReply) => void;
  reject: (e: Error) => void;
}

export class TrainClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private dead: Error | null = null;

  constructor(
    private readonly onEvent: (ev: TrainEvent) => void,
    worker?: Worker,
  ) {
    this.worker = worker ?? new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module', name: 'cxr-train' });
    this.worker.onmessage = (ev: MessageEvent<TrainMessage>) => this.onMessage(ev.data);
    this.worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.failAll(new Error(`the training worker crashed: ${ev.message || 'could not start (blocked script, out of memory or unsupported browser)'}`));
    };
    this.worker.onmessageerror = () => this.failAll(new Error('a training worker message could not be read'));
  }

  private onMessage(msg: TrainMessage): void {
    if (!('id' in msg)) {
      this.onEvent(msg);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.type === 'error') p.reject(new Error(msg.message));
    else p.resolve(msg);
  }

  private failAll(e: Error): void {
    this.dead = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private request<T extends TrainReply['type']>(body: TrainRequestBody, expect: T, transfer: Transferable[] = []): Promise<Extract<TrainReply, { type: T }>> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (msg) => (msg.type === expect ? resolve(msg as Extract<TrainReply, { type: T }>) : reject(new Error(`unexpected reply ${msg.type}`))),
        reject,
      });
      this.worker.postMessage({ ...body, id }, transfer);
    });
  }

  async init(baseUrl: string, backends?: BackendName[]): Promise<BaseInfo> {
    return (await this.request({ type: 'init', baseUrl, backends }, 'ready')).info;
  }

  async add(items: TrainItem[]): Promise<void> {
    await this.request({ type: 'add', items }, 'ok');
  }

  async remove(ids: number[]): Promise<void> {
    await this.request({ type: 'remove', ids }, 'ok');
  }

  async train(run: TrainRun): Promise<TrainResult> {
    return (await this.request({ type: 'train', run }, 'trained')).result;
  }

  async stop(): Promise<void> {
    await this.request({ type: 'stop' }, 'ok');
  }

  async predict(file: Blob): Promise<{ probabilities: number[]; thumb: Uint8Array; withheld: string[] | null }> {
    const r = await this.request({ type: 'predict', file }, 'prediction');
    return { probabilities: r.probabilities, thumb: r.thumb, withheld: r.withheld };
  }

  async image(imageId: number): Promise<{ gray: Uint8Array; size: number }> {
    const r = await this.request({ type: 'image', imageId }, 'image');
    return { gray: r.gray, size: r.size };
  }

  async gradcam(imageId: number, classIndex?: number): Promise<GradCamReply> {
    return (await this.request({ type: 'gradcam', imageId, classIndex }, 'gradcam')).result;
  }

  async exportFiles(): Promise<Record<string, Uint8Array>> {
    return (await this.request({ type: 'export' }, 'files')).files;
  }

  async save(name: string, overwrite: boolean): Promise<StoredModelSummary> {
    return (await this.request({ type: 'save', name, overwrite }, 'saved')).summary;
  }

  async importModel(name: string, files: Record<string, Uint8Array>, overwrite: boolean): Promise<StoredModelSummary> {
    return (await this.request({ type: 'import', name, files, overwrite }, 'saved')).summary;
  }

  async shortcut(run: TrainRun): Promise<ShortcutResult> {
    return (await this.request({ type: 'shortcut', run }, 'shortcut')).result;
  }

  async augmentPreview(imageIds: number[], variants: number, seed: number): Promise<{ images: AugmentPreviewImage[]; size: number }> {
    const r = await this.request({ type: 'augment-preview', imageIds, variants, seed }, 'augment-preview');
    return { images: r.images, size: r.size };
  }

  async memory(): Promise<MemorySample> {
    return (await this.request({ type: 'memory' }, 'memory')).memory;
  }

  async projectData(ids: number[]): Promise<ProjectItem[]> {
    return (await this.request({ type: 'project-data', ids }, 'project-data')).items;
  }

  async restoreModel(files: Record<string, Uint8Array>, result: TrainResult): Promise<void> {
    await this.request({ type: 'restore-model', files, result }, 'ok');
  }

  terminate(): void {
    this.worker.terminate();
    this.failAll(new Error('training worker terminated'));
  }
}
