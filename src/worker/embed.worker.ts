/// <reference lib="webworker" />
// An embedding helper of the training worker: the same backbone (sent as files), the same backend,
// the same decode → preprocess → embed code, so an image embedded here gives the same numbers as in
// the training worker. The training worker starts a few of these on multi-core machines (wasm/cpu
// backends) and shares the queue with them, so thousands of images embed several times faster.
import * as tf from '../ml/tf';
import { initBrowserBackend } from '../ml/backend';
import { loadModelFiles } from '../ml/io';
import { createEmbedder, type Embedder } from '../ml/finetune';
import type { ModelMetadata } from '../core/metadata';
import { decodesSoFar, errorReason, prepareTrainImage, thumbnailOf, type HelperReply, type HelperRequest, type PreparedTrainImage } from './embed-common';

declare const self: DedicatedWorkerGlobalScope;

let ready: Promise<{ embedder: Embedder; metadata: ModelMetadata }> | null = null;
// One image at a time through the backend.
let chain: Promise<unknown> = Promise.resolve();

function post(msg: HelperReply, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

self.onmessage = (ev: MessageEvent<HelperRequest>) => {
  const req = ev.data;
  if (req.type === 'init') {
    ready = (async () => {
      await initBrowserBackend([req.backend]);
      const { model, metadata } = await loadModelFiles(async (p) => {
        const f = req.files[p];
        if (!f) throw new Error(`${p} missing`);
        return f;
      });
      const embedder = createEmbedder(model, metadata);
      const s = metadata.preprocessing.inputSize;
      await embedder.embed([new Float32Array(s * s)]);
      return { embedder, metadata };
    })();
    ready.then(
      ({ embedder }) => post({ type: 'ready', dim: embedder.dim }),
      (e) => post({ type: 'failed', message: `${errorReason(e)} (backend ${tf.getBackend() ?? 'none'})` }),
    );
    return;
  }
  const { seq, file } = req;
  const t0 = performance.now();
  const decoding = ready!.then(({ metadata }) => prepareTrainImage(file, metadata));
  chain = chain.then(async () => {
    const { embedder, metadata } = await ready!;
    let prepared: PreparedTrainImage;
    try {
      prepared = await decoding;
    } catch (e) {
      post({ type: 'embedded', seq, error: errorReason(e), decodeMs: performance.now() - t0, embedMs: 0, decodes: decodesSoFar() });
      return;
    }
    const t1 = performance.now();
    try {
      const [embedding] = await embedder.embed([prepared.input]);
      const thumb = thumbnailOf(prepared.input, metadata);
      const { kept } = prepared;
      post({ type: 'embedded', seq, embedding, thumb, kept, decodeMs: t1 - t0, embedMs: performance.now() - t1, decodes: decodesSoFar() }, [
        embedding.buffer as ArrayBuffer,
        thumb.buffer as ArrayBuffer,
        kept.crop.buffer as ArrayBuffer,
        kept.base.pixels.buffer as ArrayBuffer,
      ]);
    } catch (e) {
      post({ type: 'embedded', seq, error: errorReason(e), decodeMs: t1 - t0, embedMs: performance.now() - t1, decodes: decodesSoFar() });
    }
  });
};
