// Classroom features (issue 11, items 1, 2, 8, 9) in the production build: Explain popovers by
// keyboard, Wilson intervals and the small-sample warning after a short training run and on an
// Evaluate report, projector mode (text, chart ticks, tables), the Teachers page, and no horizontal
// scrolling at 390 px and 768 px on every page, empty and with results; axe serious = 0 throughout.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { addFiles, hasData, manifest, openApp, skipReason, testImages, useAppHarness, waitForRows } from './helpers';
import { GLOSSARY } from '../../src/ui/lib/glossary';

if (!hasData()) console.warn(skipReason());

const WIDTHS = [390, 768] as const;
const temp: string[] = [];
afterAll(() => {
  for (const t of temp) fs.rmSync(t, { recursive: true, force: true });
});

async function seriousAxe(page: Page): Promise<string[]> {
  const axe = await new AxeBuilder({ page }).analyze();
  return axe.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** At each width: no horizontal scrolling (the widest element named when it fails) and no serious axe violation. */
async function checkWidths(page: Page, state: string): Promise<void> {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(300); // ResponsiveContainer re-measures
    // …and redraws, which takes longer than 300 ms on a loaded 2-core machine: wait (at most 5 s)
    // until each chart fits its container; a chart that never does still fails the check below.
    await page
      .waitForFunction(
        () =>
          Array.from(document.querySelectorAll('.recharts-responsive-container')).every((c) => {
            const w = c.querySelector('.recharts-wrapper');
            return !w || w.getBoundingClientRect().width <= c.getBoundingClientRect().width + 1;
          }),
        undefined,
        { timeout: 5000, polling: 50 },
      )
      .catch(() => {});
    const m = await page.evaluate(() => {
      const vw = window.innerWidth;
      let widest = '';
      let right = 0;
      for (const el of Array.from(document.querySelectorAll('body *'))) {
        const r = el.getBoundingClientRect();
        if (r.right > right + 0.5 && r.width > 0) {
          // Ignore what sits inside a box that scrolls or clips horizontally.
          let p = el.parentElement;
          let clipped = false;
          while (p && p !== document.body) {
            const o = getComputedStyle(p).overflowX;
            if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') clipped = true;
            p = p.parentElement;
          }
          if (!clipped) {
            right = r.right;
            widest = `${el.tagName.toLowerCase()}.${(el.getAttribute('class') ?? '').split(' ')[0]}[${el.getAttribute('data-testid') ?? ''}]`;
          }
        }
      }
      return { scrollWidth: document.documentElement.scrollWidth, innerWidth: vw, widest, right: Math.round(right) };
    });
    expect(m.scrollWidth, `${state} at ${width} px: page ${m.scrollWidth} px wide; widest ${m.widest} ends at ${m.right}`).toBeLessThanOrEqual(m.innerWidth);
    expect(await seriousAxe(page), `${state} at ${width} px`).toEqual([]);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-classroom-'));
  temp.push(d);
  return d;
}

/** <root>/<class>/<file> with the first `per` images of each label of a split. */
function classFolders(labels: string[], per: number, split: string): string {
  const root = path.join(tempDir(), 'films');
  for (const label of labels) {
    fs.mkdirSync(path.join(root, label), { recursive: true });
    for (const r of manifest()
      .filter((x) => x.split === split && x.label === label)
      .slice(0, per))
      fs.copyFileSync(r.path, path.join(root, label, path.basename(r.path)));
  }
  return root;
}

describe.skipIf(!hasData())('classroom: explanations, intervals, projector, small screens, teachers', () => {
  const h = useAppHarness();

  it('every page works at 390 and 768 px in its empty state; the Teachers page has the lesson and the sources, and fetches nothing', async () => {
    const { page, log, problems } = await openApp(h.browser, h.server.url, { hash: '#/classify', waitForModel: false });
    for (const route of ['classify', 'train', 'evaluate', 'model', 'teachers']) {
      await page.getByTestId(`nav-${route}`).click();
      await page.getByTestId(({ classify: 'dropzone', model: 'model-card' } as Record<string, string>)[route] ?? `${route}-page`).waitFor({ timeout: 60_000 });
      if (route === 'model') await page.getByTestId('per-class-metrics').waitFor({ timeout: 60_000 });
      await checkWidths(page, `${route} (empty)`);
    }
    expect(await page.title()).toBe('For teachers · CXR Lab');
    expect(await page.getByTestId('lesson-step').count()).toBe(6);
    const text = await page.getByTestId('lesson-plan').innerText();
    for (const feature of [
      'Grad-CAM',
      'Not a chest X-ray?',
      'classroom pace',
      'overfitting preset',
      'Copies and leakage',
      'What augmentation does',
      'shortcut lesson',
      'confusion matrix',
      '95 % interval',
      'Download project (.cxrlab)',
      'Save in this browser',
    ])
      expect(text).toContain(feature);
    const links = await page
      .getByTestId('data-sources')
      .locator('a')
      .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
    expect(links.length).toBeGreaterThanOrEqual(6);
    for (const l of links) expect(l).toMatch(/^https:\/\//);
    expect(log.foreign()).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('explanations open and close by keyboard (Enter, Space, Escape) with focus moved in and back; the popover stays inside a phone screen', async () => {
    const { page, problems } = await openApp(h.browser, h.server.url, { hash: '#/model', waitForModel: false });
    await page.getByTestId('per-class-metrics').waitFor({ timeout: 60_000 });
    for (const [term, key] of [
      ['sensitivity', 'Enter'],
      ['calibration', ' '],
      ['roc', 'Enter'],
    ] as const) {
      const button = page
        .getByTestId('explain')
        .and(page.locator(`[data-term="${term}"]`))
        .first();
      await button.focus();
      expect(await button.getAttribute('aria-expanded')).toBe('false');
      await page.keyboard.press(key === ' ' ? 'Space' : key);
      const pop = page.getByTestId('explain-popover');
      await pop.waitFor();
      expect(await button.getAttribute('aria-expanded')).toBe('true');
      expect(await pop.getAttribute('data-term')).toBe(term);
      expect(await pop.innerText()).toContain(GLOSSARY[term].text);
      // Focus is in the popover (a screen reader reads it), which is labelled by the term.
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('explain-popover');
      expect(await pop.getAttribute('role')).toBe('dialog');
      expect(await page.getByRole('dialog', { name: GLOSSARY[term].term }).count()).toBe(1);
      expect(await seriousAxe(page)).toEqual([]);
      await page.keyboard.press('Escape');
      await pop.waitFor({ state: 'detached' });
      expect(await button.getAttribute('aria-expanded')).toBe('false');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-term'))).toBe(term);
    }
    // The button's name says what it explains.
    expect(await page.getByRole('button', { name: 'What is Specificity?' }).count()).toBeGreaterThan(0);
    // On a phone the popover fits the screen; a click elsewhere closes it.
    await page.setViewportSize({ width: 390, height: 800 });
    const last = page.getByTestId('explain').and(page.locator('[data-term="auc"]')).first();
    await last.scrollIntoViewIfNeeded();
    await last.click();
    const box = (await page.getByTestId('explain-popover').boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.mouse.click(5, 5);
    await page.getByTestId('explain-popover').waitFor({ state: 'detached' });
    expect(problems).toEqual([]);
  });

  it('projector mode (header switch, remembered) enlarges text, chart ticks and legends, tables and the confusion matrix', async () => {
    const { page, context } = await openApp(h.browser, h.server.url, { hash: '#/model', waitForModel: false });
    await page.getByTestId('mc-chart-roc').locator('.recharts-cartesian-axis-tick-value').first().waitFor({ timeout: 60_000 });
    const sizes = () =>
      page.evaluate(() => {
        const px = (sel: string) => parseFloat(getComputedStyle(document.querySelector(sel)!).fontSize);
        return {
          text: px('.app-main p'),
          tick: px('[data-testid="mc-chart-roc"] .recharts-cartesian-axis-tick-value'),
          legend: px('[data-testid="mc-chart-roc"] .recharts-legend-item-text'),
          table: px('[data-testid="per-class-metrics"] td'),
          confusion: px('[data-testid="confusion-matrix"] td'),
        };
      });
    const before = await sizes();
    const toggle = page.getByTestId('projector-toggle');
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await toggle.click();
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    const after = await sizes();
    for (const k of Object.keys(before) as (keyof typeof before)[]) expect(after[k], k).toBeGreaterThanOrEqual(before[k] * 1.2);
    expect(await seriousAxe(page)).toEqual([]);
    // Remembered across a reload and on the other pages.
    await page.reload();
    await page.getByTestId('model-card').waitFor();
    expect(await page.evaluate(() => document.documentElement.classList.contains('projector'))).toBe(true);
    await page.getByTestId('nav-train').click();
    await page.getByTestId('train-page').waitFor();
    expect(await page.getByTestId('projector-toggle').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('projector-toggle').click();
    expect(await page.evaluate(() => localStorage.getItem('cxr-lab.projector'))).toBe('off');
    await context.close();
  });

  it('Classify with results works at 390 and 768 px; result cards carry explanations', async () => {
    const { page, problems } = await openApp(h.browser, `${h.server.url}?backend=wasm`, { hash: '#/classify' });
    await addFiles(page, [...testImages('covid', 1), ...testImages('normal', 1), ...testImages('pneumonia', 1)]);
    await waitForRows(page, 3);
    await page.getByTestId('result-card').first().waitFor();
    expect(await page.getByTestId('result-card').first().getByTestId('explain').count()).toBeGreaterThanOrEqual(2);
    await checkWidths(page, 'classify (3 results)');
    expect(problems).toEqual([]);
  });

  it('Train after a short run on 8 + 8 images: accuracy with its Wilson interval, the small-sample warning, a tiny-split ROC; no horizontal scroll at 390 / 768 px', async () => {
    const root = classFolders(['covid', 'normal'], 8, 'train');
    const { page, problems } = await openApp(h.browser, `${h.server.url}?backend=wasm`, { hash: '#/train', waitForModel: false });
    await page.getByTestId('base-status').and(page.locator('[data-status="ready"]')).waitFor({ timeout: 180_000 });
    await page.getByTestId('dataset-folder-input').setInputFiles(root);
    await page.waitForFunction(
      () => {
        const s = window.cxrLabTrain!.state();
        return s.images.length >= 16 && s.images.every((im) => im.status !== 'queued');
      },
      undefined,
      { timeout: 180_000, polling: 200 },
    );
    await page.getByTestId('epochs').fill('3');
    await page.getByTestId('train-button').click();
    await page.getByTestId('run-status').and(page.locator('[data-status="done"], [data-status="error"]')).waitFor({ timeout: 240_000 });
    const { status, nVal, correct } = await page.evaluate(() => {
      const run = window.cxrLabTrain!.state().run;
      const k = run.classNames.length;
      const probs = run.valProbs ?? new Float32Array();
      let right = 0;
      run.valLabels.forEach((l, i) => {
        let best = 0;
        for (let c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + best]) best = c;
        if (best === l) right++;
      });
      return { status: run.status, nVal: run.valIds.length, correct: right };
    });
    expect(status).toBe('done');
    expect(nVal).toBeGreaterThan(0);
    const line = page.getByTestId('val-accuracy-line');
    const text = await line.innerText();
    // e.g. "Accuracy ?: 100% (95 % CI 65–100 %) of 4 validation images — small sample."
    expect(text).toMatch(new RegExp(`\\(95 % CI \\d+–\\d+ %\\) of ${nVal} validation images — small sample`));
    const ci = page.getByTestId('val-accuracy-ci');
    const lower = Number(await ci.getAttribute('data-lower'));
    const upper = Number(await ci.getAttribute('data-upper'));
    expect(lower).toBeLessThanOrEqual(correct / nVal);
    expect(upper).toBeGreaterThanOrEqual(correct / nVal);
    expect(upper - lower).toBeGreaterThan(0.25); // a handful of images: a wide interval
    const warning = page.getByTestId('small-sample-warning');
    expect(await warning.innerText()).toMatch(/Small sample: the validation split has only \d+ images? of .*under 30 per class/);
    expect(await page.getByTestId('roc-small').count()).toBe(1);
    expect(await page.getByTestId('metrics-table').getByTestId('ci').count()).toBe(6); // 3 rates × 2 classes
    // The curves' explanations, by keyboard.
    const b = page.getByTestId('chart-loss').getByTestId('explain').first();
    await b.focus();
    await page.keyboard.press('Enter');
    expect(await page.getByTestId('explain-popover').innerText()).toContain(GLOSSARY.loss.text);
    await page.keyboard.press('Escape');
    await checkWidths(page, 'train (after a run)');
    expect(problems).toEqual([]);
  });

  it('Evaluate with a report on 3 films per class: small-sample warning and tiny-set ROC label; no horizontal scroll at 390 / 768 px', async () => {
    const films = classFolders(['covid', 'normal', 'pneumonia'], 3, 'test');
    const { page, problems } = await openApp(h.browser, `${h.server.url}?backend=wasm`, { hash: '#/evaluate' });
    await page.getByTestId('evaluate-folder-input').setInputFiles(films);
    await page.getByTestId('evaluate-report').waitFor({ timeout: 240_000 });
    expect(await page.getByTestId('evaluate-small-sample').innerText()).toMatch(
      /Small sample: only 3 images of covid, normal, pneumonia \(under 30 per class\)/,
    );
    expect(await page.getByTestId('evaluate-roc-small').count()).toBe(1);
    await checkWidths(page, 'evaluate (report)');
    expect(problems).toEqual([]);
  });
});
