// Pieces the evaluation CLIs share (scripts/evaluate.ts, audit.ts, fit-ood.ts, evaluate-ood.ts,
// evaluate-shift.ts, ood-sweep.ts): number formatting, repository-relative paths and the command line
// for reports, the git commit, seeded stratified subsets, the manifest split rule, loading a model
// folder, batched prediction through the one image pipeline's output, and a progress line. Loads no
// tfjs (node-io is imported lazily), so usage and manifest errors stay fast.
import fs from 'node:fs';
import path from 'node:path';
import { execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseManifest } from '../../src/core/manifest';
import { EvaluationDataError, evaluationGroups, selectManifestRows } from '../../src/core/evaluation-data';
import { stringifyReport, type EvaluationJson } from '../../src/core/evaluation';
import { createRng } from '../../src/core/random';
import type { Classifier } from '../../src/ml/classifier';
import type { ImageFeatures } from '../../src/core/ood';
import type { DicomMeta } from '../../src/core/dicom-meta';
import { UsageError } from './cli';
import type { LoadedImage } from './dataset';

// The same location as ./node-io.ts (importing it would load tfjs).
const REPO_ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

function logErr(...args: unknown[]): void {
  process.stderr.write(args.map(String).join(' ') + '\n');
}

export { UsageError, stringifyReport };
export type { EvaluationJson };

/** Formats a number with `digits` decimals, '—' for null/undefined/NaN. */
export function fmt(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits);
}

export function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** Path relative to the repository root when that is shorter (for reports that get committed). */
export function displayPath(p: string): string {
  const rel = path.relative(REPO_ROOT, p);
  return rel === '' ? '.' : rel.length < p.length ? rel : p;
}

/** The command line as run, with absolute paths shortened relative to the repository root. */
export function commandLine(script: string, argv: string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const parts = argv.map((a) => (path.isAbsolute(a) ? displayPath(a) : a));
  return ['npx tsx', script, ...parts].map((p, i) => (i < 2 ? p : quote(p))).join(' ');
}

export function gitCommit(): string | null {
  try {
    return execSync('git rev-parse HEAD', { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/** Seeded subset with about the same number of images per class (round-robin over classes). */
export function stratifiedSubset<T extends { entry: { labelIndex: number } }>(items: T[], n: number, nClasses: number, seed: number): T[] {
  if (!(n > 0) || n >= items.length) return items;
  const rng = createRng(seed);
  const byClass = Array.from({ length: nClasses }, (_, c) => rng.shuffle(items.filter((x) => x.entry.labelIndex === c)));
  const out: T[] = [];
  for (let i = 0; out.length < n; i++) for (const cls of byClass) if (i < cls.length && out.length < n) out.push(cls[i]);
  return out;
}

export interface SplitSelection {
  /** Splits passed to loadDataset (undefined = every row). */
  splits: string[] | undefined;
  /** What the report calls it: a split name, or 'all'. */
  name: string;
  /** Rows of the manifest in the selection. */
  rows: number;
  manifestText: string;
}

/**
 * Parses the manifest (ManifestError with the line on malformed input) and picks the split. A
 * manifest without split values is evaluated whole, whatever --split says (with a note).
 */
export function selectSplit(dataDir: string, split: string, labels: readonly string[] | undefined): SplitSelection {
  if (!fs.existsSync(path.join(dataDir, 'manifest.csv'))) throw new UsageError(`no manifest.csv in ${dataDir} (pass --data <folder holding manifest.csv>)`);
  const file = path.join(dataDir, 'manifest.csv');
  const text = fs.readFileSync(file, 'utf8');
  const manifest = parseManifest(text, { labels, source: file });
  try {
    // The rule the Evaluate page applies too (src/core/evaluation-data.ts).
    const rows = selectManifestRows(manifest, split, file);
    if (rows.note) logErr(rows.note);
    return { splits: rows.name === 'all' ? undefined : [split], name: rows.name, rows: rows.entries.length, manifestText: text };
  } catch (e) {
    if (e instanceof EvaluationDataError) throw new UsageError(e.message);
    throw e;
  }
}

/** Loads a model folder the way the browser does; a readable message when it is missing or broken. */
export async function loadModel(modelDir: string): Promise<Classifier> {
  if (!fs.existsSync(path.join(modelDir, 'model.json'))) {
    throw new Error(`no model at ${displayPath(modelDir)} (model.json missing): train one with \`npm run train\` or pass --model <dir>`);
  }
  const { loadClassifierFromDir } = await import('./node-io');
  return loadClassifierFromDir(modelDir);
}

export interface BatchResult {
  probabilities: number[][];
  logits: number[][];
  /** prediction.ood.flagged per image (null when the model has no trust.ood). */
  oodFlagged: (boolean | null)[];
  seconds: number;
}

/** What predictImages needs of an image: the model input, and for the OOD verdict its statistics and DICOM facts. */
export interface PredictInput {
  input: Float32Array;
  /** Image statistics for the OOD checks (src/image/features.ts); without them only the distances are checked. */
  features?: ImageFeatures;
  /** DICOM header facts for the OOD verdict's header checks (as the browser worker passes them). */
  dicom?: DicomMeta;
}

/** Preprocesses (with `prepare`, once per image) and predicts in batches; timing covers both. */
export async function predictImages(
  classifier: Classifier,
  images: LoadedImage[],
  prepare: (image: LoadedImage) => PredictInput,
  batchSize: number,
  onProgress?: (done: number) => void,
): Promise<BatchResult> {
  const probabilities: number[][] = [];
  const logits: number[][] = [];
  const oodFlagged: (boolean | null)[] = [];
  const t0 = performance.now();
  for (let i = 0; i < images.length; i += batchSize) {
    const batch = images.slice(i, i + batchSize);
    const prepared = batch.map(prepare);
    const features = prepared.flatMap((p) => (p.features ? [p.features] : []));
    const { predictions } = await classifier.predict(
      prepared.map((p) => p.input),
      { ...(features.length === prepared.length ? { features } : {}), dicom: prepared.map((p) => p.dicom) },
    );
    for (const p of predictions) {
      probabilities.push(p.probabilities);
      logits.push(p.logits);
      oodFlagged.push(p.ood ? p.ood.flagged : null);
    }
    onProgress?.(Math.min(images.length, i + batchSize));
  }
  return { probabilities, logits, oodFlagged, seconds: (performance.now() - t0) / 1000 };
}

/** Groupings derivable from the manifest: source_repo, age_group (see CXR_AGE_GROUP_RULE) and site. */
export function manifestGroups(images: LoadedImage[]): Record<string, (string | null)[]> {
  return evaluationGroups(images.map((im) => im.entry));
}

export function progressLogger(total: number, label: string): (done: number) => void {
  let last = 0;
  return (done) => {
    const now = Date.now();
    if (done === total || now - last > 2000) {
      last = now;
      if (process.stderr.isTTY) process.stderr.write(`\r${label} ${done}/${total}   ${done === total ? '\n' : ''}`);
    }
  };
}
