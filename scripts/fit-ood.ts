// npx tsx scripts/fit-ood.ts [--model public/model] [--data ../shared/data/cxr] [--percentile auto] [--dry-run]
//
// Fits the out-of-distribution detector of a model folder on IN-DISTRIBUTION data only and writes it
// into that folder's metadata.json under trust.ood (every other field is kept as it is):
//   * embedding statistics on the train split: class means of the pooled embedding and one shared
//     Ledoit–Wolf covariance (stored as its inverse), see src/core/ood.ts;
//   * the scored layer: s3_conv2_relu (average-pooled) by default, see defaultOodLayer;
//   * a pixel-space Gaussian of the model input block-averaged to 8×8 (train means + covariance);
//   * the distance thresholds: one percentile of the val split's distances, by default the smallest
//     one at which all checks together flag at most 1.5 % of val (--target-val);
//   * image-check limits: tail quantiles of the train split's image features (colour limits are fixed);
//   * re-acquired films (src/image/acquisition.ts, randomReacquisition: other contrast, low-resolution
//     JPEG exports, gamma, sharpening, blur, rotation, lines, markers, crop margins) join the train fit
//     (--reacquire copies per train image) and the val threshold choice (one copy per val image), so
//     that a hospital's export style is not "not a chest X-ray";
//   * the layout template: the mean standardised 16×16 crop of the train split.
// The OOD evaluation set (../shared/data/ood) is never read here. scripts/train.ts runs this after it
// writes a model; `npm run evaluate:ood` measures the result.
//
// Exit codes: 0 written (or --dry-run done); 1 model or data cannot be loaded; 2 usage error.
import { runIfMain } from './lib/cli';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  fitImageChecks,
  fitTiedGaussians,
  layoutTemplateFrom,
  nearestMahalanobis,
  packSymmetric,
  percentile,
  oodStatsProblem,
  OodScorer,
  pixelVector,
  type ImageFeatures,
  type OodStats,
} from '../src/core/ood';
import { grayAsDecoded } from '../src/image/preprocess';
import { prepareImage } from '../src/image/pipeline';
import { parseArgs, optNumber, optString } from './lib/args';
import { commandLine, displayPath, loadModel, progressLogger, selectSplit, stratifiedSubset, UsageError } from './lib/evaluation';
import type { LoadedImage } from './lib/dataset';

const REPO_ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const SHARED_DATA = path.resolve(REPO_ROOT, '../shared/data');
const DEFAULT_MODEL_DIR = path.join(REPO_ROOT, 'public/model');

export const FIT_OOD_USAGE = `usage: npx tsx scripts/fit-ood.ts [--model <dir>] [--data <dir>] [--layer <name>] [--percentile auto|P] [--target-val 0.01] [--pixels 12]
                               [--quantile 0.002] [--margin 0.2] [--shrinkage auto|0..1] [--limit N] [--dry-run] [--no-cache]
  --model       model folder whose metadata.json gets trust.ood (default public/model)
  --data        in-distribution data with train and val splits (default ../shared/data/cxr)
  --layer       layer to score (default s3_conv2_relu when the model has it, else the embedding layer;
                conv maps are average-pooled)
  --percentile  distance thresholds (embedding, pixels) = this percentile of the val split's distances; 'auto'
                (default): the smallest percentile at which all checks together flag ≤ --target-val of val
  --target-val  with --percentile auto, the share of val X-rays all checks together may flag (default 0.015)
  --pixels      side of the pixel-space vector of the model input (default 8; 0 = no pixel-space check)
  --quantile    image-check limits sit at this tail quantile of the train split (default 0.002)
  --margin      plus this fraction of the train 1st–99th percentile range (default 0.2)
  --shrinkage   Ledoit–Wolf intensity ('auto', default) or a fixed value in [0, 1]
  --reacquire   random re-acquired copies per train image added to the fit (default 1; 0 = originals only)
  --limit       use a seeded, class-stratified subset of N train images (development only)
  --dry-run     fit and report, but do not write metadata.json
  --no-cache    decode every image again instead of using .cache/`;

/** Significant digits kept for the class means in JSON. */
const round = (v: number) => Number(v.toPrecision(7));

