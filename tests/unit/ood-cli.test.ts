// The OOD command lines end to end:
// * fit-ood on a tiny in-distribution folder (a few ../shared/data/cxr images) with a small random
//   model: writes a valid trust.ood and keeps every other metadata field;
// * evaluate-ood on that model with a tiny OOD folder of generated images: report shape, last line,
//   --out, and the --check gate (exit 3) when the targets are missed;
// * the CI gate: `evaluate:ood --sample 200 --check` against public/model (skipped with a message when
//   public/model has no trust.ood or the data is absent), and the same gate on a copy of the model
//   whose detector is switched off, which must fail.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from 'fast-png';
import { parseModelMetadata, type ModelMetadata } from '../../src/core/metadata';
import { oodStatsProblem, type OodStats } from '../../src/core/ood';
import { CXR_DIR, OOD_DIR, PUBLIC_MODEL, REPO_ROOT, cxrEntries, hasCxr, hasOod, skipMessage } from './helpers/shared-data';

const TSX = path.join(REPO_ROOT, 'node_modules/.bin/tsx');
const CLASSES = ['covid', 'normal', 'pneumonia'];
const LAST_LINE = /^ood: flagged (\d+\.\d)% of OOD, (\d+\.\d)% of test X-rays$/;

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function tsx(script: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [path.join('scripts', script), ...args], { cwd: REPO_ROOT, env: { ...process.env, CXR_WASM_THREADS: '1', FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const lastLine = (s: string) => s.trimEnd().split('\n').at(-1) ?? '';

if (!hasCxr()) console.warn(`ood-cli.test.ts: ${skipMessage('the cxr data set', CXR_DIR)}`);

describe('the OOD manifest reader', () => {
  it('refuses paths outside the OOD folder with the line number, as the shared manifest parser does', async () => {
    const { readOodManifest } = await import('../../scripts/evaluate-ood');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-ood-manifest-'));
    try {
      fs.writeFileSync(path.join(dir, 'manifest.csv'), 'file,kind,note\nimages/a.png,photo,ok\n../../../../etc/passwd,photo,escape\n');
      expect(() => readOodManifest(dir)).toThrow(/manifest\.csv line 3: path '\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd' is outside the data folder/);
      fs.writeFileSync(path.join(dir, 'manifest.csv'), 'file,kind,note\nimages/a.png,photo,ok\n');
      expect(readOodManifest(dir)).toEqual([{ file: 'images/a.png', kind: 'photo', note: 'ok' }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasCxr())('fit-ood and evaluate-ood on a tiny model and data set', () => {
  let tmp: string;
  let modelDir: string;
  let dataDir: string;
  let oodDir: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-ood-cli-'));
    modelDir = path.join(tmp, 'model');
    dataDir = path.join(tmp, 'data');
    oodDir = path.join(tmp, 'ood');
    fs.mkdirSync(dataDir);
    fs.mkdirSync(path.join(oodDir, 'images'), { recursive: true });
    // 12 train, 4 val, 3 test images per class (first in manifest order: deterministic), reached through
    // a link inside the folder (manifest paths must not leave it).
    fs.symlinkSync(CXR_DIR, path.join(dataDir, 'cxr'));
    const rows = [['file', 'label', 'split']];
    for (const [split, n] of [
      ['train', 12],
      ['val', 4],
      ['test', 3],
    ] as const) {
      for (const label of CLASSES) {
        for (const e of cxrEntries(split)
          .filter((x) => x.label === label)
          .slice(0, n))
          rows.push([`cxr/${e.file}`, label, split]);
      }
    }
    fs.writeFileSync(path.join(dataDir, 'manifest.csv'), rows.map((r) => r.join(',')).join('\n') + '\n');
    // Generated OOD images: colour blocks, white pages, flat grey.
    const ood = [['file', 'kind', 'note']];
    for (let k = 0; k < 3; k++) {
      const w = 200;
      const h = 160;
      const rgb = new Uint8Array(w * h * 3);
      for (let i = 0; i < w * h; i++) rgb.set([(i * (k + 3)) & 255, 200 - k * 40, (i >> 5) & 255], i * 3);
      fs.writeFileSync(path.join(oodDir, 'images', `colour${k}.png`), encode({ width: w, height: h, data: rgb, channels: 3, depth: 8 }));
      ood.push([`images/colour${k}.png`, 'photo', 'generated']);
      const gray = new Uint8Array(w * h).fill(120 + 60 * k);
      fs.writeFileSync(path.join(oodDir, 'images', `flat${k}.png`), encode({ width: w, height: h, data: gray, channels: 1, depth: 8 }));
      ood.push([`images/flat${k}.png`, 'synthetic', 'generated']);
    }
    fs.writeFileSync(path.join(oodDir, 'manifest.csv'), ood.map((r) => r.join(',')).join('\n') + '\n');

    const { initNodeBackend } = await import('../../src/ml/tf-node');
    const { buildClassifier, LAYER_NAMES } = await import('../../src/ml/model');
    const { serializeModel } = await import('../../src/ml/io');
    const { DEFAULT_PREPROCESSING } = await import('../../src/image/preprocess');
    await initNodeBackend('cpu');
    const S = DEFAULT_PREPROCESSING.inputSize;
    const model = buildClassifier({
      inputSize: S,
      stages: [
        { filters: 4, convs: 1 },
        { filters: 6, convs: 1 },
      ],
      numClasses: 3,
      dropout: 0,
      l2: 0,
      seed: 5,
    });
    const { modelJson, weights } = await serializeModel(model);
    model.dispose();
    const metadata: ModelMetadata & { extra: string } = {
      name: 'ood-cli-test-random',
      version: 'test-0',
      task: 'test',
      classNames: CLASSES,
      input: { shape: [1, S, S, 1], dtype: 'float32', layout: 'NHWC' },
      preprocessing: { ...DEFAULT_PREPROCESSING },
      layers: { embedding: LAYER_NAMES.embedding, lastConv: LAYER_NAMES.lastConv, logits: LAYER_NAMES.logits },
      uncertainBelow: 0.6,
      trust: { temperature: 1.25, covidThreshold: { threshold: 0.3, targetSensitivity: 0.95, valSensitivity: 1, valSpecificity: 0.5 } },
      notes: ['kept'],
      extra: 'unknown fields are kept too',
    };
    fs.mkdirSync(modelDir, { recursive: true });
    fs.writeFileSync(path.join(modelDir, 'model.json'), modelJson);
    fs.writeFileSync(path.join(modelDir, 'weights.bin'), weights);
    fs.writeFileSync(path.join(modelDir, 'metadata.json'), JSON.stringify(metadata, null, 2));
  });

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('evaluate-ood refuses a model without trust.ood (exit 1, says how to fit it)', async () => {
    const r = await tsx('evaluate-ood.ts', ['--model', modelDir, '--data', dataDir, '--ood', oodDir, '--no-cache']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no trust\.ood: fit it first with `npx tsx scripts\/fit-ood\.ts/);
  });

  it('fit-ood --dry-run changes nothing; fit-ood writes trust.ood and keeps every other field', async () => {
    const before = fs.readFileSync(path.join(modelDir, 'metadata.json'), 'utf8');
    const dry = await tsx('fit-ood.ts', ['--model', modelDir, '--data', dataDir, '--dry-run', '--no-cache']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/train 36 images, val 12 images/);
    expect(dry.stdout).toMatch(/--dry-run: metadata\.json not changed/);
    expect(fs.readFileSync(path.join(modelDir, 'metadata.json'), 'utf8')).toBe(before);

    const r = await tsx('fit-ood.ts', ['--model', modelDir, '--data', dataDir, '--percentile', '95', '--no-cache']);
    expect(r.code, r.stderr).toBe(0);
    const raw = JSON.parse(fs.readFileSync(path.join(modelDir, 'metadata.json'), 'utf8'));
    const old = JSON.parse(before);
    expect(raw.extra).toBe(old.extra);
    expect(raw.notes).toEqual(old.notes);
    expect(raw.trust.temperature).toBe(1.25);
    expect(raw.trust.covidThreshold).toEqual(old.trust.covidThreshold);
    const ood = raw.trust.ood as OodStats;
    expect(oodStatsProblem(ood, 3)).toBeNull();
    expect(parseModelMetadata(raw).trust?.ood?.embedding.percentile).toBe(95);
    // This small model has no s3_conv2_relu: the embedding is scored.
    expect(ood.embedding).toMatchObject({ layer: 'embedding', dim: 6, percentile: 95 });
    expect(ood.pixels).toMatchObject({ size: 8, percentile: 95 });
    expect(ood.fit).toMatchObject({ trainImages: 36, valImages: 12 });
    // p95 of 12 val distances: about 1 in 12 flagged by the embedding.
    expect(ood.fit!.valFlagged!.embedding).toBeCloseTo(1 / 12, 6);
    expect(ood.imageChecks.map((c) => c.feature)).toEqual(expect.arrayContaining(['colourFraction', 'contrast', 'layout']));
  });

  it('evaluate-ood reports per kind, writes --out and ends with the summary line; --check fails (exit 3) on missed targets', async () => {
    const out = path.join(tmp, 'ood-report.json');
    const r = await tsx('evaluate-ood.ts', ['--model', modelDir, '--data', dataDir, '--ood', oodDir, '--out', out, '--no-cache']);
    expect(r.code, r.stderr).toBe(0);
    const m = lastLine(r.stdout).match(LAST_LINE);
    expect(m, r.stdout).not.toBeNull();
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(Object.keys(report.ood.perKind).sort()).toEqual(['photo', 'synthetic']);
    expect(report.ood.all.n).toBe(6);
    expect(report.test.all.n).toBe(9);
    // Colour and flat images are caught by the image checks whatever the random model does.
    expect(report.ood.perKind.photo.flagged).toBe(3);
    expect(report.ood.perKind.synthetic.flagged).toBe(3);
    expect(report.ood.firedChecks['colourFraction:high']).toBe(3);
    expect(report.ood.firedChecks['contrast:low']).toBeGreaterThanOrEqual(3); // the flat ones (colour ones may be flat in grey too)
    expect(Number(m![1])).toBeCloseTo(100 * report.ood.all.rate, 1);
    expect(Number(m![2])).toBeCloseTo(100 * report.test.all.rate, 1);
    // Targets that cannot be met make --check fail; the summary line stays last.
    const strict = await tsx('evaluate-ood.ts', ['--model', modelDir, '--data', dataDir, '--ood', oodDir, '--check', '--max-test', '-1', '--no-cache']);
    expect(strict.code).toBe(3);
    expect(strict.stdout).toMatch(/check FAILED: flagged [\d.]+% of test X-rays, target ≤ -1%/);
    expect(lastLine(strict.stdout)).toMatch(LAST_LINE);
    const bad = await tsx('evaluate-ood.ts', ['--model', modelDir, '--frobnicate']);
    expect(bad.code).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------
// The CI gate on the shipped model
// ---------------------------------------------------------------------------------------------

function shippedOod(): boolean {
  try {
    return JSON.parse(fs.readFileSync(path.join(PUBLIC_MODEL, 'metadata.json'), 'utf8')).trust?.ood !== undefined;
  } catch {
    return false;
  }
}
const gateReady = hasCxr() && hasOod() && shippedOod();
if (!gateReady) {
  console.warn(
    `ood-cli.test.ts: OOD gate on public/model skipped: ${!hasCxr() ? skipMessage('the cxr data set', CXR_DIR) : !hasOod() ? skipMessage('the OOD set', OOD_DIR) : `${path.join(PUBLIC_MODEL, 'metadata.json')} has no trust.ood (run npx tsx scripts/fit-ood.ts)`}`,
  );
}

/** Sample size of the CI gate: N OOD images over the 7 kinds and N test X-rays over the 3 classes. */
const GATE_SAMPLE = '200';

describe.skipIf(!gateReady)('OOD gate on public/model (sample)', () => {
  it('flags ≥ 95 % of the OOD sample and ≤ 2 % of the test-split sample', async () => {
    const r = await tsx('evaluate-ood.ts', ['--sample', GATE_SAMPLE, '--check']);
    const m = lastLine(r.stdout).match(LAST_LINE);
    expect(m, r.stdout + r.stderr).not.toBeNull();
    expect(r.code, r.stdout).toBe(0);
    expect(Number(m![1])).toBeGreaterThanOrEqual(95);
    expect(Number(m![2])).toBeLessThanOrEqual(2);
  });

  it('fails when the detector regresses (a copy with the embedding threshold raised 100× and no image checks)', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-ood-gate-'));
    try {
      for (const f of fs.readdirSync(PUBLIC_MODEL))
        if (f === 'model.json' || f.endsWith('.bin')) fs.copyFileSync(path.join(PUBLIC_MODEL, f), path.join(tmp, f));
      const meta = JSON.parse(fs.readFileSync(path.join(PUBLIC_MODEL, 'metadata.json'), 'utf8'));
      meta.trust.ood.embedding.threshold *= 100;
      meta.trust.ood.imageChecks = [];
      fs.writeFileSync(path.join(tmp, 'metadata.json'), JSON.stringify(meta));
      const r = await tsx('evaluate-ood.ts', ['--model', tmp, '--sample', GATE_SAMPLE, '--check']);
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.stdout).toMatch(/check FAILED: flagged [\d.]+% of OOD images, target ≥ 95%/);
      expect(lastLine(r.stdout)).toMatch(LAST_LINE);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
