// Models saved in this browser (IndexedDB): model.json + weight shards + metadata.json under a name,
// with a small summary for listing. Works on the page and in workers (no DOM). Changes are announced
// on a BroadcastChannel so that every tab, page and worker can refresh its list.
//
//   await saveStoredModel('my model', files)            files: { 'model.json', 'weights.bin', 'metadata.json', … }
//   await listStoredModels()                             → summaries, newest first
//   const read = await loadStoredModelFiles('my model')  → FileReader for loadModelFiles(read)
//   await readStoredModelFiles('my model')               → the files (e.g. for the inference worker's 'artifacts' source)
import { parseModelMetadata, type ModelMetadata } from '../core/metadata';
import type { FileReader } from './io';

export const MODEL_DB_NAME = 'cxr-lab-models';
const DB_VERSION = 1;
const SUMMARIES = 'summaries';
const FILES = 'files';
const CHANNEL = 'cxr-lab-models';

export type ModelFiles = Record<string, Uint8Array>;

export interface StoredModelSummary {
  name: string;
  /** ISO date of the save. */
  savedAt: string;
  classNames: string[];
  /** Total bytes of all files. */
  bytes: number;
  /** metadata.name / metadata.version of the saved model. */
  modelName: string;
  modelVersion: string;
  origin: 'trained' | 'imported';
  /** Free-form facts shown in lists (e.g. validation accuracy). */
  facts?: Record<string, string | number>;
}

export class ModelStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelStoreError';
  }
}

/** Null when the name is fine, else why not. */
export function modelNameProblem(name: string): string | null {
  const n = name.trim();
  if (!n) return 'give the model a name';
  if (n.length > 80) return 'use at most 80 characters';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  if (/[\u0000-\u001f]/.test(n)) return 'control characters are not allowed';
  return null;
}

function hasIndexedDb(): boolean {
  return typeof indexedDB !== 'undefined';
}

let dbPromise: Promise<IDBDatabase> | null = null;

function openDb(): Promise<IDBDatabase> {
  if (!hasIndexedDb()) return Promise.reject(new ModelStoreError('this browser has no IndexedDB (private mode?): models cannot be saved here'));
  dbPromise ??= new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(MODEL_DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(SUMMARIES)) db.createObjectStore(SUMMARIES, { keyPath: 'name' });
      if (!db.objectStoreNames.contains(FILES)) db.createObjectStore(FILES);
    };
    req.onsuccess = () => {
      const db = req.result;
      // Another tab upgrading the schema: let it, reopen next time.
      db.onversionchange = () => {
        db.close();
        dbPromise = null;
      };
      resolve(db);
    };
    req.onerror = () => {
      dbPromise = null;
      reject(new ModelStoreError(`cannot open the model store: ${req.error?.message ?? 'unknown error'}`));
    };
    req.onblocked = () => {
      dbPromise = null;
      reject(new ModelStoreError('the model store is blocked by another tab; close other CXR Lab tabs and retry'));
    };
  });
  return dbPromise;
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(new ModelStoreError(explain(tx.error)));
    tx.onabort = () => reject(new ModelStoreError(explain(tx.error)));
  });
}

function explain(e: DOMException | null): string {
  if (e?.name === 'QuotaExceededError') return 'not enough storage space in this browser to save the model (delete saved models or free disk space)';
  return `model store error: ${e?.message ?? 'transaction aborted'}`;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new ModelStoreError(explain(req.error)));
  });
}

function announce(): void {
  if (typeof BroadcastChannel === 'undefined') return;
  const ch = new BroadcastChannel(CHANNEL);
  ch.postMessage({ type: 'changed', at: Date.now() });
  ch.close();
}

/** Calls `cb` whenever models are saved or deleted (in this or another tab/worker). Returns an unsubscribe. */
export function onStoredModelsChanged(cb: () => void): () => void {
  local.add(cb);
  let ch: BroadcastChannel | null = null;
  if (typeof BroadcastChannel !== 'undefined') {
    ch = new BroadcastChannel(CHANNEL);
    ch.onmessage = () => cb();
  }
  return () => {
    local.delete(cb);
    ch?.close();
  };
}

// BroadcastChannel does not deliver to the sending context itself: notify local listeners directly.
const local = new Set<() => void>();
function changed(): void {
  for (const cb of local) cb();
  announce();
}

