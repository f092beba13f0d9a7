// State and actions of the Train page's two lessons (the worker does the work: src/worker/lessons.ts):
// - the shortcut lesson: the last normal run's exact request (split, settings, seed) trained again on
//   border-only images, shown next to the normal run; one click trains the normal run first if needed.
// - the augmentation preview: a few training images and what the last-block stage's augmentation
//   makes of them, reseeded on request.
import type { EpochLog } from '../../ml/finetune-config';
import type { AugmentPreviewImage, ShortcutResult, TrainEvent } from '../../worker/train-protocol';
import { Store } from '../lib/store';
import { ensureBase, lastTrainRun, lessonClient, onLessonEvent, planSplit, startTraining, stopTraining, trainerStore } from './trainer';

export interface ShortcutLessonState {
  status: 'idle' | 'normal' | 'embedding' | 'training' | 'stopping' | 'done' | 'error';
  /** The normal run (runId) the border-only run repeats. */
  runId: number | null;
  embedded: number;
  total: number;
  history: EpochLog[];
  plannedEpochs: number;
  /** Whether the normal run also tuned the last block (the border-only run trains the head only). */
  normalHadBlock: boolean;
  result: ShortcutResult | null;
  error: string | null;
}

export interface AugmentPreviewState {
  status: 'idle' | 'loading' | 'done' | 'error';
  /** Reseeds so far ("New samples"); the preview's seed is the run seed plus this. */
  draw: number;
  seed: number | null;
  images: AugmentPreviewImage[];
  size: number;
  error: string | null;
}

export interface LessonsState {
  shortcut: ShortcutLessonState;
  augment: AugmentPreviewState;
}

const idleShortcut: ShortcutLessonState = {
  status: 'idle',
  runId: null,
  embedded: 0,
  total: 0,
  history: [],
  plannedEpochs: 0,
  normalHadBlock: false,
  result: null,
  error: null,
};

export const lessonsStore = new Store<LessonsState>({
  shortcut: idleShortcut,
  augment: { status: 'idle', draw: 0, seed: null, images: [], size: 0, error: null },
});
const set = (f: (s: LessonsState) => LessonsState) => lessonsStore.set(f);
const setShortcut = (patch: Partial<ShortcutLessonState>) => set((s) => ({ ...s, shortcut: { ...s.shortcut, ...patch } }));

let subscribed = false;
export function subscribe(): void {
  if (subscribed) return;
  subscribed = true;
  onLessonEvent((ev: TrainEvent) => {
    if (ev.type !== 'shortcut-progress') return;
    const sc = lessonsStore.get().shortcut;
    if (ev.phase === 'embed') setShortcut({ embedded: ev.done, total: ev.total, ...(sc.status === 'stopping' ? {} : { status: 'embedding' }) });
    else if (ev.log) setShortcut({ history: [...sc.history, ev.log], ...(sc.status === 'stopping' ? {} : { status: 'training' }) });
  });
}

/** True while the lesson's border-only run (or the normal run it starts first) is going on. */
export function shortcutBusy(s: ShortcutLessonState): boolean {
  return s.status === 'normal' || s.status === 'embedding' || s.status === 'training' || s.status === 'stopping';
}

/**
 * One click: the border-only run of the last finished normal run (trained first when there is none,
 * or when the data or settings changed since — then the normal run uses the current ones).
 */
export async function runShortcutLesson(): Promise<void> {
  subscribe();
  if (shortcutBusy(lessonsStore.get().shortcut)) return;
  const t = trainerStore.get();
  if (t.run.status === 'training' || t.run.status === 'stopping') return;
  let last = lastTrainRun();
  if (!last || t.run.status !== 'done' || last.runId !== t.run.runId) {
    setShortcut({ ...idleShortcut, status: 'normal' });
    const result = await startTraining();
    last = lastTrainRun();
    if (!result || !last) {
      setShortcut({ status: 'error', error: trainerStore.get().run.error ?? trainerStore.get().message?.text ?? 'the normal run did not finish' });
      return;
    }
    if (result.stopReason === 'stopped') {
      setShortcut({ status: 'idle' });
      return;
    }
  }
  const { run, runId } = last;
  setShortcut({
    ...idleShortcut,
    status: 'embedding',
    runId,
    total: run.train.ids.length + run.val.ids.length,
    plannedEpochs: run.head.epochs,
    normalHadBlock: run.block !== null,
  });
  try {
    const result = await lessonClient().shortcut(run);
    setShortcut({ status: 'done', result, history: result.history });
  } catch (e) {
    setShortcut({ status: 'error', error: (e as Error).message });
  }
}

export function stopShortcutLesson(): void {
  const s = lessonsStore.get().shortcut;
  if (s.status === 'normal') {
    // The normal run's own Stop (the lesson then ends without a border-only run).
    setShortcut({ status: 'stopping' });
    stopTraining();
    return;
  }
  if (s.status !== 'embedding' && s.status !== 'training') return;
  setShortcut({ status: 'stopping' });
  void lessonClient().stop();
}

/** Training images of the augmentation preview: the first few of the current split's training set. */
export const AUGMENT_PREVIEW_IMAGES = 3;
export const AUGMENT_PREVIEW_VARIANTS = 4;

let previewSeq = 0;

/** (Re)draws the augmentation preview; `reseed` draws new samples. */
export async function refreshAugmentPreview(reseed = false): Promise<void> {
  const t = trainerStore.get();
  const ids = planSplit(t).train.ids.slice(0, AUGMENT_PREVIEW_IMAGES);
  const draw = lessonsStore.get().augment.draw + (reseed ? 1 : 0);
  const seed = t.settings.seed + draw;
  if (!ids.length) {
    set((s) => ({ ...s, augment: { ...s.augment, status: 'idle', draw, seed: null, images: [], error: null } }));
    return;
  }
  const seq = ++previewSeq;
  set((s) => ({ ...s, augment: { ...s.augment, status: 'loading', draw, error: null } }));
  try {
    await ensureBase();
    const { images, size } = await lessonClient().augmentPreview(ids, AUGMENT_PREVIEW_VARIANTS, seed);
    if (seq !== previewSeq) return;
    set((s) => ({ ...s, augment: { status: 'done', draw, seed, images, size, error: null } }));
  } catch (e) {
    if (seq !== previewSeq) return;
    set((s) => ({ ...s, augment: { ...s.augment, status: 'error', error: (e as Error).message } }));
  }
}

declare global {
  interface Window {
    cxrLabLessons?: { state: () => LessonsState };
  }
}

if (typeof window !== 'undefined') window.cxrLabLessons = { state: lessonsStore.get };
