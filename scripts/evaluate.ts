// npm run evaluate -- --data <dir> [--split test] [--out file.json] [--json] [--model dir]
//
// Evaluates a model folder (model.json + weights + metadata.json, loaded through the same IO
// handler as the browser) on a manifest-described image folder (manifest.csv with file,label[,split]
// and optional source_repo and site columns), or on a folder with one sub-folder per class (any
// case; folders below a class folder are sites; src/core/evaluation-data.ts, shared with the
// Evaluate page). Prints a table; writes the full report (src/core/evaluation.ts: the metrics of
// src/core/report.ts plus run metadata, the same JSON the Evaluate page downloads) to --out, or to
// stdout with --json. public/model/metrics.json is written by this
// command on the test split (scripts/train.ts runs it), never by hand.
//
// Exit codes: 0 done; 1 model cannot be loaded or nothing could be evaluated; 2 usage error, missing
// or malformed manifest (the message names the line).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EvaluationDataError } from '../src/core/evaluation-data';
import { buildEvaluationJson, stringifyReport, type EvaluationJson } from '../src/core/evaluation';
import { UsageError, runIfMain } from './lib/cli';
import { grayAsDecoded } from '../src/image/preprocess';
import { prepareImage } from '../src/image/pipeline';
import { parseArgs, optNumber, optString, type ParsedArgs } from './lib/args';
// Modules that load tfjs (tf-node, node-io, dataset) are imported lazily, so that usage and
// manifest errors are reported in a fraction of a second.
import type { LoadedDataset } from './lib/dataset';
import type { EvaluationData } from '../src/core/evaluation-data';
import type { FolderImage } from './lib/folder-dataset';
import {
  commandLine,
  displayPath,
  fmt,
  gitCommit,
  loadModel,
  pad,
  predictImages,
  progressLogger,
  selectSplit,
  stratifiedSubset,
  type SplitSelection,
} from './lib/evaluation';

// The same locations as scripts/lib/node-io.ts (importing it would load tfjs).
const REPO_ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const SHARED_DATA = path.resolve(REPO_ROOT, '../shared/data');
const DEFAULT_MODEL_DIR = path.join(REPO_ROOT, 'public/model');

function logErr(...args: unknown[]): void {
  process.stderr.write(args.map(String).join(' ') + '\n');
}

export const EVALUATE_USAGE = `usage: npm run evaluate -- [--data <dir>] [--split test|val|train|all] [--out file.json] [--json] [--model <dir>]
                           [--batch 32] [--limit N] [--bootstrap 1000] [--seed 0] [--no-cache]
  --data       folder holding manifest.csv (file,label[,split][,site][,source_repo,...]), or one sub-folder per
               class (folders below a class folder are sites); default ../shared/data/cxr
  --split      rows of this split (default test; 'all', or a manifest without a split column, uses every row)
  --out        write the JSON report to this file
  --json       print the JSON report on stdout (the table then goes to stderr)
  --model      model folder (model.json, weights, metadata.json); default public/model
  --limit      evaluate a seeded, class-stratified subset of N images (development only)
  --bootstrap  bootstrap iterations for the 95% intervals (default 1000)
  --no-cache   decode every image again instead of using .cache/`;

// ---------------------------------------------------------------------------------------------
// evaluate
// ---------------------------------------------------------------------------------------------

