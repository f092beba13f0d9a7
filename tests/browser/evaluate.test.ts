// The Evaluate page end to end (production build, headless Chromium, wasm): a labelled folder written
// by the test (real test-split images copied into a temp dir outside the repository), the report
// compared with `npm run evaluate -- --data <same folder>`, memory over repeated runs, Cancel,
// the shortcut check, the Grad-CAM gallery and the per-image CSV.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { zipSync } from 'fflate';
import { REPO_ROOT, hasData, manifest, openApp, skipReason, useAppHarness, workerMemory } from './helpers';
import type { EvaluationJson } from '../../src/core/evaluation';

if (!hasData()) console.warn(skipReason());

const temp: string[] = [];

const OOD_DIR = path.resolve(REPO_ROOT, '../shared/data/ood');

/** One image of each kind from ../shared/data/ood (a colour photo, a document, a CT slice). */
function oodImages(): string[] {
  const rows = fs
    .readFileSync(path.join(OOD_DIR, 'manifest.csv'), 'utf8')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((l) => l.split(','));
  return [rows.find((r) => r[1] === 'photo' && r.includes('RGB')), rows.find((r) => r[1] === 'document'), rows.find((r) => r[1] === 'ct')]
    .filter((r): r is string[] => r !== undefined)
    .map((r) => path.join(OOD_DIR, r[0]));
}

/**
 * <tmp>/films: COVID/ (mixed case on purpose; with `withOod`, also three images that are not chest
 * X-rays), Normal/site-a, Normal/site-b, pneumonia/ with a corrupt file, an unknown folder xrays/,
 * and a stray notes.txt at the root.
 */
function makeFilms(per: number, offset = 0, withOod = false): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-evaluate-test-'));
  temp.push(root);
  const dir = path.join(root, 'films');
  const test = (label: string) =>
    manifest()
      .filter((r) => r.split === 'test' && r.label === label)
      .slice(offset, offset + per);
  const put = (folder: string, rows: { path: string }[]) => {
    fs.mkdirSync(path.join(dir, folder), { recursive: true });
    for (const r of rows) fs.copyFileSync(r.path, path.join(dir, folder, path.basename(r.path)));
  };
  put('COVID', test('covid'));
  if (withOod)
    put(
      'COVID',
      oodImages().map((p) => ({ path: p })),
    );
  const normals = test('normal');
  put('Normal/site-a', normals.slice(0, Math.ceil(per / 2)));
  put('Normal/site-b', normals.slice(Math.ceil(per / 2)));
  put('pneumonia', test('pneumonia'));
  put('xrays', test('covid').slice(0, 1));
  fs.writeFileSync(path.join(dir, 'pneumonia', 'broken.png'), 'this is not a PNG');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'films from ward 3');
  return dir;
}

const evalState = (page: Page) => page.evaluate(() => window.cxrLabEvaluate!.state());

async function waitDone(page: Page, previousDate: string | null = null, timeout = 240_000): Promise<EvaluationJson> {
  await page.waitForFunction(
    (prev) => {
      const s = window.cxrLabEvaluate!.state();
      return (s.phase === 'done' && s.report !== null && s.report.meta.date !== prev) || s.phase === 'error';
    },
    previousDate,
    { timeout, polling: 100 },
  );
  const s = await evalState(page);
  if (s.phase === 'error') throw new Error(`evaluation failed: ${s.error}`);
  return s.report!;
}

async function downloadJson(page: Page): Promise<EvaluationJson> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('evaluate-download-json').click()]);
  return JSON.parse(fs.readFileSync((await download.path())!, 'utf8'));
}

// Fields that describe the run (where, when, how fast), not the data or the model's answers.
const RUN_FIELDS = new Set(['meta.tool', 'meta.command', 'meta.date', 'meta.gitCommit', 'meta.data.dir', 'meta.model.dir', 'meta.backend', 'meta.threads']);

