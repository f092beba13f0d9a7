// The React side of src/ui/state/batch.ts: useBatch (the state and its actions live there, outside React).
import { startTransition, useEffect, useState } from 'react';
import { flushSync } from 'react-dom';
import { addFiles, batchStore, cancelBatch, clearBatch, resumableCount, resumeBatch, type BatchState } from '../state/batch';

const actions = { addFiles, cancel: cancelBatch, resume: resumeBatch, clear: clearBatch };

/** The batch state for React: urgent notifications render synchronously, throttled ones as transitions. */
function useBatchState(): BatchState {
  const [state, setState] = useState(batchStore.get);
  useEffect(() => {
    const update = (urgent: boolean) => {
      if (urgent) flushSync(() => setState(batchStore.get()));
      else startTransition(() => setState(batchStore.get()));
    };
    // Changes between the first render and this subscription.
    if (batchStore.get() !== state) startTransition(() => setState(batchStore.get()));
    return batchStore.subscribe(update);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return state;
}

export function useBatch() {
  const state = useBatchState();
  return { ...state, resumable: resumableCount(state.rows), ...actions };
}