export interface SplitEmbeddings {
  embeddings: Float32Array[];
  features: ImageFeatures[];
  /** Pixel-space vectors of the model inputs (pixelVector), when pixelSize > 0. */
  pixels: Float64Array[];
  labels: number[];
}

/**
 * Embeddings of `layer`, image features and pixel vectors of loaded (grey, cached) images, in
 * batches. The features use the same crop as the model input; the data set's files are 8-bit grey,
 * so the cached grey pixels are the decoded image.
 */
export async function embedImages(
  model: import('@tensorflow/tfjs').LayersModel,
  layer: string,
  spec: import('../src/core/metadata').PreprocessingSpec,
  images: LoadedImage[],
  layoutTemplate: number[] | undefined,
  pixelSize: number,
  batchSize = 32,
  label = 'embedding',
): Promise<SplitEmbeddings> {
  const { prepareImage } = await import('../src/image/pipeline');
  const { layerView, pooledActivations } = await import('../src/ml/ood-layers');
  const view = layerView(model, layer);
  const onProgress = progressLogger(images.length, label);
  const out: SplitEmbeddings = { embeddings: [], features: [], pixels: [], labels: [] };
  for (let i = 0; i < images.length; i += batchSize) {
    const batch = images.slice(i, i + batchSize);
    const inputs: Float32Array[] = [];
    for (const im of batch) {
      const { input, features } = prepareImage(grayAsDecoded(im.gray), spec, { layoutTemplate });
      out.features.push(features);
      inputs.push(input);
      if (pixelSize > 0) out.pixels.push(pixelVector(input, pixelSize));
      out.labels.push(im.entry.labelIndex);
    }
    out.embeddings.push(...(await pooledActivations(view, inputs, spec.inputSize)));
    onProgress(Math.min(images.length, i + batchSize));
  }
  return out;
}

export interface FitOodOptions {
  modelDir: string;
  dataDir: string;
  layer?: string;
  /** Percentile of val distances used as threshold (embedding and pixels); 'auto' = from targetVal. */
  percentile?: number | 'auto';
  /** With percentile 'auto': the largest share of val X-rays all checks together may flag (default 0.01). */
  targetVal?: number;
  /** Side of the pixel-space vector (0 = no pixel-space check). */
  pixels?: number;
  quantile?: number;
  margin?: number;
  shrinkage?: number;
  limit?: number;
  /** Re-acquired copies per train image added to the fit (default 1); val gets one copy per image when > 0. */
  reacquire?: number;
  dryRun?: boolean;
  cache?: boolean;
  command?: string;
}

export interface FitOodResult {
  stats: OodStats;
  metadataFile: string;
  written: boolean;
  /** Validation distances (for reports). */
  valDistances: number[];
}

/**
 * The smallest percentile P (most sensitive thresholds) on a 0.05 grid in [90, 100] whose thresholds
 * (P-th percentile of each distance list) flag at most `target` of the images together with the
 * already-flagged ones (`alsoFlagged`, the image checks). All inputs are in-distribution (val).
 */
export function autoPercentile(distances: number[][], alsoFlagged: boolean[], target: number): number {
  const n = alsoFlagged.length;
  const rateAt = (p: number) => {
    const t = distances.map((d) => percentile(d, p));
    let k = 0;
    for (let i = 0; i < n; i++) if (alsoFlagged[i] || distances.some((d, j) => d[i] > t[j])) k++;
    return k / n;
  };
  let best = 100;
  for (let p = 99.95; p >= 90 - 1e-9; p -= 0.05) {
    const q = Number(p.toFixed(2));
    if (rateAt(q) <= target) best = q;
    else break;
  }
  return best;
}

/**
 * The layer scored by default: the CXR Lab network's third stage (s3_conv2_relu, 64 channels,
 * average-pooled) when the model has it, else the embedding. Measured with scripts/ood-sweep.ts on the
 * shipped model: the early, generic features separate other X-rays, CT and laterals from frontal
 * films far better than the class-specific embedding does.
 */
export const PREFERRED_OOD_LAYER = 's3_conv2_relu';

export function defaultOodLayer(model: import('@tensorflow/tfjs').LayersModel, embedding: string): string {
  return model.layers.some((l) => l.name === PREFERRED_OOD_LAYER) ? PREFERRED_OOD_LAYER : embedding;
}

