// Trust features end to end, against the production build in headless Chromium: the Grad-CAM overlay
// on the Classify page (opacity, class picker, whole-image view, no tensor leak), the covid screen at
// the operating point (card, table, CSV), and the model card's threshold slider, whose numbers must
// equal an independent computation from metrics.json's per-image samples.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { addFiles, hasData, openApp, skipReason, testImages, useAppHarness, waitForRows, workerMemory } from './helpers';

if (!hasData()) console.warn(skipReason());

/** Waits on the worker (Grad-CAM, model load) are slow under SwiftShader on 2 cores. */
const POLL = { timeout: 60_000, interval: 100 };

/** Sum of the alpha channel and a content hash of a canvas, read in the page. */
function canvasStats(canvas: Locator): Promise<{ alpha: number; hash: number; width: number; height: number }> {
  return canvas.evaluate((el) => {
    const c = el as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let alpha = 0;
    let hash = 2166136261;
    for (let i = 0; i < d.length; i++) {
      if (i % 4 === 3) alpha += d[i];
      hash = Math.imul(hash ^ d[i], 16777619) >>> 0;
    }
    return { alpha, hash, width: c.width, height: c.height };
  });
}

function firstResultId(page: Page): Promise<number> {
  return page.evaluate(() => window.cxrLab!.batch().rows.find((r) => r.status === 'done')!.result!.resultId);
}

/** RFC 4180 CSV → records keyed by the header (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      (row = []), (field = ''), i++;
    } else field += ch;
  }
  if (field || row.length) row.push(field), rows.push(row);
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(r.map((v, i) => [header[i], v])));
}

/** Independent sensitivity / specificity / PPV / NPV of "score >= t" (plain counting, no app code). */
function independent(labels: number[], scores: number[], positiveClass: number, t: number) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  labels.forEach((y, i) => {
    const called = scores[i] >= t;
    if (y === positiveClass) called ? tp++ : fn++;
    else called ? fp++ : tn++;
  });
  const r = (a: number, b: number) => (b === 0 ? null : a / b);
  return { tp, fp, fn, tn, sensitivity: r(tp, tp + fn), specificity: r(tn, tn + fp), ppv: r(tp, tp + fp), npv: r(tn, tn + fn) };
}

