/// <reference lib="webworker" />
// An embedding helper of the training worker: the same backbone (sent as files), the same backend,
// the same decode → preprocess → embed code, so an image embedded here gives the same numbers as in
// the training worker. The training worker starts a few of these on multi-core machines (wasm/cpu
// backends) and shares the queue with them, so thousands of images embed several times faster.
// Requests: EmbedRpc (embed-common.ts) over src/worker/rpc.ts.
import * as tf from '../ml/tf';
import { initBrowserBackend } from '../ml/backend';
import { loadModelFiles } from '../ml/io';
import { createEmbedder, type Embedder } from '../ml/finetune';
import type { ModelMetadata } from '../core/metadata';
import { serve } from './rpc';
import { decodesSoFar, errorReason, prepareTrainImage, thumbnailOf, type EmbedRpc, type HelperEmbedded, type PreparedTrainImage } from './embed-common';

declare const self: DedicatedWorkerGlobalScope;

let ready: Promise<{ embedder: Embedder; metadata: ModelMetadata }> | null = null;
// One image at a time through the backend.
let chain: Promise<unknown> = Promise.resolve();

serve<EmbedRpc>(self, {
  init: async (req) => {
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
    try {
      const { embedder } = await ready;
      return { dim: embedder.dim };
    } catch (e) {
      throw new Error(`${errorReason(e)} (backend ${tf.getBackend() ?? 'none'})`);
    }
  },
  embed: ({ file }, { transfer }) => {
    const t0 = performance.now();
    // Decoding starts at once; the embedding waits for the image before it (two in flight per helper).
    const decoding = ready!.then(({ metadata }) => prepareTrainImage(file, metadata));
    const done = chain.then(async (): Promise<HelperEmbedded> => {
      const { embedder, metadata } = await ready!;
      let prepared: PreparedTrainImage;
      try {
        prepared = await decoding;
      } catch (e) {
        return { error: errorReason(e), decodeMs: performance.now() - t0, embedMs: 0, decodes: decodesSoFar() };
      }
      const t1 = performance.now();
      try {
        const [embedding] = await embedder.embed([prepared.input]);
        const thumb = thumbnailOf(prepared.input, metadata);
        const { kept } = prepared;
        transfer(embedding.buffer as ArrayBuffer, thumb.buffer as ArrayBuffer, kept.crop.buffer as ArrayBuffer, kept.base.pixels.buffer as ArrayBuffer);
        return { embedding, thumb, kept, decodeMs: t1 - t0, embedMs: performance.now() - t1, decodes: decodesSoFar() };
      } catch (e) {
        return { error: errorReason(e), decodeMs: t1 - t0, embedMs: performance.now() - t1, decodes: decodesSoFar() };
      }
    });
    chain = done.catch(() => undefined);
    return done;
  },
});
