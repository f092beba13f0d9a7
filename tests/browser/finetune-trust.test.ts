// A model fine-tuned on the Train page keeps the trust features on the Classify page (the
// "Not a chest X-ray?" gate, the covid operating point, calibration) and gets its own Model card;
// the Model card of the shipped model states its shortcut audit plainly and titles every chart.
// Against the production build in headless Chromium (wasm backend), real films from ../shared/data/cxr.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { encode as encodePng } from 'fast-png';
import { addFiles, DATA_DIR, hasData, manifest, openApp, skipReason, testImages, useAppHarness, waitForModel, waitForRows } from './helpers';
import type { TrainerState } from '../../src/ui/state/trainer';

if (!hasData()) console.warn(skipReason());

const trainState = (page: Page) => page.evaluate(() => window.cxrLabTrain!.state()) as Promise<TrainerState>;

/** Serious or critical axe violations of the page as it is now. */
async function seriousAxe(page: Page): Promise<string[]> {
  const axe = await new AxeBuilder({ page }).analyze();
  return axe.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** A colour photo-like gradient and a blank square, as PNG files made here. */
function generatedImages(): { name: string; buffer: Buffer; mimeType: string }[] {
  const w = 256;
  const photo = new Uint8Array(w * w * 3);
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) photo.set([x, y, 255 - ((x + y) >> 1)], (y * w + x) * 3);
  const blank = new Uint8Array(w * w).fill(190);
  return [
    { name: 'photo-gradient.png', buffer: Buffer.from(encodePng({ width: w, height: w, data: photo, channels: 3, depth: 8 })), mimeType: 'image/png' },
    { name: 'blank-square.png', buffer: Buffer.from(encodePng({ width: w, height: w, data: blank, channels: 1, depth: 8 })), mimeType: 'image/png' },
  ];
}

