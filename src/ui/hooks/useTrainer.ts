// The Train page's state and actions: classes and their images, intake (folders, zips, per-class
// drops), settings, the training run with its live history, preview, export and saved models. One
// training worker for the whole app; the state lives outside React, so a run goes on (and its curves
// are still there) when the teacher switches to another page and back. No ML here: the worker does it.
import { useSyncExternalStore } from 'react';
import { zipSync } from 'fflate';
import { TrainClient } from '../../worker/train-client';
import { shippedModelUrl } from '../../worker/client';
import type { BaseInfo, EmbedStats, GradCamReply, MemorySample, TrainEvent, TrainItem, TrainResult, TrainRun, TrainStage } from '../../worker/train-protocol';
import { DEFAULT_BLOCK_CONFIG, DEFAULT_HEAD_CONFIG, type BlockConfig, type EpochLog, type HeadConfig } from '../../ml/finetune-config';
import {
  checkDataset,
  expandZips,
  isZipFile,
  labelByFolder,
  nameProblem,
  type DatasetCheck,
  type IntakeFile,
  type LabelledFile,
  type Rejected,
} from '../../ml/dataset-browser';
import { deleteStoredModel, listStoredModels, onStoredModelsChanged, type StoredModelSummary } from '../../ml/model-store';
import { backendsFromUrl } from '../state/classifier';
import { Store } from '../lib/store';
import { baseTrainedIds, fetchTrainHashes, splitWithCopies } from './train-copies';
import type { TrainHashSet } from '../../core/train-hashes';

export interface ClassEntry {
  key: number;
  name: string;
}

export type ImageStatus = 'queued' | 'ready' | 'error';

export interface ImageEntry {
  id: number;
  classKey: number;
  path: string;
  status: ImageStatus;
  error?: string;
  /** 64×64 gray thumbnail of the model input (once embedded). */
  thumb?: Uint8Array;
  /** Exact file hash and perceptual hash (once embedded), for the copies check. */
  fileHash?: string;
  phash?: string;
  /** A copy of an image the shipped base network was trained on (once its hashes are loaded). */
  baseTrained?: boolean;
}

export interface TrainSettings {
  valFraction: number;
  /** Seeds the split, the initialisation, the shuffling, dropout and augmentation. */
  seed: number;
  head: HeadConfig;
  blockEnabled: boolean;
  block: BlockConfig;
  /** Classroom pace: every epoch takes at least CLASSROOM_EPOCH_MS, so the curves grow visibly. */
  classroomPace: boolean;
  /** Train on at most this many images of each class (0 = all); validation keeps its full share. */
  maxTrainPerClass: number;
  /** Sets of copies: all kept, each set on one side of the split, or one kept per set (and class). */
  duplicates: 'together' | 'remove';
  /** Images the base network was trained on stay out of validation (they may still train). */
  excludeBaseTrainedFromVal: boolean;
}

/** Minimum duration of an epoch at classroom pace. */
export const CLASSROOM_EPOCH_MS = 1500;

export type RunStatus = 'idle' | 'training' | 'stopping' | 'done' | 'error';

export interface RunState {
  runId: number;
  status: RunStatus;
  stage: TrainStage | null;
  stageDetail: string | null;
  history: EpochLog[];
  classNames: string[];
  trainCount: number;
  valIds: number[];
  valLabels: number[];
  /** Latest validation probabilities: per epoch while training, of the kept model once done. */
  valProbs: Float32Array | null;
  /** Epoch the probabilities belong to. */
  probsEpoch: number | null;
  plannedEpochs: number;
  result: TrainResult | null;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  memory: MemorySample | null;
}

export interface PreviewEntry {
  key: number;
  name: string;
  status: 'running' | 'done' | 'error';
  probabilities?: number[];
  /** "Not a chest X-ray?" reasons when the model's gate withholds the image (no class is shown then). */
  withheld?: string[] | null;
  classNames?: string[];
  thumb?: Uint8Array;
  error?: string;
}