export function formatEvaluation(r: EvaluationJson): string {
  const lines: string[] = [];
  const ci = r.confidenceIntervals;
  const withCi = (v: number | null, iv: { lower: number | null; upper: number | null } | undefined) =>
    iv && iv.lower !== null ? `${fmt(v)} (95% CI ${fmt(iv.lower)}–${fmt(iv.upper)})` : fmt(v);
  lines.push(`CXR Lab evaluation: model ${r.meta.model.name} ${r.meta.model.version} (${r.meta.model.dir})`);
  lines.push(
    `data ${r.meta.data.dir}, split ${r.meta.split}: ${r.n} images evaluated, ${r.skipped.length} skipped${r.meta.data.limit ? `, --limit ${r.meta.data.limit}` : ''}`,
  );
  lines.push('');
  lines.push(`accuracy           ${withCi(r.accuracy, ci?.accuracy)}`);
  lines.push(`balanced accuracy  ${fmt(r.balancedAccuracy)}`);
  lines.push(`majority-class rate ${fmt(r.majorityClass?.rate ?? null)} (${r.majorityClass?.className ?? '—'})`);
  lines.push(`macro AUC          ${withCi(r.macro.auc, ci?.macroAuc)}`);
  lines.push('');
  const w = Math.max(9, ...r.classNames.map((c) => c.length)) + 2;
  lines.push(`${pad('class', w)}${['support', 'sens', 'spec', 'PPV', 'NPV', 'F1', 'AUC'].map((h) => pad(h, 8, true)).join('')}  AUC 95% CI`);
  for (const c of r.classNames) {
    const m = r.perClass[c];
    const iv = ci?.auc[c];
    lines.push(
      `${pad(c, w)}${pad(String(m.support), 8, true)}${[m.sensitivity, m.specificity, m.ppv, m.npv, m.f1, m.auc].map((v) => pad(fmt(v), 8, true)).join('')}  ${iv && iv.lower !== null ? `${fmt(iv.lower)}–${fmt(iv.upper)}` : '—'}`,
    );
  }
  lines.push('');
  lines.push('confusion matrix (rows: true class, columns: predicted)');
  lines.push(pad('', w) + r.classNames.map((c) => pad(c, w, true)).join(''));
  r.confusionMatrix.forEach((row, t) => lines.push(pad(r.classNames[t], w) + row.map((v) => pad(String(v), w, true)).join('')));
  lines.push('');
  const cal = r.calibration;
  lines.push(`calibration (top-label ECE, ${cal.bins} bins): ${fmt(cal.eceBefore)} before (T = 1) → ${fmt(cal.eceAfter)} after (T = ${fmt(cal.temperature)})`);
  const op = r.operatingPoint;
  if (op) {
    lines.push(
      `${op.className} operating point: threshold ${fmt(op.threshold, 4)} (${op.source}${op.targetSensitivity !== null ? `, chosen on val for sensitivity ${fmt(op.targetSensitivity, 2)}` : ''})`,
    );
    lines.push(
      `  on this split: sensitivity ${fmt(op.sensitivity)}  specificity ${fmt(op.specificity)}  PPV ${fmt(op.ppv)}  NPV ${fmt(op.npv)}  (tp ${op.tp}, fp ${op.fp}, fn ${op.fn}, tn ${op.tn})`,
    );
  } else {
    lines.push('covid operating point: none (metadata.trust.covidThreshold is absent)');
  }
  for (const [name, groups] of Object.entries(r.groups)) {
    lines.push('');
    lines.push(`by ${name}${name === 'age_group' ? ' (rule: see meta.ageGroupRule)' : ''}`);
    const gw = Math.min(60, Math.max(8, ...groups.map((g) => g.group.length))) + 2;
    lines.push(`${pad(name, gw)}${pad('n', 6, true)}${pad('acc', 8, true)}  recall per class present (support)`);
    for (const g of groups) {
      const recalls = Object.entries(g.perClass)
        .map(([c, s]) => `${c} ${fmt(s.recall)} (${s.support})`)
        .join('  ');
      lines.push(
        `${pad(g.group.length > gw - 2 ? g.group.slice(0, gw - 3) + '…' : g.group, gw)}${pad(String(g.n), 6, true)}${pad(fmt(g.accuracy), 8, true)}  ${recalls}`,
      );
    }
  }
  if (r.ood) {
    lines.push('');
    lines.push(
      `out-of-distribution flag (trust.ood): ${r.ood.flagged} of ${r.ood.n} images flagged (${fmt(r.ood.rate === null ? null : 100 * r.ood.rate, 1)}%); in the app their class is withheld`,
    );
    const w = r.withoutRefused;
    if (w)
      lines.push(
        `  without the refused images (${w.n}): accuracy ${fmt(w.accuracy)}, balanced accuracy ${fmt(w.balancedAccuracy)}, macro AUC ${fmt(w.macro.auc)}`,
      );
  }
  if (r.unknownFolders.length > 0) {
    lines.push('');
    lines.push(
      `ignored folders (not a class of this model: ${r.classNames.join(', ')}): ${r.unknownFolders.map((u) => `${u.folder} (${u.files})`).join(', ')}`,
    );
  }
  if (r.ignored.length > 0) lines.push(`ignored ${r.ignored.length} file(s) (not an image, or not inside a class folder)`);
  lines.push('');
  const t = r.throughput;
  lines.push(
    `throughput: ${t.images} images in ${fmt(t.seconds, 1)} s = ${fmt(t.imagesPerSecond, 1)} images/s (${t.measures}; ${r.meta.backend}, ${r.meta.threads} thread(s), batch ${t.batchSize})`,
  );
  if (r.skipped.length > 0) {
    lines.push('');
    lines.push(`skipped ${r.skipped.length} image(s):`);
    for (const s of r.skipped) lines.push(`  ${s.file} (manifest line ${s.line}): ${s.reason}`);
  }
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const args: ParsedArgs = parseArgs(argv, {
    usage: EVALUATE_USAGE,
    options: {
      data: 'string',
      split: 'string',
      out: 'string',
      json: 'flag',
      model: 'string',
      batch: 'number',
      limit: 'number',
      bootstrap: 'number',
      seed: 'number',
      'no-cache': 'flag',
    },
  });
  const dataDir = path.resolve(optString(args, 'data', path.join(SHARED_DATA, 'cxr')));
  const modelDir = path.resolve(optString(args, 'model', DEFAULT_MODEL_DIR));
  const split = optString(args, 'split', 'test');
  const outFile = args.options.has('out') ? path.resolve(optString(args, 'out', '')) : null;
  const asJson = args.options.has('json');
  const batchSize = Math.max(1, Math.floor(optNumber(args, 'batch', 32)));
  const limit = Math.max(0, Math.floor(optNumber(args, 'limit', 0)));
  const iterations = Math.floor(optNumber(args, 'bootstrap', 1000));
  const seed = optNumber(args, 'seed', 0);
  if (iterations < 1) throw new UsageError('--bootstrap must be at least 1');

  // The manifest first: a malformed one fails fast (exit 2), before the model is loaded. Without
  // one, the folder must hold class folders (checked against the model's classes below).
  if (!fs.existsSync(dataDir) || !fs.statSync(dataDir).isDirectory())
    throw new UsageError(`no manifest.csv in ${dataDir}: the folder does not exist (pass --data <folder holding manifest.csv, or one sub-folder per class>)`);
  const classFolders = !fs.existsSync(path.join(dataDir, 'manifest.csv'));
  if (!classFolders) selectSplit(dataDir, split, undefined);

  const { initNodeBackend, wasmThreadsCount } = await import('../src/ml/tf-node');
  const { loadDataset } = await import('./lib/dataset');
  const { loadClassFolders } = await import('./lib/folder-dataset');
  const tf = await initNodeBackend('wasm');
  const classifier = await loadModel(modelDir);
  const { metadata } = classifier;

  const tLoad = performance.now();
  let dataset: LoadedDataset & { layout?: EvaluationData };
  let selection: Pick<SplitSelection, 'name' | 'rows'>;
  if (classFolders) {
    try {
      dataset = await loadClassFolders(dataDir, metadata.classNames, {
        prepare: (decoded) => prepareImage(decoded, metadata.preprocessing, { layoutTemplate: classifier.layoutTemplate }),
      });
    } catch (e) {
      if (e instanceof EvaluationDataError) throw new UsageError(`${e.message} in ${dataDir}`);
      throw e;
    }
    selection = { name: 'all', rows: dataset.layout!.entries.length };
  } else {
    // Again with the model's class names (labels outside them are an error with the line number).
    const picked = selectSplit(dataDir, split, metadata.classNames);
    dataset = await loadDataset(dataDir, { splits: picked.splits, labels: metadata.classNames, cache: !args.options.has('no-cache') });
    selection = picked;
  }
  const decodeSeconds = (performance.now() - tLoad) / 1000;
  const images = stratifiedSubset(dataset.images, limit, metadata.classNames.length, seed);
  if (images.length === 0) {
    logErr(`nothing to evaluate: all ${dataset.failures.length} image(s) of split '${selection.name}' failed to load`);
    for (const f of dataset.failures) logErr(`  ${f.file} (line ${f.line}): ${f.reason}`);
    return 1;
  }

  const spec = metadata.preprocessing;
  // Class folders carry the decoded image's statistics (colour included) and DICOM header facts, as
  // the browser worker uses them; the manifest loader's cache keeps grey pixels only.
  // One pipeline run per image (class folders ran it while decoding).
  const result = await predictImages(
    classifier,
    images,
    (im) => (im as FolderImage).prepared ?? prepareImage(grayAsDecoded(im.gray), spec, { layoutTemplate: classifier.layoutTemplate }),
    batchSize,
    progressLogger(images.length, 'predicting'),
  );
  const json: EvaluationJson = buildEvaluationJson({
    metadata,
    temperature: classifier.temperature,
    hasOod: classifier.ood !== null,
    entries: images.map((im) => im.entry),
    probabilities: result.probabilities,
    logits: result.logits,
    oodFlagged: result.oodFlagged,
    bootstrap: { iterations, seed },
    run: {
      tool: 'scripts/evaluate.ts',
      command: commandLine('scripts/evaluate.ts', argv),
      date: new Date().toISOString(),
      gitCommit: gitCommit(),
      split: selection.name,
      dir: displayPath(dataDir),
      manifestHash: dataset.manifestHash,
      rowsInSelection: selection.rows,
      limit: limit > 0 ? limit : null,
      layout: classFolders ? 'class-folders' : 'manifest',
      partial: false,
      modelDir: displayPath(modelDir),
      backend: tf.getBackend(),
      threads: tf.getBackend() === 'wasm' ? wasmThreadsCount() : 1,
    },
    throughput: {
      images: images.length,
      seconds: result.seconds,
      imagesPerSecond: result.seconds > 0 ? images.length / result.seconds : null,
      batchSize,
      decodeSeconds,
      measures: 'preprocessing + OOD image statistics + inference, decoding excluded (see decodeSeconds)',
    },
    skipped: dataset.failures,
    ignored: dataset.layout?.ignored ?? [],
    unknownFolders: dataset.layout?.unknownFolders ?? [],
  });
  classifier.dispose();

  const table = formatEvaluation(json);
  if (asJson && !outFile) {
    process.stderr.write(table + '\n');
    process.stdout.write(JSON.stringify(json) + '\n');
  } else {
    process.stdout.write(table + '\n');
  }
  if (outFile) {
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, stringifyReport(json) + '\n');
    logErr(`wrote ${displayPath(outFile)}`);
  }
  return 0;
}

runIfMain(import.meta.url, main);