export async function fitOod(opts: FitOodOptions): Promise<FitOodResult> {
  const { initNodeBackend } = await import('../src/ml/tf-node');
  const { loadDataset } = await import('./lib/dataset');
  const { layoutVector } = await import('../src/image/features');
  await initNodeBackend('wasm');
  const classifier = await loadModel(opts.modelDir);
  const { metadata, model } = classifier;
  const layer = opts.layer ?? defaultOodLayer(model, metadata.layers.embedding);
  const spec = metadata.preprocessing;
  const pixelSize = opts.pixels ?? 8;
  const targetVal = opts.targetVal ?? 0.015;
  const pOpt = opts.percentile ?? 'auto';
  if (pOpt !== 'auto' && !(pOpt > 0 && pOpt <= 100)) throw new UsageError('--percentile must be auto or in (0, 100]');
  if (!(targetVal >= 0 && targetVal < 1)) throw new UsageError('--target-val must be in [0, 1)');

  selectSplit(opts.dataDir, 'train', metadata.classNames);
  selectSplit(opts.dataDir, 'val', metadata.classNames);
  const train = await loadDataset(opts.dataDir, { splits: ['train'], labels: metadata.classNames, cache: opts.cache });
  const val = await loadDataset(opts.dataDir, { splits: ['val'], labels: metadata.classNames, cache: opts.cache });
  const trainImages = opts.limit ? stratifiedSubset(train.images, opts.limit, metadata.classNames.length, 0) : train.images;
  if (trainImages.length === 0 || val.images.length === 0) throw new Error('no train or val images could be loaded');

  // Layout template first (the layout feature needs it).
  const layouts: Float64Array[] = [];
  for (const im of trainImages) {
    const v = layoutVector(prepareImage(grayAsDecoded(im.gray), spec).crop, spec.inputSize);
    if (v) layouts.push(v);
  }
  const layoutTemplate = layoutTemplateFrom(layouts);

  const t0 = performance.now();
  const reacquire = Math.max(0, Math.floor(opts.reacquire ?? 1));
  const { withReacquired } = await import('../src/image/acquisition');
  const regray = (im: LoadedImage, gray: LoadedImage['gray']): LoadedImage => ({ ...im, gray });
  const trainFit = withReacquired(trainImages, (im) => im.gray, regray, reacquire, 20261202);
  const valFit = withReacquired(val.images, (im) => im.gray, regray, reacquire > 0 ? 1 : 0, 20261203);
  const tr = await embedImages(model, layer, spec, trainFit, layoutTemplate, pixelSize, 32, 'train');
  const va = await embedImages(model, layer, spec, valFit, layoutTemplate, pixelSize, 32, 'val');
  const seconds = (performance.now() - t0) / 1000;
  classifier.dispose();

  const nClasses = metadata.classNames.length;
  const g = fitTiedGaussians(tr.embeddings, tr.labels, nClasses, opts.shrinkage);
  if (g.means.length !== nClasses) throw new Error(`the train split lacks a class (${g.counts.join('/')} images per class)`);
  const valDistances = va.embeddings.map((e) => nearestMahalanobis(e, g).distance);
  const trainDistances = tr.embeddings.map((e) => nearestMahalanobis(e, g).distance);
  const gp = pixelSize > 0 ? fitTiedGaussians(tr.pixels, tr.labels, nClasses, opts.shrinkage) : null;
  const valPixelDistances = gp ? va.pixels.map((v) => nearestMahalanobis(v, gp).distance) : [];
  const imageChecks = fitImageChecks(tr.features, { quantile: opts.quantile, margin: opts.margin });

  // Thresholds: one percentile of the val distances for the embedding (and the pixel-space check).
  const imageOnly = new OodScorer({
    version: 1,
    embedding: { layer, dim: 1, means: [[0]], precision: packSymmetric([1], 1), shrinkage: 0, threshold: 1, percentile: 100 },
    imageChecks,
    layoutTemplate,
  });
  const imageFlagged = va.features.map((f) => imageOnly.imageChecks(f).some((c) => c.fired));
  const lists = gp ? [valDistances, valPixelDistances] : [valDistances];
  const p = pOpt === 'auto' ? autoPercentile(lists, imageFlagged, targetVal) : pOpt;

  const stats: OodStats = {
    version: 1,
    embedding: {
      layer,
      dim: g.dim,
      means: g.means.map((m) => Array.from(m, round)),
      precision: packSymmetric(g.precision, g.dim),
      shrinkage: round(g.shrinkage),
      threshold: round(percentile(valDistances, p)),
      percentile: p,
    },
    ...(gp
      ? {
          pixels: {
            size: pixelSize,
            means: gp.means.map((m) => Array.from(m, round)),
            precision: packSymmetric(gp.precision, gp.dim),
            shrinkage: round(gp.shrinkage),
            threshold: round(percentile(valPixelDistances, p)),
            percentile: p,
          },
        }
      : {}),
    imageChecks: imageChecks.map((c) => ({ ...c, limit: round(c.limit) })),
    layoutTemplate: layoutTemplate.map(round),
    fit: {},
  };
  // Validation rates with the stored (rounded, float32) numbers: exactly what the app will compute.
  const scorer = new OodScorer(stats);
  const allValResults = va.embeddings.map((e, i) => scorer.scoreWith(e, va.features[i], gp ? va.pixels[i] : undefined));
  // Rates on the val films as stored; the re-acquired copies are reported on their own.
  const valResults = allValResults.slice(0, val.images.length);
  const reacquiredResults = allValResults.slice(val.images.length);
  const rate = (k: number) => k / valResults.length;
  const byCheck: Record<string, number> = {};
  for (const r of valResults) for (const c of r.checks) if (c.fired) byCheck[`${c.id}:${c.side}`] = (byCheck[`${c.id}:${c.side}`] ?? 0) + 1;
  const q = (xs: number[], ps: number[]) => Object.fromEntries(ps.map((v) => [`p${v}`, round(percentile(xs, v))]));
  stats.fit = {
    tool: 'scripts/fit-ood.ts',
    command: opts.command,
    date: new Date().toISOString(),
    manifestHash: train.manifestHash,
    data: displayPath(opts.dataDir),
    trainImages: trainImages.length,
    valImages: val.images.length,
    reacquiredCopiesPerTrainImage: reacquire,
    fitImages: { train: tr.embeddings.length, val: va.embeddings.length },
    percentileRule:
      pOpt === 'auto' ? `auto: smallest percentile (0.05 grid) whose thresholds flag ≤ ${targetVal} of val together with the image checks` : 'given',
    valFlagged: {
      embedding: rate(valResults.filter((r) => r.checks.some((c) => c.id === 'embedding' && c.fired)).length),
      pixels: gp ? rate(valResults.filter((r) => r.checks.some((c) => c.id === 'pixels' && c.fired)).length) : undefined,
      image: rate(valResults.filter((r) => r.checks.some((c) => c.id !== 'embedding' && c.id !== 'pixels' && c.fired)).length),
      any: rate(valResults.filter((r) => r.flagged).length),
    },
    valFlaggedByCheck: byCheck,
    valReacquiredFlagged: reacquiredResults.length ? reacquiredResults.filter((r) => r.flagged).length / reacquiredResults.length : null,
    distanceQuantiles: {
      train: q(trainDistances, [50, 90, 99]),
      val: q(valDistances, [50, 90, 95, 98, 99, 99.5, 99.9, 100]),
      ...(gp ? { valPixels: q(valPixelDistances, [50, 90, 95, 98, 99, 99.5, 99.9, 100]) } : {}),
    },
    imageCheckOptions: { quantile: opts.quantile ?? 0.002, margin: opts.margin ?? 0.2 },
    seconds: round(seconds),
  };
  const problem = oodStatsProblem(stats, nClasses);
  if (problem) throw new Error(`fitted statistics are invalid: ${problem}`);

  const metadataFile = path.join(opts.modelDir, 'metadata.json');
  if (!opts.dryRun) {
    const raw = JSON.parse(fs.readFileSync(metadataFile, 'utf8')) as Record<string, unknown>;
    const trust = (raw.trust && typeof raw.trust === 'object' ? raw.trust : {}) as Record<string, unknown>;
    raw.trust = { ...trust, ood: stats };
    fs.writeFileSync(metadataFile, JSON.stringify(raw, null, 2) + '\n');
  }
  return { stats, metadataFile, written: !opts.dryRun, valDistances };
}