export interface TrainerState {
  base: { status: 'idle' | 'loading' | 'ready' | 'error'; info: BaseInfo | null; error: string | null };
  classes: ClassEntry[];
  images: ImageEntry[];
  /** Files refused at intake (not images, not in a class folder, unreadable zips…). */
  rejected: Rejected[];
  intake: { busy: boolean; fraction: number | null; message: string | null };
  embed: { stats: EmbedStats | null; startedAt: number | null; doneAt: number | null };
  settings: TrainSettings;
  run: RunState;
  saved: StoredModelSummary[];
  previews: PreviewEntry[];
  /** Last user-facing message of an action (saved, downloaded, failed…). */
  message: { kind: 'ok' | 'error'; text: string } | null;
  /** The base network's training-image hashes (public/model/train-hashes.json), loaded with the first image. */
  baseHashes: { status: 'idle' | 'loading' | 'ready' | 'error'; count: number; error: string | null };
}

export const DEFAULT_SETTINGS: TrainSettings = {
  valFraction: 0.2,
  seed: 42,
  head: { ...DEFAULT_HEAD_CONFIG },
  blockEnabled: false,
  block: { ...DEFAULT_BLOCK_CONFIG },
  classroomPace: false,
  maxTrainPerClass: 0,
  duplicates: 'together',
  excludeBaseTrainedFromVal: false,
};

/**
 * The "Overfitting demo" preset: few training images per class, many epochs, no augmentation (no
 * last-block stage), no early stopping, no regularisation, a wide head, classroom pace on: validation
 * loss turns up while training loss keeps falling.
 */
export const OVERFITTING_PRESET = {
  maxTrainPerClass: 8,
  classroomPace: true,
  blockEnabled: false,
  head: { epochs: 40, patience: 0, restoreBest: false, dropout: 0, l2: 0, labelSmoothing: 0, hiddenUnits: 256, learningRate: 0.01 },
} as const satisfies Partial<Omit<TrainSettings, 'head' | 'block'>> & { head: Partial<HeadConfig> };

export function applyOverfittingPreset(): void {
  updateSettings({ ...OVERFITTING_PRESET, head: { ...OVERFITTING_PRESET.head } });
}

/** Planned epochs of a run with these settings (head, plus the last block when it can run). */
export function plannedEpochs(settings: TrainSettings, blockAvailable: boolean): number {
  return settings.head.epochs + (settings.blockEnabled && blockAvailable ? settings.block.epochs : 0);
}

const idleRun: RunState = {
  runId: 0,
  status: 'idle',
  stage: null,
  stageDetail: null,
  history: [],
  classNames: [],
  trainCount: 0,
  valIds: [],
  valLabels: [],
  valProbs: null,
  probsEpoch: null,
  plannedEpochs: 0,
  result: null,
  error: null,
  startedAt: null,
  finishedAt: null,
  memory: null,
};

let nextClassKey = 1;
let nextImageId = 1;
let nextPreviewKey = 1;

const initial: TrainerState = {
  base: { status: 'idle', info: null, error: null },
  classes: [
    { key: nextClassKey++, name: 'Class 1' },
    { key: nextClassKey++, name: 'Class 2' },
  ],
  images: [],
  rejected: [],
  intake: { busy: false, fraction: null, message: null },
  embed: { stats: null, startedAt: null, doneAt: null },
  settings: DEFAULT_SETTINGS,
  run: idleRun,
  saved: [],
  previews: [],
  message: null,
  baseHashes: { status: 'idle', count: 0, error: null },
};

export const trainerStore = new Store<TrainerState>(initial);
const set = (f: (s: TrainerState) => TrainerState) => trainerStore.set(f);

// ---------------------------------------------------------------------------------------------
// Worker
// ---------------------------------------------------------------------------------------------

let client: TrainClient | null = null;
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

