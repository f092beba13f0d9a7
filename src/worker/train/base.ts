// The training worker's base network: the shipped model downloaded, loaded as the frozen backbone
// (embedder and last block), warmed up, and named by its identity (for projects).
import * as tf from '../../ml/tf';
import { initBrowserBackend, type BackendInfo } from '../../ml/backend';
import { loadModelFiles, type FileReader } from '../../ml/io';
import { createEmbedder, findLastBlock, type Embedder, type LastBlock } from '../../ml/finetune';
import type { ModelMetadata } from '../../core/metadata';
import { sha256Hex } from '../../core/manifest';
import { type BaseInfo, type TrainRpc } from '../train-protocol';

/** The backend, chosen once for the worker's lifetime. */
let backend: BackendInfo | null = null;

export interface Base {
  /** The model files as downloaded (the embedding helpers load the same bytes). */
  files: Record<string, Uint8Array>;
  model: tf.LayersModel;
  metadata: ModelMetadata;
  embedder: Embedder;
  block: LastBlock | null;
  info: BaseInfo;
}

export function urlReader(baseUrl: string): FileReader {
  return async (rel) => {
    const url = new URL(rel, baseUrl).href;
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new Error(`network error (${(e as Error).message})`);
    }
    if (!res.ok) throw new Error(`HTTP ${res.status} for ${url}`);
    return new Uint8Array(await res.arrayBuffer());
  };
}

export async function loadBase(baseUrl: string, backends: TrainRpc['init']['request']): Promise<Base> {
  const t0 = performance.now();
  backend ??= await initBrowserBackend(backends.backends);
  const read = urlReader(baseUrl);
  const files: Record<string, Uint8Array> = {};
  const { model, metadata } = await loadModelFiles(async (p) => (files[p] = await read(p)));
  const embedder = createEmbedder(model, metadata);
  const found = findLastBlock(model, metadata);
  const block = 'block' in found ? found.block : null;
  // Warm-up: compiles kernels / shaders now rather than on the first image.
  const s = metadata.preprocessing.inputSize;
  await embedder.embed([new Float32Array(s * s)]);
  const info: BaseInfo = {
    backend,
    metadata,
    embeddingDim: embedder.dim,
    lastBlockProblem: 'reason' in found ? found.reason : null,
    loadMs: performance.now() - t0,
    identity: `${metadata.name}@${metadata.version} ${sha256Hex(
      Object.keys(files)
        .sort()
        .map((f) => `${f}:${sha256Hex(files[f])}`)
        .join(','),
    ).slice(0, 16)}`,
  };
  return { model, metadata, embedder, block, info, files };
}
