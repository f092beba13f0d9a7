// End-to-end checks of the evaluate and predict command lines on a tiny manifest folder built in a
// temporary directory: a manifest.csv pointing at a few ../shared/data/cxr images (through a link to
// that folder inside the temporary one: manifest paths must stay inside their folder), plus one corrupt
// file and one missing entry. Runs against public/model when it exists, otherwise against a small
// random-weight model this test builds and saves (buildClassifier + serializeModel + metadata.json).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/core/manifest';
import type { ModelMetadata } from '../../src/core/metadata';

const REPO_ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
const SHARED_CXR = path.resolve(REPO_ROOT, '../shared/data/cxr');
const SHIPPED_MODEL = path.join(REPO_ROOT, 'public/model');
const hasData = fs.existsSync(path.join(SHARED_CXR, 'manifest.csv'));
const hasShippedModel = fs.existsSync(path.join(SHIPPED_MODEL, 'model.json'));
const TSX = path.join(REPO_ROOT, 'node_modules/.bin/tsx');
const CLASSES = ['covid', 'normal', 'pneumonia'];

if (!hasData) console.warn(`cli.test.ts: skipped, no data set at ${SHARED_CXR} (the CLI tests read a few of its images)`);

/** Kills a detached child's whole process group (tsx runs the script in a grandchild process). */
function killGroup(pid: number | undefined): void {
  try {
    if (pid) process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command from the repository root (one wasm thread: the CI box has two cores); killed after killAfterMs. */
function run(command: string, args: string[], killAfterMs = 300_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, CXR_WASM_THREADS: '1', FORCE_COLOR: '0' }, detached: true });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => killGroup(child.pid), killAfterMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const tsx = (script: string, args: string[], killAfterMs?: number) => run(TSX, [path.join('scripts', script), ...args], killAfterMs);

let tmp: string;
let dataDir: string;
let modelDir: string;
const picked: { file: string; label: string; sourceRepo?: string }[] = [];

/** Saves a small random-weight model the way the browser loads one. */
async function buildTestModel(dir: string): Promise<void> {
  const { initNodeBackend } = await import('../../src/ml/tf-node');
  const { buildClassifier, LAYER_NAMES } = await import('../../src/ml/model');
  const { serializeModel } = await import('../../src/ml/io');
  const { DEFAULT_PREPROCESSING } = await import('../../src/image/preprocess');
  await initNodeBackend('cpu');
  const model = buildClassifier({
    inputSize: DEFAULT_PREPROCESSING.inputSize,
    stages: [
      { filters: 4, convs: 1 },
      { filters: 8, convs: 1 },
    ],
    numClasses: 3,
    dropout: 0,
    l2: 0,
    seed: 11,
  });
  const { modelJson, weights } = await serializeModel(model);
  model.dispose();
  const metadata: ModelMetadata = {
    name: 'cli-test-random',
    version: 'test-0',
    task: 'test',
    classNames: CLASSES,
    input: { shape: [1, DEFAULT_PREPROCESSING.inputSize, DEFAULT_PREPROCESSING.inputSize, 1], dtype: 'float32', layout: 'NHWC' },
    preprocessing: { ...DEFAULT_PREPROCESSING },
    layers: { embedding: LAYER_NAMES.embedding, lastConv: LAYER_NAMES.lastConv, logits: LAYER_NAMES.logits },
    uncertainBelow: 0.6,
    trust: { temperature: 1.5, covidThreshold: { threshold: 0.3, targetSensitivity: 0.95, valSensitivity: 1, valSpecificity: 0.5 } },
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), modelJson);
  fs.writeFileSync(path.join(dir, 'weights.bin'), weights);
  fs.writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify(metadata));
}