function commitEpochs(): void {
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
function loadTrainHashes(): void {
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

function getClient(): TrainClient {
  client ??= new TrainClient(onEvent);
  return client;
}

// The Train page's lessons (useLessons.ts) share the worker: its client, the events of their own
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

// ---------------------------------------------------------------------------------------------
// Classes and images
// ---------------------------------------------------------------------------------------------

const DEFAULT_NAME = /^Class \d+$/;

function sendImages(entries: { id: number; file: Blob }[]): void {
  if (!entries.length) return;
  loadTrainHashes();
  set((s) => ({
    ...s,
    embed: { ...s.embed, startedAt: s.embed.doneAt !== null || s.embed.startedAt === null ? performance.now() : s.embed.startedAt, doneAt: null },
  }));
  void ensureBase()
    .then(() => getClient().add(entries))
    .catch((e: Error) => set((s) => ({ ...s, message: { kind: 'error', text: `Images could not be prepared: ${e.message}` } })));
}

/** Adds labelled files: classes are matched by name (case-insensitive) or created. */
export function addLabelled(unordered: LabelledFile[], rejected: Rejected[] = []): void {
  // Classes and images in a fixed order whatever order the browser listed the files in: class
  // indices (and so the trained model) must not depend on it.
  const cmp = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });
  const items = [...unordered].sort((a, b) => cmp(a.className, b.className) || cmp(a.path, b.path));
  const toSend: { id: number; file: Blob }[] = [];
  set((s) => {
    let classes = s.classes;
    const incoming = new Set(items.map((i) => i.className.toLowerCase()));
    // Folder intake brings its own classes: drop the untouched default cards.
    if (incoming.size) {
      const used = new Set(s.images.map((im) => im.classKey));
      classes = classes.filter((c) => used.has(c.key) || !DEFAULT_NAME.test(c.name) || incoming.has(c.name.toLowerCase()));
    }
    classes = [...classes];
    const keyOf = new Map(classes.map((c) => [c.name.toLowerCase(), c.key]));
    const images = [...s.images];
    for (const it of items) {
      let key = keyOf.get(it.className.toLowerCase());
      if (key === undefined) {
        key = nextClassKey++;
        classes.push({ key, name: it.className });
        keyOf.set(it.className.toLowerCase(), key);
      }
      const id = nextImageId++;
      images.push({ id, classKey: key, path: it.path, status: 'queued' });
      toSend.push({ id, file: it.file });
    }
    return { ...s, classes, images, rejected: [...s.rejected, ...rejected] };
  });
  sendImages(toSend);
}

async function withIntake<T>(message: string, f: (progress: (x: number) => void) => Promise<T>): Promise<T | undefined> {
  set((s) => ({ ...s, intake: { busy: true, fraction: null, message }, message: null }));
  try {
    return await f((x) => set((s) => ({ ...s, intake: { ...s.intake, fraction: x } })));
  } catch (e) {
    set((s) => ({ ...s, message: { kind: 'error', text: (e as Error).message } }));
    return undefined;
  } finally {
    set((s) => ({ ...s, intake: { busy: false, fraction: null, message: null } }));
  }
}

/** A whole data set (folders and/or zips): labels come from the folder names. */
export async function addDataset(files: IntakeFile[], extraRejected: Rejected[] = []): Promise<void> {
  await withIntake(files.some((f) => isZipFile(f)) ? 'Reading the zip archive…' : 'Reading the folder…', async (progress) => {
    const expanded = await expandZips(files, progress);
    const labelled = labelByFolder(expanded.files);
    addLabelled(labelled.items, [...extraRejected, ...expanded.rejected, ...labelled.rejected]);
    if (!labelled.items.length) throw new Error('No images in class folders were found. Drop a folder that holds one sub-folder per class, or a .zip of it.');
  });
}

