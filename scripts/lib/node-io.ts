// Node-side file access for the shared loaders: public/model through an fs-backed reader, and
// images through the shared decoders.
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import path from 'node:path';
import type { FileReader } from '../../src/ml/io';
import { Classifier } from '../../src/ml/classifier';
import { decodeImageBytes, ImageDecodeError, MAX_FILE_BYTES } from '../../src/image/decode';
import { preprocessDecoded } from '../../src/image/preprocess';
import type { PreprocessingSpec } from '../../src/core/metadata';

export const REPO_ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
export const DEFAULT_MODEL_DIR = path.join(REPO_ROOT, 'public/model');
export const SHARED_DATA = path.resolve(REPO_ROOT, '../shared/data');

export function fsReader(dir: string): FileReader {
  return async (rel) => new Uint8Array(await fs.readFile(path.join(dir, rel)));
}

export async function loadClassifierFromDir(dir = DEFAULT_MODEL_DIR): Promise<Classifier> {
  return Classifier.load(fsReader(dir));
}

function notRegular(stat: fsSync.Stats): string | null {
  if (stat.isFile()) return null;
  if (stat.isDirectory()) return 'is a folder';
  if (stat.isFIFO()) return 'not a regular file (a FIFO / named pipe)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'not a regular file (a device)';
  if (stat.isSocket()) return 'not a regular file (a socket)';
  return 'not a regular file';
}

/**
 * Reads an image file's bytes, refusing anything but a regular file of at most MAX_FILE_BYTES
 * (ImageDecodeError with the reason). A FIFO would block the read forever and /dev/zero never ends,
 * so the check is made on the opened descriptor (O_NONBLOCK: opening a FIFO does not wait for a
 * writer), not on the path, which could be swapped between a check and the read.
 */
export function readImageFileSync(file: string): Uint8Array {
  const fd = fsSync.openSync(file, fsSync.constants.O_RDONLY | fsSync.constants.O_NONBLOCK);
  try {
    const stat = fsSync.fstatSync(fd);
    const problem = notRegular(stat);
    if (problem) throw new ImageDecodeError(problem);
    if (stat.size > MAX_FILE_BYTES) throw new ImageDecodeError(`file too large: ${(stat.size / 1e6).toFixed(0)} MB, limit ${MAX_FILE_BYTES / 1024 / 1024} MB`);
    const bytes = new Uint8Array(stat.size);
    let off = 0;
    while (off < bytes.length) {
      const n = fsSync.readSync(fd, bytes, off, bytes.length - off, off);
      if (n === 0) break; // shrank while being read: keep what is there (the decoder says if it is truncated)
      off += n;
    }
    return off === bytes.length ? bytes : bytes.subarray(0, off);
  } finally {
    fsSync.closeSync(fd);
  }
}

/** Reads + decodes + preprocesses one image file; throws ImageDecodeError / fs errors with a reason. */
export async function preprocessFile(file: string, spec: PreprocessingSpec): Promise<Float32Array> {
  const bytes = readImageFileSync(file);
  return preprocessDecoded(await decodeImageBytes(bytes), spec);
}

export function logErr(...args: unknown[]): void {
  process.stderr.write(args.map(String).join(' ') + '\n');
}
