import type { BaseInfo, EmbedStats, MemorySample, TrainResult, TrainStage } from '../../../worker/train-protocol';
import { DEFAULT_BLOCK_CONFIG, DEFAULT_HEAD_CONFIG, type BlockConfig, type EpochLog, type HeadConfig } from '../../../ml/finetune-config';
import { type Rejected } from '../../../ml/dataset-browser';
import { type StoredModelSummary } from '../../../ml/model-store';
import { Store } from '../../lib/store';
import { updateSettings } from './dataset';

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

export const idleRun: RunState = {
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

/** Keys and ids handed out so far (one counter each, shared by the modules that add entries). */
export const nextIds = { nextClassKey: 1, nextImageId: 1, nextPreviewKey: 1 };

const initial: TrainerState = {
  base: { status: 'idle', info: null, error: null },
  classes: [
    { key: nextIds.nextClassKey++, name: 'Class 1' },
    { key: nextIds.nextClassKey++, name: 'Class 2' },
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
export const set = (f: (s: TrainerState) => TrainerState) => trainerStore.set(f);
