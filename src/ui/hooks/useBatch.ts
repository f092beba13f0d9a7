// The Classify page's batch: one row per input file, processed through the worker a few at a time so
// that a batch of hundreds never floods the worker, can be cancelled between files, and keeps the
// page responsive. State lives outside React so results survive switching pages.
import { useSyncExternalStore } from 'react';
import type { ClassifyResult } from '../../worker/protocol';
import { Store } from '../lib/store';
import { oodHeadline, oodOf } from '../lib/ood';
import { WorkerError, classifyFile, modelStore } from './useClassifier';

export type RowStatus = 'queued' | 'running' | 'done' | 'error' | 'cancelled';

export interface Row {
  key: number;
  /** File name, or its path inside a dropped folder. */
  name: string;
  size: number;
  status: RowStatus;
  result?: ClassifyResult;
  error?: string;
  /** Model that produced the result (name@version), for the CSV. */
  model?: string;
}

export interface BatchState {
  rows: Row[];
  /** Files of the current run (since the queue was last empty) and how many are finished. */
  runTotal: number;
  runDone: number;
  running: boolean;
  /** Last message for the aria-live region. */
  announcement: string;
}

export interface InputFile {
  name: string;
  file: Blob;
}

/** Files handed to the worker at once: one computing, one waiting, so the GPU never idles. */
const IN_FLIGHT = 2;

export const batchStore = new Store<BatchState>({ rows: [], runTotal: 0, runDone: 0, running: false, announcement: '' });

const files = new Map<number, Blob>();
let nextKey = 1;
let inFlight = 0;

function updateRow(key: number, patch: Partial<Row>): void {
  batchStore.set((s) => ({ ...s, rows: s.rows.map((r) => (r.key === key ? { ...r, ...patch } : r)) }));
}

function pct(p: number): string {
  return `${(p * 100).toFixed(1)}%`;
}

function announceFinished(row: Row): void {
  const s = batchStore.get();
  let text: string | null = null;
  if (s.runTotal <= 5) {
    const ood = oodOf(row.result);
    text =
      row.status === 'done' && row.result
        ? ood?.flagged
          ? `${row.name}: result withheld. ${oodHeadline(ood)}`
          : `${row.name}: ${row.result.prediction.label} ${pct(Math.max(...row.result.prediction.probabilities))}${row.result.prediction.uncertain ? ', uncertain' : ''}`
        : `${row.name}: could not be classified, ${row.error}`;
  } else if (s.runDone >= s.runTotal) {
    const errors = s.rows.filter((r) => r.status === 'error').length;
    text = `Batch finished: ${s.runDone} images processed${errors ? `, ${errors} could not be read` : ''}`;
  } else if (s.runDone % Math.ceil(s.runTotal / 10) === 0) {
    text = `${s.runDone} of ${s.runTotal} images processed`;
  }
  if (text !== null) batchStore.set((st) => ({ ...st, announcement: text }));
}

function finish(key: number, patch: Partial<Row>): void {
  files.delete(key);
  batchStore.set((s) => {
    const rows = s.rows.map((r) => (r.key === key ? { ...r, ...patch } : r));
    const runDone = s.runDone + 1;
    const running = rows.some((r) => r.status === 'queued' || r.status === 'running');
    return { ...s, rows, runDone, running };
  });
  const row = batchStore.get().rows.find((r) => r.key === key);
  if (row) announceFinished(row);
}

async function process(row: Row): Promise<void> {
  inFlight++;
  updateRow(row.key, { status: 'running' });
  try {
    const blob = files.get(row.key);
    if (!blob) throw new Error('file is no longer available');
    const result = await classifyFile(row.name, blob);
    const info = modelStore.get().info;
    finish(row.key, { status: 'done', result, model: info ? `${info.metadata.name}@${info.metadata.version}` : undefined });
  } catch (e) {
    const msg = e instanceof WorkerError && e.kind !== 'image' ? `${e.kind === 'model' ? 'model not available' : 'error'}: ${e.message}` : (e as Error).message;
    finish(row.key, { status: 'error', error: msg });
  } finally {
    inFlight--;
    pump();
  }
}

function pump(): void {
  while (inFlight < IN_FLIGHT) {
    const next = batchStore.get().rows.find((r) => r.status === 'queued');
    if (!next) break;
    void process(next);
  }
}

/** Adds files to the batch (each gets its own row) and starts processing. */
export function addFiles(inputs: InputFile[]): void {
  if (inputs.length === 0) return;
  const added: Row[] = inputs.map((f) => {
    const key = nextKey++;
    files.set(key, f.file);
    return { key, name: f.name, size: f.file.size, status: 'queued' };
  });
  batchStore.set((s) => {
    const fresh = !s.running;
    return {
      ...s,
      rows: [...s.rows, ...added],
      runTotal: (fresh ? 0 : s.runTotal) + added.length,
      runDone: fresh ? 0 : s.runDone,
      running: true,
      announcement: `${added.length} file${added.length === 1 ? '' : 's'} added`,
    };
  });
  pump();
}

/** Stops the batch: files not yet handed to the worker are marked cancelled (the current one finishes). */
export function cancelBatch(): void {
  batchStore.set((s) => {
    let cancelled = 0;
    const rows = s.rows.map((r) => {
      if (r.status !== 'queued') return r;
      cancelled++;
      files.delete(r.key);
      return { ...r, status: 'cancelled' as const };
    });
    return { ...s, rows, runDone: s.runDone + cancelled, running: rows.some((r) => r.status === 'running'), announcement: `Batch cancelled, ${cancelled} files skipped` };
  });
}

/** Removes finished rows (queued and running ones stay). */
export function clearBatch(): void {
  batchStore.set((s) => {
    const rows = s.rows.filter((r) => r.status === 'queued' || r.status === 'running');
    return { ...s, rows, runTotal: rows.length ? s.runTotal : 0, runDone: rows.length ? s.runDone : 0, announcement: 'Results cleared' };
  });
}

export function useBatch() {
  const state = useSyncExternalStore(batchStore.subscribe, batchStore.get);
  return { ...state, addFiles, cancel: cancelBatch, clear: clearBatch };
}
