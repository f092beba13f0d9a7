// npm run audit [-- --check] [--split test] [--model dir] [--out file.json]
//
// Shortcut audit: evaluates the model on one split three ways, on the same cropped and resized
// pixels the model normally sees (the masks are applied with applyAuditMask to cropAndResize's
// 0..255 output, before normalizeInput, i.e. before contrast equalisation):
//   full         the image as preprocessed for inference;
//   border-only  the central 60% of width and height blacked out: only film edges, corners, text,
//                markers and body outline remain. A model that still scores well here is reading
//                the hospital / source / age signature, not the lungs;
//   centre-only  everything outside the central 60% blacked out: mostly lung fields.
// Prints accuracy, macro AUC and covid AUC per mode, the majority-class rate for reference, and the
// accuracy per source_repo per mode; writes <model dir>/audit.json (public/model/audit.json by
// default; the model card shows it) unless --out says otherwise.
//
// --check (CI gate, `npm test`): exit 1 when border-only accuracy exceeds 0.60 or the model is
// missing. When ../shared/data/cxr is absent (a fresh clone elsewhere) the audit is skipped, exit 0.
import { runIfMain } from './lib/cli';
import fs from 'node:fs';
import path from 'node:path';
import { buildMetricsReport, CXR_AGE_GROUP_RULE, type GroupReport } from '../src/core/report';
import { AUDIT_MODES, CENTRE_FRACTION, MODE_DESCRIPTIONS, applyAuditMask, type AuditMode } from '../src/core/audit';
import { grayAsDecoded } from '../src/image/preprocess';
import { prepareImage } from '../src/image/pipeline';
import { initNodeBackend, wasmThreadsCount } from '../src/ml/tf-node';
import { parseArgs, optNumber, optString } from './lib/args';
import { loadDataset, type LoadedDataset } from './lib/dataset';
import { DEFAULT_MODEL_DIR, SHARED_DATA, logErr } from './lib/node-io';
import {
  commandLine,
  displayPath,
  fmt,
  gitCommit,
  loadModel,
  manifestGroups,
  pad,
  predictImages,
  progressLogger,
  selectSplit,
  stratifiedSubset,
  stringifyReport,
} from './lib/evaluation';
import { COVID_CLASS } from '../src/core/labels';

const USAGE = `usage: npm run audit [-- --check] [--split test] [--model <dir>] [--data <dir>] [--out file.json]
                        [--limit N] [--batch 32] [--no-cache]
  --check   CI gate: exit 1 if border-only accuracy > ${0.6} or the model is missing
  --out     where to write the JSON (default <model dir>/audit.json; not written with --limit unless --out is given)`;

/** The CI gate: above this, the model classifies from the image borders alone. */
export const BORDER_ONLY_MAX_ACCURACY = 0.6;
export { CENTRE_FRACTION, type AuditMode };

export interface AuditModeResult {
  mode: AuditMode;
  description: string;
  accuracy: number | null;
  balancedAccuracy: number | null;
  macroAuc: number | null;
  /** One-vs-rest AUC per class. */
  auc: Record<string, number | null>;
  /** Sensitivity (recall) per class. */
  recall: Record<string, number | null>;
  /** counts[t][p], rows true class, columns predicted. */
  confusionMatrix: number[][];
  /** Accuracy and per-class recall per source repository (and per age group when derivable). */
  groups: Record<string, GroupReport[]>;
}

export interface AuditJson {
  meta: {
    tool: string;
    command: string;
    date: string;
    gitCommit: string | null;
    split: string;
    data: { dir: string; manifestHash: string; rowsInSelection: number; evaluated: number; skipped: number; limit: number | null };
    model: { dir: string; name: string; version: string };
    backend: string;
    threads: number;
    centreFraction: number;
    maskFill: number;
    maskStage: string;
    ageGroupRule: string | null;
  };
  n: number;
  classNames: string[];
  majorityClass: { className: string; rate: number } | null;
  check: { borderOnlyMaxAccuracy: number; borderOnlyAccuracy: number | null; passed: boolean };
  modes: AuditModeResult[];
  throughput: { images: number; seconds: number; imagesPerSecond: number | null; batchSize: number };
  skipped: LoadedDataset['failures'];
}

