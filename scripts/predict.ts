// npm run predict -- <files or folders...> [--json] [--model dir] [--batch 16]
//
// Classifies images with the shipped model (public/model by default), loaded as the browser loads
// it, and prints calibrated probabilities (Classifier.predict: softmax(logits / temperature)).
// Folders are walked recursively for .png/.jpg/.jpeg/.gif/.dcm files (other files there are skipped
// silently; symbolic links to folders are not followed, and a warning names each); files named
// explicitly are always tried. Only regular files are read (a FIFO or a device such as /dev/zero would
// block or never end): anything else, or anything unreadable, gets an `error` entry.
//
// --json: stdout holds exactly one JSON array and nothing else (every log line goes to stderr):
//   [{"file": "<path as given>", "label": "covid", "probabilities": {"covid": 0.91, "normal": 0.04, "pneumonia": 0.05},
//     "ood": {"flagged": false, "score": 12.3, "threshold": 30.5, "reasons": []}},
//    {"file": "notes.txt", "error": "not an image"}]
// "ood" (present when the model's metadata has trust.ood, see scripts/fit-ood.ts) says whether the image
// looks unlike the training chest X-rays; a flagged image's label should not be trusted.
// The project .npmrc sets loglevel=silent so that `npm run predict -- … --json` puts neither npm's
// "> cxr-lab@0.1.0 predict" banner nor, on failure, npm's own JSON error object on stdout.
//
// Exit codes: 0 done (per-file errors are entries, not failures); 1 the model cannot be loaded;
// 2 usage error.

// Anything a dependency prints with console.log/info/debug must not reach stdout (the JSON contract).
const rawWrite = process.stdout.write.bind(process.stdout);
/** Writes to stdout and resolves once the data is handed to the OS (before process.exit). */
const stdoutWrite = (text: string): Promise<void> => new Promise((resolve, reject) => rawWrite(text, (e) => (e ? reject(e) : resolve())));
console.log = console.error;
console.info = console.error;
console.debug = console.error;

const fs = await import('node:fs');
const path = await import('node:path');
const { parseArgs, optNumber, optString, UsageError } = await import('./lib/args');
const { runMain } = await import('./lib/cli');
const { DEFAULT_MODEL_DIR, loadClassifierFromDir, logErr, readImageFileSync } = await import('./lib/node-io');
const { decodeImageBytes } = await import('../src/image/decode');
const { prepareImage } = await import('../src/image/pipeline');

const USAGE = `usage: npm run predict -- <files or folders...> [--json] [--model <dir>] [--batch 16]
  folders are searched recursively for .png, .jpg, .jpeg, .gif and .dcm files (links to folders are not followed)
  --json    print one JSON array on stdout: [{"file", "label", "probabilities": {class: p}, "ood"?} | {"file", "error"}]
  --model   model folder (model.json, weights, metadata.json); default public/model`;

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.gif', '.dcm']);

export interface PredictEntry {
  file: string;
  label?: string;
  probabilities?: Record<string, number>;
  /** Out-of-distribution verdict (only when the model has trust.ood). */
  ood?: { flagged: boolean; score: number; threshold: number; reasons: string[] };
  error?: string;
}

function isFolder(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** Files to classify, in argument order; folders expand to their images (sorted, recursive). */
function collectTargets(paths: string[]): { file: string; error?: string }[] {
  const targets: { file: string; error?: string }[] = [];
  const walk = (dir: string, shown: string): string[] => {
    const found: string[] = [];
    let entries: import('node:fs').Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      logErr(`warning: cannot read folder ${shown}: ${(e as Error).message}`);
      return found;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      const display = path.join(shown, entry.name);
      if (entry.isDirectory()) found.push(...walk(full, display));
      else if (entry.isSymbolicLink() && isFolder(full)) {
        // Not followed (a link can point back up the tree); said, so that no folder vanishes silently.
        logErr(`warning: skipped ${display}: a symbolic link to a folder (not followed; pass it by name to include it)`);
      } else if (IMAGE_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
        // Regular files, links to files, and anything else named like an image (a FIFO, a device):
        // reading refuses the non-regular ones with an error entry rather than skipping them unseen.
        found.push(display);
      }
    }
    return found;
  };
  for (const given of paths) {
    let stat: import('node:fs').Stats;
    try {
      stat = fs.statSync(given);
    } catch (e) {
      targets.push({ file: given, error: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message });
      continue;
    }
    if (stat.isDirectory()) {
      const files = walk(given, given);
      if (files.length === 0) logErr(`warning: no .png/.jpg/.jpeg/.gif/.dcm images in folder ${given}`);
      targets.push(...files.map((file) => ({ file })));
    } else {
      targets.push({ file: given });
    }
  }
  return targets;
}

function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return 'file not found';
  if (err?.code === 'EISDIR') return 'is a folder';
  if (err?.code === 'EACCES') return 'permission denied';
  return err instanceof Error ? err.message : String(e);
}