/** Same keys everywhere; numbers within `tol`; strings and booleans equal; run fields and throughput values skipped. */
function compareReports(cli: unknown, page: unknown, at: string, tol: number, problems: string[]): void {
  if (RUN_FIELDS.has(at) || at.startsWith('throughput.') || /^skipped\.\d+\.reason$/.test(at)) return;
  if (typeof cli === 'number' && typeof page === 'number') {
    if (!(Math.abs(cli - page) <= tol)) problems.push(`${at}: cli ${cli} vs page ${page}`);
    return;
  }
  if (cli === null || page === null || typeof cli !== 'object' || typeof page !== 'object') {
    if (cli !== page) problems.push(`${at}: cli ${JSON.stringify(cli)} vs page ${JSON.stringify(page)}`);
    return;
  }
  if (Array.isArray(cli) !== Array.isArray(page)) {
    problems.push(`${at}: array vs object`);
    return;
  }
  const a = Object.keys(cli).sort();
  const b = Object.keys(page).sort();
  if (a.join() !== b.join()) problems.push(`${at}: keys cli [${a.join()}] vs page [${b.join()}]`);
  for (const k of a)
    if (k in (page as object)) compareReports((cli as Record<string, unknown>)[k], (page as Record<string, unknown>)[k], at ? `${at}.${k}` : k, tol, problems);
}

/** Counts that must match exactly (not merely within 1e-3). */
function counts(r: EvaluationJson) {
  return {
    n: r.n,
    confusion: r.confusionMatrix,
    perClass: Object.fromEntries(Object.entries(r.perClass).map(([c, m]) => [c, [m.support, m.tp, m.fp, m.fn, m.tn]])),
    groups: Object.fromEntries(Object.entries(r.groups).map(([g, rows]) => [g, rows.map((x) => [x.group, x.n, x.correct, x.labelCounts, x.predictedCounts])])),
    operatingPoint: r.operatingPoint && [r.operatingPoint.tp, r.operatingPoint.fp, r.operatingPoint.fn, r.operatingPoint.tn],
    ood: r.ood,
    skipped: r.skipped.map((s) => [s.file, s.line]),
    ignored: r.ignored,
    unknownFolders: r.unknownFolders,
    data: { ...r.meta.data, dir: null },
  };
}

