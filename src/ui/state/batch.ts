// The Classify page's batch: one row per input file, processed through the worker a few at a time so
// that a batch of thousands never floods the worker, can be cancelled (queued files and the ones the
// worker is working on: their requests are aborted, src/worker/rpc.ts) and resumed, and
// keeps the page responsive: results land in the store at once but React hears about them at most
// every THROTTLE_MS (one render per interval, not one per image), and renders them as a transition
// (time-sliced, so no render blocks the main thread); what the user just did (add, cancel, resume,
// clear) and the end of a run render at once. State lives outside React so
// results survive switching pages; finished rows are also kept in IndexedDB (lib/session) so they
// survive a reload.
import type { ClassifyResult } from '../../worker/protocol';
import { Store } from '../lib/store';
import { oodHeadline, oodOf } from '../lib/ood';
import { forgetRows, keepRow, loadKeptRows, newRowId, sessionStore } from '../lib/session';
import { isAbortError } from '../../worker/rpc';
import { WorkerError, classifyFile, modelStore } from '../state/classifier';

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
  /** Id of the row in the kept session (lib/session). */
  savedId?: string;
  /** Restored from an earlier visit: the image itself is not available (no Grad-CAM, no re-run). */
  restored?: boolean;
  /** When the file was added (ms since epoch), for the restore order. */
  addedAt?: number;
}