function formatTable(entries: PredictEntry[], classNames: string[], withOod: boolean): string {
  const fw = Math.min(70, Math.max(4, ...entries.map((e) => e.file.length))) + 2;
  const lw = Math.max(5, ...classNames.map((c) => c.length)) + 2;
  const oodCol = (e: PredictEntry) => (withOod ? `  ${e.ood?.flagged ? 'NOT A CHEST X-RAY?' : 'ok'}` : '');
  const lines = [`${'file'.padEnd(fw)}${'label'.padEnd(lw)}${classNames.map((c) => c.padStart(Math.max(9, c.length + 2))).join('')}${withOod ? '  ood' : ''}`];
  for (const e of entries) {
    const name = e.file.length > fw - 2 ? '…' + e.file.slice(e.file.length - fw + 3) : e.file;
    if (e.error !== undefined) {
      lines.push(`${name.padEnd(fw)}error: ${e.error}`);
      continue;
    }
    lines.push(
      `${name.padEnd(fw)}${e.label!.padEnd(lw)}${classNames.map((c) => e.probabilities![c].toFixed(3).padStart(Math.max(9, c.length + 2))).join('')}${oodCol(e)}`,
    );
  }
  const flagged = entries.filter((e) => e.ood?.flagged);
  if (flagged.length > 0) {
    lines.push('', `${flagged.length} image(s) look unlike the training chest X-rays; their labels should not be trusted:`);
    for (const e of flagged) lines.push(`  ${e.file}: ${e.ood!.reasons.join('; ')}`);
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { usage: USAGE, options: { json: 'flag', model: 'string', batch: 'number' }, positionals: true });
  const asJson = args.options.has('json');
  if (args.positional.length === 0) throw new UsageError('no files or folders given', USAGE);
  const modelDir = path.resolve(optString(args, 'model', DEFAULT_MODEL_DIR));
  const batchSize = Math.max(1, Math.floor(optNumber(args, 'batch', 16)));
  const targets = collectTargets(args.positional);

  if (!fs.existsSync(path.join(modelDir, 'model.json'))) {
    logErr(`error: no model at ${modelDir} (model.json missing): train one with \`npm run train\` or pass --model <dir>`);
    return 1;
  }
  const { initNodeBackend } = await import('../src/ml/tf-node');
  await initNodeBackend('wasm');
  let classifier: Awaited<ReturnType<typeof loadClassifierFromDir>>;
  try {
    classifier = await loadClassifierFromDir(modelDir);
  } catch (e) {
    logErr(`error: cannot load the model from ${modelDir}: ${(e as Error).message}`);
    return 1;
  }
  const spec = classifier.metadata.preprocessing;
  const classNames = classifier.classNames;

  const entries: PredictEntry[] = [];
  for (let i = 0; i < targets.length; i += batchSize) {
    const batch = targets.slice(i, i + batchSize);
    const inputs: Float32Array[] = [];
    const features: import('../src/core/ood').ImageFeatures[] = [];
    const dicom: (import('../src/core/dicom-meta').DicomMeta | undefined)[] = [];
    const slots: PredictEntry[] = [];
    for (const t of batch) {
      if (t.error !== undefined) {
        entries.push({ file: t.file, error: t.error });
        continue;
      }
      try {
        // Decode once: the model input, and the image statistics the OOD checks need (colour etc.).
        const analysed = prepareImage(await decodeImageBytes(readImageFileSync(t.file)), spec, { layoutTemplate: classifier.layoutTemplate });
        inputs.push(analysed.input);
        features.push(analysed.features);
        dicom.push(analysed.dicom);
        const entry: PredictEntry = { file: t.file };
        slots.push(entry);
        entries.push(entry);
      } catch (e) {
        entries.push({ file: t.file, error: describeError(e) });
      }
    }
    if (inputs.length > 0) {
      const { predictions } = await classifier.predict(inputs, { features, dicom });
      predictions.forEach((p, j) => {
        slots[j].label = p.label;
        slots[j].probabilities = Object.fromEntries(classNames.map((c, k) => [c, p.probabilities[k]]));
        if (p.ood) slots[j].ood = { flagged: p.ood.flagged, score: p.ood.score, threshold: p.ood.threshold, reasons: p.ood.reasons };
      });
    }
    if (!asJson && targets.length > batchSize && process.stderr.isTTY) process.stderr.write(`\r${Math.min(targets.length, i + batchSize)}/${targets.length}`);
  }
  if (!asJson && targets.length > batchSize && process.stderr.isTTY) process.stderr.write('\n');
  classifier.dispose();

  const failed = entries.filter((e) => e.error !== undefined).length;
  if (asJson) {
    // One array, one entry per line (easy to read and to grep, still a single JSON value).
    await stdoutWrite(entries.length === 0 ? '[]\n' : `[\n${entries.map((e) => JSON.stringify(e)).join(',\n')}\n]\n`);
  } else {
    await stdoutWrite(
      formatTable(entries, classNames, classifier.ood !== null) +
        '\n' +
        `\n${entries.length - failed} image(s) classified${failed ? `, ${failed} could not be read` : ''}. Probabilities are calibrated (temperature ${classifier.temperature.toFixed(3)}). Research and education only; not for clinical use.\n`,
    );
  }
  if (failed > 0 && asJson) logErr(`${failed} of ${entries.length} file(s) could not be read (see their "error" entries)`);
  return 0;
}

runMain(main);