export function formatFit(r: FitOodResult): string {
  const s = r.stats;
  const f = s.fit!;
  const pct = (v: number | undefined) => (v === undefined ? '—' : `${(100 * v).toFixed(2)}%`);
  const lines = [
    `OOD statistics for ${displayPath(path.dirname(r.metadataFile))} (layer '${s.embedding.layer}', ${s.embedding.dim} dims)`,
    `train ${f.trainImages} images, val ${f.valImages} images; Ledoit–Wolf shrinkage ${s.embedding.shrinkage.toFixed(4)}`,
    `embedding distance threshold ${s.embedding.threshold.toFixed(2)} = p${s.embedding.percentile} of val distances (val quantiles ${JSON.stringify(f.distanceQuantiles && (f.distanceQuantiles as Record<string, unknown>).val)})`,
    s.pixels
      ? `pixel-space (${s.pixels.size}×${s.pixels.size}) distance threshold ${s.pixels.threshold.toFixed(2)} = p${s.pixels.percentile} of val distances, shrinkage ${s.pixels.shrinkage.toFixed(4)}`
      : 'pixel-space check: off',
    `percentile rule: ${String(f.percentileRule)}`,
    'image checks:',
    ...s.imageChecks.map(
      (c) => `  ${c.feature.padEnd(17)} ${c.side.padEnd(5)} ${c.side === 'high' ? '>' : '<'} ${c.limit.toPrecision(4).padStart(9)}  (${c.source})`,
    ),
    `val flagged: embedding ${pct(f.valFlagged?.embedding)}, pixels ${pct(f.valFlagged?.pixels)}, image checks ${pct(f.valFlagged?.image)}, any ${pct(f.valFlagged?.any)}`,
    `val flagged per check: ${JSON.stringify(f.valFlaggedByCheck)}`,
    `re-acquired val copies flagged: ${typeof f.valReacquiredFlagged === 'number' ? pct(f.valReacquiredFlagged) : '—'} (${String(f.reacquiredCopiesPerTrainImage ?? 0)} re-acquired cop(ies) per train image in the fit)`,
    r.written ? `wrote trust.ood into ${displayPath(r.metadataFile)}` : '--dry-run: metadata.json not changed',
  ];
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    usage: FIT_OOD_USAGE,
    options: {
      model: 'string',
      data: 'string',
      layer: 'string',
      percentile: 'string',
      'target-val': 'number',
      pixels: 'number',
      quantile: 'number',
      margin: 'number',
      shrinkage: 'string',
      limit: 'number',
      reacquire: 'number',
      'dry-run': 'flag',
      'no-cache': 'flag',
    },
  });
  const shrink = optString(args, 'shrinkage', 'auto');
  const shrinkage = shrink === 'auto' ? undefined : Number(shrink);
  if (shrinkage !== undefined && !(shrinkage >= 0 && shrinkage <= 1)) throw new UsageError('--shrinkage must be auto or a number in [0, 1]');
  const layer = args.options.get('layer');
  const result = await fitOod({
    modelDir: path.resolve(optString(args, 'model', DEFAULT_MODEL_DIR)),
    dataDir: path.resolve(optString(args, 'data', path.join(SHARED_DATA, 'cxr'))),
    layer: typeof layer === 'string' ? layer : undefined,
    percentile: optString(args, 'percentile', 'auto') === 'auto' ? 'auto' : optNumber(args, 'percentile', 99),
    targetVal: optNumber(args, 'target-val', 0.015),
    pixels: Math.max(0, Math.floor(optNumber(args, 'pixels', 8))),
    quantile: optNumber(args, 'quantile', 0.002),
    margin: optNumber(args, 'margin', 0.2),
    shrinkage,
    limit: Math.max(0, Math.floor(optNumber(args, 'limit', 0))) || undefined,
    reacquire: Math.max(0, Math.floor(optNumber(args, 'reacquire', 1))),
    dryRun: args.options.has('dry-run'),
    cache: !args.options.has('no-cache'),
    command: commandLine('scripts/fit-ood.ts', argv),
  });
  process.stdout.write(formatFit(result) + '\n');
  return 0;
}

runIfMain(import.meta.url, main);