export interface BatchState {
  rows: Row[];
  /** Files of the current run (since the queue was last empty) and how many of them are finished (done or error). */
  runTotal: number;
  runDone: number;
  /** Files of the current run cancelled before they were classified (Resume queues them again). */
  runCancelled: number;
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
/** Longest time between two renders caused by results arriving. */
const THROTTLE_MS = 200;

export const batchStore = new Store<BatchState>(
  { rows: [], runTotal: 0, runDone: 0, runCancelled: 0, running: false, announcement: '' },
  { throttleMs: THROTTLE_MS },
);

const files = new Map<number, Blob>();
/** Index of each row in batchStore.rows, so that an update touches one row, not a scan of thousands. */
const indexOf = new Map<number, number>();
let nextKey = 1;
let inFlight = 0;
/** The abort controller of each row handed to the worker and not finished yet. */
const controllers = new Map<number, AbortController>();
/** Rows still queued, in order (the head is the next to run). */
let queue: number[] = [];

function reindex(rows: Row[]): void {
  indexOf.clear();
  rows.forEach((r, i) => indexOf.set(r.key, i));
}

function withRow(rows: Row[], key: number, patch: Partial<Row>): Row[] {
  const i = indexOf.get(key);
  if (i === undefined || rows[i]?.key !== key) return rows.map((r) => (r.key === key ? { ...r, ...patch } : r));
  const next = rows.slice();
  next[i] = { ...rows[i], ...patch };
  return next;
}

function pct(p: number): string {
  return `${(p * 100).toFixed(1)}%`;
}

function rowAnnouncement(row: Row): string {
  const r = row.result;
  if (row.status !== 'done' || !r) return `${row.name}: could not be classified, ${row.error}`;
  const ood = oodOf(r);
  if (ood?.flagged) return `${row.name}: result withheld. ${oodHeadline(ood)}`;
  const screen = r.covidScreen;
  const screenText = screen
    ? `; ${screen.className} screen ${screen.positive ? 'positive' : 'negative'}${screen.positive && r.prediction.label !== screen.className ? ` (possible ${screen.className})` : ''}`
    : '';
  return `${row.name}: ${r.prediction.label} ${pct(Math.max(...r.prediction.probabilities))}${r.prediction.uncertain ? ', uncertain' : ''}${screenText}`;
}

/** "Batch stopped: 180 of 2003 processed, 1823 cancelled" / "Batch finished: 2003 images processed". */
export function runSummary(s: Pick<BatchState, 'rows' | 'runDone' | 'runTotal' | 'runCancelled'>): string {
  const errors = s.rows.filter((r) => r.status === 'error').length;
  const unreadable = errors ? `, ${errors} could not be read` : '';
  if (s.runCancelled > 0)
    return `Batch stopped: ${s.runDone} of ${s.runTotal} processed, ${s.runCancelled} cancelled${unreadable}. Resume classifies the cancelled ones.`;
  return `Batch finished: ${s.runDone} images processed${unreadable}`;
}

function announceFinished(row: Row): void {
  const s = batchStore.get();
  let text: string | null = null;
  if (s.runDone + s.runCancelled >= s.runTotal && (s.runTotal > 5 || s.runCancelled > 0)) text = runSummary(s);
  else if (s.runTotal <= 5) text = rowAnnouncement(row);
  else if (s.runDone % Math.ceil(s.runTotal / 10) === 0) text = `${s.runDone} of ${s.runTotal} images processed`;
  if (text !== null) batchStore.set((st) => ({ ...st, announcement: text }));
}

function finish(key: number, patch: Partial<Row>): void {
  files.delete(key);
  batchStore.set((s) => {
    const rows = withRow(s.rows, key, patch);
    const running = inFlight > 1 || queue.length > 0;
    return { ...s, rows, runDone: s.runDone + 1, running };
  });
  const i = indexOf.get(key);
  const row = i === undefined ? undefined : batchStore.get().rows[i];
  if (row?.key === key) {
    if (row.savedId && (row.status === 'done' || row.status === 'error'))
      keepRow({
        id: row.savedId,
        addedAt: row.addedAt ?? Date.now(),
        seq: row.key,
        name: row.name,
        size: row.size,
        status: row.status,
        result: row.result,
        error: row.error,
        model: row.model,
      });
    announceFinished(row);
  }
}

async function process(key: number): Promise<void> {
  inFlight++;
  const controller = new AbortController();
  controllers.set(key, controller);
  batchStore.set((s) => ({ ...s, rows: withRow(s.rows, key, { status: 'running' }) }));
  const name = batchStore.get().rows[indexOf.get(key) ?? -1]?.name ?? '';
  try {
    const blob = files.get(key);
    if (!blob) throw new Error('file is no longer available');
    const result = await classifyFile(name, blob, undefined, controller.signal);
    const info = modelStore.get().info;
    finish(key, { status: 'done', result, model: info ? `${info.metadata.name}@${info.metadata.version}` : undefined });
  } catch (e) {
    // Cancelled (cancelBatch already marked and counted the row; its file stays for Resume).
    if (controller.signal.aborted && isAbortError(e)) return;
    const msg = e instanceof WorkerError && e.kind !== 'image' ? `${e.kind === 'model' ? 'model not available' : 'error'}: ${e.message}` : (e as Error).message;
    finish(key, { status: 'error', error: msg });
  } finally {
    if (controllers.get(key) === controller) controllers.delete(key);
    inFlight--;
    pump();
    // The last result of a run is shown at once, not at the next throttle tick.
    if (inFlight === 0 && queue.length === 0) batchStore.flush();
  }
}

function pump(): void {
  while (inFlight < IN_FLIGHT && queue.length) {
    const key = queue.shift()!;
    const row = batchStore.get().rows[indexOf.get(key) ?? -1];
    if (row?.key !== key || row.status !== 'queued') continue;
    void process(key);
  }
}

/**
 * Adds files to the batch (each gets its own row) and starts processing. `unreadable` are the files
 * of the same drop that could not even be read (the folder walker's rejects): they get an error row
 * each, with the reason, so that nothing dropped disappears without a word.
 */
export function addFiles(inputs: InputFile[], unreadable: readonly { path: string; reason: string }[] = []): void {
  if (inputs.length === 0 && unreadable.length === 0) return;
  const addedAt = Date.now();
  const added: Row[] = inputs.map((f) => {
    const key = nextKey++;
    files.set(key, f.file);
    return { key, name: f.name, size: f.file.size, status: 'queued', savedId: newRowId(key), addedAt };
  });
  const failed: Row[] = unreadable.map((u) => {
    const key = nextKey++;
    return { key, name: u.path, size: 0, status: 'error', error: u.reason, savedId: newRowId(key), addedAt };
  });
  const all = [...added, ...failed];
  const say = [
    added.length ? `${added.length} file${added.length === 1 ? '' : 's'} added` : '',
    failed.length ? `${failed.length} could not be read` : '',
  ].filter(Boolean);
  batchStore.set(
    (s) => {
      const fresh = !s.running;
      const rows = [...s.rows, ...all];
      all.forEach((r, i) => indexOf.set(r.key, s.rows.length + i));
      return {
        ...s,
        rows,
        runTotal: (fresh ? 0 : s.runTotal) + all.length,
        runDone: (fresh ? 0 : s.runDone) + failed.length,
        runCancelled: fresh ? 0 : s.runCancelled,
        running: s.running || added.length > 0,
        announcement: say.join(', '),
      };
    },
    { urgent: true },
  );
  queue.push(...added.map((r) => r.key));
  pump();
}

/**
 * Stops the batch: files not yet handed to the worker and the ones it is working on are marked
 * cancelled (the worker's requests for the latter are aborted: it stops them, and no result of
 * theirs arrives). Resume queues them all again.
 */
export function cancelBatch(): void {
  const cancelledKeys = new Set(queue);
  queue = [];
  const aborted = [...controllers.entries()];
  controllers.clear();
  for (const [key] of aborted) cancelledKeys.add(key);
  if (!cancelledKeys.size) return;
  batchStore.set(
    (s) => {
      const rows = s.rows.map((r) =>
        cancelledKeys.has(r.key) && (r.status === 'queued' || r.status === 'running') ? { ...r, status: 'cancelled' as const } : r,
      );
      const runCancelled = s.runCancelled + cancelledKeys.size;
      return {
        ...s,
        rows,
        runCancelled,
        running: false,
        announcement: `Batch cancelled: ${s.runDone} of ${s.runTotal} processed, ${runCancelled} cancelled${aborted.length ? ` (${aborted.length} stopped in the worker)` : ''}. Resume classifies the cancelled ones.`,
      };
    },
    { urgent: true },
  );
  for (const [, controller] of aborted) controller.abort();
}

/** Rows cancelled whose files are still here (Resume can classify them). */
export function resumableCount(rows: readonly Row[]): number {
  let n = 0;
  for (const r of rows) if (r.status === 'cancelled' && files.has(r.key)) n++;
  return n;
}

/** Queues the cancelled rows again, in their order, as part of the current run. */
export function resumeBatch(): void {
  const keys = batchStore
    .get()
    .rows.filter((r) => r.status === 'cancelled' && files.has(r.key))
    .map((r) => r.key);
  if (!keys.length) return;
  const set = new Set(keys);
  batchStore.set(
    (s) => {
      // Rows cancelled in this run are already counted in runTotal; older ones join it.
      const ofThisRun = Math.min(keys.length, s.runCancelled);
      const fresh = !s.running && s.runCancelled === 0;
      return {
        ...s,
        rows: s.rows.map((r) => (set.has(r.key) ? { ...r, status: 'queued' as const } : r)),
        runTotal: fresh ? keys.length : s.runTotal + keys.length - ofThisRun,
        runDone: fresh ? 0 : s.runDone,
        runCancelled: fresh ? 0 : s.runCancelled - ofThisRun,
        running: true,
        announcement: `Resumed: ${keys.length} image${keys.length === 1 ? '' : 's'} to classify`,
      };
    },
    { urgent: true },
  );
  queue.push(...keys);
  pump();
}

/** Removes finished and cancelled rows (queued and running ones stay), here and in the kept session. */
export function clearBatch(): void {
  const gone: string[] = [];
  batchStore.set(
    (s) => {
      const rows = s.rows.filter((r) => {
        const keep = r.status === 'queued' || r.status === 'running';
        if (!keep) {
          files.delete(r.key);
          if (r.savedId) gone.push(r.savedId);
        }
        return keep;
      });
      reindex(rows);
      return {
        ...s,
        rows,
        runTotal: rows.length ? s.runTotal : 0,
        runDone: rows.length ? s.runDone : 0,
        runCancelled: rows.length ? s.runCancelled : 0,
        announcement: 'Results cleared',
      };
    },
    { urgent: true },
  );
  forgetRows(gone);
  sessionStore.set((s) => ({ ...s, restored: 0 }));
}

let restoring: Promise<number> | null = null;

/**
 * Brings back the rows kept by earlier visits (once per page load), before any row of this visit.
 * Resolves to the number restored.
 */
export function restoreSession(): Promise<number> {
  restoring ??= loadKeptRows().then((kept) => {
    if (!kept.length) return 0;
    const restored: Row[] = kept.map((k) => ({
      key: nextKey++,
      name: k.name,
      size: k.size,
      status: k.status,
      // The worker that made resultId is gone (and a new one counts from 1 again): no id, no Grad-CAM.
      result: k.result ? { ...k.result, resultId: -1 } : undefined,
      error: k.error,
      model: k.model,
      savedId: k.id,
      addedAt: k.addedAt,
      restored: true,
    }));
    batchStore.set(
      (s) => {
        const rows = [...restored, ...s.rows];
        reindex(rows);
        return { ...s, rows, announcement: `${restored.length} result${restored.length === 1 ? '' : 's'} restored from your last visit` };
      },
      { urgent: true },
    );
    return restored.length;
  });
  return restoring;
}
