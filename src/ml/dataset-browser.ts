// Labelled image intake for the Train and Evaluate pages (browser only, no tfjs): .zip archives
// (streamed through fflate, so a large archive is never inflated in one piece) and labels by folder.
// (Dropped folders and pickers are walked by src/ui/lib/files.ts.) A folder layout with one
// sub-folder per class (`dataset/covid/*.jpg`, `dataset/normal/*.jpg`, …, optionally under
// train/val/test folders, as the original Kaggle projects ship them) gives the labels.
// Also the seeded, stratified train/validation split and the data-set warnings.
import { Unzip, UnzipInflate } from 'fflate';
import { createRng } from '../core/random';
import { MAX_FILE_BYTES } from '../image/decode';

/** A file with its path inside the drop ('/'-separated, e.g. 'dataset/covid/a.jpg'). */
export interface IntakeFile {
  path: string;
  file: Blob;
}

export interface Rejected {
  path: string;
  reason: string;
}

export interface LabelledFile {
  className: string;
  path: string;
  file: Blob;
}

export const MIN_CLASSES = 2;
export const MAX_CLASSES = 10;
/** Below this many images a class gets a warning. */
export const FEW_IMAGES = 10;
/** Largest/smallest class ratio from which the imbalance warning shows. */
export const IMBALANCE_RATIO = 3;
/** Largest single file taken from a zip: the decoders' file limit (one limit for every way in). */
export const MAX_ZIP_ENTRY_BYTES = MAX_FILE_BYTES;

const IMAGE_EXT = new Set(['png', 'jpg', 'jpeg', 'jpe', 'jfif', 'webp', 'bmp', 'gif']);
const NON_IMAGE_EXT_HINT: Record<string, string> = {
  dcm: 'DICOM files are not supported yet',
  csv: 'not an image (a CSV file)',
  txt: 'not an image (a text file)',
};
const SPLIT_FOLDERS = new Set(['train', 'training', 'val', 'valid', 'validation', 'test', 'testing', 'dev']);

function extension(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/** OS clutter that is skipped silently (never reported as a bad file). */
export function isJunkPath(path: string): boolean {
  const parts = path.split('/');
  const base = parts[parts.length - 1];
  return parts.some((p) => p === '__MACOSX' || (p.startsWith('.') && p.length > 1)) || base === 'Thumbs.db' || base === 'desktop.ini';
}

export function isZipFile(f: { name?: string; type?: string; path?: string }): boolean {
  const name = f.path ?? f.name ?? '';
  return extension(name) === 'zip' || f.type === 'application/zip' || f.type === 'application/x-zip-compressed';
}

/** Why a file cannot be a training image from its name alone, or null when it may be one. */
export function nameProblem(path: string): string | null {
  const ext = extension(path);
  if (!ext || IMAGE_EXT.has(ext)) return null; // no extension: let the decoder decide
  return NON_IMAGE_EXT_HINT[ext] ?? `not an image (.${ext} file)`;
}

// ---------------------------------------------------------------------------------------------
// Zips (drops and pickers are read by src/ui/lib/files.ts, the one folder walker)
// ---------------------------------------------------------------------------------------------

export async function readZip(
  zip: Blob,
  zipName = 'archive.zip',
  onProgress?: (fraction: number) => void,
): Promise<{ files: IntakeFile[]; rejected: Rejected[] }> {
  const files: IntakeFile[] = [];
  const rejected: Rejected[] = [];
  const pending: Promise<void>[] = [];
  let sawEntry = false;
  const unzip = new Unzip();
  unzip.register(UnzipInflate);
  unzip.onfile = (entry) => {
    sawEntry = true;
    const path = entry.name.replace(/\\/g, '/');
    if (path.endsWith('/') || isJunkPath(path)) return;
    if (entry.compression !== 0 && entry.compression !== 8) {
      rejected.push({ path: `${zipName}/${path}`, reason: `unsupported zip compression method ${entry.compression}` });
      return;
    }
    if ((entry.originalSize ?? 0) > MAX_ZIP_ENTRY_BYTES) {
      rejected.push({ path: `${zipName}/${path}`, reason: `file too large (${((entry.originalSize ?? 0) / 1e6).toFixed(0)} MB)` });
      return;
    }
    pending.push(
      new Promise<void>((resolve) => {
        const chunks: Uint8Array[] = [];
        let size = 0;
        entry.ondata = (err, data, final) => {
          if (err) {
            rejected.push({ path: `${zipName}/${path}`, reason: `corrupt zip entry (${err.message})` });
            resolve();
            return;
          }
          chunks.push(data);
          size += data.byteLength;
          if (size > MAX_ZIP_ENTRY_BYTES) {
            entry.terminate();
            rejected.push({ path: `${zipName}/${path}`, reason: 'file too large' });
            resolve();
            return;
          }
          if (final) {
            files.push({ path, file: new Blob(chunks as Uint8Array<ArrayBuffer>[]) });
            resolve();
          }
        };
        try {
          entry.start();
        } catch (e) {
          rejected.push({ path: `${zipName}/${path}`, reason: `cannot extract (${(e as Error).message})` });
          resolve();
        }
      }),
    );
  };
  const reader = zip.stream().getReader();
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      unzip.push(value);
      read += value.byteLength;
      onProgress?.(zip.size ? read / zip.size : 1);
    }
    unzip.push(new Uint8Array(0), true);
  } catch (e) {
    throw new Error(`${zipName} is not a readable zip archive (${(e as Error).message})`);
  }
  await Promise.all(pending);
  if (!sawEntry) throw new Error(`${zipName} is not a zip archive or is empty`);
  files.sort((a, b) => a.path.localeCompare(b.path, undefined, { numeric: true }));
  return { files, rejected };
}