describe.skipIf(!hasData() || !fs.existsSync(path.join(OOD_DIR, 'manifest.csv')))('Evaluate page', () => {
  const h = useAppHarness();
  let films: string;
  let cli: EvaluationJson;

  beforeAll(async () => {
    films = makeFilms(6, 0, true);
    // A DICOM whose header says lateral view: both sides add the header's reason to the OOD verdict.
    const { decodeImageBytes } = await import('../../src/image/decode');
    const { toGray8 } = await import('../../src/image/preprocess');
    const { makeDicom } = await import('../unit/helpers/dicom-writer');
    const source = manifest().filter((r) => r.split === 'test' && r.label === 'covid')[40];
    const gray = toGray8(await decodeImageBytes(new Uint8Array(fs.readFileSync(source.path))));
    fs.writeFileSync(
      path.join(films, 'COVID', 'lateral.dcm'),
      makeDicom({ rows: gray.height, columns: gray.width, pixels: gray.data, bitsAllocated: 8, viewPosition: 'LL' }),
    );
    const out = path.join(path.dirname(films), 'cli.json');
    const r = spawnSync(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['scripts/evaluate.ts', '--data', films, '--out', out], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (r.status !== 0) throw new Error(`npm run evaluate failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    cli = JSON.parse(fs.readFileSync(out, 'utf8'));
  }, 320_000);

  afterAll(() => {
    for (const t of temp) fs.rmSync(t, { recursive: true, force: true });
  });

  it('a class-folder data set: the downloaded report equals `npm run evaluate -- --data` on the same folder; unknown folders, bad and stray files are listed; sites are tabled; the tensor count stays flat over repeated runs', async () => {
    expect(cli.n).toBe(22);
    // The photo, the document and the CT slice are refused on both sides (at least one of them),
    // and the lateral DICOM by its header.
    expect(cli.ood!.flagged).toBeGreaterThanOrEqual(2);
    expect(cli.ood!.files).toContain('COVID/lateral.dcm');
    expect(cli.withoutRefused!.n).toBe(22 - cli.ood!.flagged);
    expect(cli.meta.data.layout).toBe('class-folders');
    const session = await openApp(h.browser, `${h.server.url}?backend=wasm`, { hash: '#/evaluate' });
    const { page } = session;
    expect(await page.getByTestId('nav-evaluate').getAttribute('aria-current')).toBe('page');
    await page.getByTestId('evaluate-folder-input').setInputFiles(films);
    // The page stays responsive while the worker classifies.
    await page.getByTestId('evaluate-progress').waitFor();
    const lag = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const t0 = performance.now();
          setTimeout(() => resolve(performance.now() - t0 - 50), 50);
        }),
    );
    expect(lag).toBeLessThan(250);
    const first = await waitDone(page);
    const json = await downloadJson(page);
    expect(json.meta.date).toBe(first.meta.date);

    expect(counts(json)).toEqual(counts(cli));
    const problems: string[] = [];
    compareReports(cli, json, '', 1e-3, problems);
    expect(problems).toEqual([]);
    // The probabilities themselves (6 decimals in both files) agree within 1e-3, and so do the AUCs.
    for (const c of cli.classNames) {
      cli.samples!.scores[c].forEach((p, i) => expect(Math.abs(p - json.samples!.scores[c][i])).toBeLessThanOrEqual(1e-3));
      expect(Math.abs(cli.perClass[c].auc! - json.perClass[c].auc!)).toBeLessThanOrEqual(1e-3);
    }

    // What the user sees: the unknown folder, the corrupt file, the stray text file, two sites.
    expect(await page.getByTestId('evaluate-unknown-folder').evaluateAll((els) => els.map((e) => e.getAttribute('data-folder')))).toEqual(['xrays']);
    expect(await page.getByTestId('evaluate-skipped-file').evaluateAll((els) => els.map((e) => e.getAttribute('data-file')))).toEqual(['pneumonia/broken.png']);
    expect(await page.getByTestId('evaluate-ignored-file').allTextContents()).toEqual(['notes.txt: not an image (.txt file)']);
    expect(
      await page
        .getByTestId('evaluate-group-site')
        .getByTestId('evaluate-group-row')
        .evaluateAll((els) => els.map((e) => [e.getAttribute('data-group'), e.getAttribute('data-n')])),
    ).toEqual([
      ['site-a', '3'],
      ['site-b', '3'],
    ]);
    expect(Number(await page.getByTestId('evaluate-accuracy').getAttribute('data-value'))).toBeCloseTo(cli.accuracy!, 9);
    await page.getByTestId('evaluate-roc').locator('.recharts-line').first().waitFor();
    await page.getByTestId('evaluate-reliability').waitFor();
    await page.getByTestId('op-explorer').waitFor();
    expect(await page.getByTestId('evaluate-report').getAttribute('data-partial')).toBe('false');

    // The per-image CSV: a row per image of the data set (the corrupt one marked skipped).
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('evaluate-download-csv').click()]);
    const lines = fs
      .readFileSync((await csvDownload.path())!, 'utf8')
      .trim()
      .split(/\r\n/);
    expect(lines[0]).toBe('file,site,label,prediction,prob_covid,prob_normal,prob_pneumonia,correct,ood_refused,ood_reasons,covid_screen,status,error');
    expect(lines).toHaveLength(1 + 23);
    expect(lines.find((l) => l.startsWith('COVID/lateral.dcm'))).toMatch(/,true,[^,]*lateral view/);
    expect(await page.getByTestId('evaluate-refused').getAttribute('data-count')).toBe(String(cli.ood!.flagged));
    expect(await page.getByTestId('evaluate-refused-list').locator('li').allTextContents()).toEqual(cli.ood!.files);
    expect(lines.find((l) => l.startsWith('pneumonia/broken.png'))).toMatch(/,skipped,/);
    expect(lines.find((l) => l.startsWith('Normal/site-a/'))).toMatch(/^Normal\/site-a\/[^,]+,site-a,normal,/);

    // Repeated evaluations of the same folder: the worker holds the same tensors after each.
    const memory: number[] = [(await workerMemory(page)).numTensors];
    let previous = first.meta.date;
    for (let i = 0; i < 2; i++) {
      await page.getByTestId('evaluate-rerun').click();
      const again = await waitDone(page, previous);
      previous = again.meta.date;
      expect(again.confusionMatrix).toEqual(first.confusionMatrix);
      memory.push((await workerMemory(page)).numTensors);
    }
    expect(memory[1]).toBe(memory[0]);
    expect(memory[2]).toBe(memory[0]);

    // Shortcut check: full, border-only and centre-only side by side, with the reading sentence.
    await page.getByTestId('evaluate-shortcut-run').click();
    await page.getByTestId('evaluate-shortcut').and(page.locator('[data-status="done"], [data-status="error"]')).waitFor({ timeout: 240_000 });
    expect(await page.getByTestId('evaluate-shortcut').getAttribute('data-status')).toBe('done');
    const rows = await page
      .getByTestId('evaluate-shortcut-row')
      .evaluateAll((els) => els.map((e) => [e.getAttribute('data-mode'), Number(e.getAttribute('data-accuracy'))]));
    expect(rows.map((r) => r[0])).toEqual(['full', 'border-only', 'centre-only']);
    expect(rows[0][1]).toBeCloseTo(cli.accuracy!, 9);
    expect(await page.getByTestId('evaluate-shortcut-reading').textContent()).toMatch(/How to read it/);
    expect((await workerMemory(page)).numTensors).toBe(memory[0]);

    // Gallery: a misclassified image opens with its Grad-CAM map.
    const wrong = cli.n - cli.confusionMatrix.reduce((a, row, i) => a + row[i], 0);
    if (wrong > 0) {
      await page.getByTestId('evaluate-gallery-item').first().click();
      const cam = page.getByTestId('evaluate-gallery-detail').getByTestId('gradcam');
      await cam.and(page.locator('[data-status="ready"], [data-status="error"]')).waitFor({ timeout: 60_000 });
      expect(await cam.getAttribute('data-status')).toBe('ready');
    }
    expect(session.problems).toEqual([]);
    expect(session.log.foreign()).toEqual([]);
  });

  it('a .zip of the same folder gives the same report counts; the page with a report has no serious accessibility violation', async () => {
    const entries: Record<string, Uint8Array> = {};
    const walk = (dir: string, rel: string) => {
      for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
        if (d.isDirectory()) walk(path.join(dir, d.name), `${rel}${d.name}/`);
        else entries[`${rel}${d.name}`] = new Uint8Array(fs.readFileSync(path.join(dir, d.name)));
      }
    };
    walk(films, 'films/');
    const zipPath = path.join(path.dirname(films), 'films.zip');
    fs.writeFileSync(zipPath, zipSync(entries, { level: 1 }));
    const session = await openApp(h.browser, `${h.server.url}?backend=wasm`, { hash: '#/evaluate' });
    const { page } = session;
    await page.getByTestId('evaluate-zip-input').setInputFiles(zipPath);
    const report = await waitDone(page);
    expect(counts(report)).toEqual(counts(cli));
    const axe = await new AxeBuilder({ page }).analyze();
    const bad = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    expect(session.problems).toEqual([]);
  });

  it('the Model card links to the page ("check it on your own films")', async () => {
    const session = await openApp(h.browser, h.server.url, { hash: '#/model', waitForModel: false });
    const { page } = session;
    const link = page.getByTestId('mc-evaluate-link');
    expect(await link.textContent()).toBe('Check it on your own films');
    await link.click();
    await page.getByTestId('evaluate-page').waitFor();
    expect(await page.getByTestId('nav-evaluate').getAttribute('aria-current')).toBe('page');
    expect(await page.title()).toBe('Evaluate · CXR Lab');
  });

  it('a model imported on the Train page (2 classes, no trust statistics) is the model in use: picked on the page, its classes name the folders, and the report equals the CLI with --model', async () => {
    // The model: small random weights saved the way the Train page exports one (model.json,
    // weights.bin, metadata.json), classes 'healthy' and 'sick', no OOD detector, no operating point.
    const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-evaluate-model-'));
    temp.push(modelDir);
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
      numClasses: 2,
      dropout: 0,
      l2: 0,
      seed: 5,
    });
    const { modelJson, weights } = await serializeModel(model);
    model.dispose();
    const metadata = {
      name: 'ward-model',
      version: 'ft-1',
      task: 'test',
      classNames: ['healthy', 'sick'],
      input: { shape: [1, DEFAULT_PREPROCESSING.inputSize, DEFAULT_PREPROCESSING.inputSize, 1], dtype: 'float32', layout: 'NHWC' },
      preprocessing: { ...DEFAULT_PREPROCESSING },
      layers: { embedding: LAYER_NAMES.embedding, lastConv: LAYER_NAMES.lastConv, logits: LAYER_NAMES.logits },
      uncertainBelow: 0.6,
    };
    fs.writeFileSync(path.join(modelDir, 'model.json'), modelJson);
    fs.writeFileSync(path.join(modelDir, 'weights.bin'), weights);
    fs.writeFileSync(path.join(modelDir, 'metadata.json'), JSON.stringify(metadata));
    // The films: Healthy/ (normals) and SICK/ (covid + pneumonia), and a covid/ folder this model does not know.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-evaluate-ward-'));
    temp.push(root);
    const pick = (label: string, n: number) =>
      manifest()
        .filter((r) => r.split === 'test' && r.label === label)
        .slice(50, 50 + n);
    const put = (folder: string, rows: { path: string }[]) => {
      fs.mkdirSync(path.join(root, folder), { recursive: true });
      for (const r of rows) fs.copyFileSync(r.path, path.join(root, folder, path.basename(r.path)));
    };
    put('Healthy', pick('normal', 4));
    put('SICK', [...pick('covid', 2), ...pick('pneumonia', 2)]);
    put('covid', pick('covid', 1));
    const out = path.join(root, '..', `${path.basename(root)}.json`);
    temp.push(out);
    const r = spawnSync(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['scripts/evaluate.ts', '--data', root, '--model', modelDir, '--out', out], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const cliWard = JSON.parse(fs.readFileSync(out, 'utf8')) as EvaluationJson;

    const session = await openApp(h.browser, `${h.server.url}?backend=wasm`, { hash: '#/train', waitForModel: false });
    const { page } = session;
    await page.getByTestId('import-name').fill('ward model');
    await page.getByTestId('import-input').setInputFiles(['model.json', 'weights.bin', 'metadata.json'].map((f) => path.join(modelDir, f)));
    await page.getByTestId('saved-model').and(page.locator('[data-name="ward model"]')).waitFor({ timeout: 60_000 });
    await page.getByTestId('nav-evaluate').click();
    await page.getByTestId('model-picker-select').selectOption('ward model');
    await page.waitForFunction(
      () => window.cxrLab?.model().status === 'ready' && window.cxrLab.model().info?.metadata.classNames.join() === 'healthy,sick',
      undefined,
      { timeout: 60_000 },
    );
    await page.getByTestId('evaluate-folder-input').setInputFiles(root);
    const report = await waitDone(page);
    expect(report.classNames).toEqual(['healthy', 'sick']);
    expect(report.meta.model).toMatchObject({ name: 'ward-model', version: 'ft-1' });
    expect(report.ood).toBeNull();
    expect(report.operatingPoint).toBeNull();
    expect(counts(report)).toEqual(counts(cliWard));
    const problems: string[] = [];
    compareReports(cliWard, report, '', 1e-3, problems);
    expect(problems).toEqual([]);
    expect(await page.getByTestId('evaluate-unknown-folder').evaluateAll((els) => els.map((e) => e.getAttribute('data-folder')))).toEqual(['covid']);
    expect(await page.getByTestId('op-explorer').count()).toBe(0);
    expect(session.problems).toEqual([]);
  });

  it('Cancel keeps the images classified so far, labelled partial', async () => {
    const big = makeFilms(20, 10);
    const session = await openApp(h.browser, `${h.server.url}?backend=wasm`, { hash: '#/evaluate' });
    const { page } = session;
    await page.getByTestId('evaluate-folder-input').setInputFiles(big);
    await page.waitForFunction(() => window.cxrLabEvaluate!.state().done >= 3, undefined, { timeout: 120_000, polling: 20 });
    await page.getByTestId('evaluate-cancel').click();
    const report = await waitDone(page);
    expect(report.meta.data.partial).toBe(true);
    expect(report.n).toBeGreaterThanOrEqual(3);
    expect(report.n).toBeLessThan(60);
    expect(report.meta.data.rowsInSelection).toBe(61);
    expect(await page.getByTestId('evaluate-partial').textContent()).toMatch(/partial/);
    expect(session.problems).toEqual([]);
  });

  it("a manifest.csv with site and split columns: sites from the column, the test split by default and all on request, the CLI parser's error for a bad label", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-evaluate-manifest-'));
    temp.push(root);
    const rows = ['covid', 'normal', 'pneumonia'].flatMap((l) =>
      manifest()
        .filter((r) => r.split === 'test' && r.label === l)
        .slice(30, 32),
    );
    fs.mkdirSync(path.join(root, 'img'));
    for (const r of rows) fs.copyFileSync(r.path, path.join(root, 'img', path.basename(r.path)));
    const text = ['file,label,site', ...rows.map((r, i) => `img/${path.basename(r.path)},${r.label},${i % 2 ? 'north' : 'south'}`)].join('\n') + '\n';
    fs.writeFileSync(path.join(root, 'manifest.csv'), text);
    const session = await openApp(h.browser, `${h.server.url}?backend=wasm`, { hash: '#/evaluate' });
    const { page } = session;
    await page.getByTestId('evaluate-folder-input').setInputFiles(root);
    const report = await waitDone(page);
    expect(report.meta.data.layout).toBe('manifest');
    expect(report.n).toBe(6);
    expect(report.groups.site.map((g) => [g.group, g.n]).sort()).toEqual([
      ['north', 3],
      ['south', 3],
    ]);
    // A split column: the test split by default (as the CLI), every row on request.
    const withSplit =
      ['file,label,split,site', ...rows.map((r, i) => `img/${path.basename(r.path)},${r.label},${i < 4 ? 'test' : 'val'},${i % 2 ? 'north' : 'south'}`)].join(
        '\n',
      ) + '\n';
    fs.writeFileSync(path.join(root, 'manifest.csv'), withSplit);
    await page.getByTestId('evaluate-folder-input').setInputFiles(root);
    const testOnly = await waitDone(page, report.meta.date);
    expect([testOnly.meta.split, testOnly.n]).toEqual(['test', 4]);
    expect(await page.getByTestId('evaluate-split').locator('option').allTextContents()).toEqual(['test', 'val', 'all']);
    await page.getByTestId('evaluate-split').selectOption('all');
    const all = await waitDone(page, testOnly.meta.date);
    expect([all.meta.split, all.n]).toEqual(['all', 6]);
    // A bad label: the CLI's message, naming the line.
    fs.writeFileSync(path.join(root, 'manifest.csv'), text.replace(',normal,', ',nromal,'));
    await page.getByTestId('evaluate-folder-input').setInputFiles(root);
    await page.getByTestId('evaluate-error').waitFor();
    const line = text.split('\n').findIndex((l) => l.includes(',normal,')) + 1;
    expect(await page.getByTestId('evaluate-error').textContent()).toBe(
      `manifest.csv line ${line}: unknown label 'nromal' (expected covid, normal, pneumonia)`,
    );
    expect(session.problems).toEqual([]);
  });
});
