// npm run evaluate:ood -- [--model public/model] [--sample N] [--check] [--out file.json]
//
// Measures the out-of-distribution detector stored in a model's metadata.json (trust.ood, written by
// scripts/fit-ood.ts) the way the app applies it: every image is decoded with the shared decoders and
// classified through Classifier.predict with its image features, and `prediction.ood.flagged` is
// counted.
//   * true-positive rate per OOD kind of ../shared/data/ood (manifest `kind`), with the README's
//     borderline items (coronal CT, figures where one X-ray fills the frame) as extra rows;
//   * false-positive rate on the test split of ../shared/data/cxr;
//   * which checks fired (reasons breakdown), and the embedding-only / image-checks-only rates.
// The last line of stdout is always `ood: flagged <P>% of OOD, <Q>% of test X-rays`.
//
// --sample N: a seeded subset of N OOD images and N test X-rays, stratified proportionally by kind and
// by class (so the sample's rates estimate the full sets'), for CI. --check: exit 3 when fewer than --min-ood % (95) of OOD images or more than
// --max-test % (2) of test X-rays are flagged.
//
// Exit codes: 0 done (and targets met with --check); 1 model/data cannot be loaded or the model has no
// trust.ood; 2 usage error; 3 --check failed.
import { runIfMain } from './lib/cli';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManifestError, manifestPathProblem, parseCsvRecords } from '../src/core/manifest';
import { createRng } from '../src/core/random';
import type { OodResult } from '../src/core/ood';
import type { Classifier } from '../src/ml/classifier';
import type { DecodedImage } from '../src/image/preprocess';
import { parseArgs, optNumber, optString } from './lib/args';
import { commandLine, displayPath, gitCommit, loadModel, progressLogger, selectSplit, stringifyReport, UsageError } from './lib/evaluation';

const REPO_ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const SHARED_DATA = path.resolve(REPO_ROOT, '../shared/data');
const DEFAULT_MODEL_DIR = path.join(REPO_ROOT, 'public/model');

export const EVALUATE_OOD_USAGE = `usage: npm run evaluate:ood -- [--model <dir>] [--ood <dir>] [--data <dir>] [--split test] [--sample N] [--seed 0]
                               [--check] [--min-ood 95] [--max-test 2] [--out file.json] [--batch 32] [--no-cache]
  --model     model folder whose metadata.json has trust.ood (default public/model; see scripts/fit-ood.ts)
  --ood       OOD images: folder with manifest.csv (file,kind,...) (default ../shared/data/ood)
  --data      in-distribution data (default ../shared/data/cxr), --split of it is the negative set (default test)
  --sample    seeded subset: N OOD images and N X-rays, stratified proportionally by kind / by class
  --check     exit 3 when flagged OOD < --min-ood % or flagged X-rays > --max-test %
  --out       write the full JSON report (per kind, per check, per image) to this file`;

function logErr(...args: unknown[]): void {
  process.stderr.write(args.map(String).join(' ') + '\n');
}

export interface OodEntry {
  file: string;
  kind: string;
  note: string;
}

/** Reads the OOD manifest (file, kind, note columns). */
export function readOodManifest(dir: string): OodEntry[] {
  const file = path.join(dir, 'manifest.csv');
  if (!fs.existsSync(file)) throw new UsageError(`no manifest.csv in ${dir} (pass --ood <folder holding the OOD manifest>)`);
  const records = parseCsvRecords(fs.readFileSync(file, 'utf8'), file).filter((r) => !(r.fields.length === 1 && r.fields[0].trim() === ''));
  const header = records[0]?.fields.map((h) => h.trim().toLowerCase()) ?? [];
  const fi = header.indexOf('file');
  const ki = header.indexOf('kind');
  const ni = header.indexOf('note');
  if (fi < 0 || ki < 0) throw new ManifestError(`${file}: header needs 'file' and 'kind' columns`);
  return records.slice(1).map((r) => {
    if (!r.fields[fi]?.trim() || !r.fields[ki]?.trim()) throw new ManifestError(`${file} line ${r.line}: empty file or kind`, r.line);
    const pathProblem = manifestPathProblem(r.fields[fi].trim());
    if (pathProblem) throw new ManifestError(`${file} line ${r.line}: ${pathProblem}`, r.line);
    return { file: r.fields[fi].trim(), kind: r.fields[ki].trim(), note: ni >= 0 ? (r.fields[ni] ?? '') : '' };
  });
}

