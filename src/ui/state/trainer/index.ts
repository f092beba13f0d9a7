// The Train page's state and actions (outside React): classes and their images, intake, settings, the
// training run with its live history, preview, export, saved models and projects. One training worker
// for the whole app; a run goes on (and its curves stay) when the teacher switches pages. No ML here.
// Modules: store (shape, defaults, the store), worker (client and events), dataset, derived, run, keep, projects.
export * from './store';
export * from './worker';
export * from './dataset';
export * from './derived';
export * from './run';
export * from './keep';
export * from './projects';
import { trainerStore, type TrainerState } from './store';
import { planSplit, type PlannedSplit } from './derived';
import { trainerMemory } from './projects';
import type { MemorySample } from '../../../worker/train-protocol';

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
