// The React side of src/ui/state/lessons.ts: useLessons (the state and its actions live there, outside React).
import { useSyncExternalStore } from 'react';
import { lessonsStore, subscribe, type LessonsState } from '../state/lessons';

export function useLessons(): LessonsState {
  subscribe();
  return useSyncExternalStore(lessonsStore.subscribe, lessonsStore.get);
}
