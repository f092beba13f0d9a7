// The React side of src/ui/state/evaluation.ts: useEvaluation (the state and its actions live there, outside React).
import { useSyncExternalStore } from 'react';
import { evaluationStore, type EvaluationState } from '../state/evaluation';

export function useEvaluation(): EvaluationState {
  return useSyncExternalStore(evaluationStore.subscribe, evaluationStore.get);
}