/** Files (or zips) dropped on a class card: they all belong to that class. */
export async function addToClass(classKey: number, files: IntakeFile[], unreadable: readonly Rejected[] = []): Promise<void> {
  await withIntake('Reading files…', async (progress) => {
    const expanded = await expandZips(files, progress);
    const rejected = [...unreadable, ...expanded.rejected];
    const cls = trainerStore.get().classes.find((c) => c.key === classKey);
    if (!cls) return;
    const items: LabelledFile[] = [];
    for (const f of expanded.files) {
      const problem = nameProblem(f.path);
      if (problem) rejected.push({ path: f.path, reason: problem });
      else items.push({ className: cls.name, path: f.path, file: f.file });
    }
    // By key, not by name: two cards may briefly share a name while the user types.
    const toSend: { id: number; file: Blob }[] = [];
    set((s) => {
      const images = [...s.images];
      for (const it of items) {
        const id = nextImageId++;
        images.push({ id, classKey, path: it.path, status: 'queued' });
        toSend.push({ id, file: it.file });
      }
      return { ...s, images, rejected: [...s.rejected, ...rejected] };
    });
    sendImages(toSend);
  });
}

export function addClass(): void {
  set((s) => {
    const names = new Set(s.classes.map((c) => c.name));
    let n = s.classes.length + 1;
    while (names.has(`Class ${n}`)) n++;
    return { ...s, classes: [...s.classes, { key: nextClassKey++, name: `Class ${n}` }] };
  });
}

export function renameClass(key: number, name: string): void {
  set((s) => ({ ...s, classes: s.classes.map((c) => (c.key === key ? { ...c, name } : c)) }));
}

export function removeClass(key: number): void {
  const ids = trainerStore
    .get()
    .images.filter((im) => im.classKey === key)
    .map((im) => im.id);
  set((s) => ({ ...s, classes: s.classes.filter((c) => c.key !== key), images: s.images.filter((im) => im.classKey !== key) }));
  if (ids.length && client) void client.remove(ids);
}

export function removeImages(ids: number[]): void {
  const gone = new Set(ids);
  set((s) => ({ ...s, images: s.images.filter((im) => !gone.has(im.id)) }));
  if (ids.length && client) void client.remove(ids);
}

export function clearSkipped(): void {
  const ids = trainerStore
    .get()
    .images.filter((im) => im.status === 'error')
    .map((im) => im.id);
  set((s) => ({ ...s, rejected: [] }));
  removeImages(ids);
}

export function clearDataset(): void {
  const ids = trainerStore.get().images.map((im) => im.id);
  set((s) => ({
    ...s,
    classes: [
      { key: nextClassKey++, name: 'Class 1' },
      { key: nextClassKey++, name: 'Class 2' },
    ],
    images: [],
    rejected: [],
    embed: { stats: s.embed.stats, startedAt: null, doneAt: null },
  }));
  if (ids.length && client) void client.remove(ids);
}

export function updateSettings(patch: Partial<Omit<TrainSettings, 'head' | 'block'>> & { head?: Partial<HeadConfig>; block?: Partial<BlockConfig> }): void {
  set((s) => ({
    ...s,
    settings: {
      ...s.settings,
      ...patch,
      head: { ...s.settings.head, ...(patch.head ?? {}) },
      block: { ...s.settings.block, ...(patch.block ?? {}) },
    },
  }));
}

export function resetSettings(): void {
  set((s) => ({ ...s, settings: { ...DEFAULT_SETTINGS, head: { ...DEFAULT_SETTINGS.head }, block: { ...DEFAULT_SETTINGS.block } } }));
}

// ---------------------------------------------------------------------------------------------
// Derived data
// ---------------------------------------------------------------------------------------------

export interface ClassSummary {
  key: number;
  name: string;
  ready: number;
  queued: number;
  failed: number;
}

export function classSummaries(s: Pick<TrainerState, 'classes' | 'images'>): ClassSummary[] {
  const m = new Map(s.classes.map((c) => [c.key, { key: c.key, name: c.name, ready: 0, queued: 0, failed: 0 }]));
  for (const im of s.images) {
    const c = m.get(im.classKey);
    if (!c) continue;
    if (im.status === 'ready') c.ready++;
    else if (im.status === 'queued') c.queued++;
    else c.failed++;
  }
  return s.classes.map((c) => m.get(c.key)!);
}

export interface PlannedSplit {
  classNames: string[];
  train: { ids: number[]; labels: number[] };
  val: { ids: number[]; labels: number[] };
  perClass: { name: string; train: number; val: number }[];
  /** Sets of copies, images left out as extra copies, base-network training images in train / validation. */
  copies: { sets: number; removed: number; baseTrainedTrain: number; baseTrainedVal: number };
}