/** Checks that the files make a loadable model and returns its metadata (throws ModelStoreError). */
export function checkModelFiles(files: ModelFiles): ModelMetadata {
  for (const required of ['model.json', 'metadata.json']) if (!files[required]) throw new ModelStoreError(`${required} is missing`);
  let json: { weightsManifest?: { paths: string[] }[]; modelTopology?: unknown };
  try {
    json = JSON.parse(new TextDecoder().decode(files['model.json']));
  } catch {
    throw new ModelStoreError('model.json is not valid JSON');
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) throw new ModelStoreError('model.json is not a TensorFlow.js layers model');
  for (const p of json.weightsManifest.flatMap((g) => g.paths)) if (!files[p]) throw new ModelStoreError(`weight file ${p} (named in model.json) is missing`);
  try {
    return parseModelMetadata(JSON.parse(new TextDecoder().decode(files['metadata.json'])));
  } catch (e) {
    throw new ModelStoreError((e as Error).message);
  }
}

export async function listStoredModels(): Promise<StoredModelSummary[]> {
  if (!hasIndexedDb()) return [];
  const db = await openDb();
  const all = await request(db.transaction(SUMMARIES, 'readonly').objectStore(SUMMARIES).getAll() as IDBRequest<StoredModelSummary[]>);
  return all.sort((a, b) => b.savedAt.localeCompare(a.savedAt));
}

export async function hasStoredModel(name: string): Promise<boolean> {
  const db = await openDb();
  const key = await request(db.transaction(SUMMARIES, 'readonly').objectStore(SUMMARIES).getKey(name.trim()));
  return key !== undefined;
}

/**
 * Saves (or, with overwrite, replaces) a model. Files are checked first. Returns the summary.
 */
export async function saveStoredModel(
  name: string,
  files: ModelFiles,
  opts: { overwrite?: boolean; origin?: StoredModelSummary['origin']; facts?: StoredModelSummary['facts'] } = {},
): Promise<StoredModelSummary> {
  const problem = modelNameProblem(name);
  if (problem) throw new ModelStoreError(`invalid name: ${problem}`);
  const key = name.trim();
  const metadata = checkModelFiles(files);
  const db = await openDb();
  const summary: StoredModelSummary = {
    name: key,
    savedAt: new Date().toISOString(),
    classNames: metadata.classNames,
    bytes: Object.values(files).reduce((s, f) => s + f.byteLength, 0),
    modelName: metadata.name,
    modelVersion: metadata.version,
    origin: opts.origin ?? 'trained',
    facts: opts.facts,
  };
  const tx = db.transaction([SUMMARIES, FILES], 'readwrite');
  const finished = done(tx);
  const summaries = tx.objectStore(SUMMARIES);
  if (!opts.overwrite) {
    const existing = await request(summaries.getKey(key));
    if (existing !== undefined) {
      tx.abort();
      await finished.catch(() => {});
      throw new ModelStoreError(`a model named "${key}" already exists`);
    }
  }
  summaries.put(summary);
  // Copies, so that later transfers of the caller's buffers cannot detach what is being stored.
  const copy: ModelFiles = {};
  for (const [p, f] of Object.entries(files)) copy[p] = f.slice();
  tx.objectStore(FILES).put(copy, key);
  await finished;
  changed();
  return summary;
}

/** The stored files of a model (model.json, metadata.json and the weight shards). */
export async function readStoredModelFiles(name: string): Promise<ModelFiles> {
  const db = await openDb();
  const files = await request(db.transaction(FILES, 'readonly').objectStore(FILES).get(name) as IDBRequest<ModelFiles | undefined>);
  if (!files) throw new ModelStoreError(`no saved model named "${name}"`);
  return files;
}

/** A FileReader over a stored model, for io.loadModelFiles(read). Reads IndexedDB once. */
export async function loadStoredModelFiles(name: string): Promise<FileReader> {
  const files = await readStoredModelFiles(name);
  return async (rel) => {
    const f = files[rel];
    if (!f) throw new Error(`${rel} is not part of the saved model "${name}"`);
    return f;
  };
}

export async function deleteStoredModel(name: string): Promise<void> {
  const db = await openDb();
  const tx = db.transaction([SUMMARIES, FILES], 'readwrite');
  const finished = done(tx);
  tx.objectStore(SUMMARIES).delete(name);
  tx.objectStore(FILES).delete(name);
  await finished;
  changed();
}

/** A name not used yet: `base`, else `base (2)`, `base (3)`… */
export async function freeModelName(base: string): Promise<string> {
  const names = new Set((await listStoredModels()).map((m) => m.name));
  if (!names.has(base)) return base;
  for (let i = 2; ; i++) if (!names.has(`${base} (${i})`)) return `${base} (${i})`;
}