/**
 * Seeded stratified subset of n items: each group gets a share proportional to its size (largest
 * remainder, at least one item per group), drawn at random within the group; manifest order is kept.
 * Proportional allocation keeps the sample's overall rate an estimate of the full set's.
 */
export function stratifiedSample<T>(items: T[], groupOf: (x: T) => string, n: number, seed: number): T[] {
  if (!(n > 0) || n >= items.length) return items;
  const rng = createRng(seed);
  const groups = new Map<string, number[]>();
  items.forEach((x, i) => {
    const g = groupOf(x);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(i);
  });
  const keys = [...groups.keys()].sort();
  const exact = keys.map((k) => (n * groups.get(k)!.length) / items.length);
  const take = exact.map((e, j) => Math.min(groups.get(keys[j])!.length, Math.max(1, Math.floor(e))));
  const order = keys.map((_, j) => j).sort((a, b) => exact[b] - Math.floor(exact[b]) - (exact[a] - Math.floor(exact[a])) || a - b);
  for (let total = take.reduce((a, b) => a + b, 0), k = 0; total < n && k < 10 * keys.length; k++) {
    const j = order[k % order.length];
    if (take[j] < groups.get(keys[j])!.length) {
      take[j]++;
      total++;
    }
  }
  const chosen = new Set<number>();
  keys.forEach((k, j) =>
    rng
      .shuffle([...groups.get(k)!])
      .slice(0, take[j])
      .forEach((i) => chosen.add(i)),
  );
  return items.filter((_, i) => chosen.has(i));
}

/** Wilson score 95 % interval of k successes in n. */
export function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.959964;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

export interface ScoredImage {
  file: string;
  group: string;
  ood: OodResult;
  label: string;
  topProbability: number;
}

export interface Rate {
  n: number;
  flagged: number;
  rate: number | null;
  ci95: [number, number];
  /** Share flagged by the embedding distance / the pixel-space distance / any image check (each on its own). */
  byEmbedding: number | null;
  byPixels: number | null;
  byImageChecks: number | null;
  /** Not flagged and shown with a confident class (top probability ≥ uncertainBelow). */
  confidentUnflagged: number | null;
}

function rateOf(items: ScoredImage[], uncertainBelow: number): Rate {
  const n = items.length;
  const flagged = items.filter((x) => x.ood.flagged).length;
  const frac = (k: number) => (n === 0 ? null : k / n);
  return {
    n,
    flagged,
    rate: frac(flagged),
    ci95: wilson(flagged, n),
    byEmbedding: frac(items.filter((x) => x.ood.checks.some((c) => c.id === 'embedding' && c.fired)).length),
    byPixels: frac(items.filter((x) => x.ood.checks.some((c) => c.id === 'pixels' && c.fired)).length),
    byImageChecks: frac(items.filter((x) => x.ood.checks.some((c) => c.id !== 'embedding' && c.id !== 'pixels' && c.fired)).length),
    confidentUnflagged: frac(items.filter((x) => !x.ood.flagged && x.topProbability >= uncertainBelow).length),
  };
}

