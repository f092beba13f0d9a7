// The Train page's shortcut lesson, against the production build in headless Chromium (wasm): one
// click trains the normal run and then the same run on border-only images (the audit's mask), shows
// both accuracies with intervals, both runs' curves and a verdict; the border-only run really saw
// masked inputs; Stop stops it; the normal model stays the kept one; no tensor leaks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { hasData, manifest, openApp, skipReason, testImages, useAppHarness } from './helpers';
import type { TrainerState } from '../../src/ui/state/trainer';
import type { LessonsState } from '../../src/ui/state/lessons';
import { CENTRE_FRACTION } from '../../src/core/audit';
import { shortcutVerdict } from '../../src/core/shortcut-verdict';

if (!hasData()) console.warn(skipReason());

const trainState = (page: Page) => page.evaluate(() => window.cxrLabTrain!.state()) as Promise<TrainerState>;
const lessonState = (page: Page) => page.evaluate(() => window.cxrLabLessons!.state()) as Promise<LessonsState>;

async function seriousAxe(page: Page): Promise<string[]> {
  const axe = await new AxeBuilder({ page }).analyze();
  return axe.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Probabilities the "Try it" panel shows for one file (the kept model's answer). */
async function tryIt(page: Page, file: string, nth: number): Promise<string> {
  await page.getByTestId('preview-input').setInputFiles([file]);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="preview-result"][data-status="done"]').length >= n, nth, { timeout: 60_000 });
  return page.getByTestId('preview-result').first().locator('[data-testid="probabilities"]').innerText();
}

describe.skipIf(!hasData())('Train page: the shortcut lesson', () => {
  const h = useAppHarness();
  let root: string;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-shortcut-test-'));
    for (const label of ['covid', 'normal']) {
      fs.mkdirSync(path.join(root, 'dataset', label), { recursive: true });
      for (const r of manifest()
        .filter((m) => m.split === 'train' && m.label === label)
        .slice(0, 24))
        fs.copyFileSync(r.path, path.join(root, 'dataset', label, path.basename(r.path)));
    }
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  async function open(): Promise<Page> {
    const session = await openApp(h.browser, `${h.server.url}?backend=wasm`, { hash: '#/train', waitForModel: false });
    const { page } = session;
    await page.getByTestId('base-status').and(page.locator('[data-status="ready"]')).waitFor({ timeout: 180_000 });
    await page.getByTestId('dataset-folder-input').setInputFiles(path.join(root, 'dataset'));
    await page.waitForFunction(
      () => {
        const s = window.cxrLabTrain!.state();
        return s.images.length >= 48 && s.images.every((im) => im.status !== 'queued');
      },
      undefined,
      { timeout: 180_000, polling: 100 },
    );
    return page;
  }

  it('one click: the normal run, then the border-only run on masked inputs; both accuracies with intervals, both curves, a verdict; the kept model is the normal one; no leak', async () => {
    const page = await open();
    await page.getByTestId('epochs').fill('6');
    const lesson = page.getByTestId('shortcut-lesson');
    await lesson.getByTestId('shortcut-button').click();
    await lesson.getByTestId('shortcut-status').and(page.locator('[data-status="done"], [data-status="error"]')).waitFor({ timeout: 300_000 });
    const ls = await lessonState(page);
    expect(ls.shortcut.error).toBeNull();
    const t = await trainState(page);
    expect(t.run.status).toBe('done');
    const nTrain = t.run.trainCount;
    const nVal = t.run.valIds.length;
    expect(nVal).toBeGreaterThan(0);

    // The border-only run embedded every image of the same split with its centre blacked out.
    const masked = lesson.getByTestId('shortcut-masked');
    expect(Number(await masked.getAttribute('data-images'))).toBe(nTrain + nVal);
    expect(Number(await masked.getAttribute('data-uniform'))).toBe(nTrain + nVal);
    // What it saw: the shown model input is black in the lung window, not black outside it.
    const px = await lesson.getByTestId('shortcut-masked-input').evaluate((c: HTMLCanvasElement, centre: number) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const s = c.width;
      const lo = Math.round((s * (1 - centre)) / 2);
      let inMax = 0;
      let outSum = 0;
      let outN = 0;
      for (let y = 0; y < s; y++)
        for (let x = 0; x < s; x++) {
          const v = d[(y * s + x) * 4];
          if (x >= lo && x < s - lo && y >= lo && y < s - lo) inMax = Math.max(inMax, v);
          else {
            outSum += v;
            outN++;
          }
        }
      return { inMax, outMean: outSum / outN };
    }, CENTRE_FRACTION);
    expect(px.inMax).toBe(0);
    expect(px.outMean).toBeGreaterThan(20);

    // Both accuracies, with 95 % intervals, on one screen.
    const acc = async (id: string) => {
      const el = lesson.getByTestId(id);
      await expect.poll(() => el.isVisible()).toBe(true);
      const text = await el.innerText();
      return {
        value: Number(await el.getAttribute('data-value')),
        lower: Number(await el.getAttribute('data-lower')),
        upper: Number(await el.getAttribute('data-upper')),
        text,
      };
    };
    const normal = await acc('shortcut-acc-normal');
    const border = await acc('shortcut-acc-border');
    for (const a of [normal, border]) {
      expect(a.lower).toBeLessThanOrEqual(a.value);
      expect(a.upper).toBeGreaterThanOrEqual(a.value);
      expect(a.text).toMatch(/95 % interval \d+ %–\d+ %/);
      expect(a.text).toContain(`of ${nVal} right`);
    }
    const normalCorrect = Math.round(normal.value * nVal);
    const borderCorrect = Math.round(border.value * nVal);
    expect(borderCorrect).toBe(ls.shortcut.result!.valCorrect);

    // The verdict says what the two intervals say.
    const expected = shortcutVerdict({ correct: normalCorrect, total: nVal }, { correct: borderCorrect, total: nVal }, t.run.valLabels);
    const verdict = lesson.getByTestId('shortcut-verdict');
    expect(await verdict.getAttribute('data-kind')).toBe(expected.kind);
    expect(await verdict.innerText()).toContain(expected.text);
    expect(await verdict.innerText()).toMatch(
      { lungs: /border alone is not enough/, hospital: /hospital, not the disease/, partly: /hospital, not the disease/, undecided: /to tell|chance/ }[
        expected.kind
      ],
    );

    // Both runs' curves in the same charts: one point per epoch of each run.
    const borderEpochs = ls.shortcut.result!.history.length;
    expect(borderEpochs).toBeGreaterThan(0);
    for (const id of ['shortcut-chart-accuracy', 'shortcut-chart-loss']) {
      const chart = lesson.getByTestId(id);
      expect(Number(await chart.getAttribute('data-points-normal'))).toBe(t.run.history.length);
      expect(Number(await chart.getAttribute('data-points-border'))).toBe(borderEpochs);
      expect(await chart.locator('path.recharts-curve').count()).toBeGreaterThanOrEqual(2);
    }
    console.log(
      `shortcut lesson (${nTrain} train / ${nVal} val, 6 epochs): whole image ${normal.text.split('\n').join(' ')} | border only ${border.text.split('\n').join(' ')} | ${expected.kind} | ${ls.shortcut.result!.ms.toFixed(0)} ms`,
    );

    // The normal run's model stays the kept one, and nothing leaked.
    expect(ls.shortcut.result!.tensorsAfter).toBe(ls.shortcut.result!.tensorsBefore);
    expect((await trainState(page)).run.result!.keptEpoch).toBe(t.run.result!.keptEpoch);
    // With a chart's tooltip open too (the pointer resting on the chart): its text must stay readable.
    await lesson.getByTestId('shortcut-chart-accuracy').locator('.recharts-surface').hover();
    await lesson.getByTestId('shortcut-chart-accuracy').locator('.recharts-tooltip-item').first().waitFor();
    expect(await seriousAxe(page)).toEqual([]);
    await page.mouse.move(0, 0);
    const file = testImages('covid', 1)[0];
    const before = await tryIt(page, file, 1);
    const mem0 = await page.evaluate(() => window.cxrLabTrain!.memory());
    await lesson.getByTestId('shortcut-button').click();
    await lesson.getByTestId('shortcut-status').and(page.locator('[data-status="done"], [data-status="error"]')).waitFor({ timeout: 300_000 });
    const mem1 = await page.evaluate(() => window.cxrLabTrain!.memory());
    expect(mem1.numTensors).toBe(mem0.numTensors);
    expect(await tryIt(page, file, 2)).toBe(before);
    // Same request, same seed: the second border-only run repeats the first.
    expect((await lessonState(page)).shortcut.result!.valCorrect).toBe(ls.shortcut.result!.valCorrect);
  });

  it('Stop stops the border-only run at classroom pace', async () => {
    const page = await open();
    await page.getByTestId('epochs').fill('40');
    await page.locator('.tr-advanced > summary').click();
    await page.getByTestId('patience').fill('0');
    const lesson = page.getByTestId('shortcut-lesson');
    // A normal run at classroom pace, stopped after its first epoch: the lesson repeats that request (40 epochs, pace).
    await page.getByTestId('classroom-pace').check();
    await page.getByTestId('train-button').click();
    await page.waitForFunction(() => window.cxrLabTrain!.state().run.history.length >= 1, undefined, { timeout: 60_000, polling: 50 });
    await page.getByTestId('stop-button').click();
    await page.getByTestId('run-status').and(page.locator('[data-status="done"]')).waitFor({ timeout: 60_000 });
    await lesson.getByTestId('shortcut-button').click();
    await page.waitForFunction(() => window.cxrLabLessons!.state().shortcut.history.length >= 1, undefined, { timeout: 120_000, polling: 50 });
    // The worker is busy with it: the normal Train button waits.
    expect(await page.getByTestId('train-button').isDisabled()).toBe(true);
    const t0 = Date.now();
    await lesson.getByTestId('shortcut-stop').click();
    await lesson.getByTestId('shortcut-status').and(page.locator('[data-status="done"]')).waitFor({ timeout: 60_000 });
    const stopMs = Date.now() - t0;
    const r = (await lessonState(page)).shortcut.result!;
    expect(r.stopReason).toBe('stopped');
    expect(r.history.length).toBeLessThanOrEqual(2);
    expect(stopMs).toBeLessThan(5_000);
    expect(await lesson.getByTestId('shortcut-summary').innerText()).toContain('stopped');
    expect(await seriousAxe(page)).toEqual([]);
  });
});