/** Replaces every .zip among `files` by its entries (prefixed with the zip's folder path). */
export async function expandZips(files: IntakeFile[], onProgress?: (fraction: number) => void): Promise<{ files: IntakeFile[]; rejected: Rejected[] }> {
  const out: IntakeFile[] = [];
  const rejected: Rejected[] = [];
  const zips = files.filter((f) => isZipFile(f));
  let i = 0;
  for (const f of files) {
    if (!isZipFile(f)) {
      out.push(f);
      continue;
    }
    const dir = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/') + 1) : '';
    try {
      const z = await readZip(f.file, f.path, (p) => onProgress?.((i + p) / zips.length));
      out.push(...z.files.map((e) => ({ path: dir + e.path, file: e.file })));
      rejected.push(...z.rejected);
    } catch (e) {
      rejected.push({ path: f.path, reason: (e as Error).message });
    }
    i++;
  }
  return { files: out, rejected };
}

// ---------------------------------------------------------------------------------------------
// Labels from folders
// ---------------------------------------------------------------------------------------------

/**
 * Labels files by folder: the common leading folders are dropped (e.g. 'dataset/'), then the first
 * remaining folder is the class (skipping one level of train/val/test folders, whose images are
 * merged). When everything sits in one folder, that folder is the class (a single class folder
 * dropped). Loose files next to class folders, and non-images, are rejected with a reason.
 */
export function labelByFolder(files: IntakeFile[]): { items: LabelledFile[]; rejected: Rejected[] } {
  const rejected: Rejected[] = [];
  const candidates: { path: string; dirs: string[]; file: Blob }[] = [];
  for (const f of files) {
    if (isJunkPath(f.path)) continue;
    const problem = nameProblem(f.path);
    if (problem) {
      rejected.push({ path: f.path, reason: problem });
      continue;
    }
    const parts = f.path.split('/').filter(Boolean);
    candidates.push({ path: f.path, dirs: parts.slice(0, -1), file: f.file });
  }
  if (!candidates.length) return { items: [], rejected };
  // Longest common folder prefix.
  let common = candidates[0].dirs.slice();
  for (const c of candidates) {
    let k = 0;
    while (k < common.length && k < c.dirs.length && common[k] === c.dirs[k]) k++;
    common = common.slice(0, k);
  }
  const rest = candidates.map((c) => c.dirs.slice(common.length));
  // One level of split folders (train/val/test) above the class folders: merge them.
  const firsts = new Set(rest.filter((r) => r.length).map((r) => r[0].toLowerCase()));
  const splitLevel = firsts.size > 0 && [...firsts].every((f) => SPLIT_FOLDERS.has(f)) && rest.every((r) => r.length >= 2);
  const items: LabelledFile[] = [];
  candidates.forEach((c, i) => {
    const r = splitLevel ? rest[i].slice(1) : rest[i];
    let className: string | undefined = r[0];
    if (className === undefined && rest.every((x) => x.length === 0) && common.length) className = common[common.length - 1];
    if (className === undefined) {
      rejected.push({ path: c.path, reason: 'not inside a class folder (put each class in its own folder)' });
      return;
    }
    items.push({ className: className.trim(), path: c.path, file: c.file });
  });
  return { items, rejected };
}

