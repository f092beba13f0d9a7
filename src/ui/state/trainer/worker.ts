import { TrainClient } from '../../../worker/train-client';
import { shippedModelUrl } from '../../../worker/client';
import type { BaseInfo, TrainEvent, TrainRun } from '../../../worker/train-protocol';
import { backendsFromUrl } from '../classifier';
import { baseTrainedIds, fetchTrainHashes } from './copies';
import type { TrainHashSet } from '../../../core/train-hashes';
import { set } from './store';

export let client: TrainClient | null = null;
let initPromise: Promise<BaseInfo> | null = null;

function onEvent(ev: TrainEvent): void {
  switch (ev.type) {
    case 'embedded': {
      const byId = new Map(ev.results.map((r) => [r.id, r]));
      set((s) => {
        const images = s.images.map((im) => {
          const r = byId.get(im.id);
          if (!r) return im;
          if (r.error) return { ...im, status: 'error' as const, error: r.error };
          const baseTrained = trainHashes && r.phash ? baseTrainedIds([{ id: im.id, phash: r.phash }], trainHashes).has(im.id) : undefined;
          return { ...im, status: 'ready' as const, thumb: r.thumb, fileHash: r.fileHash, phash: r.phash, baseTrained };
        });
        const waiting = images.some((im) => im.status === 'queued');
        return { ...s, images, embed: { ...s.embed, stats: ev.stats, doneAt: waiting ? null : performance.now() } };
      });
      return;
    }
    case 'stage':
      set((s) => ({ ...s, run: { ...s.run, stage: ev.stage, stageDetail: ev.detail ?? null } }));
      return;
    case 'shortcut-progress':
      for (const l of lessonListeners) l(ev);
      return;
    case 'epoch':
      // Coalesced: a fast head trains many epochs a second; the charts redraw a few times a second.
      pendingEpochs.push(ev);
      epochTimer ??= setTimeout(commitEpochs, Math.max(0, EPOCH_COMMIT_MS - (performance.now() - lastEpochCommit)));
      return;
  }
}

// Every epoch is kept; the page redraws its charts and evaluation at most twice a second (each redraw
// costs main-thread CPU that the training worker would otherwise use on a 2-core machine).
const EPOCH_COMMIT_MS = 500;
let pendingEpochs: Extract<TrainEvent, { type: 'epoch' }>[] = [];
let epochTimer: ReturnType<typeof setTimeout> | null = null;
let lastEpochCommit = 0;

export function commitEpochs(): void {
  if (epochTimer) clearTimeout(epochTimer);
  epochTimer = null;
  if (!pendingEpochs.length) return;
  const batch = pendingEpochs;
  pendingEpochs = [];
  lastEpochCommit = performance.now();
  const last = batch[batch.length - 1];
  const probs = [...batch].reverse().find((b) => b.valProbs)?.valProbs ?? null;
  set((s) => ({
    ...s,
    run: {
      ...s.run,
      history: [...s.run.history, ...batch.map((b) => b.log)],
      valProbs: probs ?? s.run.valProbs,
      probsEpoch: last.log.epoch,
      memory: last.memory,
    },
  }));
}

let trainHashes: TrainHashSet | null = null;
let trainHashesLoading = false;

/** Loads the base network's training-image hashes once (when the first images are prepared). */
export function loadTrainHashes(): void {
  if (trainHashes || trainHashesLoading) return;
  trainHashesLoading = true;
  set((s) => ({ ...s, baseHashes: { status: 'loading', count: 0, error: null } }));
  fetchTrainHashes(shippedModelUrl()).then(
    (h) => {
      trainHashes = h;
      trainHashesLoading = false;
      set((s) => {
        const known = baseTrainedIds(s.images, h);
        return {
          ...s,
          images: s.images.map((im) => (im.phash ? { ...im, baseTrained: known.has(im.id) } : im)),
          baseHashes: { status: 'ready', count: h.count, error: null },
        };
      });
    },
    (e: Error) => {
      trainHashesLoading = false;
      set((s) => ({ ...s, baseHashes: { status: 'error', count: 0, error: e.message } }));
    },
  );
}

export function getClient(): TrainClient {
  client ??= new TrainClient(onEvent);
  return client;
}

// The Train page's lessons (state/lessons.ts) share the worker: its client, the events of their own
// runs, and the exact TrainRun of the last finished normal run (same split, settings and seed).
const lessonListeners = new Set<(ev: TrainEvent) => void>();
let lastRun: { runId: number; run: TrainRun } | null = null;

export function lessonClient(): TrainClient {
  return getClient();
}

export function onLessonEvent(listener: (ev: TrainEvent) => void): () => void {
  lessonListeners.add(listener);
  return () => lessonListeners.delete(listener);
}

/** The request of the last normal run that finished (null before any). */
export function lastTrainRun(): { runId: number; run: TrainRun } | null {
  return lastRun;
}

export function setLastTrainRun(r: { runId: number; run: TrainRun }): void {
  lastRun = r;
}

/** Starts the worker and loads the backbone (once). */
export function ensureBase(): Promise<BaseInfo> {
  if (initPromise) return initPromise;
  set((s) => ({ ...s, base: { status: 'loading', info: null, error: null } }));
  initPromise = getClient()
    .init(shippedModelUrl(), backendsFromUrl())
    .then(
      (info) => {
        set((s) => ({ ...s, base: { status: 'ready', info, error: null } }));
        return info;
      },
      (e: Error) => {
        initPromise = null;
        set((s) => ({ ...s, base: { status: 'error', info: null, error: e.message } }));
        throw e;
      },
    );
  return initPromise;
}
