// Promise-based client for the training worker (no React here: src/ui/state/trainer/ holds the page state around it):
// typed calls of the TrainRpc map over src/worker/rpc.ts; the worker's events go to `onEvent`.
import type { BackendName } from '../ml/backend';
import type { StoredModelSummary } from '../ml/model-store';
import { type RpcClient, workerClient } from './rpc';
import type {
  AugmentPreviewImage,
  BaseInfo,
  GradCamReply,
  MemorySample,
  Prediction,
  ShortcutResult,
  ProjectItem,
  TrainEvent,
  TrainEvents,
  TrainItem,
  TrainResult,
  TrainRpc,
  TrainRun,
} from './train-protocol';

export class TrainClient {
  private readonly worker: Worker;
  private readonly rpc: RpcClient<TrainRpc, TrainEvents>;

  constructor(onEvent: (ev: TrainEvent) => void, worker?: Worker) {
    const w = worker ?? new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module', name: 'cxr-train' });
    ({ worker: this.worker, rpc: this.rpc } = workerClient<TrainRpc, TrainEvents>(w, {
      crashed: (f) =>
        f.kind === 'messageerror'
          ? new Error('a training worker message could not be read')
          : new Error(`the training worker crashed: ${f.message || 'could not start (blocked script, out of memory or unsupported browser)'}`),
    }));
    this.rpc.onAny((_, ev) => onEvent(ev));
  }

  init(baseUrl: string, backends?: BackendName[]): Promise<BaseInfo> {
    return this.rpc.call('init', { baseUrl, backends });
  }

  async add(items: TrainItem[]): Promise<void> {
    await this.rpc.call('add', { items });
  }

  async remove(ids: number[]): Promise<void> {
    await this.rpc.call('remove', { ids });
  }

  train(run: TrainRun): Promise<TrainResult> {
    return this.rpc.call('train', { run });
  }

  async stop(): Promise<void> {
    await this.rpc.call('stop', null);
  }

  predict(file: Blob): Promise<Prediction> {
    return this.rpc.call('predict', { file });
  }

  image(imageId: number): Promise<{ gray: Uint8Array; size: number }> {
    return this.rpc.call('image', { imageId });
  }

  gradcam(imageId: number, classIndex?: number): Promise<GradCamReply> {
    return this.rpc.call('gradcam', { imageId, classIndex });
  }

  exportFiles(): Promise<Record<string, Uint8Array>> {
    return this.rpc.call('export', null);
  }

  save(name: string, overwrite: boolean): Promise<StoredModelSummary> {
    return this.rpc.call('save', { name, overwrite });
  }

  importModel(name: string, files: Record<string, Uint8Array>, overwrite: boolean): Promise<StoredModelSummary> {
    return this.rpc.call('import', { name, files, overwrite });
  }

  shortcut(run: TrainRun): Promise<ShortcutResult> {
    return this.rpc.call('shortcut', { run });
  }

  augmentPreview(imageIds: number[], variants: number, seed: number): Promise<{ images: AugmentPreviewImage[]; size: number }> {
    return this.rpc.call('augment-preview', { imageIds, variants, seed });
  }

  memory(): Promise<MemorySample> {
    return this.rpc.call('memory', null);
  }

  projectData(ids: number[]): Promise<ProjectItem[]> {
    return this.rpc.call('project-data', { ids });
  }

  async restoreModel(files: Record<string, Uint8Array>, result: TrainResult): Promise<void> {
    await this.rpc.call('restore-model', { files, result });
  }

  terminate(): void {
    this.worker.terminate();
    this.rpc.close(new Error('training worker terminated'));
  }
}
