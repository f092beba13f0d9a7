// The page refuses tiny files that declare huge images from their headers, before decoding: a
// 333-byte JPEG declaring 8000×7000 used to cost 8–10 s of decoding zeros per file in the worker.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addFiles, hasData, openApp, readTable, skipReason, testImages, useAppHarness, waitForRows } from './helpers';
import { craftedGif, craftedJpeg } from '../unit/helpers/crafted-images';

if (!hasData()) console.warn(skipReason());

describe.skipIf(!hasData())('Classify page: images whose headers declare more than the file holds', () => {
  const app = useAppHarness();

  it('333-byte JPEGs declaring 8000×7000 (over the limit) or 7000×7000 (under it, but not in 333 bytes) and such a GIF are refused at once; the real image is classified', async () => {
    const good = testImages('normal', 1)[0];
    const { page, context } = await openApp(app.browser, app.server.url);
    const t0 = Date.now();
    await addFiles(page, [
      { name: 'bomb1.jpg', buffer: Buffer.from(craftedJpeg(8000, 7000)) },
      ...[2, 3].map((i) => ({ name: `bomb${i}.jpg`, buffer: Buffer.from(craftedJpeg(7000, 7000)) })),
      { name: 'bomb.gif', buffer: Buffer.from(craftedGif(7000, 7000)) },
      good,
    ]);
    await waitForRows(page, 5);
    const seconds = (Date.now() - t0) / 1000;
    const rows = await readTable(page);
    const byName = Object.fromEntries(rows.map((r) => [r.file, r]));
    expect(byName['bomb1.jpg'].error).toMatch(/^image too large: 8000×7000, limit 16384 px per side and 50 megapixels/);
    for (const name of ['bomb2.jpg', 'bomb3.jpg']) {
      expect(byName[name].status, name).toBe('error');
      expect(byName[name].error, name).toMatch(/declares 7000×7000 pixels, more than a 333-byte JPEG file can hold/);
    }
    expect(byName['bomb.gif'].error).toMatch(/declares 7000×7000 pixels, more than a \d+-byte GIF file can hold/);
    expect(byName[path.basename(good)].status).toBe('done');
    // Before: ≥ 8 s per crafted JPEG in the worker. Now the whole batch, real image included, is quick.
    expect(seconds).toBeLessThan(8);
    await context.close();
  });
});
