// Watchable training on the Train page: classroom pace (estimate shown up front, epochs no faster
// than the pace, Stop still prompt), the "Overfitting demo" preset, and the overfitting marker.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { hasData, manifest, openApp, skipReason, useAppHarness, type AppSession } from './helpers';
import type { TrainerState } from '../../src/ui/state/trainer';
import { detectDivergence } from '../../src/core/divergence';

if (!hasData()) console.warn(skipReason());

const trainState = (page: Page) => page.evaluate(() => window.cxrLabTrain!.state()) as Promise<TrainerState>;

async function seriousAxe(page: Page): Promise<string[]> {
  const axe = await new AxeBuilder({ page }).analyze();
  return axe.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Resolves when the run is done, with the page-side arrival time (ms) of every epoch point. */
function epochArrivals(page: Page): Promise<number[]> {
  return page.evaluate(
    () =>
      new Promise<number[]>((resolve) => {
        const times: number[] = [];
        const tick = () => {
          const run = window.cxrLabTrain!.state().run;
          while (times.length < run.history.length && run.status !== 'done') times.push(performance.now());
          if (run.status === 'done' || run.status === 'error') resolve(times);
          else setTimeout(tick, 20);
        };
        tick();
      }),
  );
}

describe.skipIf(!hasData())('Train page: classroom pace and the overfitting demo', () => {
  const h = useAppHarness();
  let root: string;
  let session: AppSession;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-pace-test-'));
    for (const label of ['covid', 'normal']) {
      fs.mkdirSync(path.join(root, 'dataset', label), { recursive: true });
      for (const r of manifest()
        .filter((m) => m.split === 'train' && m.label === label)
        .slice(0, 20))
        fs.copyFileSync(r.path, path.join(root, 'dataset', label, path.basename(r.path)));
    }
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  async function open(): Promise<Page> {
    session = await openApp(h.browser, `${h.server.url}?backend=wasm`, { hash: '#/train', waitForModel: false });
    const { page } = session;
    await page.getByTestId('base-status').and(page.locator('[data-status="ready"]')).waitFor({ timeout: 180_000 });
    await page.getByTestId('dataset-folder-input').setInputFiles(path.join(root, 'dataset'));
    await page.waitForFunction(
      () => {
        const s = window.cxrLabTrain!.state();
        return s.images.length >= 40 && s.images.every((im) => im.status !== 'queued');
      },
      undefined,
      { timeout: 180_000, polling: 100 },
    );
    return page;
  }

  it('the preset sets few images, many epochs, no early stopping or regularisation, classroom pace; the estimate is shown and epochs arrive no faster than 1.5 s; Stop is prompt', async () => {
    const page = await open();
    await expect.poll(() => page.getByTestId('pace-estimate').textContent()).toContain('Off');
    await page.getByTestId('overfit-preset').click();
    const s = (await trainState(page)).settings;
    expect({
      maxTrainPerClass: s.maxTrainPerClass,
      pace: s.classroomPace,
      block: s.blockEnabled,
      patience: s.head.patience,
      dropout: s.head.dropout,
      l2: s.head.l2,
      smoothing: s.head.labelSmoothing,
      epochs: s.head.epochs,
    }).toEqual({
      maxTrainPerClass: 8,
      pace: true,
      block: false,
      patience: 0,
      dropout: 0,
      l2: 0,
      smoothing: 0,
      epochs: 40,
    });
    await expect.poll(() => page.getByTestId('split-summary').getAttribute('data-train')).toBe('16');
    expect(await page.getByTestId('pace-estimate').textContent()).toContain('About 60 s at classroom pace (40 epochs × 1.5 s)');
    expect(await seriousAxe(page)).toEqual([]);

    // 4 epochs at classroom pace: about 6 s, each epoch point at least ~1.5 s after the one before.
    await page.getByTestId('epochs').fill('4');
    await expect.poll(() => page.getByTestId('pace-estimate').textContent()).toContain('About 6 s at classroom pace (4 epochs × 1.5 s)');
    await page.getByTestId('train-button').click();
    const times = await epochArrivals(page);
    const done = await trainState(page);
    expect(done.run.status).toBe('done');
    expect(done.run.history).toHaveLength(4);
    expect(done.run.trainCount).toBe(16);
    // Epoch k (1-based) cannot reach the page before (k − 1) × 1.5 s after Train was pressed; the page
    // may see it later (redraws on a busy main thread), never earlier.
    expect(times.length).toBeGreaterThanOrEqual(3);
    const since = times.map((t) => t - done.run.startedAt!);
    since.forEach((t, k) => expect(t, `epoch ${k + 1} at ${t.toFixed(0)} ms`).toBeGreaterThanOrEqual(k * 1500));
    expect(done.run.result!.timings.totalMs).toBeGreaterThanOrEqual(4 * 1500);
    const gaps = times.slice(1).map((t, i) => t - times[i]);

    // Stop during the pace wait ends the run promptly, long before the 40 planned epochs.
    await page.getByTestId('epochs').fill('40');
    await page.getByTestId('train-button').click();
    await page.waitForFunction(() => window.cxrLabTrain!.state().run.history.length >= 1, undefined, { timeout: 60_000, polling: 50 });
    const t0 = Date.now();
    await page.getByTestId('stop-button').click();
    await page.getByTestId('run-status').and(page.locator('[data-status="done"]')).waitFor({ timeout: 60_000 });
    const stopMs = Date.now() - t0;
    const stopped = await trainState(page);
    expect(stopped.run.result?.stopReason).toBe('stopped');
    expect(stopped.run.history.length).toBeLessThanOrEqual(2);
    expect(stopMs).toBeLessThan(5_000);
    console.log(`pace: epoch gaps ${gaps.map((g) => g.toFixed(0)).join(', ')} ms; stop → done ${stopMs} ms`);
  });

  it('the preset overfits, and the chart marks the epoch and says so', async () => {
    const page = await open();
    await page.getByTestId('overfit-preset').click();
    await page.getByTestId('classroom-pace').uncheck(); // same run, without the waits
    await page.getByTestId('train-button').click();
    await page.getByTestId('run-status').and(page.locator('[data-status="done"], [data-status="error"]')).waitFor({ timeout: 240_000 });
    const s = await trainState(page);
    expect(s.run.status).toBe('done');
    expect(s.run.history).toHaveLength(40);
    const d = detectDivergence(
      s.run.history.map((e) => e.trainLoss),
      s.run.history.map((e) => e.valLoss),
    );
    expect(d, `val loss ${s.run.history.map((e) => e.valLoss?.toFixed(3)).join(' ')}`).not.toBeNull();
    const note = page.getByTestId('divergence-note');
    expect(await note.getAttribute('data-epoch')).toBe(String(d!.epoch));
    expect(await note.textContent()).toContain(
      `From epoch ${d!.epoch} validation loss rises while training loss keeps falling: the model is memorising its training images (overfitting).`,
    );
    expect(await page.getByTestId('chart-loss').getAttribute('data-diverged')).toBe(String(d!.epoch));
    expect(await page.getByTestId('chart-loss').getByText('overfitting starts').count()).toBe(1);
    expect(await seriousAxe(page)).toEqual([]);
  });
});