/** The split a run would use now: ready images only, classes in card order. */
export function planSplit(s: Pick<TrainerState, 'classes' | 'images' | 'settings'>): PlannedSplit {
  const classNames = s.classes.map((c) => c.name.trim());
  // Sets of copies stay on one side (or lose their extra copies); see train-copies.ts.
  const split = splitWithCopies(s);
  const { ready, labels } = split.view;
  const perClass = classNames.map((name) => ({ name, train: 0, val: 0 }));
  if (s.settings.maxTrainPerClass > 0) {
    // Keep the first N of each class in the (seeded) split order: same seed, same images.
    const taken = new Map<number, number>();
    split.train = split.train.filter((i) => {
      const t = taken.get(labels[i]) ?? 0;
      taken.set(labels[i], t + 1);
      return t < s.settings.maxTrainPerClass;
    });
  }
  split.train.forEach((i) => perClass[labels[i]].train++);
  split.val.forEach((i) => perClass[labels[i]].val++);
  return {
    classNames,
    train: { ids: split.train.map((i) => ready[i].id), labels: split.train.map((i) => labels[i]) },
    val: { ids: split.val.map((i) => ready[i].id), labels: split.val.map((i) => labels[i]) },
    perClass,
    copies: {
      sets: split.view.sets.length,
      removed: split.removed.length,
      baseTrainedTrain: split.train.filter((i) => ready[i].baseTrained).length,
      baseTrainedVal: split.val.filter((i) => ready[i].baseTrained).length,
    },
  };
}

export function datasetCheck(s: Pick<TrainerState, 'classes' | 'images'>): DatasetCheck {
  return checkDataset(classSummaries(s).map((c) => ({ name: c.name, count: c.ready + c.queued })));
}

// ---------------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------------

/** Starts a run with the current data and settings. Resolves when it ends (stopped runs included). */
export async function startTraining(): Promise<TrainResult | null> {
  const s = trainerStore.get();
  if (s.run.status === 'training' || s.run.status === 'stopping') return null;
  const check = datasetCheck(s);
  if (check.errors.length) {
    set((st) => ({ ...st, message: { kind: 'error', text: check.errors[0] } }));
    return null;
  }
  if (s.images.some((im) => im.status === 'queued')) {
    set((st) => ({ ...st, message: { kind: 'error', text: 'Wait until every image is prepared.' } }));
    return null;
  }
  const info = await ensureBase();
  const plan = planSplit(s);
  const { settings } = s;
  const head: HeadConfig = { ...settings.head, seed: settings.seed };
  const block = settings.blockEnabled && !info.lastBlockProblem ? settings.block : null;
  const run: TrainRun = {
    classNames: plan.classNames,
    train: plan.train,
    val: plan.val,
    head,
    block,
    modelName: `${plan.classNames.join(' / ')} (fine-tuned)`,
    notes: {
      valFraction: settings.valFraction,
      splitSeed: settings.seed,
      ...(settings.maxTrainPerClass > 0 ? { maxTrainPerClass: settings.maxTrainPerClass } : {}),
      ...(plan.copies.sets
        ? { copySets: plan.copies.sets, copies: settings.duplicates === 'remove' ? `${plan.copies.removed} extra copies removed` : 'kept together' }
        : {}),
      ...(settings.excludeBaseTrainedFromVal ? { baseTrainedOutOfValidation: 'yes' } : {}),
    },
    minEpochMs: settings.classroomPace ? CLASSROOM_EPOCH_MS : 0,
  };
  const runId = s.run.runId + 1;
  set((st) => ({
    ...st,
    message: null,
    previews: [],
    run: {
      ...idleRun,
      runId,
      status: 'training',
      stage: 'head',
      classNames: plan.classNames,
      trainCount: plan.train.ids.length,
      valIds: plan.val.ids,
      valLabels: plan.val.labels,
      plannedEpochs: head.epochs + (block ? block.epochs : 0),
      startedAt: performance.now(),
    },
  }));
  try {
    const result = await getClient().train(run);
    lastRun = { runId, run };
    commitEpochs();
    set((st) => ({
      ...st,
      run: {
        ...st.run,
        status: 'done',
        stage: null,
        result,
        history: result.history,
        valProbs: result.valProbs,
        probsEpoch: result.keptEpoch,
        finishedAt: performance.now(),
        memory: result.memory,
      },
    }));
    return result;
  } catch (e) {
    commitEpochs();
    set((st) => ({ ...st, run: { ...st.run, status: 'error', stage: null, error: (e as Error).message, finishedAt: performance.now() } }));
    return null;
  }
}