function manifestLine(fields: string[]): string {
  return fields.map((f) => (/[",\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
}

beforeAll(async () => {
  if (!hasData) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-cli-test-'));
  dataDir = path.join(tmp, 'data');
  fs.mkdirSync(dataDir);
  // Two test-split images per class, first in manifest order (deterministic).
  const shared = parseManifest(fs.readFileSync(path.join(SHARED_CXR, 'manifest.csv'), 'utf8'));
  for (const label of CLASSES) {
    for (const e of shared.entries.filter((x) => x.split === 'test' && x.label === label).slice(0, 2)) {
      picked.push({ file: path.join(SHARED_CXR, e.file), label, sourceRepo: e.sourceRepo });
    }
  }
  const trainRow = shared.entries.find((x) => x.split === 'train')!;
  // Manifest paths are relative to the manifest's folder; extra columns are ignored.
  fs.symlinkSync(SHARED_CXR, path.join(dataDir, 'shared'));
  const inData = (file: string) => path.join('shared', path.relative(SHARED_CXR, file));
  const rows = [
    ['file', 'label', 'split', 'source_repo', 'note'],
    ...picked.map((p) => [inData(p.file), p.label, 'test', p.sourceRepo ?? '', 'ok']),
    ['corrupt.jpg', 'covid', 'test', 'test/corrupt', 'truncated JPEG'],
    ['missing.jpg', 'normal', 'test', 'test/missing', 'not on disk'],
    [inData(path.join(SHARED_CXR, trainRow.file)), trainRow.label, 'train', trainRow.sourceRepo ?? '', 'other split'],
  ];
  fs.writeFileSync(path.join(dataDir, 'manifest.csv'), rows.map(manifestLine).join('\n') + '\n');
  fs.writeFileSync(path.join(dataDir, 'corrupt.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3]));
  if (hasShippedModel) {
    modelDir = SHIPPED_MODEL;
  } else {
    console.warn('cli.test.ts: public/model/model.json is absent; testing against a small random model built here');
    modelDir = path.join(tmp, 'model');
    await buildTestModel(modelDir);
  }
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Links the shared data set into `dir` and returns a manifest path, inside `dir`, to the first picked image. */
function inDataLink(dir: string): string {
  if (!fs.existsSync(path.join(dir, 'shared'))) fs.symlinkSync(SHARED_CXR, path.join(dir, 'shared'));
  return path.join('shared', path.relative(SHARED_CXR, picked[0].file));
}

describe.skipIf(!hasData)('evaluate CLI', () => {
  it('reports every field, lists and skips corrupt and missing images', async () => {
    const out = path.join(tmp, 'metrics.json');
    const r = await tsx('evaluate.ts', ['--data', dataDir, '--split', 'test', '--model', modelDir, '--out', out, '--no-cache', '--bootstrap', '1000']);
    expect(r.code, r.stderr).toBe(0);
    // Human-readable table on stdout.
    expect(r.stdout).toMatch(/accuracy/);
    expect(r.stdout).toMatch(/confusion matrix/);
    expect(r.stdout).toMatch(/corrupt\.jpg/);
    const m = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(m.meta).toMatchObject({ tool: 'scripts/evaluate.ts', split: 'test' });
    expect(m.meta.data.manifestHash).toMatch(/^[0-9a-f]{64}$/);
    expect(m.meta.data).toMatchObject({ rowsInSelection: 8, evaluated: 6, skipped: 2 });
    expect(typeof m.meta.model.version).toBe('string');
    expect(new Date(m.meta.date).getTime()).not.toBeNaN();
    expect(m.meta.command).toContain('scripts/evaluate.ts');
    expect(m.n).toBe(6);
    expect(m.classNames).toEqual(CLASSES);
    expect(m.accuracy).toBeGreaterThanOrEqual(0);
    for (const c of CLASSES) {
      expect(Object.keys(m.perClass[c]).sort()).toEqual(['auc', 'f1', 'fn', 'fp', 'npv', 'ppv', 'sensitivity', 'specificity', 'support', 'tn', 'tp']);
      expect(m.perClass[c].support).toBe(2);
      expect(m.roc[c].length).toBeGreaterThanOrEqual(2);
      expect(m.roc[c].length).toBeLessThanOrEqual(200);
      expect(m.roc[c][0]).toEqual({ fpr: 0, tpr: 0, threshold: null });
      expect(m.samples.scores[c]).toHaveLength(6);
    }
    expect(m.confusionMatrix).toHaveLength(3);
    expect(m.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(6);
    expect(m.macro.auc).not.toBeUndefined();
    expect(m.calibration.eceBefore).toBeGreaterThanOrEqual(0);
    expect(m.calibration.eceAfter).toBeGreaterThanOrEqual(0);
    expect(m.confidenceIntervals).toMatchObject({ level: 0.95, iterations: 1000, stratifiedBy: 'true class' });
    expect(m.confidenceIntervals.accuracy.lower).toBeLessThanOrEqual(m.confidenceIntervals.accuracy.upper);
    expect(m.confidenceIntervals.auc.covid).toHaveProperty('lower');
    expect(m.samples.label).toEqual([0, 0, 1, 1, 2, 2]); // manifest order: 2 per class
    expect(m.groups.source_repo.reduce((s: number, g: { n: number }) => s + g.n, 0)).toBe(6);
    expect(m.groups).toHaveProperty('age_group');
    expect(m.throughput.imagesPerSecond).toBeGreaterThan(0);
    if (!hasShippedModel) expect(m.operatingPoint).toMatchObject({ className: 'covid', threshold: 0.3, source: 'metadata.trust.covidThreshold' });
    // Corrupt and missing files are listed (with their manifest lines) and skipped.
    expect(m.skipped).toHaveLength(2);
    const byFile = Object.fromEntries(m.skipped.map((s: { file: string; line: number; reason: string }) => [s.file, s]));
    expect(byFile['corrupt.jpg'].line).toBe(8);
    expect(byFile['corrupt.jpg'].reason).toMatch(/JPEG|corrupt/i);
    expect(byFile['missing.jpg']).toMatchObject({ line: 9, reason: 'file not found' });
  });

  it('--json without --out prints exactly one JSON document on stdout', async () => {
    const r = await tsx('evaluate.ts', ['--data', dataDir, '--model', modelDir, '--json', '--no-cache', '--bootstrap', '1000']);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout);
    expect(m.n).toBe(6);
    expect(r.stderr).toMatch(/accuracy/); // the table moved to stderr
  });

  it('a malformed manifest exits 2 and names the line', async () => {
    const bad = path.join(tmp, 'bad');
    fs.mkdirSync(bad, { recursive: true });
    fs.writeFileSync(path.join(bad, 'manifest.csv'), 'file,label,split\na.jpg,covid,test\nb.jpg,covd,test\n');
    const r = await tsx('evaluate.ts', ['--data', bad, '--model', modelDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 3/);
    expect(r.stderr).toMatch(/covd/);
    expect(r.stdout).toBe('');
    fs.writeFileSync(path.join(bad, 'manifest.csv'), 'file,label\na.jpg,covid\nb.jpg,normal,extra\n');
    const r2 = await tsx('evaluate.ts', ['--data', bad, '--model', modelDir]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/line 3: expected 2 fields, got 3/);
    const r3 = await tsx('evaluate.ts', ['--data', path.join(tmp, 'nowhere'), '--model', modelDir]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/no manifest\.csv/);
  });

  it('manifest paths outside --data are refused with the line number, before anything is read', async () => {
    const escaping = path.join(tmp, 'escaping');
    fs.mkdirSync(escaping, { recursive: true });
    // ../data/<image> exists and is a valid image: it must still not be evaluated.
    const outside = path.join('..', 'data', path.join('shared', path.relative(SHARED_CXR, picked[0].file)));
    expect(fs.existsSync(path.join(escaping, outside))).toBe(true);
    for (const [bad, line] of [
      [outside, 3],
      ['../../../../etc/passwd', 2],
    ] as const) {
      const rows = line === 3 ? `${inDataLink(escaping)},covid,test\n${bad},covid,test\n` : `${bad},covid,test\n`;
      fs.writeFileSync(path.join(escaping, 'manifest.csv'), `file,label,split\n${rows}`);
      const r = await tsx('evaluate.ts', ['--data', escaping, '--model', modelDir, '--no-cache']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`line ${line}: path '${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' is outside the data folder`));
      expect(r.stdout).toBe('');
    }
  });
});

describe.skipIf(!hasData)('predict CLI', () => {
  function checkContract(stdout: string, given: string[]): Record<string, unknown>[] {
    const parsed = JSON.parse(stdout); // throws if stdout holds anything but one JSON value
    expect(Array.isArray(parsed)).toBe(true);
    for (const e of parsed) {
      expect(typeof e.file).toBe('string');
      if ('error' in e) {
        expect(Object.keys(e).sort()).toEqual(['error', 'file']);
        expect(typeof e.error).toBe('string');
      } else {
        // "ood" is added exactly when the model's metadata has trust.ood (scripts/fit-ood.ts).
        const withOod = JSON.parse(fs.readFileSync(path.join(modelDir, 'metadata.json'), 'utf8')).trust?.ood !== undefined;
        expect(Object.keys(e).sort()).toEqual(withOod ? ['file', 'label', 'ood', 'probabilities'] : ['file', 'label', 'probabilities']);
        if (withOod) {
          const ood = e.ood as { flagged: unknown; score: unknown; threshold: unknown; reasons: unknown };
          expect(Object.keys(ood).sort()).toEqual(['flagged', 'reasons', 'score', 'threshold']);
          expect(typeof ood.flagged).toBe('boolean');
          expect(Array.isArray(ood.reasons)).toBe(true);
          expect(ood.flagged).toBe((ood.reasons as string[]).length > 0);
        }
        expect(Object.keys(e.probabilities)).toEqual(CLASSES);
        const values = Object.values(e.probabilities) as number[];
        expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        const best = CLASSES[values.indexOf(Math.max(...values))];
        expect(e.label).toBe(best);
      }
    }
    expect(parsed.map((e: { file: string }) => e.file)).toEqual(given);
    return parsed;
  }

  it('--json: stdout is exactly one array of the contract shape; a non-image gets an error entry', async () => {
    const images = picked.slice(0, 3).map((p) => path.relative(REPO_ROOT, p.file));
    const notImage = path.join(dataDir, 'manifest.csv');
    const given = [...images, notImage, path.join(dataDir, 'corrupt.jpg'), 'no/such/file.png'];
    const r = await tsx('predict.ts', [...given, '--json', '--model', modelDir]);
    expect(r.code, r.stderr).toBe(0);
    const parsed = checkContract(r.stdout, given);
    expect(parsed[3]).toEqual({ file: notImage, error: 'not an image' });
    expect(parsed[4].error).toMatch(/JPEG/);
    expect(parsed[5]).toEqual({ file: 'no/such/file.png', error: 'file not found' });
    expect(parsed.slice(0, 3).every((e) => 'label' in e)).toBe(true);
  });

  it('folders are walked for .png/.jpg/.jpeg/.gif/.dcm only; through `npm run` too (banner kept off stdout)', async () => {
    const folder = path.join(tmp, 'folder');
    fs.mkdirSync(path.join(folder, 'nested'), { recursive: true });
    fs.copyFileSync(picked[0].file, path.join(folder, 'one.jpg'));
    fs.copyFileSync(picked[2].file, path.join(folder, 'nested', 'two.JPEG'));
    fs.writeFileSync(path.join(folder, 'readme.txt'), 'not an image');
    const r = await run('npm', ['run', 'predict', '--', folder, '--json', '--model', modelDir]);
    expect(r.code, r.stderr).toBe(0);
    checkContract(r.stdout, [path.join(folder, 'nested', 'two.JPEG'), path.join(folder, 'one.jpg')]);
  });

  it('--json classifies DICOM files end to end (uncompressed and deflated), as the page does', async () => {
    const { makeDicom, TS } = await import('./helpers/dicom-writer');
    const { decodeImageBytes } = await import('../../src/image/decode');
    const { toGray8 } = await import('../../src/image/preprocess');
    const gray = toGray8(await decodeImageBytes(new Uint8Array(fs.readFileSync(picked[0].file))));
    const files = [TS.explicitLE, TS.deflatedLE].map((ts, i) => {
      const f = path.join(tmp, `film${i}.dcm`);
      fs.writeFileSync(f, makeDicom({ rows: gray.height, columns: gray.width, pixels: gray.data, transferSyntax: ts }));
      return f;
    });
    const r = await tsx('predict.ts', [...files, '--json', '--model', modelDir]);
    expect(r.code, r.stderr).toBe(0);
    const parsed = checkContract(r.stdout, files);
    expect(parsed.map((e: { error?: string }) => e.error)).toEqual([undefined, undefined]);
    // Same pixels as the JPEG they came from: the same prediction.
    const jpeg = checkContract((await tsx('predict.ts', [picked[0].file, '--json', '--model', modelDir])).stdout, [picked[0].file]);
    for (const e of parsed)
      for (const [k, v] of Object.entries(jpeg[0].probabilities as Record<string, number>))
        expect((e.probabilities as Record<string, number>)[k]).toBeCloseTo(v, 5);
  });

  it('--json decodes compressed DICOM (JPEG 2000, JPEG-LS, RLE) with the codecs under tsx, and withholds a lateral film with its reason', async () => {
    const { makeDicom, TS } = await import('./helpers/dicom-writer');
    const { encodeJ2k, encodeJpegLs, encodeRle } = await import('./helpers/dicom-encoders');
    const { decodeImageBytes } = await import('../../src/image/decode');
    const { toGray8 } = await import('../../src/image/preprocess');
    const gray = toGray8(await decodeImageBytes(new Uint8Array(fs.readFileSync(picked[0].file))));
    const s12 = Array.from(gray.data, (v) => v * 16);
    const frame = { width: gray.width, height: gray.height, bitsPerSample: 12, pixels: s12 };
    const common = { rows: gray.height, columns: gray.width, bitsAllocated: 16 as const, bitsStored: 12, windowCenter: 2040.5, windowWidth: 4081 };
    const specs = [
      { ...common, transferSyntax: TS.jpeg2000, frames: [await encodeJ2k(frame)] },
      { ...common, transferSyntax: TS.jpegLs, frames: [await encodeJpegLs(frame)] },
      { ...common, transferSyntax: TS.rle, frames: [encodeRle(s12, gray.width, gray.height, 16)] },
      { ...common, transferSyntax: TS.jpeg2000, frames: [await encodeJ2k(frame)], viewPosition: 'LL' },
    ];
    const files = specs.map((spec, i) => {
      const f = path.join(tmp, `compressed${i}.dcm`);
      fs.writeFileSync(f, makeDicom(spec));
      return f;
    });
    const r = await tsx('predict.ts', [...files, '--json', '--model', modelDir]);
    expect(r.code, r.stderr).toBe(0);
    const parsed = checkContract(r.stdout, files);
    expect(parsed.map((e: { error?: string }) => e.error)).toEqual([undefined, undefined, undefined, undefined]);
    // Lossless: the same prediction as the JPEG the pixels came from.
    const jpeg = checkContract((await tsx('predict.ts', [picked[0].file, '--json', '--model', modelDir])).stdout, [picked[0].file]);
    for (const e of parsed)
      for (const [k, v] of Object.entries(jpeg[0].probabilities as Record<string, number>))
        expect((e.probabilities as Record<string, number>)[k]).toBeCloseTo(v, 5);
    const lateral = parsed[3] as { ood?: { flagged: boolean; reasons: string[] } };
    expect(lateral.ood?.flagged).toBe(true);
    expect(lateral.ood?.reasons[0]).toMatch(/^lateral view \(DICOM View Position LL\)/);
  });

  it('a FIFO, /dev/zero or a 300 MB file does not hang predict: the other files are classified, those get error entries', async () => {
    const fifo = path.join(tmp, 'pipe.png');
    spawnSync('mkfifo', [fifo]);
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
    const folder = path.join(tmp, 'with-fifo');
    fs.mkdirSync(folder, { recursive: true });
    fs.copyFileSync(picked[0].file, path.join(folder, 'a.jpg'));
    spawnSync('mkfifo', [path.join(folder, 'b.png')]);
    // A 300 MB file (sparse: no disk used) is refused from its size, not read.
    const huge = path.join(tmp, 'huge.png');
    fs.writeFileSync(huge, '');
    fs.truncateSync(huge, 300 * 1024 * 1024);
    const given = [fifo, '/dev/zero', huge, picked[1].file, folder];
    const t0 = Date.now();
    const r = await tsx('predict.ts', [...given, '--json', '--model', modelDir], 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(60_000);
    const parsed = checkContract(r.stdout, [fifo, '/dev/zero', huge, picked[1].file, path.join(folder, 'a.jpg'), path.join(folder, 'b.png')]);
    expect(parsed[0].error).toMatch(/not a regular file \(a FIFO/);
    expect(parsed[1].error).toMatch(/not a regular file \(a device\)/);
    expect(parsed[2].error).toMatch(/file too large: 315 MB, limit 256 MB/);
    expect(parsed[3]).toHaveProperty('label');
    expect(parsed[4]).toHaveProperty('label');
    expect(parsed[5].error).toMatch(/not a regular file \(a FIFO/);
  }, 120_000);

  it('a symbolic link to a folder is not followed silently: predict says so', async () => {
    const folder = path.join(tmp, 'with-link');
    const target = path.join(tmp, 'linked-target');
    fs.mkdirSync(folder, { recursive: true });
    fs.mkdirSync(target, { recursive: true });
    fs.copyFileSync(picked[0].file, path.join(folder, 'a.jpg'));
    fs.copyFileSync(picked[1].file, path.join(target, 'b.jpg'));
    fs.symlinkSync(target, path.join(folder, 'more'));
    const r = await tsx('predict.ts', [folder, '--json', '--model', modelDir]);
    expect(r.code, r.stderr).toBe(0);
    checkContract(r.stdout, [path.join(folder, 'a.jpg')]);
    expect(r.stderr).toContain(`warning: skipped ${path.join(folder, 'more')}: a symbolic link to a folder (not followed`);
  });

  it('GIF is classified as the page classifies it (same pixels as the PNG of the image), also found in folders', async () => {
    const { makeGif } = await import('./helpers/gif-writer');
    const { decodeImageBytes } = await import('../../src/image/decode');
    const { toGray8 } = await import('../../src/image/preprocess');
    const { encode } = await import('fast-png');
    const gray = toGray8(await decodeImageBytes(new Uint8Array(fs.readFileSync(picked[0].file))));
    const folder = path.join(tmp, 'gif');
    fs.mkdirSync(folder, { recursive: true });
    const palette = Array.from({ length: 256 }, (_, i) => [i, i, i]);
    fs.writeFileSync(
      path.join(folder, 'film.gif'),
      makeGif({ width: gray.width, height: gray.height }, palette, [{ width: gray.width, height: gray.height, indices: gray.data }]),
    );
    fs.writeFileSync(path.join(folder, 'film.png'), encode({ width: gray.width, height: gray.height, data: gray.data, channels: 1, depth: 8 }));
    const r = await tsx('predict.ts', [folder, '--json', '--model', modelDir]);
    expect(r.code, r.stderr).toBe(0);
    const [gif, png] = checkContract(r.stdout, [path.join(folder, 'film.gif'), path.join(folder, 'film.png')]);
    expect(gif.error).toBeUndefined();
    expect(gif.probabilities).toEqual(png.probabilities);
  });

  it('a failing `npm run predict -- --json` leaves stdout empty (no npm JSON error object), exit code kept', async () => {
    const missingModel = await run('npm', ['run', 'predict', '--', '--json', '--model', path.join(tmp, 'no-model'), picked[0].file]);
    expect(missingModel.code).toBe(1);
    expect(missingModel.stdout).toBe('');
    expect(missingModel.stderr).toMatch(/no model at/);
    const usage = await run('npm', ['run', 'predict', '--', '--json', '--frobnicate', picked[0].file]);
    expect(usage.code).toBe(2);
    expect(usage.stdout).toBe('');
    expect(usage.stderr).toMatch(/unknown option --frobnicate/);
    // And a successful one: exactly one JSON array (no banner).
    const ok = await run('npm', ['run', 'predict', '--', '--json', '--model', modelDir, path.join(tmp, 'no-such.png')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual([{ file: path.join(tmp, 'no-such.png'), error: 'file not found' }]);
  });

  it('without --json prints a table', async () => {
    const r = await tsx('predict.ts', [path.relative(REPO_ROOT, picked[0].file), '--model', modelDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/file\s+label\s+covid\s+normal\s+pneumonia/);
    expect(r.stdout).toMatch(/1 image\(s\) classified/);
  });
});
