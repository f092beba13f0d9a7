// Grad-CAM maps for the Classify page: asks the inference worker (by result id and class) and keeps
// the last few maps, so switching back to a class or a result does not recompute. The user's
// display choices (on/off, opacity, what to draw over) outlive the result card.
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { GradCamPayload } from '../../worker/protocol';
import { Store } from '../lib/store';
import { gradCamOf } from './useClassifier';

const CACHE_SIZE = 24;
const cache = new Map<string, Promise<GradCamPayload>>();

function cached(resultId: number, classIndex: number): Promise<GradCamPayload> {
  const key = `${resultId}:${classIndex}`;
  let p = cache.get(key);
  if (p) {
    cache.delete(key); // most recently used last
  } else {
    p = gradCamOf(resultId, classIndex);
    // A failure (e.g. an expired result) is not cached: the next attempt asks again.
    p.catch(() => cache.get(key) === p && cache.delete(key));
  }
  cache.set(key, p);
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return p;
}

export type GradCamView = 'input' | 'original';

export interface GradCamPrefs {
  enabled: boolean;
  /** 0..1 */
  opacity: number;
  view: GradCamView;
}

export const gradCamPrefs = new Store<GradCamPrefs>({ enabled: false, opacity: 0.5, view: 'input' });

export function useGradCamPrefs(): [GradCamPrefs, (patch: Partial<GradCamPrefs>) => void] {
  const prefs = useSyncExternalStore(gradCamPrefs.subscribe, gradCamPrefs.get, gradCamPrefs.get);
  return [prefs, (patch) => gradCamPrefs.set((p) => ({ ...p, ...patch }))];
}

export type GradCamState =
  | { status: 'off' }
  | { status: 'loading'; classIndex: number }
  | { status: 'ready'; classIndex: number; payload: GradCamPayload }
  | { status: 'error'; classIndex: number; message: string };

/** The map of `resultId` for `classIndex`, fetched while `enabled`. */
export function useGradCam(resultId: number | undefined, classIndex: number, enabled: boolean): GradCamState {
  const [state, setState] = useState<GradCamState>({ status: 'off' });
  useEffect(() => {
    if (!enabled || resultId === undefined) {
      setState({ status: 'off' });
      return;
    }
    let alive = true;
    setState({ status: 'loading', classIndex });
    cached(resultId, classIndex).then(
      (payload) => alive && setState({ status: 'ready', classIndex, payload }),
      (e: Error) => alive && setState({ status: 'error', classIndex, message: e.message }),
    );
    return () => {
      alive = false;
    };
  }, [resultId, classIndex, enabled]);
  return state;
}
