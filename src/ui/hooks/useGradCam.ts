// The React side of src/ui/state/gradcam.ts: useGradCamPrefs, useGradCam (the state and its actions live there, outside React).
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { GradCamPayload } from '../../worker/protocol';
import { cached, gradCamPrefs, type GradCamPrefs } from '../state/gradcam';

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