// ---------------------------------------------------------------------------------------------
// Split and warnings
// ---------------------------------------------------------------------------------------------

export interface SplitResult {
  /** Indices into the input arrays. */
  train: number[];
  val: number[];
}

/**
 * Seeded, stratified split: within each class, items are ordered by `keys` (so the order in which
 * files arrived does not matter), shuffled with the seed and the first round(n·fraction) go to
 * validation, at least one and at most n−1 when the class has 2 or more images.
 */
export function stratifiedSplit(labels: readonly number[], keys: readonly string[], valFraction: number, seed: number): SplitResult {
  if (labels.length !== keys.length) throw new RangeError('stratifiedSplit: labels and keys differ in length');
  const f = Math.max(0, Math.min(0.9, valFraction));
  const rng = createRng(seed);
  const byClass = new Map<number, number[]>();
  labels.forEach((l, i) => {
    const list = byClass.get(l) ?? [];
    list.push(i);
    byClass.set(l, list);
  });
  const train: number[] = [];
  const val: number[] = [];
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = byClass.get(cls)!.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
    rng.shuffle(idx);
    const n = idx.length;
    let nVal = f > 0 ? Math.round(n * f) : 0;
    if (f > 0 && n >= 2) nVal = Math.min(n - 1, Math.max(1, nVal));
    if (n < 2) nVal = 0;
    val.push(...idx.slice(0, nVal));
    train.push(...idx.slice(nVal));
  }
  train.sort((a, b) => a - b);
  val.sort((a, b) => a - b);
  return { train, val };
}

export interface DatasetCheck {
  /** Blocking problems: training cannot start. */
  errors: string[];
  /** Worth knowing: training can start. */
  warnings: string[];
}

/** Problems of a data set given its per-class image counts (in class order). */
export function checkDataset(classes: { name: string; count: number }[]): DatasetCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  const names = classes.map((c) => c.name.trim());
  if (classes.length < MIN_CLASSES) errors.push(`Add at least ${MIN_CLASSES} classes (there ${classes.length === 1 ? 'is 1' : `are ${classes.length}`}).`);
  if (classes.length > MAX_CLASSES) errors.push(`At most ${MAX_CLASSES} classes are supported (there are ${classes.length}).`);
  if (names.some((n) => !n)) errors.push('Every class needs a name.');
  const lower = names.map((n) => n.toLowerCase());
  const dup = lower.filter((n, i) => n && lower.indexOf(n) !== i);
  if (dup.length) errors.push(`Class names must differ: "${[...new Set(dup)].join('", "')}" is used twice.`);
  for (const c of classes) {
    if (c.count < 2) errors.push(`Class "${c.name || '(unnamed)'}" needs at least 2 images (it has ${c.count}): one to train on, one to validate.`);
    else if (c.count < FEW_IMAGES) warnings.push(`Class "${c.name}" has only ${c.count} images; ${FEW_IMAGES} or more give more trustworthy results.`);
  }
  const counts = classes.map((c) => c.count).filter((n) => n > 0);
  if (counts.length >= 2) {
    const max = Math.max(...counts);
    const min = Math.min(...counts);
    if (max / min >= IMBALANCE_RATIO) {
      const big = classes.find((c) => c.count === max)!.name;
      const small = classes.find((c) => c.count === min)!.name;
      warnings.push(
        `Strong class imbalance: "${big}" has ${max} images, "${small}" only ${min} (${(max / min).toFixed(1)}×). Keep class weighting on, and read recall per class rather than accuracy.`,
      );
    }
  }
  return { errors, warnings };
}
