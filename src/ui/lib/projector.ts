// Projector mode: one switch in the header, remembered in localStorage, that puts the class
// `projector` on <html>. Everything sized in rem/em grows with it (text, tables, the confusion
// matrix); styles.css also enlarges the charts' axis ticks, labels and legends (recharts SVG text).
import { useSyncExternalStore } from 'react';

export const PROJECTOR_KEY = 'cxr-lab.projector';
/** The Train page's old per-page switch: honoured once, so a teacher who had it on keeps it on. */
const OLD_KEY = 'cxr-lab.train.projector';

const listeners = new Set<() => void>();

function read(): boolean {
  try {
    const v = localStorage.getItem(PROJECTOR_KEY) ?? localStorage.getItem(OLD_KEY);
    return v === 'on';
  } catch {
    return false;
  }
}

let current = typeof window === 'undefined' ? false : read();

function apply(): void {
  if (typeof document !== 'undefined') document.documentElement.classList.toggle('projector', current);
}
apply();

export function setProjector(on: boolean): void {
  current = on;
  try {
    localStorage.setItem(PROJECTOR_KEY, on ? 'on' : 'off');
  } catch {
    /* storage blocked: the switch still works for this visit */
  }
  apply();
  for (const l of listeners) l();
}

export function useProjector(): boolean {
  return useSyncExternalStore(
    (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    () => current,
  );
}