describe.skipIf(!hasData())('Trust features', () => {
  const app = useAppHarness();

  it('Grad-CAM on a real chest X-ray: overlay appears, opacity slider and class picker change it, whole-image view, no tensor leak', async () => {
    const file = testImages('covid', 1)[0];
    const { page, context, problems } = await openApp(app.browser, app.server.url);
    await addFiles(page, [file]);
    await waitForRows(page, 1);
    const resultId = await firstResultId(page);
    const classNames = await page.evaluate(() => window.cxrLab!.model().info!.metadata.classNames);
    const lastConv = await page.evaluate(() => window.cxrLab!.model().info!.metadata.layers.lastConv);

    // The worker's maps for every class, through the debug hook (uncached); the first call is the baseline.
    const maps: { classIndex: number; rawMax: number; heatmap: number[]; width: number; height: number; layer: string }[] = [];
    let baseline: { numTensors: number; numBytes: number } | null = null;
    for (let k = 0; k < classNames.length; k++) {
      maps.push(
        await page.evaluate(
          async ({ id, k }) => {
            const r = await window.cxrLab!.gradcam(id, k);
            return { classIndex: r.classIndex, rawMax: r.rawMax, heatmap: Array.from(r.heatmap), width: r.width, height: r.height, layer: r.layer };
          },
          { id: resultId, k },
        ),
      );
      if (k === 0) baseline = await workerMemory(page);
    }
    for (const m of maps) {
      expect(m.layer).toBe(lastConv);
      expect(m.heatmap).toHaveLength(m.width * m.height);
      expect(Math.max(...m.heatmap)).toBeLessThanOrEqual(1);
      expect(Math.min(...m.heatmap)).toBeGreaterThanOrEqual(0);
    }
    // Maps with evidence, and two that differ, to see the picker act.
    const withEvidence = maps.filter((m) => m.rawMax > 0);
    expect(withEvidence.length, 'no class has positive Grad-CAM evidence on this image').toBeGreaterThanOrEqual(1);
    const card = page.getByTestId('result-card');
    const predicted = (await card.getByTestId('label').getAttribute('data-label'))!;
    const a = withEvidence.find((m) => classNames[m.classIndex] === predicted) ?? withEvidence[0];
    const b = maps.find((m) => m.classIndex !== a.classIndex && m.heatmap.some((v, i) => Math.abs(v - a.heatmap[i]) > 1e-3));

    // Off by default; switched on from the keyboard.
    expect(await card.getByTestId('gradcam-overlay').count()).toBe(0);
    await card.getByTestId('gradcam-toggle').focus();
    await page.keyboard.press('Space');
    const overlay = card.getByTestId('gradcam-overlay');
    await overlay.waitFor();
    // Defaults to the predicted class.
    expect(await overlay.getAttribute('data-class')).toBe(predicted);
    expect(await card.getByTestId('gradcam-class').inputValue()).toBe(String(classNames.indexOf(predicted)));
    await card.getByTestId('gradcam-legend').waitFor();
    expect(await card.getByTestId('gradcam-legend').getByRole('img').getAttribute('aria-label')).toMatch(/low.*high/);

    // Pick class a: the page shows the worker's map for it.
    await card.getByTestId('gradcam-class').selectOption(String(a.classIndex));
    await expect.poll(() => card.getByTestId('gradcam').getAttribute('data-class'), POLL).toBe(classNames[a.classIndex]);
    expect(Number(await card.getByTestId('gradcam').getAttribute('data-raw-max'))).toBeCloseTo(a.rawMax, 4);
    expect(await card.getByTestId('gradcam-status').innerText()).toContain(lastConv);

    // Opacity: End = 100%, Home = 0% (nothing drawn), ten steps of 5% = 50% (half the alpha).
    const slider = card.getByTestId('gradcam-opacity');
    await slider.focus();
    await page.keyboard.press('End');
    await expect.poll(() => overlay.getAttribute('data-opacity'), POLL).toBe('1');
    const full = await canvasStats(overlay);
    expect(full.alpha).toBeGreaterThan(0);
    await page.keyboard.press('Home');
    await expect.poll(() => overlay.getAttribute('data-opacity'), POLL).toBe('0');
    expect((await canvasStats(overlay)).alpha).toBe(0);
    for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
    await expect.poll(() => overlay.getAttribute('data-opacity'), POLL).toBe('0.5');
    expect(await card.getByTestId('gradcam-opacity-value').innerText()).toBe('50%');
    const half = await canvasStats(overlay);
    expect(half.alpha / full.alpha).toBeGreaterThan(0.48);
    expect(half.alpha / full.alpha).toBeLessThan(0.52);

    // Another class: another picture.
    if (b) {
      await card.getByTestId('gradcam-class').selectOption(String(b.classIndex));
      await expect.poll(() => overlay.getAttribute('data-class'), POLL).toBe(classNames[b.classIndex]);
      await expect.poll(() => card.getByTestId('gradcam').getAttribute('data-status'), POLL).toBe('ready');
      expect((await canvasStats(overlay)).hash).not.toBe(half.hash);
      if (b.rawMax === 0) await card.getByTestId('gradcam-empty').waitFor();
    } else {
      console.warn('every class has the same Grad-CAM map on this image: class switching checked by label only');
    }

    // Whole-image view: the original's aspect ratio, the heatmap over the crop.
    await card.getByTestId('gradcam-view-original').check();
    const original = card.getByTestId('gradcam-original');
    await original.waitFor();
    const info = await page.evaluate(() => window.cxrLab!.batch().rows[0].result!);
    const stats = await canvasStats(original);
    expect(Math.max(stats.width, stats.height)).toBeLessThanOrEqual(384);
    expect(Math.abs(stats.width / stats.height - info.width / info.height)).toBeLessThan(0.02);
    await card.getByTestId('gradcam-view-input').check();
    await overlay.waitFor();

    // Repeated Grad-CAM calls (hook and page) leave the worker's tensor count where it was.
    for (let i = 0; i < 12; i++)
      await page.evaluate(({ id, k }) => window.cxrLab!.gradcam(id, k).then(() => undefined), { id: resultId, k: i % classNames.length });
    for (let k = 0; k < classNames.length; k++) {
      await card.getByTestId('gradcam-class').selectOption(String(k));
      // data-class names the class of the map on screen (set once that map is ready).
      await expect.poll(() => card.getByTestId('gradcam').getAttribute('data-class'), POLL).toBe(classNames[k]);
    }
    const after = await workerMemory(page);
    expect(after.numTensors).toBe(baseline!.numTensors);
    expect(after.numBytes).toBe(baseline!.numBytes);

    // A result id the worker no longer keeps gives a clear error.
    const expired = await page.evaluate(() =>
      window.cxrLab!.gradcam(987654).then(
        () => 'ok',
        (e: Error) => e.message,
      ),
    );
    expect(expired).toMatch(/no longer kept/);

    const axe = await new AxeBuilder({ page }).analyze();
    expect(
      axe.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    ).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('covid screen at the operating point: card, table and CSV agree with p >= metadata.trust.covidThreshold', async () => {
    const files = [testImages('covid', 2)[1], testImages('normal', 2)[1]];
    // First pass with the shipped metadata: the covid probabilities of both images.
    const first = await openApp(app.browser, app.server.url);
    await addFiles(first.page, files);
    await waitForRows(first.page, 2);
    const probs = await first.page.evaluate(() =>
      window
        .cxrLab!.batch()
        .rows.map((r) => ({ name: r.name, p: r.result!.prediction.probabilities[window.cxrLab!.model().info!.metadata.classNames.indexOf('covid')] })),
    );
    await first.context.close();
    expect(probs[0].p).not.toBe(probs[1].p);
    // A threshold between them: exactly one image is screen positive.
    const threshold = (probs[0].p + probs[1].p) / 2;
    const metadata = JSON.parse(fs.readFileSync(path.join(app.build.modelDir, 'metadata.json'), 'utf8'));
    metadata.trust = {
      ...(metadata.trust ?? { temperature: 1 }),
      covidThreshold: { threshold, targetSensitivity: 0.95, valSensitivity: 0.951, valSpecificity: 0.802 },
    };
    // This test is about the operating point: no out-of-distribution verdict may withhold a result.
    delete metadata.trust.ood;
    const { page, context } = await openApp(app.browser, app.server.url, { waitForModel: false, contextOptions: { serviceWorkers: 'block' } });
    await context.route('**/model/metadata.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(metadata) }));
    await page.reload();
    await page.getByTestId('model-status').and(page.locator('[data-status="ready"]')).waitFor({ timeout: 180_000 });
    await addFiles(page, files);
    await waitForRows(page, 2);
    const cells = await page.getByTestId('result-row').evaluateAll((trs) =>
      trs.map((tr) => ({
        name: tr.getAttribute('data-file'),
        state: tr.querySelector('[data-testid="screen-cell"]')!.getAttribute('data-state'),
        text: tr.querySelector('[data-testid="screen-cell"]')!.textContent,
      })),
    );
    for (const pr of probs) {
      const cell = cells.find((c) => c.name === pr.name)!;
      const positive = pr.p >= threshold;
      expect(cell.state, pr.name).toBe(positive ? 'positive' : 'negative');
      expect(cell.text).toBe(positive ? 'positive' : 'negative');
    }
    expect(cells.filter((c) => c.state === 'positive')).toHaveLength(1);
    // The card of the shown (latest) result states the comparison.
    const card = page.getByTestId('result-card');
    const shownName = await card.getAttribute('data-file');
    const shownP = probs.find((p) => p.name === shownName)!.p;
    const line = card.getByTestId('covid-screen');
    const text = await line.innerText();
    const m = text.match(/covid screen: (positive|negative) \(p ([\d.]+) (≥|<) threshold ([\d.]+)\)/);
    expect(m, text).not.toBeNull();
    expect(m![1]).toBe(shownP >= threshold ? 'positive' : 'negative');
    expect(m![3]).toBe(shownP >= threshold ? '≥' : '<');
    expect(Number(m![2])).toBeCloseTo(shownP, m![2].split('.')[1].length - 1);
    expect(Number(m![4])).toBeCloseTo(threshold, m![4].split('.')[1].length - 1);
    expect(text).toMatch(/sensitivity 0\.95/);
    // One verdict: the headline reconciles the most likely class with the screen, and the threshold
    // is explained in one plain sentence.
    const shownRow = await page.evaluate((name) => window.cxrLab!.batch().rows.find((r) => r.name === name)!.result!, shownName);
    const headline = await card.getByTestId('verdict-headline').innerText();
    const positive = shownP >= threshold;
    if (positive && (shownRow.prediction.label !== 'covid' || shownRow.prediction.uncertain))
      expect(headline).toBe(
        `Possible covid: the covid screen is positive, although the most likely class is ${shownRow.prediction.label}${shownRow.prediction.uncertain ? ' (uncertain)' : ''}.`,
      );
    else if (positive) expect(headline).toBe('Covid: the covid screen is positive and covid is the most likely class.');
    else expect(headline).toMatch(/covid screen negative\.$|below the covid screen's cut-off\.$/);
    expect(await card.getByTestId('verdict').getAttribute('data-kind')).toBe(positive ? 'screen-positive' : 'screen-negative');
    expect((await card.getByTestId('screen-explainer').innerText()).trim()).toMatch(
      /^The covid screen is positive whenever the covid probability is at least [\d.]+ % \(here [\d.]+ %\), a cut-off chosen to catch 95 % of covid films in validation \(sensitivity 0\.95\)[^.]*\. A screening flag, not a diagnosis\.$/,
    );
    // CSV columns.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const records = parseCsv(fs.readFileSync((await download.path())!, 'utf8'));
    expect(Object.keys(records[0])).toEqual(expect.arrayContaining(['covid_screen', 'covid_threshold', 'ood_flagged']));
    for (const pr of probs) {
      const rec = records.find((r) => r.file === pr.name)!;
      expect(rec.covid_screen).toBe(pr.p >= threshold ? 'positive' : 'negative');
      expect(Number(rec.covid_threshold)).toBe(threshold);
    }
    // The filter finds the positive one.
    await page.getByTestId('filter-show').selectOption('screen-positive');
    await expect.poll(() => page.getByTestId('visible-count').innerText(), POLL).toMatch(/^1 of 2 rows/);
    // With a filter on, Export offers the filtered rows only.
    expect(await page.getByTestId('export-csv').innerText()).toBe('Export CSV (all 2)');
    const [filtered] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv-filtered').click()]);
    const onlyPositive = parseCsv(fs.readFileSync((await filtered.path())!, 'utf8'));
    expect(onlyPositive.map((r) => [r.file, r.covid_screen])).toEqual([[probs.find((p) => p.p >= threshold)!.name, 'positive']]);
    await page.getByTestId('filter-show').selectOption('all');
    expect(await page.getByTestId('export-csv-filtered').count()).toBe(0);
    await context.close();
  });

  it('an input flagged as out of distribution: class withheld, "Not a chest X-ray?" with reasons, table, filter and CSV', async () => {
    // A detector that flags everything: the shipped trust.ood with its distance threshold near 0, or,
    // for a model without one, identity-precision statistics around zero means.
    const metadata = JSON.parse(fs.readFileSync(path.join(app.build.modelDir, 'metadata.json'), 'utf8'));
    if (metadata.trust?.ood) {
      metadata.trust.ood.embedding.threshold = 1e-9;
    } else {
      const { packSymmetric } = await import('../../src/core/ood');
      const modelJson = JSON.parse(fs.readFileSync(path.join(app.build.modelDir, 'model.json'), 'utf8'));
      const kernel = (modelJson.weightsManifest as { weights: { name: string; shape: number[] }[] }[])
        .flatMap((g) => g.weights)
        .find((w) => w.name === `${metadata.layers.logits}/kernel`)!;
      const dim = kernel.shape[0];
      const identity = new Float64Array(dim * dim);
      for (let i = 0; i < dim; i++) identity[i * dim + i] = 1;
      metadata.trust = {
        ...(metadata.trust ?? { temperature: 1 }),
        ood: {
          version: 1,
          embedding: {
            layer: metadata.layers.embedding,
            dim,
            means: metadata.classNames.map(() => new Array(dim).fill(0)),
            precision: packSymmetric(identity, dim),
            shrinkage: 0,
            threshold: 1e-9,
            percentile: 95,
          },
          imageChecks: [],
        },
      };
    }
    const { page, context } = await openApp(app.browser, app.server.url, { waitForModel: false, contextOptions: { serviceWorkers: 'block' } });
    await context.route('**/model/metadata.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(metadata) }));
    await page.reload();
    await page.getByTestId('model-status').and(page.locator('[data-status="ready"]')).waitFor({ timeout: 180_000 });
    const file = testImages('pneumonia', 1)[0];
    await addFiles(page, [file]);
    await waitForRows(page, 1);
    const result = await page.evaluate(() => window.cxrLab!.batch().rows[0].result!);
    const ood = result.prediction.ood!;
    expect(ood.flagged).toBe(true);
    expect(ood.reasons.length).toBeGreaterThan(0);

    // Card: one plain reason first, the detector's numbers behind a disclosure; no class, no bars, no
    // struck-through text, no covid screen.
    const card = page.getByTestId('result-card');
    expect(await card.getAttribute('data-withheld')).toBe('true');
    const headline = await card.getByTestId('verdict-headline').innerText();
    expect(headline).toMatch(/^Not a chest X-ray\? [A-Z][^()]*\.$/);
    expect(headline).not.toMatch(/\d|>|<|dominantFraction|distance/);
    const details = card.getByTestId('ood-details');
    expect(await details.evaluate((el) => el.tagName === 'DETAILS' && !(el as HTMLDetailsElement).open)).toBe(true);
    const detailText = await details.evaluate((el) => el.textContent ?? '');
    for (const reason of ood.reasons) expect(detailText).toContain(reason);
    expect(detailText).toContain(`score ${ood.score.toFixed(3)}`);
    const label = card.getByTestId('label');
    expect(await label.innerText()).toBe('withheld');
    expect(await label.evaluate((el) => getComputedStyle(el).textDecorationLine)).toBe('none');
    expect(await card.locator('.bars').count()).toBe(0);
    expect(await card.locator('.bars__row--top').count()).toBe(0);
    expect(await card.getByTestId('covid-screen').getAttribute('data-state')).toBe(metadata.trust.covidThreshold ? 'withheld' : 'none');
    expect(await page.getByTestId('announcer').innerText()).toMatch(/result withheld\. Not a chest X-ray\?/);

    // Table and filter.
    const row = page.getByTestId('result-row');
    expect(await row.getAttribute('data-withheld')).toBe('true');
    expect(await row.getByTestId('ood-cell').getAttribute('data-flagged')).toBe('true');
    expect(await row.getByTestId('label').innerText()).toBe('withheld');
    // No probability bar or number for the withheld class in the table either (the value stays in data-value).
    expect(await row.locator('.cellbar').count()).toBe(0);
    await page.getByTestId('filter-show').selectOption(result.prediction.label);
    await expect.poll(() => page.getByTestId('visible-count').innerText(), POLL).toMatch(/^0 of 1 rows/);
    await page.getByTestId('filter-show').selectOption('ood');
    await expect.poll(() => page.getByTestId('visible-count').innerText(), POLL).toMatch(/^1 of 1 rows/);

    // CSV.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const [rec] = parseCsv(fs.readFileSync((await download.path())!, 'utf8'));
    expect(rec.ood_flagged).toBe('true');
    expect(Math.abs(Number(rec.ood_score) - ood.score)).toBeLessThan(1e-6);
    expect(rec.ood_reasons).toBe(ood.reasons.join('; '));
    // As on the page: no label, no screen; the probabilities stay, marked withheld.
    expect([rec.label, rec.uncertain, rec.covid_screen, rec.withheld]).toEqual(['', '', '', 'true']);
    expect(Number(rec[`prob_${metadata.classNames[2]}`])).toBeCloseTo(result.prediction.probabilities[2], 5);

    const axe = await new AxeBuilder({ page }).analyze();
    expect(
      axe.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    ).toEqual([]);
    await context.close();
  });

  it('model card: ROC with the operating point; the threshold slider shows sensitivity/specificity equal to an independent computation from metrics.json samples', async () => {
    const shipped = path.join(app.build.modelDir, 'metrics.json');
    let metrics: {
      classNames: string[];
      samples: { label: number[]; scores: Record<string, number[]> } | null;
      operatingPoint: { threshold: number } | null;
    } | null = null;
    if (fs.existsSync(shipped)) {
      const m = JSON.parse(fs.readFileSync(shipped, 'utf8'));
      if (m.samples && m.operatingPoint) metrics = m;
    }
    let generated = false;
    if (!metrics) {
      // No evaluated report with this model: a generated one (the way the model card test does).
      const { buildMetricsReport } = await import('../../src/core/report');
      const { createRng } = await import('../../src/core/random');
      const rng = createRng(11);
      const labels = Array.from({ length: 240 }, (_, i) => i % 3);
      const probabilities = labels.map((y) => {
        const raw = [0, 1, 2].map((k) => Math.exp((k === y ? 1.2 : 0) + rng.next() * 1.5));
        const s = raw.reduce((x, v) => x + v, 0);
        return raw.map((v) => v / s);
      });
      const report = buildMetricsReport({
        classNames: ['covid', 'normal', 'pneumonia'],
        labels,
        probabilities,
        operatingPoint: { className: 'covid', threshold: 0.37, source: 'test', targetSensitivity: 0.95 },
        bootstrap: false,
      });
      metrics = { ...report, meta: { split: 'test' } } as unknown as typeof metrics;
      generated = true;
    }
    const { samples, classNames, operatingPoint } = metrics!;
    const covid = classNames.indexOf('covid');
    const scores = samples!.scores.covid;
    const { page, context } = await openApp(app.browser, app.server.url, { hash: '#/model', waitForModel: false, contextOptions: { serviceWorkers: 'block' } });
    if (generated) {
      await context.route('**/model/metrics.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(metrics) }));
      await page.reload();
    }
    const explorer = page.getByTestId('op-explorer');
    await explorer.waitFor({ timeout: 60_000 });

    const read = async () => {
      const t = Number(await page.getByTestId('op-stats').getAttribute('data-threshold'));
      const value = async (id: string) => {
        const raw = await page.getByTestId(`op-${id}`).getAttribute('data-value');
        return raw === '' ? null : Number(raw);
      };
      return {
        t,
        tp: await value('tp'),
        fp: await value('fp'),
        fn: await value('fn'),
        tn: await value('tn'),
        sensitivity: await value('sensitivity'),
        specificity: await value('specificity'),
        ppv: await value('ppv'),
        npv: await value('npv'),
        sensText: await page.getByTestId('op-sensitivity').innerText(),
        specText: await page.getByTestId('op-specificity').innerText(),
      };
    };
    const check = (shown: Awaited<ReturnType<typeof read>>) => {
      const ref = independent(samples!.label, scores, covid, shown.t);
      expect([shown.tp, shown.fp, shown.fn, shown.tn], `counts at ${shown.t}`).toEqual([ref.tp, ref.fp, ref.fn, ref.tn]);
      for (const k of ['sensitivity', 'specificity', 'ppv', 'npv'] as const) {
        if (ref[k] === null) expect(shown[k], k).toBeNull();
        else expect(shown[k], `${k} at ${shown.t}`).toBeCloseTo(ref[k]!, 12);
      }
      expect(shown.sensText).toBe(ref.sensitivity === null ? '—' : ref.sensitivity.toFixed(3));
      expect(shown.specText).toBe(ref.specificity === null ? '—' : ref.specificity.toFixed(3));
      return ref;
    };

    // Starts at the stored operating point, marked on the ROC curve.
    const start = await read();
    expect(start.t).toBe(operatingPoint!.threshold);
    check(start);
    await expect.poll(() => explorer.locator('.recharts-reference-dot').count(), POLL).toBe(2);

    // Keyboard: the slider moves the threshold and the numbers follow.
    const slider = page.getByTestId('op-slider');
    await slider.focus();
    await page.keyboard.press('Home');
    await expect.poll(async () => (await read()).t, POLL).toBe(0);
    const atZero = check(await read());
    expect(atZero.sensitivity).toBe(1);
    expect(atZero.specificity).toBe(0);
    // Up (PageUp) to a threshold where some images are called positive and some not.
    let moved = await read();
    for (let i = 0; i < 100; i++) {
      await page.keyboard.press('PageUp');
      moved = await read();
      const called = moved.tp! + moved.fp!;
      if (called > 0 && called < samples!.label.length) break;
    }
    expect(moved.t).toBeGreaterThan(0);
    const ref = check(moved);
    expect(ref.tp + ref.fp).toBeLessThan(samples!.label.length);
    expect(ref.tp + ref.fp).toBeGreaterThan(0);
    expect(await slider.getAttribute('aria-valuetext')).toContain(`sensitivity ${ref.sensitivity!.toFixed(3)}`);

    // A typed threshold: the median covid score.
    const median = [...scores].sort((x, y) => x - y)[Math.floor(scores.length / 2)];
    await page.getByTestId('op-threshold-input').fill(String(median));
    await expect.poll(async () => (await read()).t, POLL).toBe(median);
    check(await read());

    // Reset goes back to the stored point.
    await page.getByTestId('op-reset').click();
    await expect.poll(async () => (await read()).t, POLL).toBe(operatingPoint!.threshold);
    check(await read());
    expect(await page.getByTestId('op-reset').isDisabled()).toBe(true);

    const axe = await new AxeBuilder({ page }).analyze();
    expect(
      axe.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    ).toEqual([]);
    await context.close();
  });
});
