// The training worker's images: each dropped image decoded once (embed-common.ts) → preprocessed →
// embedded, a few decoded ahead, on this worker's lane and on embedding helpers (other cores, CPU
// backends only); results go to the page in batches. Holds what each image's one decode kept.
import { type BackendInfo } from '../../ml/backend';
import { decodesSoFar, errorReason, prepareTrainImage, thumbnailOf, type EmbedRpc, type HelperEmbedded, type KeptImage } from '../embed-common';
import { type RpcClient, workerClient } from '../rpc';
import { type EmbedResult, type EmbedStats, type TrainEvent } from '../train-protocol';
import { memorySample } from './memory';
import type { Base } from './base';

/** What the queue needs from the worker: its base network and a way to send events to the page. */
interface Host {
  base: () => Promise<Base>;
  post: (msg: TrainEvent, transfer: Transferable[]) => void;
}

let host: Host | null = null;

/** Called once by the worker before the first image. */
export function connectImages(h: Host): void {
  host = h;
}

interface Stored {
  file: Blob;
  embedding?: Float32Array;
  /** What the pipeline gave at the image's one decode (crop, features, augmentation base). */
  kept?: KeptImage;
  error?: string;
}

export const images = new Map<number, Stored>();
export const queue: number[] = [];
let pumping: Promise<void> | null = null;
export const stats: EmbedStats = { processed: 0, failed: 0, queued: 0, decodeMs: 0, embedMs: 0, wallMs: 0, helpers: 0, byHelpers: 0 };
export let pendingResults: EmbedResult[] = [];
let pendingTransfer: Transferable[] = [];
let lastFlush = 0;

export function flush(force = false): void {
  if (!pendingResults.length) return;
  if (!force && performance.now() - lastFlush < 100 && pendingResults.length < 32) return;
  stats.queued = queue.length;
  host!.post({ type: 'embedded', results: pendingResults, stats: { ...stats } }, pendingTransfer);
  pendingResults = [];
  pendingTransfer = [];
  lastFlush = performance.now();
}

/** Images decoded ahead of the one being embedded, per lane. */
const PREFETCH = 3;

interface Done {
  id: number;
  embedding?: Float32Array;
  thumb?: Uint8Array;
  kept?: KeptImage;
  error?: string;
  decodeMs: number;
  embedMs: number;
}

/** Latest decodesSoFar() reported by each helper worker. */
const helperDecodes = new Map<object, number>();

/** Dataset decodes so far by this worker and its helpers (the Train page decodes each image once). */
export function decodesTotal(): number {
  let n = decodesSoFar();
  for (const v of helperDecodes.values()) n += v;
  return n;
}

/** The kept pipeline output of an embedded image (never decoded again). */
export function keptOf(id: number): KeptImage {
  const kept = images.get(id)?.kept;
  if (!kept) throw new Error(`image ${id} is not prepared (it was skipped or removed)`);
  return kept;
}

/** Records a finished image and queues its result for the page. */
function deliver(d: Done): void {
  const item = images.get(d.id);
  if (!item) return; // removed meanwhile
  stats.decodeMs += d.decodeMs;
  stats.embedMs += d.embedMs;
  if (d.embedding) {
    item.embedding = d.embedding;
    item.kept = d.kept;
    pendingResults.push({ id: d.id, thumb: d.thumb, fileHash: d.kept?.fileHash, phash: d.kept?.phash });
    if (d.thumb) pendingTransfer.push(d.thumb.buffer as ArrayBuffer);
  } else {
    item.error = d.error ?? 'could not be read';
    stats.failed++;
    pendingResults.push({ id: d.id, error: item.error });
  }
  stats.processed++;
  if (stats.processed % 16 === 0) memorySample();
  flush();
}

/** Next image waiting to be embedded (skipping removed or finished ones). */
function takeNext(): { id: number; file: Blob } | null {
  while (queue.length) {
    const id = queue.shift()!;
    const item = images.get(id);
    if (item && !item.embedding && !item.error) return { id, file: item.file };
  }
  return null;
}