function firedCounts(items: ScoredImage[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of items) for (const c of x.ood.checks) if (c.fired) out[`${c.id}:${c.side}`] = (out[`${c.id}:${c.side}`] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
}

/** Classifies prepared images in batches through the app's path (Classifier.predict with features). */
async function scoreAll(
  classifier: Classifier,
  items: { file: string; group: string; load: () => Promise<DecodedImage> }[],
  batchSize: number,
  label: string,
  failures: { file: string; reason: string }[],
): Promise<{ scored: ScoredImage[]; seconds: number }> {
  const { prepareImage } = await import('../src/image/pipeline');
  const spec = classifier.metadata.preprocessing;
  const template = classifier.layoutTemplate;
  const onProgress = progressLogger(items.length, label);
  const scored: ScoredImage[] = [];
  const t0 = performance.now();
  for (let i = 0; i < items.length; i += batchSize) {
    const batch: typeof items = [];
    const inputs: Float32Array[] = [];
    const features = [];
    for (const it of items.slice(i, i + batchSize)) {
      try {
        const a = prepareImage(await it.load(), spec, { layoutTemplate: template });
        inputs.push(a.input);
        features.push(a.features);
        batch.push(it);
      } catch (e) {
        failures.push({ file: it.file, reason: (e as Error).message });
      }
    }
    const { predictions } = await classifier.predict(inputs, { features });
    predictions.forEach((p, j) => {
      if (!p.ood) throw new Error('the classifier returned no OOD verdict (metadata.trust.ood missing?)');
      scored.push({ file: batch[j].file, group: batch[j].group, ood: p.ood, label: p.label, topProbability: Math.max(...p.probabilities) });
    });
    onProgress(Math.min(items.length, i + batchSize));
  }
  return { scored, seconds: (performance.now() - t0) / 1000 };
}

const pct = (v: number | null, d = 1) => (v === null ? '—' : `${(100 * v).toFixed(d)}%`);

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    usage: EVALUATE_OOD_USAGE,
    options: {
      model: 'string',
      ood: 'string',
      data: 'string',
      split: 'string',
      sample: 'number',
      seed: 'number',
      check: 'flag',
      'min-ood': 'number',
      'max-test': 'number',
      out: 'string',
      batch: 'number',
      'no-cache': 'flag',
    },
  });
  const modelDir = path.resolve(optString(args, 'model', DEFAULT_MODEL_DIR));
  const oodDir = path.resolve(optString(args, 'ood', path.join(SHARED_DATA, 'ood')));
  const dataDir = path.resolve(optString(args, 'data', path.join(SHARED_DATA, 'cxr')));
  const split = optString(args, 'split', 'test');
  const sample = Math.max(0, Math.floor(optNumber(args, 'sample', 0)));
  const seed = optNumber(args, 'seed', 0);
  const minOod = optNumber(args, 'min-ood', 95);
  const maxTest = optNumber(args, 'max-test', 2);
  const batchSize = Math.max(1, Math.floor(optNumber(args, 'batch', 32)));
  const outFile = args.options.has('out') ? path.resolve(optString(args, 'out', '')) : null;

  const oodEntries = readOodManifest(oodDir);
  selectSplit(dataDir, split, undefined);

  const { initNodeBackend } = await import('../src/ml/tf-node');
  const { loadDataset } = await import('./lib/dataset');
  const { decodeImageBytes } = await import('../src/image/decode');
  const { readImageFileSync } = await import('./lib/node-io');
  const { grayAsDecoded } = await import('../src/image/preprocess');
  const tf = await initNodeBackend('wasm');
  const classifier = await loadModel(modelDir);
  const { metadata } = classifier;
  if (!classifier.ood) {
    logErr(
      `error: ${displayPath(path.join(modelDir, 'metadata.json'))} has no trust.ood: fit it first with \`npx tsx scripts/fit-ood.ts --model ${displayPath(modelDir)}\``,
    );
    return 1;
  }
  const selection = selectSplit(dataDir, split, metadata.classNames);
  const dataset = await loadDataset(dataDir, { splits: selection.splits, labels: metadata.classNames, cache: !args.options.has('no-cache') });
  const xrays = stratifiedSample(dataset.images, (im) => im.entry.label, sample, seed);
  const oodPicked = stratifiedSample(oodEntries, (e) => e.kind, sample, seed);

  const failures: { file: string; reason: string }[] = dataset.failures.map((f) => ({ file: f.file, reason: f.reason }));
  const ood = await scoreAll(
    classifier,
    oodPicked.map((e) => ({ file: e.file, group: e.kind, load: async () => decodeImageBytes(readImageFileSync(path.join(oodDir, e.file))) })),
    batchSize,
    'OOD images',
    failures,
  );
  const test = await scoreAll(
    classifier,
    xrays.map((im) => ({ file: im.entry.file, group: im.entry.label, load: async () => grayAsDecoded(im.gray) })),
    batchSize,
    `${split} X-rays`,
    failures,
  );
  classifier.dispose();

  const u = metadata.uncertainBelow;
  const noteOf = new Map(oodEntries.map((e) => [e.file, e.note]));
  const kinds = [...new Set(oodPicked.map((e) => e.kind))].sort();
  const perKind: Record<string, Rate> = {};
  for (const k of kinds)
    perKind[k] = rateOf(
      ood.scored.filter((x) => x.group === k),
      u,
    );
  const subsets: Record<string, Rate> = {
    'ct (coronal)': rateOf(
      ood.scored.filter((x) => x.group === 'ct' && /view=coronal/i.test(noteOf.get(x.file) ?? '')),
      u,
    ),
    'figure (borderline)': rateOf(
      ood.scored.filter((x) => x.group === 'figure' && /borderline/i.test(noteOf.get(x.file) ?? '')),
      u,
    ),
  };
  const oodAll = rateOf(ood.scored, u);
  const testAll = rateOf(test.scored, u);
  const perClass: Record<string, Rate> = {};
  for (const c of metadata.classNames)
    perClass[c] = rateOf(
      test.scored.filter((x) => x.group === c),
      u,
    );
  const stats = classifier.ood.stats;
  const summary = (x: ScoredImage) => ({
    file: x.file,
    group: x.group,
    flagged: x.ood.flagged,
    score: Number(x.ood.score.toFixed(3)),
    pixelDistance: ((v) => (v === undefined ? null : Number(v.toFixed(3))))(x.ood.checks.find((c) => c.id === 'pixels')?.value),
    reasons: x.ood.reasons,
    label: x.label,
    topProbability: Number(x.topProbability.toFixed(4)),
  });
  const totalSeconds = ood.seconds + test.seconds;
  const nImages = ood.scored.length + test.scored.length;
  const report = {
    meta: {
      tool: 'scripts/evaluate-ood.ts',
      command: commandLine('scripts/evaluate-ood.ts', argv),
      date: new Date().toISOString(),
      gitCommit: gitCommit(),
      model: { dir: displayPath(modelDir), name: metadata.name, version: metadata.version, uncertainBelow: u },
      ood: { dir: displayPath(oodDir), images: oodPicked.length },
      data: { dir: displayPath(dataDir), split: selection.name, manifestHash: dataset.manifestHash, images: xrays.length },
      sample: sample > 0 ? { n: sample, seed } : null,
      detector: {
        layer: stats.embedding.layer,
        dim: stats.embedding.dim,
        threshold: stats.embedding.threshold,
        percentile: stats.embedding.percentile,
        shrinkage: stats.embedding.shrinkage,
        pixels: stats.pixels
          ? { size: stats.pixels.size, threshold: stats.pixels.threshold, percentile: stats.pixels.percentile, shrinkage: stats.pixels.shrinkage }
          : null,
        imageChecks: stats.imageChecks,
        fit: stats.fit ? { command: stats.fit.command, date: stats.fit.date, valFlagged: stats.fit.valFlagged } : null,
      },
      backend: tf.getBackend(),
      targets: { minOodFlagged: minOod / 100, maxTestFlagged: maxTest / 100 },
    },
    ood: { all: oodAll, perKind, subsets, firedChecks: firedCounts(ood.scored) },
    test: { all: testAll, perClass, firedChecks: firedCounts(test.scored) },
    throughput: {
      images: nImages,
      seconds: totalSeconds,
      msPerImage: nImages ? (1000 * totalSeconds) / nImages : null,
      measures: 'decode + preprocessing + image features + inference + OOD scoring',
    },
    missedOod: ood.scored.filter((x) => !x.ood.flagged).map(summary),
    flaggedXrays: test.scored.filter((x) => x.ood.flagged).map(summary),
    failures,
    images: { ood: ood.scored.map(summary), test: test.scored.map(summary) },
  };

  const lines: string[] = [];
  lines.push(
    `CXR Lab OOD evaluation: model ${metadata.name} ${metadata.version} (${displayPath(modelDir)}), layer '${stats.embedding.layer}', distance threshold ${stats.embedding.threshold.toFixed(2)} (p${stats.embedding.percentile} of val)` +
      (stats.pixels ? `, pixel-space ${stats.pixels.size}×${stats.pixels.size} threshold ${stats.pixels.threshold.toFixed(2)}` : ''),
  );
  lines.push(
    `OOD ${displayPath(oodDir)}: ${ood.scored.length} images; X-rays ${displayPath(dataDir)} split ${selection.name}: ${test.scored.length} images${sample ? ` (--sample ${sample}, seed ${seed})` : ''}`,
  );
  lines.push('');
  const row = (name: string, r: Rate) =>
    `${name.padEnd(22)}${String(r.n).padStart(5)}${String(r.flagged).padStart(8)}${pct(r.rate).padStart(8)}  ${`${pct(r.ci95[0])}–${pct(r.ci95[1])}`.padEnd(14)}${pct(r.byEmbedding).padStart(8)}${pct(r.byPixels).padStart(8)}${pct(r.byImageChecks).padStart(8)}${pct(r.confidentUnflagged).padStart(11)}`;
  lines.push(
    `${'set'.padEnd(22)}${'n'.padStart(5)}${'flagged'.padStart(8)}${'rate'.padStart(8)}  ${'95% CI'.padEnd(14)}${'emb.'.padStart(8)}${'pixels'.padStart(8)}${'image'.padStart(8)}${'confident'.padStart(11)}`,
  );
  lines.push('OOD (true-positive rate; want high)');
  for (const k of kinds) lines.push(row(`  ${k}`, perKind[k]));
  for (const [k, r] of Object.entries(subsets)) if (r.n > 0) lines.push(row(`    ${k}`, r));
  lines.push(row('  all OOD', oodAll));
  lines.push(`${split} X-rays (false-positive rate; want low)`);
  for (const c of metadata.classNames) lines.push(row(`  ${c}`, perClass[c]));
  lines.push(row(`  all ${split}`, testAll));
  lines.push(
    '  (emb. / pixels / image: flagged by the embedding distance / the pixel-space distance / any image check, each on its own; confident: NOT flagged and top probability ≥ ' +
      u +
      ')',
  );
  lines.push('');
  const fmtCounts = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  lines.push(`checks fired on OOD images: ${fmtCounts(report.ood.firedChecks)}`);
  lines.push(`checks fired on ${split} X-rays: ${fmtCounts(report.test.firedChecks)}`);
  if (report.missedOod.length > 0) {
    lines.push('');
    lines.push(`missed OOD images (${report.missedOod.length}${report.missedOod.length > 25 ? ', first 25' : ''}):`);
    for (const m of report.missedOod.slice(0, 25))
      lines.push(
        `  ${m.file}  distance ${m.score.toFixed(2)}${m.pixelDistance !== null ? `, pixel distance ${m.pixelDistance.toFixed(2)}` : ''}  → ${m.label} ${m.topProbability.toFixed(2)}`,
      );
  }
  if (failures.length > 0) {
    lines.push('');
    lines.push(
      `skipped ${failures.length} unreadable image(s): ${failures
        .slice(0, 5)
        .map((f) => `${f.file} (${f.reason})`)
        .join('; ')}`,
    );
  }
  lines.push('');
  lines.push(`throughput: ${nImages} images in ${totalSeconds.toFixed(1)} s (${report.throughput.measures}; ${tf.getBackend()})`);

  if (outFile) {
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, stringifyReport(report) + '\n');
    logErr(`wrote ${displayPath(outFile)}`);
  }
  const p = oodAll.rate ?? 0;
  const q = testAll.rate ?? 0;
  let code = 0;
  if (args.options.has('check')) {
    const problems: string[] = [];
    if (oodAll.n === 0 || p < minOod / 100) problems.push(`flagged ${pct(p, 2)} of OOD images, target ≥ ${minOod}%`);
    if (testAll.n === 0 || q > maxTest / 100) problems.push(`flagged ${pct(q, 2)} of ${split} X-rays, target ≤ ${maxTest}%`);
    lines.push(problems.length ? `check FAILED: ${problems.join('; ')}` : `check passed: ≥ ${minOod}% of OOD and ≤ ${maxTest}% of ${split} X-rays flagged`);
    if (problems.length) code = 3;
  }
  lines.push(`ood: flagged ${(100 * p).toFixed(1)}% of OOD, ${(100 * q).toFixed(1)}% of test X-rays`);
  process.stdout.write(lines.join('\n') + '\n');
  return code;
}

runIfMain(import.meta.url, main);
