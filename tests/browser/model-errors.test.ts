// A missing or corrupt model gives a clear message on the page (never "Unexpected token <"), and
// Retry recovers once the files are good. Requests are intercepted, so the service worker is blocked.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openApp, useAppHarness } from './helpers';

describe('model loading errors', () => {
  const app = useAppHarness();

  async function openWithRoute(file: string, fulfil: Parameters<Page['route']>[1]): Promise<{ page: Page; message: string }> {
    const { page, context } = await openApp(app.browser, app.server.url, { waitForModel: false, contextOptions: { serviceWorkers: 'block' } });
    // Route before the app's first request would be too late for a page already loading, so reload.
    await context.route(`**/model/${file}`, fulfil);
    await page.reload();
    const error = page.getByTestId('model-error');
    await error.waitFor({ timeout: 120_000 });
    return { page, message: await error.innerText() };
  }

  it('model.json replaced by an HTML page (SPA fallback of a host without the model)', async () => {
    const html = fs.readFileSync(path.join(app.build.distDir, 'index.html'));
    const { message } = await openWithRoute('model.json', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: html }));
    expect(message).toMatch(/model\.json is missing or not JSON: the server returned an HTML page instead/);
    expect(message).not.toMatch(/Unexpected token/);
  });

  it('metadata.json missing (HTTP 404)', async () => {
    const { message } = await openWithRoute('metadata.json', (route) => route.fulfill({ status: 404, body: 'Not found' }));
    expect(message).toMatch(/model file metadata\.json is missing \(HTTP 404/);
  });

  it('weights.bin missing behind an SPA fallback (the HTML page instead): the file is named, not a byte count', async () => {
    const html = fs.readFileSync(path.join(app.build.distDir, 'index.html'));
    const { message } = await openWithRoute('weights.bin', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: html }));
    expect(message).toMatch(/weight file weights\.bin \(named in model\.json\) is missing: the server returned an HTML page instead/);
    expect(message).not.toMatch(/expects/);
  });

  it('truncated weights, then Retry with the real file works', async () => {
    const weights = fs.readFileSync(path.join(app.build.modelDir, 'weights.bin'));
    let broken = true;
    const { page } = await openWithRoute('weights.bin', (route) =>
      broken ? route.fulfill({ status: 200, contentType: 'application/octet-stream', body: weights.subarray(0, weights.length >> 1) }) : route.continue(),
    );
    expect(await page.getByTestId('model-error').innerText()).toMatch(/weight file weights\.bin truncated or wrong: \d+ bytes, model\.json expects \d+/);
    broken = false;
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.locator('[data-testid="model-status"][data-status="ready"]').waitFor({ timeout: 120_000 });
  });

  it('corrupt model.json (not valid JSON)', async () => {
    const { message } = await openWithRoute('model.json', (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: '{"modelTopology": {' }),
    );
    expect(message).toMatch(/model\.json is corrupt/);
  });
});
