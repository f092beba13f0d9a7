// The Classify page's results kept across reloads, in this browser only (IndexedDB): per finished
// row its name, status, error, probabilities, verdict inputs and the 112×112 model-input thumbnail —
// never the image file itself. Writes are queued and flushed in one transaction every few hundred
// milliseconds, so a batch of thousands costs a handful of small transactions per second, and Clear
// deletes what it clears. Without IndexedDB (private mode, storage disabled) nothing is kept and
// the page warns before unload instead (see ClassifyPage).
import type { ClassifyResult } from '../../worker/protocol';
import { Store } from './store';

export const SESSION_DB_NAME = 'cxr-lab-session';
const ROWS = 'rows';
const FLUSH_MS = 300;

/** What is kept of a finished row. */
export interface SavedRow {
  /** Unique across tabs and reloads. */
  id: string;
  /** When the file was added (ms since epoch) and its place in that batch: the restore order. */
  addedAt: number;
  seq: number;
  name: string;
  size: number;
  status: 'done' | 'error';
  /** The result without its embedding; resultId is the worker's and means nothing after a reload. */
  result?: ClassifyResult;
  error?: string;
  model?: string;
}

export interface SessionState {
  /** Rows kept in IndexedDB right now. */
  saved: number;
  /** Rows restored from an earlier visit when the page opened. */
  restored: number;
  /** False when IndexedDB is not available or failed: results are not kept. */
  available: boolean;
  error: string | null;
}

export const sessionStore = new Store<SessionState>({ saved: 0, restored: 0, available: typeof indexedDB !== 'undefined', error: null });

let dbPromise: Promise<IDBDatabase> | null = null;

function open(): Promise<IDBDatabase> {
  dbPromise ??= new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(SESSION_DB_NAME, 1);
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(ROWS)) req.result.createObjectStore(ROWS, { keyPath: 'id' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'));
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
  return dbPromise;
}

function failed(e: unknown): void {
  const msg = (e as Error)?.name === 'QuotaExceededError' ? 'not enough storage space to keep the results' : ((e as Error)?.message ?? String(e));
  sessionStore.set((s) => ({ ...s, available: false, error: msg }));
}

function txDone(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

const pendingPut = new Map<string, SavedRow>();
const pendingDelete = new Set<string>();
let timer: ReturnType<typeof setTimeout> | null = null;
let flushing: Promise<void> = Promise.resolve();

function schedule(): void {
  if (timer !== null || !sessionStore.get().available) return;
  timer = setTimeout(() => {
    timer = null;
    flushing = flushing.then(flush);
  }, FLUSH_MS);
}

async function flush(): Promise<void> {
  if (!pendingPut.size && !pendingDelete.size) return;
  const puts = [...pendingPut.values()];
  const deletes = [...pendingDelete];
  pendingPut.clear();
  pendingDelete.clear();
  try {
    const db = await open();
    const tx = db.transaction(ROWS, 'readwrite');
    const store = tx.objectStore(ROWS);
    for (const r of puts) store.put(r);
    for (const id of deletes) store.delete(id);
    await txDone(tx);
    const saved = await new Promise<number>((resolve, reject) => {
      const req = db.transaction(ROWS, 'readonly').objectStore(ROWS).count();
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    sessionStore.set((s) => ({ ...s, saved }));
  } catch (e) {
    failed(e);
  }
}

/** Queues a finished row to be kept (the embedding is dropped: nothing on the page needs it). */
export function keepRow(row: SavedRow): void {
  if (!sessionStore.get().available) return;
  const result = row.result ? { ...row.result, embedding: undefined } : undefined;
  pendingDelete.delete(row.id);
  pendingPut.set(row.id, { ...row, result });
  schedule();
}

/** Queues kept rows to be forgotten. */
export function forgetRows(ids: readonly string[]): void {
  if (!sessionStore.get().available) return;
  for (const id of ids) {
    pendingPut.delete(id);
    pendingDelete.add(id);
  }
  schedule();
}

/** Resolves once every queued write has reached IndexedDB. */
export function flushSession(): Promise<void> {
  if (timer !== null) {
    clearTimeout(timer);
    timer = null;
    flushing = flushing.then(flush);
  }
  return flushing;
}

/** The rows kept by earlier visits (every tab), oldest first; [] when nothing is kept or IndexedDB fails. */
export async function loadKeptRows(): Promise<SavedRow[]> {
  if (!sessionStore.get().available) return [];
  try {
    const db = await open();
    const rows = await new Promise<SavedRow[]>((resolve, reject) => {
      const req = db.transaction(ROWS, 'readonly').objectStore(ROWS).getAll();
      req.onsuccess = () => resolve(req.result as SavedRow[]);
      req.onerror = () => reject(req.error);
    });
    const valid = rows.filter((r) => typeof r?.id === 'string' && typeof r.name === 'string' && (r.status === 'done' || r.status === 'error'));
    valid.sort((a, b) => a.addedAt - b.addedAt || a.seq - b.seq);
    sessionStore.set((s) => ({ ...s, saved: rows.length, restored: valid.length }));
    return valid;
  } catch (e) {
    failed(e);
    return [];
  }
}

let prefix: string | null = null;

/** An id for a new row, unique across tabs and reloads. */
export function newRowId(seq: number): string {
  prefix ??=
    typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return `${prefix}-${seq}`;
}
