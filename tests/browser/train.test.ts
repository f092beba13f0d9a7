// The Train page end to end, against the production build in headless Chromium (wasm backend):
// folder / zip / per-class intake, live curves, evaluation, export + Node parity, saving for the
// Classify page, Stop, and the Grad-CAM view of misclassified images.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { unzipSync, zipSync } from 'fflate';
import {
  addFiles,
  ensureBuild,
  hasData,
  launchBrowser,
  manifest,
  openApp,
  readTable,
  skipReason,
  startPreview,
  testImages,
  waitForModel,
  waitForRows,
  type AppSession,
  type BuildInfo,
  type PreviewServer,
} from './helpers';
import type { TrainerState } from '../../src/ui/state/trainer';

if (!hasData()) console.warn(skipReason());

/** A temporary data-set folder <root>/dataset/<name>/… with `per` train images of each source label. */
function makeDataset(classes: Record<string, string>, per: number, offset = 0): { root: string; dir: string; files: Record<string, string[]> } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-train-test-'));
  const dir = path.join(root, 'dataset');
  const files: Record<string, string[]> = {};
  for (const [name, label] of Object.entries(classes)) {
    const rows = manifest()
      .filter((r) => r.split === 'train' && r.label === label)
      .slice(offset, offset + per);
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    files[name] = rows.map((r) => {
      const dest = path.join(dir, name, path.basename(r.path));
      fs.copyFileSync(r.path, dest);
      return dest;
    });
  }
  return { root, dir, files };
}

const trainState = (page: Page) => page.evaluate(() => window.cxrLabTrain!.state()) as Promise<TrainerState>;

async function openTrain(browser: Browser, url: string): Promise<AppSession> {
  const session = await openApp(browser, `${url}?backend=wasm`, { hash: '#/train', waitForModel: false });
  await session.page.getByTestId('base-status').and(session.page.locator('[data-status="ready"], [data-status="error"]')).waitFor({ timeout: 180_000 });
  const s = await trainState(session.page);
  if (s.base.status !== 'ready') throw new Error(`network failed to load: ${s.base.error}`);
  return session;
}

async function waitPrepared(page: Page, n: number): Promise<void> {
  await page.waitForFunction(
    (count) => {
      const s = window.cxrLabTrain!.state();
      return s.images.length >= count && s.images.every((im) => im.status !== 'queued');
    },
    n,
    { timeout: 180_000, polling: 100 },
  );
}

async function train(page: Page, epochs: number): Promise<TrainerState> {
  await page.getByTestId('epochs').fill(String(epochs));
  await page.getByTestId('train-button').click();
  await page.getByTestId('run-status').and(page.locator('[data-status="done"], [data-status="error"]')).waitFor({ timeout: 240_000 });
  const s = await trainState(page);
  if (s.run.status !== 'done') throw new Error(`training failed: ${s.run.error}`);
  return s;
}

/** Probabilities shown by the Train page's "Try it" panel, per file name. */
async function previewProbabilities(page: Page, files: string[]): Promise<Record<string, Record<string, number>>> {
  await page.getByTestId('preview-input').setInputFiles(files);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="preview-result"][data-status="done"]').length >= n, files.length, {
    timeout: 60_000,
  });
  return page
    .getByTestId('preview-result')
    .evaluateAll((items) =>
      Object.fromEntries(
        items.map((li) => [
          li.getAttribute('data-file'),
          Object.fromEntries(
            Array.from(li.querySelectorAll('[data-testid="probabilities"] li')).map((b) => [
              b.getAttribute('data-class'),
              Number(b.getAttribute('data-value')),
            ]),
          ),
        ]),
      ),
    );
}

