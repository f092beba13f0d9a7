// Cancel on the Classify page stops the worker, not only the page's queue: the requests already
// handed to the inference worker are aborted (src/worker/rpc.ts), the worker stops them between the
// steps of an image, no result of theirs reaches the table, and every file is counted (done or
// cancelled, nothing lost silently). Production build, headless Chromium, generated images.
import { describe, expect, it } from 'vitest';
import { encode } from 'fast-png';
import { addFiles, openApp, useAppHarness, waitForModel, waitForRows } from './helpers';

/** A large-ish gray PNG (noise over a gradient), so decoding takes long enough to be caught mid-way. */
function bigPng(i: number, side = 1400): Buffer {
  const data = new Uint8Array(side * side);
  let seed = (i + 7) * 2654435761;
  for (let k = 0; k < data.length; k++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    data[k] = ((k % side) + Math.floor(k / side) + (seed >>> 26)) & 255;
  }
  return Buffer.from(encode({ width: side, height: side, channels: 1, depth: 8, data }));
}

describe('Classify page: Cancel aborts the work in the worker', () => {
  const app = useAppHarness();

  it('cancel mid-batch: the running files are cancelled too, the worker stops (its counters stop), no result arrives after, Resume finishes all', async () => {
    const N = 24;
    const files = Array.from({ length: N }, (_, i) => ({ name: `big-${String(i).padStart(2, '0')}.png`, buffer: bigPng(i), mimeType: 'image/png' }));
    const { page, context, problems } = await openApp(app.browser, `${app.server.url}?backend=wasm`);
    await waitForModel(page);
    await addFiles(page, files);
    await page.waitForFunction(() => (window.cxrLab?.batch().runDone ?? 0) >= 3, undefined, { timeout: 180_000, polling: 50 });

    // Cancel while the worker holds requests (one running, one waiting behind it).
    await page.getByTestId('cancel').click();
    const atCancel = await page.evaluate(() => {
      const s = window.cxrLab!.batch();
      return {
        running: s.running,
        done: s.rows.filter((r) => r.status === 'done').length,
        cancelled: s.rows.filter((r) => r.status === 'cancelled').length,
        stillRunning: s.rows.filter((r) => r.status === 'running').length,
      };
    });
    expect(atCancel.running).toBe(false);
    expect(atCancel.stillRunning).toBe(0);
    expect(atCancel.done).toBeLessThan(N);
    expect(atCancel.done + atCancel.cancelled).toBe(N);

    // The worker stops: after a moment its counters no longer move, it counted the aborted requests,
    // and it classified at most the image it was running and one whose answer was already on its way.
    await page.waitForTimeout(1500);
    const c1 = await page.evaluate(() => window.cxrLab!.counters());
    await page.waitForTimeout(2000);
    const c2 = await page.evaluate(() => window.cxrLab!.counters());
    expect(c2.imagesClassified).toBe(c1.imagesClassified);
    expect(c2.requestsAborted).toBeGreaterThanOrEqual(1);
    expect(c2.imagesClassified).toBeLessThanOrEqual(atCancel.done + 2);

    // No result reached the page after the cancel; the UI says how many were cancelled.
    const later = await page.evaluate(() => window.cxrLab!.batch().rows.filter((r) => r.status === 'done').length);
    expect(later).toBe(atCancel.done);
    const progress = page.getByTestId('batch-progress');
    expect(await progress.innerText()).toContain(`${atCancel.done} of ${N} processed`);
    expect(await progress.innerText()).toContain(`${atCancel.cancelled} cancelled`);
    expect(await page.getByTestId('announcer').innerText()).toMatch(new RegExp(`${atCancel.cancelled} cancelled`));

    // Resume classifies every cancelled file once (the aborted ones included).
    await page.getByTestId('resume').click();
    await waitForRows(page, N, 300_000);
    const final = await page.evaluate(() => {
      const rows = window.cxrLab!.batch().rows;
      return { done: rows.filter((r) => r.status === 'done').length, ids: new Set(rows.map((r) => r.result?.resultId)).size };
    });
    expect(final).toEqual({ done: N, ids: N });
    const c3 = await page.evaluate(() => window.cxrLab!.counters());
    expect(c3.imagesClassified).toBeGreaterThanOrEqual(N);
    console.log(`cancel after ${atCancel.done} of ${N}: worker counters ${JSON.stringify(c2)} then ${JSON.stringify(c3)}`);
    expect(problems).toEqual([]);
    await context.close();
  }, 600_000);
});
