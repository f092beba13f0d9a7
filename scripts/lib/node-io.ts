// Node-side file access for the shared loaders: public/model through an fs-backed reader, and
// images through the shared decoders.
import fs from 'node:fs/promises';
import path from 'node:path';
import { loadModelFiles, type FileReader } from '../../src/ml/io';
import { Classifier } from '../../src/ml/classifier';
import { decodeImageBytes } from '../../src/ml/decode';
import { preprocessDecoded } from '../../src/ml/preprocess';
import type { PreprocessingSpec } from '../../src/core/metadata';

export const REPO_ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
export const DEFAULT_MODEL_DIR = path.join(REPO_ROOT, 'public/model');
export const SHARED_DATA = path.resolve(REPO_ROOT, '../shared/data');

export function fsReader(dir: string): FileReader {
  return async (rel) => new Uint8Array(await fs.readFile(path.join(dir, rel)));
}

export async function loadClassifierFromDir(dir = DEFAULT_MODEL_DIR): Promise<Classifier> {
  const { model, metadata } = await loadModelFiles(fsReader(dir));
  return new Classifier(model, metadata);
}

/** Reads + decodes + preprocesses one image file; throws ImageDecodeError / fs errors with a reason. */
export async function preprocessFile(file: string, spec: PreprocessingSpec): Promise<Float32Array> {
  const bytes = new Uint8Array(await fs.readFile(file));
  return preprocessDecoded(await decodeImageBytes(bytes), spec);
}

export function logErr(...args: unknown[]): void {
  process.stderr.write(args.map(String).join(' ') + '\n');
}
