// The React side of src/ui/state/classifier.ts: useClassifier (the state and its actions live there, outside React).
import { useSyncExternalStore } from 'react';
import { classifyFile, ensureModel, loadModel, modelStore, workerMemory } from '../state/classifier';

export function useClassifier() {
  const state = useSyncExternalStore(modelStore.subscribe, modelStore.get);
  return { ...state, load: loadModel, ensure: ensureModel, classify: classifyFile, memory: workerMemory };
}
