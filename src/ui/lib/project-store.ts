// Projects saved in this browser (IndexedDB): the same bytes as the downloaded .cxrlab file, under a
// name, with a small summary for listing. A full disk (QuotaExceededError) says so and suggests the
// file download instead.
export const PROJECT_DB_NAME = 'cxr-lab-projects';
const DB_VERSION = 1;
const SUMMARIES = 'summaries';
const FILES = 'files';

export interface StoredProjectSummary {
  name: string;
  savedAt: string;
  classes: string[];
  images: number;
  trained: boolean;
  bytes: number;
}

export class ProjectStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectStoreError';
  }
}

let dbPromise: Promise<IDBDatabase> | null = null;

function openDb(): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined')
    return Promise.reject(new ProjectStoreError('this browser has no IndexedDB (private mode?): download the project file instead'));
  dbPromise ??= new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(PROJECT_DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(SUMMARIES)) db.createObjectStore(SUMMARIES, { keyPath: 'name' });
      if (!db.objectStoreNames.contains(FILES)) db.createObjectStore(FILES);
    };
    req.onsuccess = () => {
      const db = req.result;
      db.onversionchange = () => {
        db.close();
        dbPromise = null;
      };
      resolve(db);
    };
    req.onerror = () => {
      dbPromise = null;
      reject(new ProjectStoreError(`cannot open the project store: ${req.error?.message ?? 'unknown error'}`));
    };
    req.onblocked = () => {
      dbPromise = null;
      reject(new ProjectStoreError('the project store is blocked by another tab; close other CXR Lab tabs and retry'));
    };
  });
  return dbPromise;
}

export function explainStoreError(e: { name?: string; message?: string } | null, bytes?: number): string {
  if (e?.name === 'QuotaExceededError')
    return `this browser's storage is full${bytes ? ` (the project needs ${(bytes / 1e6).toFixed(1)} MB)` : ''}: download the project file instead, or delete saved projects or models`;
  return `project store error: ${e?.message ?? 'transaction aborted'}`;
}

function done(tx: IDBTransaction, bytes?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(new ProjectStoreError(explainStoreError(tx.error, bytes)));
    tx.onabort = () => reject(new ProjectStoreError(explainStoreError(tx.error, bytes)));
  });
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new ProjectStoreError(explainStoreError(req.error)));
  });
}

/** Saves (or replaces) a project under its name. */
export async function saveStoredProject(summary: StoredProjectSummary, bytes: Uint8Array): Promise<void> {
  const db = await openDb();
  let tx: IDBTransaction;
  try {
    tx = db.transaction([SUMMARIES, FILES], 'readwrite');
    tx.objectStore(FILES).put(new Blob([bytes as Uint8Array<ArrayBuffer>]), summary.name);
    tx.objectStore(SUMMARIES).put(summary);
  } catch (e) {
    throw new ProjectStoreError(explainStoreError(e as DOMException, bytes.length));
  }
  await done(tx, bytes.length);
}

export async function listStoredProjects(): Promise<StoredProjectSummary[]> {
  const db = await openDb();
  const all = await request(db.transaction(SUMMARIES).objectStore(SUMMARIES).getAll() as IDBRequest<StoredProjectSummary[]>);
  return all.sort((a, b) => b.savedAt.localeCompare(a.savedAt));
}

export async function readStoredProject(name: string): Promise<Uint8Array> {
  const db = await openDb();
  const blob = await request(db.transaction(FILES).objectStore(FILES).get(name) as IDBRequest<Blob | undefined>);
  if (!blob) throw new ProjectStoreError(`no project named "${name}" is saved in this browser`);
  return new Uint8Array(await blob.arrayBuffer());
}

export async function deleteStoredProject(name: string): Promise<void> {
  const db = await openDb();
  const tx = db.transaction([SUMMARIES, FILES], 'readwrite');
  tx.objectStore(FILES).delete(name);
  tx.objectStore(SUMMARIES).delete(name);
  await done(tx);
}