describe.skipIf(!hasData())('Train page', () => {
  let build: BuildInfo;
  let server: PreviewServer;
  let browser: Browser;
  const temp: string[] = [];

  beforeAll(async () => {
    build = await ensureBuild();
    server = await startPreview();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    for (const t of temp) fs.rmSync(t, { recursive: true, force: true });
  });

  describe('a folder of 60 images of 2 classes', () => {
    let session: AppSession;
    let data: ReturnType<typeof makeDataset>;

    beforeAll(async () => {
      data = makeDataset({ covid: 'covid', normal: 'normal' }, 30);
      temp.push(data.root);
      session = await openTrain(browser, server.url);
    });

    afterAll(async () => {
      await session?.context.close();
    });

    it('uploads the folder, trains 5 epochs: 5 points per curve, the confusion matrix sums to the validation count', async () => {
      const { page } = session;
      await page.getByTestId('dataset-folder-input').setInputFiles(data.dir);
      // The page stays responsive while the worker decodes and embeds.
      const lag = await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            const t0 = performance.now();
            setTimeout(() => resolve(performance.now() - t0 - 50), 50);
          }),
      );
      expect(lag).toBeLessThan(250);
      await waitPrepared(page, 60);
      const cards = page.getByTestId('class-card');
      expect(await cards.evaluateAll((els) => els.map((e) => [e.getAttribute('data-class'), Number(e.getAttribute('data-count'))]))).toEqual([
        ['covid', 30],
        ['normal', 30],
      ]);
      // Thumbnails per class.
      expect(await cards.first().locator('canvas').count()).toBeGreaterThanOrEqual(10);
      const split = page.getByTestId('split-summary');
      const nVal = Number(await split.getAttribute('data-val'));
      expect(nVal).toBe(12); // 20 % of each class
      expect(Number(await split.getAttribute('data-train'))).toBe(48);

      const s = await train(page, 5);
      expect(s.run.history).toHaveLength(5);
      for (const chart of ['chart-loss', 'chart-accuracy']) {
        const fig = page.getByTestId(chart);
        expect(await fig.getAttribute('data-points')).toBe('5');
        // Two curves (training, validation), each with 5 markers.
        const dots = await fig.locator('.recharts-line-dots').evaluateAll((groups) => groups.map((g) => g.querySelectorAll('.recharts-line-dot').length));
        expect(dots).toEqual([5, 5]);
      }
      const cm = page.getByTestId('confusion-matrix');
      expect(Number(await cm.getAttribute('data-total'))).toBe(nVal);
      const cells = await cm.getByTestId('cm-cell').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-count'))));
      expect(cells).toHaveLength(4);
      expect(cells.reduce((a, b) => a + b, 0)).toBe(nVal);
      expect(s.run.valIds).toHaveLength(nVal);
      // Per-class metrics and ROC curves are there.
      expect(await page.getByTestId('metrics-row').count()).toBe(2);
      await page.getByTestId('roc-chart').locator('.recharts-line').first().waitFor();
      expect(session.problems).toEqual([]);
      expect(session.log.foreign()).toEqual([]);
    });

    it('the same seed gives the same curves; another seed gives other curves', async () => {
      const { page } = session;
      const first = (await trainState(page)).run.history;
      const again = (await train(page, 5)).run.history;
      const curves = (h: TrainerState['run']['history']) => h.map((e) => [e.trainLoss, e.trainAcc, e.valLoss, e.valAcc]);
      expect(curves(again)).toEqual(curves(first));
      await page.getByTestId('seed').fill('7');
      const other = (await train(page, 5)).run.history;
      expect(curves(other)).not.toEqual(curves(first));
      await page.getByTestId('seed').fill('42');
      expect(curves((await train(page, 5)).run.history)).toEqual(curves(first));
    });

    it('the downloaded model, loaded in Node, predicts what the browser predicts (within 1e-4)', async () => {
      const { page } = session;
      const files = [...testImages('covid', 2), ...testImages('normal', 2)];
      const shown = await previewProbabilities(page, files);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-zip').click()]);
      expect(download.suggestedFilename()).toMatch(/^cxr-lab-.+\.zip$/);
      const zip = unzipSync(new Uint8Array(fs.readFileSync((await download.path())!)));
      // The Model card travels with the weights: the validation report and the card itself.
      expect(Object.keys(zip).sort()).toEqual(['metadata.json', 'metrics.json', 'model-card.md', 'model.json', 'weights.bin']);
      expect(new TextDecoder().decode(zip['model-card.md'])).toContain('| covid | 24 | 6 |');
      const metadata = JSON.parse(new TextDecoder().decode(zip['metadata.json']));
      expect(metadata.classNames).toEqual(['covid', 'normal']);
      const base = JSON.parse(fs.readFileSync(path.join(build.modelDir, 'metadata.json'), 'utf8'));
      expect(metadata.preprocessing).toEqual(base.preprocessing);

      const { initNodeBackend } = await import('../../src/ml/tf-node');
      await initNodeBackend('cpu');
      const { loadModelFiles } = await import('../../src/ml/io');
      const { Classifier } = await import('../../src/ml/classifier');
      const { preprocessFile } = await import('../../scripts/lib/node-io');
      const { model, metadata: meta } = await loadModelFiles(async (p) => {
        if (!zip[p]) throw new Error(`no ${p} in the zip`);
        return zip[p];
      });
      const classifier = new Classifier(model, meta);
      let worst = 0;
      for (const f of files) {
        const input = await preprocessFile(f, meta.preprocessing);
        const { predictions } = await classifier.predict([input]);
        const browserProbs = shown[path.basename(f)];
        expect(browserProbs, f).toBeDefined();
        meta.classNames.forEach((c, i) => {
          worst = Math.max(worst, Math.abs(predictions[0].probabilities[i] - browserProbs[c]));
        });
      }
      classifier.dispose();
      expect(worst).toBeLessThanOrEqual(1e-4);
    });
  });

  it('a model saved in the browser (trained from a .zip) appears on the Classify page and classifies with its own classes', async () => {
    const data = makeDataset({ sick: 'covid', healthy: 'normal' }, 12, 40);
    temp.push(data.root);
    const zipPath = path.join(data.root, 'dataset.zip');
    const entries: Record<string, Uint8Array> = {};
    for (const [name, list] of Object.entries(data.files))
      for (const f of list) entries[`dataset/${name}/${path.basename(f)}`] = new Uint8Array(fs.readFileSync(f));
    entries['dataset/readme.txt'] = new TextEncoder().encode('not an image');
    fs.writeFileSync(zipPath, zipSync(entries, { level: 0 }));

    const session = await openTrain(browser, server.url);
    const { page } = session;
    await page.getByTestId('dataset-zip-input').setInputFiles(zipPath);
    await waitPrepared(page, 24);
    // Classes in alphabetical order, whatever the archive's order.
    expect(await page.getByTestId('class-card').evaluateAll((els) => els.map((e) => e.getAttribute('data-class')))).toEqual(['healthy', 'sick']);
    // The stray text file is listed as skipped, with its reason.
    expect(await page.getByTestId('skipped-file').allTextContents()).toEqual(['dataset/readme.txt: not an image (a text file)']);
    // Few images per class: a warning, not an error.
    expect(await page.getByTestId('dataset-warning').count()).toBe(0);
    await train(page, 3);
    const probe = testImages('covid', 1);
    const shown = await previewProbabilities(page, probe);

    await page.getByTestId('save-name').fill('sick vs healthy (test)');
    await page.getByTestId('save-button').click();
    await page.getByTestId('saved-model').and(page.locator('[data-name="sick vs healthy (test)"]')).waitFor();

    await page.getByTestId('nav-classify').click();
    await waitForModel(page);
    const picker = page.getByTestId('model-picker-select');
    await picker.waitFor();
    expect(await picker.locator('option').allTextContents()).toContain('sick vs healthy (test) (healthy, sick)');
    await picker.selectOption('sick vs healthy (test)');
    await page.waitForFunction(() => window.cxrLab?.model().info?.metadata.classNames.join() === 'healthy,sick', undefined, { timeout: 60_000 });
    await waitForModel(page);
    await addFiles(page, [...probe, testImages('normal', 1)[0]]);
    await waitForRows(page, 2);
    const rows = await readTable(page);
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.status).toBe('done');
      expect(Object.keys(r.probabilities).sort()).toEqual(['healthy', 'sick']);
      expect(['sick', 'healthy']).toContain(r.label);
    }
    // Same numbers as the Train page's preview of the same file.
    const row = rows.find((r) => r.file === path.basename(probe[0]))!;
    for (const c of ['sick', 'healthy']) expect(Math.abs(row.probabilities[c] - shown[path.basename(probe[0])][c])).toBeLessThanOrEqual(1e-4);
    // Still there after a reload (IndexedDB).
    await page.reload();
    await waitForModel(page);
    expect(await page.getByTestId('model-picker-select').locator('option').allTextContents()).toContain('sick vs healthy (test) (healthy, sick)');
    expect(session.problems).toEqual([]);
    await session.context.close();
  });

  it('Stop during training keeps a usable model of the last finished epoch and leaks no tensors', async () => {
    const data = makeDataset({ a: 'pneumonia', b: 'normal' }, 16, 80);
    temp.push(data.root);
    const session = await openTrain(browser, server.url);
    const { page } = session;
    // Per-class cards: name the classes, then add images to each.
    const names = page.getByTestId('class-name');
    await names.nth(0).fill('pneumonia-ish');
    await names.nth(1).fill('normal-ish');
    await page.getByTestId('class-files-input').nth(0).setInputFiles(data.files.a);
    await page.getByTestId('class-files-input').nth(1).setInputFiles(data.files.b);
    await waitPrepared(page, 32);
    expect(
      await page.getByTestId('class-card').evaluateAll((els) => els.map((e) => [e.getAttribute('data-class'), Number(e.getAttribute('data-count'))])),
    ).toEqual([
      ['pneumonia-ish', 16],
      ['normal-ish', 16],
    ]);
    // A complete short run first: the reference for the worker's tensor count with one trained model.
    await train(page, 2);
    const before = await page.evaluate(() => window.cxrLabTrain!.memory());

    await page.locator('.tr-advanced summary').click();
    await page.getByTestId('patience').fill('0');
    await page.getByTestId('batch-size').selectOption('8');
    await page.getByTestId('epochs').fill('500');
    await page.getByTestId('train-button').click();
    await page.waitForFunction(() => window.cxrLabTrain!.state().run.history.length >= 3, undefined, { timeout: 120_000, polling: 20 });
    await page.getByTestId('stop-button').click();
    await page.getByTestId('run-status').and(page.locator('[data-status="done"], [data-status="error"]')).waitFor({ timeout: 120_000 });
    const s = await trainState(page);
    expect(s.run.status).toBe('done');
    const r = s.run.result!;
    expect(r.stopReason).toBe('stopped');
    expect(r.history.length).toBeGreaterThanOrEqual(3);
    expect(r.history.length).toBeLessThan(500);
    expect(r.keptEpoch).toBe(r.history[r.history.length - 1].epoch);
    // The kept model's validation probabilities reproduce the last finished epoch's loss and accuracy.
    const k = 2;
    const probs = Array.from(r.valProbs!);
    let loss = 0;
    let correct = 0;
    s.run.valLabels.forEach((y, i) => {
      const p = probs.slice(i * k, i * k + k);
      loss -= Math.log(p[y]);
      if (p.indexOf(Math.max(...p)) === y) correct++;
    });
    const last = r.history[r.history.length - 1];
    expect(Math.abs(loss / s.run.valLabels.length - last.valLoss!)).toBeLessThan(1e-4);
    expect(correct / s.run.valLabels.length).toBeCloseTo(last.valAcc!, 6);
    // Usable: it classifies, and the worker holds exactly as many tensors as after the complete run.
    const shown = await previewProbabilities(page, testImages('pneumonia', 1));
    const p = Object.values(shown)[0];
    expect(Object.keys(p).sort()).toEqual(['normal-ish', 'pneumonia-ish']);
    expect(Math.abs(p['normal-ish'] + p['pneumonia-ish'] - 1)).toBeLessThan(1e-5);
    const after = await page.evaluate(() => window.cxrLabTrain!.memory());
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(session.problems).toEqual([]);
    await session.context.close();
  });

  it('a misclassified validation image opens with the Grad-CAM heatmap of the predicted class, an opacity slider, a legend, and another class on request', async () => {
    // The same 8 images in both classes: the network cannot tell the copies apart, so some
    // validation images are misclassified whatever it learns.
    const data = makeDataset({ twin: 'covid' }, 8, 120);
    temp.push(data.root);
    const session = await openTrain(browser, server.url);
    const { page } = session;
    const names = page.getByTestId('class-name');
    await names.nth(0).fill('left');
    await names.nth(1).fill('right');
    await page.getByTestId('class-files-input').nth(0).setInputFiles(data.files.twin);
    await page.getByTestId('class-files-input').nth(1).setInputFiles(data.files.twin);
    await waitPrepared(page, 16);
    await page.getByTestId('val-fraction').fill('0.5');
    expect(Number(await page.getByTestId('split-summary').getAttribute('data-val'))).toBe(8);
    await train(page, 3);
    const gallery = page.getByTestId('misclassified-gallery');
    await gallery.waitFor();
    expect(Number(await gallery.getAttribute('data-count'))).toBeGreaterThan(0);
    const before = await page.evaluate(() => window.cxrLabTrain!.memory());

    await page.getByTestId('misclassified-item').first().click();
    const cam = page.getByTestId('misclassified-detail').getByTestId('gradcam');
    await cam.and(page.locator('[data-status="ready"], [data-status="error"]')).waitFor({ timeout: 60_000 });
    expect(await cam.getAttribute('data-status')).toBe('ready');
    // The predicted class first.
    const s = await trainState(page);
    const predicted = await page.getByTestId('misclassified-detail').locator('p strong').nth(1).textContent();
    expect(await cam.getAttribute('data-class')).toBe(predicted);
    const select = cam.getByTestId('gradcam-class');
    expect(await select.inputValue()).toBe(String(s.run.classNames.indexOf(predicted!)));
    // The overlay: drawn where there is evidence, at the slider's opacity; the legend is there.
    const overlay = cam.getByTestId('gradcam-overlay');
    const painted = () =>
      overlay.evaluate((c: HTMLCanvasElement) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
      });
    const rawMax = Number(await cam.getAttribute('data-raw-max'));
    if (rawMax > 0) expect(await painted()).toBeGreaterThan(0);
    else await cam.getByTestId('gradcam-empty').waitFor();
    expect(await overlay.getAttribute('data-opacity')).toBe('0.5');
    await cam.getByTestId('gradcam-opacity').fill('0.8');
    await expect.poll(() => overlay.getAttribute('data-opacity')).toBe('0.8');
    await cam.getByTestId('gradcam-legend').waitFor();
    // Another class.
    const other = 1 - s.run.classNames.indexOf(predicted!);
    await select.selectOption(String(other));
    await page.waitForFunction(
      (c) => {
        const el = document.querySelector('[data-testid="misclassified-detail"] [data-testid="gradcam"]');
        return el?.getAttribute('data-status') === 'ready' && el.getAttribute('data-class') === c;
      },
      s.run.classNames[other],
      { timeout: 60_000 },
    );
    // Both maps computed without leaving a tensor behind in the worker.
    const after = await page.evaluate(() => window.cxrLabTrain!.memory());
    expect(after.numTensors).toBe(before.numTensors);
    expect(session.problems).toEqual([]);
    await session.context.close();
  });

  it('last-block fine-tuning (augmented images) runs after the head in the worker; the kept model includes the tuned block and classifies; each image was decoded once', async () => {
    const data = makeDataset({ covid: 'covid', pneumonia: 'pneumonia' }, 10, 200);
    temp.push(data.root);
    const session = await openTrain(browser, server.url);
    const { page } = session;
    await page.getByTestId('dataset-folder-input').setInputFiles(data.dir);
    await waitPrepared(page, 20);
    await page.locator('.tr-advanced summary').click();
    await page.getByTestId('patience').fill('0');
    await page.getByTestId('block-enabled').check();
    await page.getByTestId('block-epochs').fill('1');
    const s = await train(page, 2);
    const r = s.run.result!;
    expect(r.history.map((h) => [h.epoch, h.stage])).toEqual([
      [1, 'head'],
      [2, 'head'],
      [3, 'block'],
    ]);
    expect(r.blockTuned).toBe(true);
    // Embedding, block tuning (train and validation) and the trust fit all ran from one decode per image.
    expect(r.decodes).toBe(20);
    expect(r.metadata.notes?.[0]).toMatch(/last block fine-tuned/);
    expect(await page.getByTestId('chart-loss').getAttribute('data-points')).toBe('3');
    const shown = Object.values(await previewProbabilities(page, testImages('pneumonia', 1)))[0];
    expect(Object.keys(shown).sort()).toEqual(['covid', 'pneumonia']);
    expect(Math.abs(shown.covid + shown.pneumonia - 1)).toBeLessThan(1e-5);
    expect(session.problems).toEqual([]);
    await session.context.close();
  });
});