describe.skipIf(!hasData())('trust features of fine-tuned models; the Model card', () => {
  const h = useAppHarness();

  it('a model fine-tuned on 12 covid + 12 normal films withholds a photo, a blank square and a lateral film on Classify, has a covid operating point and its own Model card', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-trust-test-'));
    try {
      for (const label of ['covid', 'normal']) {
        fs.mkdirSync(path.join(root, 'dataset', label), { recursive: true });
        for (const r of manifest()
          .filter((m) => m.split === 'train' && m.label === label)
          .slice(0, 12))
          fs.copyFileSync(r.path, path.join(root, 'dataset', label, path.basename(r.path)));
      }
      const session = await openApp(h.browser, `${h.server.url}?backend=wasm`, { hash: '#/train', waitForModel: false });
      const { page } = session;
      await page.getByTestId('base-status').and(page.locator('[data-status="ready"], [data-status="error"]')).waitFor({ timeout: 180_000 });
      // Empty class cards pass axe (no aria-label on a plain div).
      expect(await seriousAxe(page)).toEqual([]);

      await page.getByTestId('dataset-folder-input').setInputFiles(path.join(root, 'dataset'));
      await page.waitForFunction(
        () => {
          const s = window.cxrLabTrain!.state();
          return s.images.length >= 24 && s.images.every((im) => im.status !== 'queued');
        },
        undefined,
        { timeout: 180_000, polling: 100 },
      );
      const nVal = Number(await page.getByTestId('split-summary').getAttribute('data-val'));
      await page.getByTestId('epochs').fill('4');
      await page.getByTestId('train-button').click();
      await page.getByTestId('run-status').and(page.locator('[data-status="done"], [data-status="error"]')).waitFor({ timeout: 240_000 });
      const s = await trainState(page);
      expect(s.run.status, s.run.error ?? '').toBe('done');
      const trust = s.run.result!.metadata.trust!;
      // The extra stage's cost, for the record (decode again + one forward pass per image).
      console.log(
        `calibrate stage (gate, temperature, operating point): ${Math.round(s.run.result!.timings.calibrateMs)} ms for 24 images; whole run ${Math.round(s.run.result!.timings.totalMs)} ms`,
      );
      expect(trust.temperatureFit?.valImages).toBe(nVal);
      expect(trust.covidThreshold).toMatchObject({ targetSensitivity: 0.95, valImages: nVal, valPositives: nVal / 2 });
      expect(trust.ood?.embedding.means).toHaveLength(2);
      expect(trust.ood?.fit).toMatchObject({ trainImages: 24 - nVal, valImages: nVal, flaggedAfterRefit: 0 });

      expect(await page.getByTestId('run-trust').innerText()).toContain(`Calibrated on the ${nVal} validation images`);
      // The Train page's "Try it" classifies as the Classify page will: the photo is withheld there too.
      await page.getByTestId('preview-input').setInputFiles(generatedImages().slice(0, 1));
      await page.locator('[data-testid="preview-result"][data-status="done"]').waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('preview-result').getAttribute('data-withheld')).toBe('true');
      await page.getByTestId('preview-withheld').waitFor();

      await page.getByTestId('save-name').fill('covid vs normal (trust)');
      await page.getByTestId('save-button').click();
      await page.getByTestId('saved-model').and(page.locator('[data-name="covid vs normal (trust)"]')).waitFor();

      // Classify with it: the generated images are withheld, the film gets a covid screen.
      await page.getByTestId('nav-classify').click();
      await waitForModel(page);
      await page.getByTestId('model-picker-select').selectOption('covid vs normal (trust)');
      await page.waitForFunction(() => window.cxrLab?.model().info?.metadata.classNames.join() === 'covid,normal', undefined, { timeout: 60_000 });
      await waitForModel(page);
      const film = testImages('covid', 1)[0];
      // A real lateral film from the OOD set (never used for fitting), when it is here.
      const oodDir = path.resolve(DATA_DIR, '../ood');
      const lateral = fs.existsSync(path.join(oodDir, 'manifest.csv'))
        ? fs
            .readFileSync(path.join(oodDir, 'manifest.csv'), 'utf8')
            .split('\n')
            .map((l) => l.split(',')[0])
            .find((f) => f.startsWith('images/lateral/'))
        : undefined;
      const extra = lateral ? [path.join(oodDir, lateral)] : [];
      await addFiles(page, [...generatedImages(), film, ...extra]);
      await waitForRows(page, 3 + extra.length);
      const rows = await page.getByTestId('result-row').evaluateAll((trs) =>
        trs.map((tr) => ({
          file: tr.getAttribute('data-file'),
          withheld: tr.getAttribute('data-withheld'),
          screen: tr.querySelector('[data-testid="screen-cell"]')?.getAttribute('data-state') ?? null,
        })),
      );
      const byFile = Object.fromEntries(rows.map((r) => [r.file, r]));
      expect(byFile['photo-gradient.png'].withheld).toBe('true');
      expect(byFile['blank-square.png'].withheld).toBe('true');
      expect(byFile[path.basename(film)].withheld).toBe('false');
      if (lateral) expect(byFile[path.basename(lateral)].withheld).toBe('true');
      expect(['positive', 'negative']).toContain(byFile[path.basename(film)].screen);

      // The Model card describes the model in use: its split, its validation metrics, its trust numbers, its caveats.
      await page.getByTestId('nav-model').click();
      const card = page.getByTestId('model-card');
      await card.and(page.locator('[data-source="saved"]')).waitFor();
      expect(await page.getByTestId('mc-in-use').innerText()).toContain('covid vs normal (trust)');
      expect(await page.getByTestId('mc-name').innerText()).toBe('covid / normal (fine-tuned)');
      expect(Number(await page.getByTestId('mc-split').getAttribute('data-val'))).toBe(nVal);
      expect(await page.getByTestId('mc-operating-point').innerText()).toContain(`(${nVal} images, ${nVal / 2} covid)`);
      expect(await page.getByTestId('mc-temperature').innerText()).toContain(`fitted on ${nVal} validation images`);
      expect(await page.getByTestId('mc-ood').innerText()).toMatch(/refitted on the \d+ training and \d+ validation images/);
      expect(await page.locator('#mc-metrics').innerText()).toBe('Validation-split metrics');
      expect(await page.getByTestId('metrics-summary').innerText()).toMatch(new RegExp(`val split: ${nVal} images`));
      await page.getByTestId('confusion-matrix').waitFor();
      await page.getByTestId('op-explorer').waitFor();
      await page.getByTestId('mc-chart-loss').waitFor();
      expect(await page.getByTestId('mc-caveats').innerText()).toContain(`validation split (${nVal} images)`);
      expect(await page.getByTestId('audit-missing').innerText()).toContain('not run for models fine-tuned in the browser');
      const cardText = await card.innerText();
      expect(cardText).not.toMatch(/`|trainAcc|valLoss|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
      expect(session.problems).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 600_000);

  it("the shipped model's card: centre-only miss stated like the border-only pass, audit.json linked, every chart titled, words for the curves on separate loss/accuracy charts, no raw backticks, paths or ISO timestamps; no serious axe violation", async () => {
    const session = await openApp(h.browser, h.server.url, { hash: '#/model', waitForModel: false });
    const { page } = session;
    await page.getByTestId('shortcut-audit').waitFor({ timeout: 60_000 });
    await page.getByTestId('mc-chart-loss').waitFor();
    const audit = JSON.parse(fs.readFileSync(path.join(h.build.modelDir, 'audit.json'), 'utf8')) as {
      modes: { mode: string; accuracy: number }[];
      check: { passed: boolean };
    };
    const acc = (m: string) => audit.modes.find((x) => x.mode === m)!.accuracy;
    const drop = acc('full') - acc('centre-only');
    const centre = await page.getByTestId('shortcut-audit-centre').innerText();
    expect(centre).toContain(
      `Centre-only accuracy ${acc('centre-only').toFixed(3)}: ${(100 * drop).toFixed(1)} points below full accuracy (${acc('full').toFixed(3)})`,
    );
    expect(centre).toMatch(
      drop > 0.05 ? /outside the target of at most 5 points \(missed by \d\.\d points\)/ : /within the target of at most 5 points \(passed\)/,
    );
    expect(await page.getByTestId('shortcut-audit-check').innerText()).toMatch(
      audit.check.passed ? /within the 0\.60 limit that CI enforces \(passed\)/ : /\(failed\)/,
    );
    const link = page.getByRole('link', { name: 'audit.json' });
    const href = await link.getAttribute('href');
    expect(href).toBe('model/audit.json');
    expect(await page.evaluate(async (u) => (await fetch(u)).status, href!)).toBe(200);
    // Every chart has a visible title.
    const titles = await page.locator('figure.chart').evaluateAll((figs) => figs.map((f) => f.querySelector('.chart__title')?.textContent?.trim() ?? ''));
    expect(titles.length).toBeGreaterThanOrEqual(5);
    expect(titles.filter((t) => t.length < 8)).toEqual([]);
    // Loss and accuracy on their own charts, in words.
    const legend = (id: string) => page.getByTestId(id).locator('.recharts-legend-item-text').allInnerTexts();
    expect(await legend('mc-chart-loss')).toEqual(['training loss', 'validation loss']);
    expect(await legend('mc-chart-accuracy')).toEqual(['training accuracy', 'validation accuracy', 'validation macro AUC']);
    const text = await page.getByTestId('model-card').innerText();
    expect(text).not.toMatch(/trainAcc|valLoss|trainLoss|valAcc/);
    expect(text).not.toContain('`');
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    expect(text).not.toMatch(/\.\.\/|shared\/data|public\/model/);
    expect(await seriousAxe(page)).toEqual([]);
    expect(session.problems).toEqual([]);
  }, 180_000);
});
