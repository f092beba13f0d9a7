// Grad-CAM maps for the Classify page: asks the inference worker (by result id and class) and keeps
// the last few maps, so switching back to a class or a result does not recompute. The user's
// display choices (on/off, opacity, what to draw over) outlive the result card.
import type { GradCamPayload } from '../../worker/protocol';
import { Store } from '../lib/store';
import { gradCamOf } from '../state/classifier';

const CACHE_SIZE = 24;
const cache = new Map<string, Promise<GradCamPayload>>();

export function cached(resultId: number, classIndex: number): Promise<GradCamPayload> {
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
