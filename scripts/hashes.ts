// npm run hashes: the perceptual hash (src/core/image-hash.ts, through src/image/image-hash.ts) of every
// image of the train split of manifest.csv — the split scripts/train.ts trains the base network on —
// written to public/model/train-hashes.json (hashes only, never images; src/core/train-hashes.ts reads
// it). scripts/train.ts writes the same file after training, with buildTrainHashes.
import fs from 'node:fs';
import path from 'node:path';
import { HASH_ALGORITHM, packHashes } from '../src/core/image-hash';
import type { TrainHashesFile } from '../src/core/train-hashes';
import { grayImageHash } from '../src/image/image-hash';
import { DEFAULT_PREPROCESSING, type GrayImage } from '../src/image/preprocess';
import type { PreprocessingSpec } from '../src/core/metadata';
import { parseArgs, optString } from './lib/args';
import { runIfMain, UsageError } from './lib/cli';
import { loadDataset } from './lib/dataset';
import { REPO_ROOT, SHARED_DATA } from './lib/node-io';

export const HASHES_USAGE = `usage: npm run hashes [-- --data <dir>] [--out <file>] [--no-cache]
  --data   folder holding manifest.csv with a train split (default ../shared/data/cxr)
  --out    file to write (default public/model/train-hashes.json)`;

export const TRAIN_HASHES_SOURCE = 'train split of manifest.csv';

/** The file's content for these (already gray) training images. */
export function buildTrainHashes(images: readonly GrayImage[], spec?: Pick<PreprocessingSpec, 'cropFraction'>, source = TRAIN_HASHES_SOURCE): TrainHashesFile {
  return { version: 1, algorithm: HASH_ALGORITHM, source, count: images.length, hashes: packHashes(images.map((g) => grayImageHash(g, spec))) };
}

export function writeTrainHashes(file: string, content: TrainHashesFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(content, null, 1) + '\n');
}

function modelCrop(modelDir: string): Pick<PreprocessingSpec, 'cropFraction'> {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(modelDir, 'metadata.json'), 'utf8')) as { preprocessing?: { cropFraction?: unknown } };
    const crop = meta.preprocessing?.cropFraction;
    if (typeof crop === 'number' && crop > 0 && crop <= 1) return { cropFraction: crop };
  } catch {
    // no model there: the default preprocessing
  }
  return DEFAULT_PREPROCESSING;
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { usage: HASHES_USAGE, options: { data: 'string', out: 'string', 'no-cache': 'flag' } });
  const dataDir = path.resolve(optString(args, 'data', path.join(SHARED_DATA, 'cxr')));
  const out = path.resolve(optString(args, 'out', path.join(REPO_ROOT, 'public/model/train-hashes.json')));
  if (!fs.existsSync(path.join(dataDir, 'manifest.csv')))
    throw new UsageError(`No data at ${dataDir} (expected manifest.csv). Pass --data <dir>.`, HASHES_USAGE);
  const set = await loadDataset(dataDir, { splits: ['train'], cache: !args.options.has('no-cache') });
  if (set.images.length === 0) throw new UsageError(`the manifest in ${dataDir} has no readable train images`, HASHES_USAGE);
  // The crop of the model the file ships beside (its metadata.json), else the default preprocessing.
  const content = buildTrainHashes(
    set.images.map((im) => im.gray),
    modelCrop(path.dirname(out)),
  );
  writeTrainHashes(out, content);
  const distinct = Buffer.from(content.hashes, 'base64').length / 8;
  process.stdout.write(
    `wrote ${path.relative(REPO_ROOT, out)}: ${content.count} train images, ${distinct} distinct hashes, ${(fs.statSync(out).size / 1024).toFixed(1)} KiB\n`,
  );
  return 0;
}

runIfMain(import.meta.url, main);