/** This worker's own lane: decode up to PREFETCH images ahead, embed one at a time. */
async function localLane(b: Base): Promise<void> {
  const ahead: Promise<Done & { input?: Float32Array }>[] = [];
  for (;;) {
    while (ahead.length < PREFETCH) {
      const next = takeNext();
      if (!next) break;
      const t0 = performance.now();
      ahead.push(
        prepareTrainImage(next.file, b.metadata).then(
          ({ input, kept }) => ({ id: next.id, input, kept, decodeMs: performance.now() - t0, embedMs: 0 }),
          (e) => ({ id: next.id, error: errorReason(e), decodeMs: performance.now() - t0, embedMs: 0 }),
        ),
      );
    }
    if (!ahead.length) return;
    const p = await ahead.shift()!;
    if (p.input && images.has(p.id)) {
      try {
        const t1 = performance.now();
        const [e] = await b.embedder.embed([p.input]);
        p.embedMs = performance.now() - t1;
        p.embedding = e;
        p.thumb = thumbnailOf(p.input, b.metadata);
      } catch (e) {
        p.error = errorReason(e);
      }
    }
    deliver(p);
  }
}

// ---------------------------------------------------------------------------------------------
// Embedding helpers (other cores)
// ---------------------------------------------------------------------------------------------

interface Helper {
  rpc: RpcClient<EmbedRpc>;
  ready: Promise<boolean>;
  alive: boolean;
}

let helpers: Helper[] | null = null;

/** Number of helper workers: other cores, on CPU backends only (one GPU gains nothing from more contexts). */
function helperCount(backend: BackendInfo): number {
  if (backend.name !== 'wasm' && backend.name !== 'cpu') return 0;
  // Threaded wasm already spreads each image over the cores; helpers would only compete with it.
  if (backend.details.some((d) => / threads$/.test(d))) return 0;
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  return Math.max(0, Math.min(3, cores - 1));
}

function startHelpers(b: Base): Helper[] {
  if (helpers) return helpers;
  helpers = [];
  const n = helperCount(b.info.backend);
  for (let i = 0; i < n; i++) {
    let worker: Worker;
    try {
      worker = new Worker(new URL('../embed.worker.ts', import.meta.url), { type: 'module', name: `cxr-embed-${i + 1}` });
    } catch {
      break; // nested workers unsupported: embed here only
    }
    // A crash rejects what it had in hand (the lane puts it back in the queue).
    const { rpc } = workerClient<EmbedRpc>(worker, { crashed: () => new Error('helper crashed') });
    const h: Helper = { rpc, ready: Promise.resolve(false), alive: true };
    const files: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(b.files)) files[k] = v.slice();
    h.ready = rpc.call('init', { files, backend: b.info.backend.name }, { transfer: Object.values(files).map((f) => f.buffer as ArrayBuffer) }).then(
      ({ dim }) => dim === b.info.embeddingDim,
      () => {
        h.alive = false;
        return false;
      },
    );
    helpers.push(h);
  }
  return helpers;
}

/** One helper slot: takes images from the shared queue until it is empty. */
async function helperLane(h: Helper): Promise<void> {
  if (!(await h.ready)) return;
  stats.helpers = helpers?.filter((x) => x.alive).length ?? 0;
  for (;;) {
    if (!h.alive) return;
    const next = takeNext();
    if (!next) return;
    let r: HelperEmbedded;
    try {
      r = await h.rpc.call('embed', { file: next.file });
    } catch {
      h.alive = false;
      queue.unshift(next.id); // helper died: someone else does it
      return;
    }
    if (r.decodes !== undefined) helperDecodes.set(h, r.decodes);
    if (images.has(next.id)) stats.byHelpers++;
    deliver({ id: next.id, embedding: r.embedding, thumb: r.thumb, kept: r.kept, error: r.error, decodeMs: r.decodeMs, embedMs: r.embedMs });
  }
}

/** Helpers are worth starting for more than this many waiting images. */
const HELPER_THRESHOLD = 24;

export function pump(): Promise<void> {
  pumping ??= (async () => {
    const b = await host!.base();
    const wall0 = performance.now();
    const lanes: Promise<void>[] = [localLane(b)];
    if (queue.length > HELPER_THRESHOLD || helpers) {
      // Two images in flight per helper: one embedding, the next decoding.
      for (const h of startHelpers(b)) lanes.push(helperLane(h), helperLane(h));
    }
    await Promise.all(lanes);
    stats.wallMs = performance.now() - wall0;
    memorySample();
    flush(true);
  })().finally(() => {
    pumping = null;
    if (queue.length) void pump();
  });
  return pumping;
}

export async function embeddingsIdle(): Promise<void> {
  while (pumping || queue.length) await (pumping ?? pump());
}

export function gather(ids: number[], dim: number): Float32Array {
  const x = new Float32Array(ids.length * dim);
  ids.forEach((id, i) => {
    const e = images.get(id)?.embedding;
    if (!e) throw new Error(`image ${id} has no embedding (it was skipped or removed)`);
    x.set(e, i * dim);
  });
  return x;
}