function formatAudit(a: AuditJson): string {
  const lines: string[] = [];
  lines.push(`CXR Lab shortcut audit: model ${a.meta.model.name} ${a.meta.model.version} (${a.meta.model.dir})`);
  lines.push(
    `data ${a.meta.data.dir}, split ${a.meta.split}: ${a.n} images, ${a.skipped.length} skipped${a.meta.data.limit ? `, --limit ${a.meta.data.limit}` : ''}`,
  );
  lines.push(`majority-class rate ${fmt(a.majorityClass?.rate ?? null)} (always answering '${a.majorityClass?.className ?? '—'}')`);
  lines.push('');
  const auc1 = a.classNames.includes(COVID_CLASS) ? COVID_CLASS : a.classNames[0];
  lines.push(
    `${pad('mode', 13)}${pad('accuracy', 10, true)}${pad('balanced', 10, true)}${pad('macro AUC', 11, true)}${pad(`${auc1} AUC`, 11, true)}   recall per class`,
  );
  for (const m of a.modes) {
    const recalls = a.classNames.map((c) => `${c} ${fmt(m.recall[c])}`).join('  ');
    lines.push(
      `${pad(m.mode, 13)}${pad(fmt(m.accuracy), 10, true)}${pad(fmt(m.balancedAccuracy), 10, true)}${pad(fmt(m.macroAuc), 11, true)}${pad(fmt(m.auc[auc1]), 11, true)}   ${recalls}`,
    );
  }
  for (const grouping of Object.keys(a.modes[0]?.groups ?? {})) {
    lines.push('');
    lines.push(`accuracy by ${grouping} (n; true labels)`);
    const rows = a.modes[0].groups[grouping];
    const gw = Math.min(52, Math.max(10, ...rows.map((g) => g.group.length))) + 2;
    lines.push(`${pad(grouping, gw)}${pad('n', 5, true)}${a.modes.map((m) => pad(m.mode, 13, true)).join('')}   labels`);
    for (const row of rows) {
      const accs = a.modes.map((m) => pad(fmt(m.groups[grouping].find((g) => g.group === row.group)?.accuracy ?? null), 13, true)).join('');
      const labels = Object.entries(row.labelCounts)
        .filter(([, n]) => n > 0)
        .map(([c, n]) => `${c} ${n}`)
        .join(', ');
      const name = row.group.length > gw - 2 ? row.group.slice(0, gw - 3) + '…' : row.group;
      lines.push(`${pad(name, gw)}${pad(String(row.n), 5, true)}${accs}   ${labels}`);
    }
  }
  lines.push('');
  lines.push(
    `throughput: ${a.throughput.images} predictions in ${fmt(a.throughput.seconds, 1)} s = ${fmt(a.throughput.imagesPerSecond, 1)} images/s (${a.meta.backend}, ${a.meta.threads} thread(s))`,
  );
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    usage: USAGE,
    options: { check: 'flag', 'no-cache': 'flag', data: 'string', model: 'string', split: 'string', limit: 'number', batch: 'number', out: 'string' },
  });
  const check = args.options.has('check');
  const dataGiven = args.options.has('data');
  const dataDir = path.resolve(optString(args, 'data', path.join(SHARED_DATA, 'cxr')));
  const modelDir = path.resolve(optString(args, 'model', DEFAULT_MODEL_DIR));
  const split = optString(args, 'split', 'test');
  const limit = Math.max(0, Math.floor(optNumber(args, 'limit', 0)));
  const batchSize = Math.max(1, Math.floor(optNumber(args, 'batch', 32)));
  const outFile = args.options.has('out') ? path.resolve(optString(args, 'out', '')) : limit > 0 ? null : path.join(modelDir, 'audit.json');

  if (!dataGiven && !fs.existsSync(path.join(dataDir, 'manifest.csv'))) {
    logErr(`shortcut audit skipped: no data set at ${dataDir} (manifest.csv missing). It runs wherever ../shared/data/cxr exists (CI has it).`);
    return 0;
  }
  if (!fs.existsSync(path.join(modelDir, 'model.json'))) {
    logErr(
      `shortcut audit${check ? ' --check: FAIL' : ''}: no model at ${displayPath(modelDir)} (model.json missing). Train one with \`npm run train\` or pass --model <dir>.`,
    );
    return 1;
  }
  selectSplit(dataDir, split, undefined);

  const tf = await initNodeBackend('wasm');
  const classifier = await loadModel(modelDir);
  const { metadata } = classifier;
  const selection = selectSplit(dataDir, split, metadata.classNames);
  const dataset = await loadDataset(dataDir, { splits: selection.splits, labels: metadata.classNames, cache: !args.options.has('no-cache') });
  const images = stratifiedSubset(dataset.images, limit, metadata.classNames.length, 0);
  if (images.length === 0) {
    logErr(`shortcut audit: nothing to evaluate (all images of split '${selection.name}' failed to load)`);
    return 1;
  }
  const spec = metadata.preprocessing;
  const labels = images.map((im) => im.entry.labelIndex);
  const groups = manifestGroups(images);

  const modes: AuditModeResult[] = [];
  let seconds = 0;
  for (const mode of AUDIT_MODES) {
    // The pipeline with the mode's mask (applied to the crop before normalisation), as the Evaluate page's worker does.
    const toInput = (im: (typeof images)[number]) => ({
      input: prepareImage(grayAsDecoded(im.gray), spec, { ...(mode === 'full' ? {} : { auditMask: mode }) }).input,
    });
    const result = await predictImages(classifier, images, toInput, batchSize, progressLogger(images.length, mode));
    seconds += result.seconds;
    const report = buildMetricsReport({
      classNames: metadata.classNames,
      labels,
      probabilities: result.probabilities,
      groups,
      bootstrap: false,
      includeSamples: false,
      rocMaxPoints: 2,
    });
    modes.push({
      mode,
      description: MODE_DESCRIPTIONS[mode],
      accuracy: report.accuracy,
      balancedAccuracy: report.balancedAccuracy,
      macroAuc: report.macro.auc,
      auc: Object.fromEntries(report.classNames.map((c) => [c, report.perClass[c].auc])),
      recall: Object.fromEntries(report.classNames.map((c) => [c, report.perClass[c].sensitivity])),
      confusionMatrix: report.confusionMatrix,
      groups: report.groups,
    });
  }
  classifier.dispose();

  const supports = metadata.classNames.map((_, c) => labels.filter((y) => y === c).length);
  const majority = supports.indexOf(Math.max(...supports));
  const borderOnly = modes.find((m) => m.mode === 'border-only')!.accuracy;
  const passed = borderOnly !== null && borderOnly <= BORDER_ONLY_MAX_ACCURACY;
  const audit: AuditJson = {
    meta: {
      tool: 'scripts/audit.ts',
      command: commandLine('scripts/audit.ts', argv),
      date: new Date().toISOString(),
      gitCommit: gitCommit(),
      split: selection.name,
      data: {
        dir: displayPath(dataDir),
        manifestHash: dataset.manifestHash,
        rowsInSelection: selection.rows,
        evaluated: images.length,
        skipped: dataset.failures.length,
        limit: limit > 0 ? limit : null,
      },
      model: { dir: displayPath(modelDir), name: metadata.name, version: metadata.version },
      backend: tf.getBackend(),
      threads: tf.getBackend() === 'wasm' ? wasmThreadsCount() : 1,
      centreFraction: CENTRE_FRACTION,
      maskFill: 0,
      maskStage: 'applyAuditMask on cropAndResize output (0..255), before normalizeInput',
      ageGroupRule: groups.age_group ? CXR_AGE_GROUP_RULE : null,
    },
    n: images.length,
    classNames: [...metadata.classNames],
    majorityClass: { className: metadata.classNames[majority], rate: supports[majority] / images.length },
    check: { borderOnlyMaxAccuracy: BORDER_ONLY_MAX_ACCURACY, borderOnlyAccuracy: borderOnly, passed },
    modes,
    throughput: { images: images.length * modes.length, seconds, imagesPerSecond: seconds > 0 ? (images.length * modes.length) / seconds : null, batchSize },
    skipped: dataset.failures,
  };

  process.stdout.write(formatAudit(audit) + '\n');
  if (outFile) {
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, stringifyReport(audit) + '\n');
    logErr(`wrote ${displayPath(outFile)}`);
  } else {
    logErr('audit.json not written (--limit runs are partial; pass --out to keep one)');
  }

  const verdict = `border-only accuracy ${fmt(borderOnly)} ${passed ? '<=' : '>'} ${BORDER_ONLY_MAX_ACCURACY.toFixed(2)} (majority-class rate ${fmt(audit.majorityClass?.rate ?? null)})`;
  if (check) {
    if (limit > 0) logErr(`note: --check on a --limit ${limit} subset; CI runs the whole split`);
    if (!passed) {
      process.stdout.write(
        `\naudit --check: FAIL: ${verdict}. With the lungs blacked out the model still classifies well above chance: it relies on image borders (text, markers, framing, body size/age) rather than lung findings.\n`,
      );
      return 1;
    }
    process.stdout.write(`\naudit --check: PASS: ${verdict}.\n`);
  } else {
    process.stdout.write(`\n${verdict}${passed ? '' : ': the model relies on the image borders (the --check gate would fail)'}\n`);
  }
  return 0;
}

runIfMain(import.meta.url, main);
