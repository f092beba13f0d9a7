// Stable hooks for tests and the benchmark harness (production builds included; read-only state).
//   window.cxrLab.memory()        → tf.memory() of the inference worker
//   window.cxrLab.counters()      → images the inference worker classified, requests it stopped on a cancel
//   window.cxrLab.model()         → model state (status, backend, metadata)
//   window.cxrLab.batch()         → batch rows
//   window.cxrLab.preprocess(bytes) → the model input the worker computes for a file (no inference)
//   window.cxrLab.gradcam(resultId, classIndex?) → Grad-CAM of a result in the worker (uncached)
//   window.cxrLab.firstResultShownMs → ms from navigation start to the first result on screen
// Performance marks: 'cxr:model-load-start', 'cxr:model-ready', 'cxr:first-result-shown'.
import { batchStore } from '../state/batch';
import { ensureModel, getClient, gradCamOf, modelStore, workerCounters, workerMemory } from '../state/classifier';
import type { PreprocessResult } from '../../worker/protocol';

export interface CxrLabDebug {
  memory: typeof workerMemory;
  counters: typeof workerCounters;
  model: typeof modelStore.get;
  batch: typeof batchStore.get;
  preprocess: (file: Blob | Uint8Array) => Promise<PreprocessResult>;
  gradcam: typeof gradCamOf;
  firstResultShownMs: number | null;
}

declare global {
  interface Window {
    cxrLab?: CxrLabDebug;
  }
}

export function installDebugHooks(): void {
  window.cxrLab = {
    memory: workerMemory,
    counters: workerCounters,
    model: modelStore.get,
    batch: batchStore.get,
    preprocess: (file) => ensureModel().then(() => getClient().preprocess(file)),
    gradcam: gradCamOf,
    firstResultShownMs: null,
  };
}

export function markFirstResultShown(): void {
  if (!window.cxrLab || window.cxrLab.firstResultShownMs !== null) return;
  // After paint: the result is on screen, not just in the DOM.
  requestAnimationFrame(() =>
    setTimeout(() => {
      if (!window.cxrLab || window.cxrLab.firstResultShownMs !== null) return;
      performance.mark('cxr:first-result-shown');
      window.cxrLab.firstResultShownMs = performance.now();
    }, 0),
  );
}
