// The React side of src/ui/state/trainer/ (the Train page's state and actions live there, outside React).
import { useSyncExternalStore } from 'react';
import { subscribeSaved, trainerStore, type TrainerState } from '../state/trainer';

export function useTrainer(): TrainerState {
  subscribeSaved();
  return useSyncExternalStore(trainerStore.subscribe, trainerStore.get);
}
