// public/model/train-hashes.json: the perceptual hashes (src/core/image-hash.ts) of every image of the
// training split the shipped model was trained on — hashes only, never images. This file parses and
// checks it, and tells which input images are (near) copies of a training image, whose predictions
// say nothing about how the model does on new images.
import { HASH_ALGORITHM, hashWords, isImageHash, unpackHashes, wordsDistance } from './image-hash';

export const TRAIN_HASHES_VERSION = 1;

/**
 * Largest Hamming distance at which an input counts as a copy of a training image. Measured by
 * tests/unit/image-hash.test.ts: 200 train images re-encoded (70 % resize + JPEG quality 75) are at
 * most 2 bits from their originals, while 99.5 % of test-split images (other patients) are more than
 * 4 bits from their nearest of the 4848 training images (and 99.9 % of pairs of distinct images more
 * than 10). Distances are even (each hash has 32 bits set), so 4 leaves one step of margin each side.
 */
export const NEAR_DUPLICATE_DISTANCE = 4;

export interface TrainHashesFile {
  version: 1;
  algorithm: typeof HASH_ALGORITHM;
  source: string;
  count: number;
  /** base64 of 8 big-endian bytes per hash, sorted (packHashes). */
  hashes: string;
}

export interface TrainHashSet {
  source: string;
  count: number;
  /** Hashes as 32-bit halves: [hi0, lo0, hi1, lo1, …]. */
  words: Uint32Array;
  /** Exact lookup. */
  exact: Set<string>;
}

export class TrainHashesError extends Error {
  constructor(message: string) {
    super(`train-hashes.json: ${message}`);
    this.name = 'TrainHashesError';
  }
}

/** Parses and checks the file's JSON (text or already parsed); TrainHashesError says what is wrong. */
export function parseTrainHashes(input: string | unknown): TrainHashSet {
  let data: unknown = input;
  if (typeof input === 'string') {
    try {
      data = JSON.parse(input);
    } catch (e) {
      throw new TrainHashesError(`not JSON (${(e as Error).message})`);
    }
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new TrainHashesError('expected a JSON object');
  const o = data as Record<string, unknown>;
  if (o.version !== TRAIN_HASHES_VERSION)
    throw new TrainHashesError(`version ${JSON.stringify(o.version)} is not supported (this app reads version ${TRAIN_HASHES_VERSION})`);
  if (o.algorithm !== HASH_ALGORITHM) throw new TrainHashesError(`algorithm ${JSON.stringify(o.algorithm)} is not ${HASH_ALGORITHM}`);
  if (typeof o.source !== 'string') throw new TrainHashesError('source must be a string');
  if (typeof o.count !== 'number' || !Number.isInteger(o.count) || o.count < 0) throw new TrainHashesError('count must be a non-negative integer');
  if (typeof o.hashes !== 'string') throw new TrainHashesError('hashes must be a base64 string');
  let list: string[];
  try {
    list = unpackHashes(o.hashes);
  } catch (e) {
    throw new TrainHashesError(`hashes: ${(e as Error).message}`);
  }
  // count is the number of images; identical images share one packed hash.
  if (list.length > o.count) throw new TrainHashesError(`${list.length} hashes but count says ${o.count} images`);
  if (o.count > 0 && list.length === 0) throw new TrainHashesError(`no hashes but count says ${o.count} images`);
  const words = new Uint32Array(list.length * 2);
  list.forEach((h, i) => {
    const [hi, lo] = hashWords(h);
    words[i * 2] = hi;
    words[i * 2 + 1] = lo;
  });
  return { source: o.source, count: o.count, words, exact: new Set(list) };
}

export interface TrainingMatch {
  /** Index of the input hash. */
  index: number;
  /** Hamming distance to the nearest training image. */
  distance: number;
}

/** The inputs (by index) whose hash is within maxDistance of a training image, with the nearest distance. */
export function knownTrainingImages(hashes: readonly string[], set: TrainHashSet, maxDistance = NEAR_DUPLICATE_DISTANCE): TrainingMatch[] {
  const out: TrainingMatch[] = [];
  const { words } = set;
  hashes.forEach((h, index) => {
    if (!isImageHash(h)) return;
    if (set.exact.has(h)) {
      out.push({ index, distance: 0 });
      return;
    }
    const [hi, lo] = hashWords(h);
    let best = 65;
    for (let i = 0; i < words.length && best > 0; i += 2) {
      const d = wordsDistance(hi, lo, words[i], words[i + 1]);
      if (d < best) best = d;
    }
    if (best <= maxDistance) out.push({ index, distance: best });
  });
  return out;
}