export function stopTraining(): void {
  const s = trainerStore.get();
  if (s.run.status !== 'training') return;
  set((st) => ({ ...st, run: { ...st.run, status: 'stopping' } }));
  void getClient().stop();
}

// ---------------------------------------------------------------------------------------------
// Preview, export, saved models
// ---------------------------------------------------------------------------------------------

export async function previewFiles(files: { name: string; file: Blob }[], unreadable: readonly Rejected[] = []): Promise<void> {
  const classNames = trainerStore.get().run.result?.metadata.classNames;
  // Files of the drop that could not be read get their own preview entry with the reason.
  for (const u of unreadable) {
    const key = nextPreviewKey++;
    set((s) => ({ ...s, previews: [{ key, name: u.path, status: 'error' as const, error: u.reason }, ...s.previews].slice(0, 12) }));
  }
  for (const f of files) {
    const key = nextPreviewKey++;
    set((s) => ({ ...s, previews: [{ key, name: f.name, status: 'running' as const }, ...s.previews].slice(0, 12) }));
    try {
      const { probabilities, thumb, withheld } = await getClient().predict(f.file);
      set((s) => ({
        ...s,
        previews: s.previews.map((p) => (p.key === key ? { ...p, status: 'done' as const, probabilities, thumb, classNames, withheld } : p)),
      }));
    } catch (e) {
      set((s) => ({ ...s, previews: s.previews.map((p) => (p.key === key ? { ...p, status: 'error' as const, error: (e as Error).message } : p)) }));
    }
  }
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'model'
  );
}

function triggerDownload(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Downloads the trained model: one .zip (model.json, weights.bin, metadata.json, metrics.json, model-card.md) or the files one by one. */
export async function downloadModel(kind: 'zip' | 'files' = 'zip'): Promise<void> {
  try {
    const files = await getClient().exportFiles();
    const name = slug(trainerStore.get().run.result?.metadata.classNames.join('-') ?? 'model');
    if (kind === 'zip') {
      triggerDownload(new Blob([zipSync(files, { level: 6 }) as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), `cxr-lab-${name}.zip`);
    } else {
      for (const [path, bytes] of Object.entries(files)) {
        triggerDownload(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: path.endsWith('.json') ? 'application/json' : 'application/octet-stream' }), path);
      }
    }
    set((s) => ({ ...s, message: { kind: 'ok', text: `Model downloaded (${Object.keys(files).join(', ')}).` } }));
  } catch (e) {
    set((s) => ({ ...s, message: { kind: 'error', text: `Download failed: ${(e as Error).message}` } }));
  }
}

export async function refreshSaved(): Promise<void> {
  try {
    const saved = await listStoredModels();
    set((s) => ({ ...s, saved }));
  } catch (e) {
    set((s) => ({ ...s, message: { kind: 'error', text: (e as Error).message } }));
  }
}

let savedSubscribed = false;
function subscribeSaved(): void {
  if (savedSubscribed) return;
  savedSubscribed = true;
  onStoredModelsChanged(() => void refreshSaved());
  void refreshSaved();
}

export async function saveModel(name: string, overwrite = false): Promise<boolean> {
  try {
    const summary = await getClient().save(name, overwrite);
    set((s) => ({
      ...s,
      message: { kind: 'ok', text: `Saved in this browser as "${summary.name}". Pick it on the Classify page; the Model card page then shows its card.` },
    }));
    await refreshSaved();
    return true;
  } catch (e) {
    set((s) => ({ ...s, message: { kind: 'error', text: `Not saved: ${(e as Error).message}` } }));
    return false;
  }
}

