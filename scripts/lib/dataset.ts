// Loads a manifest-described image folder for training/evaluation in Node: parse the manifest with the
// shared parser, decode with the shared decoders, keep 8-bit gray images in memory (small: the data
// set stores 256-px images), and cache the decoded pixels on disk keyed by content (datasetContentKey:
// the folder, the manifest, the splits, and every listed file's path, size and modification time), so
// that replacing the images behind an unchanged manifest, or pointing --data at another folder with
// the same manifest, decodes again instead of reporting the old pixels.
import fs from 'node:fs';
import path from 'node:path';
import { parseManifest, manifestHash, sha256Hex, type ManifestEntry } from '../../src/core/manifest';
import { decodeImageBytes } from '../../src/image/decode';
import { toGray8, type GrayImage } from '../../src/image/preprocess';
import { REPO_ROOT, logErr, readImageFileSync } from './node-io';

/** Bumped when the decoders or the cached layout change in a way that alters the cached pixels. */
const CACHE_FORMAT = 2;

export interface LoadedImage {
  entry: ManifestEntry;
  path: string;
  gray: GrayImage;
}

export interface LoadedDataset {
  dir: string;
  manifestText: string;
  manifestHash: string;
  labels: readonly string[];
  images: LoadedImage[];
  failures: { file: string; line: number; reason: string }[];
  /** datasetContentKey of what was loaded. */
  contentKey: string;
}

function fileSignature(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch (e) {
    return `missing:${(e as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

/**
 * Content key of a data set selection (SHA-256 hex): the resolved folder, the manifest text, the
 * splits, and the path, size, modification time and inode of every listed file (one stat each, no
 * reading). Anything that can change the decoded pixels changes the key.
 */
export function datasetContentKey(dir: string, manifestText: string, splits: readonly string[] | undefined, entries: readonly ManifestEntry[]): string {
  const parts = [`v${CACHE_FORMAT}`, path.resolve(dir), manifestHash(manifestText), (splits ?? ['all']).join(',')];
  for (const e of entries) parts.push(`${e.line}\t${e.file}\t${fileSignature(path.join(dir, e.file))}`);
  return sha256Hex(parts.join('\n'));
}

export function readManifest(dir: string, labels?: readonly string[] | null) {
  const file = path.join(dir, 'manifest.csv');
  if (!fs.existsSync(file)) throw new Error(`no manifest.csv in ${dir}`);
  const text = fs.readFileSync(file, 'utf8');
  return { text, manifest: parseManifest(text, { labels, source: file }) };
}

/** datasetContentKey of a folder's split selection, computed without decoding anything. */
export function selectionContentKey(dir: string, splits: readonly string[] | undefined, labels?: readonly string[] | null): string {
  const { text, manifest } = readManifest(dir, labels);
  const entries = manifest.entries.filter((e) => !splits || (e.split !== undefined && splits.includes(e.split)));
  return datasetContentKey(dir, text, splits, entries);
}

/** What a trained model's training.dataContentKey records: the content of its train and val splits. */
export function trainingDataKey(trainKey: string, valKey: string): string {
  return sha256Hex(`${trainKey}\n${valKey}`);
}

export async function loadDataset(
  dir: string,
  opts: { splits?: string[]; labels?: readonly string[] | null; cache?: boolean; quiet?: boolean } = {},
): Promise<LoadedDataset> {
  const { text, manifest } = readManifest(dir, opts.labels);
  const hash = manifestHash(text);
  const entries = manifest.entries.filter((e) => !opts.splits || (e.split !== undefined && opts.splits.includes(e.split)));
  const contentKey = datasetContentKey(dir, text, opts.splits, entries);
  // One cache file per folder and split selection (older contents are replaced, not piled up).
  const cachePrefix = `gray-${sha256Hex(path.resolve(dir)).slice(0, 8)}-${(opts.splits ?? ['all']).join('_')}-`;
  const cacheFile = path.join(REPO_ROOT, '.cache', `${cachePrefix}${contentKey.slice(0, 16)}.bin`);
  const images: LoadedImage[] = [];
  const failures: LoadedDataset['failures'] = [];
  if (opts.cache !== false && fs.existsSync(cacheFile)) {
    const buf = fs.readFileSync(cacheFile);
    const index = JSON.parse(buf.subarray(4, 4 + buf.readUInt32LE(0)).toString('utf8')) as
      | { line: number; w: number; h: number; off: number }[]
      | { failures: LoadedDataset['failures']; items: { line: number; w: number; h: number; off: number }[] };
    const { items, failures: f } = Array.isArray(index) ? { items: index, failures: [] } : index;
    const dataStart = 4 + buf.readUInt32LE(0);
    const byLine = new Map(entries.map((e) => [e.line, e]));
    for (const it of items) {
      const entry = byLine.get(it.line);
      if (!entry) continue;
      const data = new Uint8Array(buf.buffer, buf.byteOffset + dataStart + it.off, it.w * it.h);
      images.push({ entry, path: path.join(dir, entry.file), gray: { width: it.w, height: it.h, data } });
    }
    failures.push(...f);
    if (!opts.quiet) logErr(`loaded ${images.length} images from cache ${path.relative(REPO_ROOT, cacheFile)}`);
    return { dir, manifestText: text, manifestHash: hash, labels: manifest.labels, images, failures, contentKey };
  }
  const t0 = Date.now();
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const file = path.join(dir, entry.file);
    try {
      const bytes = readImageFileSync(file);
      const gray = toGray8(await decodeImageBytes(bytes));
      images.push({ entry, path: file, gray });
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
      failures.push({ file: entry.file, line: entry.line, reason });
    }
    if (!opts.quiet && (i + 1) % 500 === 0) logErr(`decoded ${i + 1}/${entries.length} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  if (opts.cache !== false) {
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
    for (const old of fs.readdirSync(path.dirname(cacheFile)))
      if (old.startsWith(cachePrefix)) fs.rmSync(path.join(path.dirname(cacheFile), old), { force: true });
    let off = 0;
    const items = images.map((im) => {
      const it = { line: im.entry.line, w: im.gray.width, h: im.gray.height, off };
      off += im.gray.data.length;
      return it;
    });
    const header = Buffer.from(JSON.stringify({ items, failures }), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    fs.writeFileSync(
      cacheFile,
      Buffer.concat([len, header, ...images.map((im) => Buffer.from(im.gray.data.buffer, im.gray.data.byteOffset, im.gray.data.length))]),
    );
  }
  for (const f of failures) logErr(`skipped ${f.file} (manifest line ${f.line}): ${f.reason}`);
  return { dir, manifestText: text, manifestHash: hash, labels: manifest.labels, images, failures, contentKey };
}