/**
 * Imports a downloaded model: its .zip, or model.json + weight file(s) + metadata.json. The worker
 * loads it once to check it, then it is saved under `name`.
 */
export async function importModel(files: File[], name: string, overwrite = false): Promise<boolean> {
  try {
    const out: Record<string, Uint8Array> = {};
    const { files: expanded } = await expandZips(files.map((file) => ({ path: file.name, file })));
    for (const f of expanded) out[f.path.slice(f.path.lastIndexOf('/') + 1)] = new Uint8Array(await f.file.arrayBuffer());
    await ensureBase();
    const summary = await getClient().importModel(name, out, overwrite);
    set((s) => ({ ...s, message: { kind: 'ok', text: `Imported "${summary.name}" (${summary.classNames.join(', ')}).` } }));
    await refreshSaved();
    return true;
  } catch (e) {
    set((s) => ({ ...s, message: { kind: 'error', text: `Import failed: ${(e as Error).message}` } }));
    return false;
  }
}

export async function deleteSaved(name: string): Promise<void> {
  try {
    await deleteStoredModel(name);
    await refreshSaved();
  } catch (e) {
    set((s) => ({ ...s, message: { kind: 'error', text: (e as Error).message } }));
  }
}

/** The model input of an added image at full size (for the detail view of the gallery). */
export function imageInput(imageId: number): Promise<{ gray: Uint8Array; size: number }> {
  return getClient().image(imageId);
}

/** Grad-CAM of the trained model for an added image: `classIndex` or, by default, the predicted class. */
export function imageGradCam(imageId: number, classIndex?: number): Promise<GradCamReply> {
  return getClient().gradcam(imageId, classIndex);
}

// ---------------------------------------------------------------------------------------------
// Projects (src/ui/lib/project.ts saves and restores them)
// ---------------------------------------------------------------------------------------------

export function trainerClient(): TrainClient {
  return getClient();
}

/** Fresh image ids and class keys, e.g. for a restored project. */
export function allocateIds(images: number, classes: number): { imageIds: number[]; classKeys: number[] } {
  return { imageIds: Array.from({ length: images }, () => nextImageId++), classKeys: Array.from({ length: classes }, () => nextClassKey++) };
}

/** Replaces the whole data set, settings and run at once; the worker gets the images (prepared ones are not decoded again). */
export function replaceProject(next: { classes: ClassEntry[]; images: ImageEntry[]; items: TrainItem[]; settings: TrainSettings; run: RunState | null }): void {
  const old = trainerStore.get().images.map((im) => im.id);
  if (old.length && client) void client.remove(old);
  set((s) => ({
    ...s,
    classes: next.classes,
    images: next.images,
    rejected: [],
    settings: next.settings,
    run: next.run ?? { ...idleRun, runId: s.run.runId + 1 },
    previews: [],
    embed: { stats: s.embed.stats, startedAt: null, doneAt: null },
  }));
  sendImages(next.items);
}

export function dismissMessage(): void {
  set((s) => ({ ...s, message: null }));
}

export function trainerMemory(): Promise<MemorySample> {
  return getClient().memory();
}

// ---------------------------------------------------------------------------------------------
// Hook + debug handle (tests and the benchmark read it; read-only)
// ---------------------------------------------------------------------------------------------

declare global {
  interface Window {
    cxrLabTrain?: { state: () => TrainerState; memory: () => Promise<MemorySample>; plan: () => PlannedSplit; planSplit: () => PlannedSplit };
  }
}

if (typeof window !== 'undefined')
  window.cxrLabTrain = {
    state: trainerStore.get,
    memory: trainerMemory,
    plan: () => planSplit(trainerStore.get()),
    planSplit: () => planSplit(trainerStore.get()),
  };

export function useTrainer(): TrainerState {
  subscribeSaved();
  return useSyncExternalStore(trainerStore.subscribe, trainerStore.get);
}
