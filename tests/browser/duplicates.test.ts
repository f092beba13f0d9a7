// Copies and leakage on the Train page, against the production build in headless Chromium (wasm):
// the same real images loaded twice (a folder, then a .zip of it) plus a re-encoded copy are found
// and shown as sets of copies; "keep together" keeps every set on one side of the split, "remove"
// drops the extra copies and lists them; images of the shared data's train split are recognised as
// images the base network was trained on, and can be kept out of validation; a broken
// train-hashes.json gives a clear message and training still works. axe: 0 serious throughout.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import * as jpegNs from 'jpeg-js';
import { zipSync } from 'fflate';
import { ensureBuild, hasData, launchBrowser, manifest, openApp, skipReason, startPreview, type AppSession, type PreviewServer } from './helpers';
import type { PlannedSplit, TrainerState } from '../../src/ui/state/trainer';
import { decodeImageBytes } from '../../src/image/decode';
import { areaDownscale } from '../../src/image/degrade';
import { decodedImageHash } from '../../src/image/image-hash';
import { toGray8 } from '../../src/image/preprocess';
import { hammingDistance } from '../../src/core/image-hash';
import { knownTrainingImages, NEAR_DUPLICATE_DISTANCE, parseTrainHashes } from '../../src/core/train-hashes';

type JpegModule = typeof import('jpeg-js');
const jpeg: JpegModule = ((jpegNs as unknown as { encode?: unknown }).encode ? jpegNs : (jpegNs as unknown as { default: JpegModule }).default) as JpegModule;

if (!hasData()) console.warn(skipReason());

const trainState = (page: Page) => page.evaluate(() => window.cxrLabTrain!.state()) as Promise<TrainerState>;
const plan = (page: Page) => page.evaluate(() => window.cxrLabTrain!.plan()) as Promise<PlannedSplit>;

async function seriousAxe(page: Page): Promise<string[]> {
  const axe = await new AxeBuilder({ page }).analyze();
  return axe.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

async function openTrain(browser: Browser, url: string, opts: Parameters<typeof openApp>[2] = {}): Promise<AppSession> {
  const session = await openApp(browser, `${url}?backend=wasm`, { hash: '#/train', waitForModel: false, ...opts });
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

/** The image re-encoded as a smaller JPEG (70 % size, quality 75): the same picture, other bytes. */
function reencode(gray: ReturnType<typeof toGray8>): Uint8Array {
  const w = Math.round(gray.width * 0.7);
  const h = Math.round(gray.height * 0.7);
  const small = areaDownscale(Float32Array.from(gray.data), gray.width, gray.height, w, h);
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    rgba.fill(Math.max(0, Math.min(255, Math.round(small[i]))), 4 * i, 4 * i + 3);
    rgba[4 * i + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ data: rgba, width: w, height: h }, 75).data);
}

interface Picked {
  file: string;
  label: string;
  hash: string;
  gray: ReturnType<typeof toGray8>;
}

/**
 * Real images that are no copies of one another: `perVal` per class from the val split that the base
 * network did not train on, and `perTrain` per class from its train split (which it did).
 */
async function pickImages(perVal: number, perTrain: number): Promise<{ val: Picked[]; train: Picked[] }> {
  const set = parseTrainHashes(fs.readFileSync(path.resolve(new URL('../../public/model/train-hashes.json', import.meta.url).pathname), 'utf8'));
  const chosen: Picked[] = [];
  const far = (h: string) => chosen.every((c) => hammingDistance(c.hash, h) > 2 * NEAR_DUPLICATE_DISTANCE);
  const take = async (split: string, label: string, n: number, known: boolean): Promise<Picked[]> => {
    const out: Picked[] = [];
    for (const r of manifest().filter((m) => m.split === split && m.label === label)) {
      if (out.length === n) break;
      const img = await decodeImageBytes(new Uint8Array(fs.readFileSync(r.path)));
      const hash = decodedImageHash(img);
      if (knownTrainingImages([hash], set).length === (known ? 0 : 1) || !far(hash)) continue;
      const p = { file: r.path, label, hash, gray: toGray8(img) };
      out.push(p);
      chosen.push(p);
    }
    if (out.length < n) throw new Error(`only ${out.length} suitable ${split} images of ${label}`);
    return out;
  };
  const val = [...(await take('val', 'covid', perVal, false)), ...(await take('val', 'normal', perVal, false))];
  const train = [...(await take('train', 'covid', perTrain, true)), ...(await take('train', 'normal', perTrain, true))];
  return { val, train };
}

describe.skipIf(!hasData())('Train page: copies and leakage', () => {
  let server: PreviewServer;
  let browser: Browser;
  let session: AppSession;
  let root: string;
  let folder: string;
  let zipPath: string;
  let picked: Awaited<ReturnType<typeof pickImages>>;
  const PER_VAL = 10;
  const PER_TRAIN = 4;
  // Folder: 2×10 val images, a re-encoded copy of the first, 2×4 train-split images. Zip: the 20 val images again.
  const FOLDER = 2 * PER_VAL + 1 + 2 * PER_TRAIN;
  const TOTAL = FOLDER + 2 * PER_VAL;

  beforeAll(async () => {
    await ensureBuild();
    server = await startPreview();
    browser = await launchBrowser();
    picked = await pickImages(PER_VAL, PER_TRAIN);
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-dup-test-'));
    folder = path.join(root, 'dataset');
    const entries: Record<string, Uint8Array> = {};
    for (const p of [...picked.val, ...picked.train]) {
      fs.mkdirSync(path.join(folder, p.label), { recursive: true });
      fs.copyFileSync(p.file, path.join(folder, p.label, path.basename(p.file)));
      if (picked.val.includes(p)) entries[`dataset/${p.label}/${path.basename(p.file)}`] = new Uint8Array(fs.readFileSync(p.file));
    }
    const near = reencode(picked.val[0].gray);
    // Precondition: the re-encoded copy is a near copy by the app's own rule.
    expect(hammingDistance(decodedImageHash(await decodeImageBytes(near)), picked.val[0].hash)).toBeLessThanOrEqual(NEAR_DUPLICATE_DISTANCE);
    fs.writeFileSync(path.join(folder, 'covid', 'zz-resized-copy.jpg'), near);
    zipPath = path.join(root, 'dataset.zip');
    fs.writeFileSync(zipPath, zipSync(entries, { level: 0 }));
    session = await openTrain(browser, server.url);
  }, 300_000);

  afterAll(async () => {
    await session?.context.close();
    await browser?.close();
    await server?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('the same images as a folder and as a zip: the panel reports the sets of copies; no set straddles the split', async () => {
    const { page } = session;
    const hashRequests = () => session.log.entries.filter((e) => !e.fromServiceWorker && e.url.endsWith('/model/train-hashes.json'));
    // Loaded lazily: not before images are prepared.
    expect(hashRequests()).toEqual([]);
    expect(await page.getByTestId('copies-panel').count()).toBe(0);
    await page.getByTestId('dataset-folder-input').setInputFiles(folder);
    await waitPrepared(page, FOLDER);
    const before = await page.evaluate(() => window.cxrLabTrain!.memory());
    // Only the re-encoded copy so far.
    const copies = page.getByTestId('copies');
    await copies.waitFor();
    expect(await copies.getAttribute('data-sets')).toBe('1');
    await page.getByTestId('dataset-zip-input').setInputFiles(zipPath);
    await waitPrepared(page, TOTAL);
    expect(hashRequests()).toHaveLength(1);
    expect(new URL(hashRequests()[0].url).origin).toBe(new URL(server.url).origin);

    // 20 sets: 19 exact pairs, and the first image with its zip twin and its re-encoded copy (near).
    await page.waitForFunction(() => document.querySelector('[data-testid="copies"]')?.getAttribute('data-sets') === '20');
    expect(Number(await copies.getAttribute('data-images'))).toBe(2 * 2 * PER_VAL + 1);
    expect(await page.getByTestId('copies-summary').textContent()).toContain('20 sets of copies (41 images)');
    const sets = page.getByTestId('copy-set');
    const kinds = await sets.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-kind')}:${e.getAttribute('data-size')}`));
    expect(kinds.sort()).toEqual([...Array(19).fill('exact:2'), 'near:3'].sort());
    expect(await page.getByTestId('copy-conflict').count()).toBe(0);
    // Thumbnails and file names of each set.
    const near = sets.and(page.locator('[data-kind="near"]'));
    expect(await near.locator('canvas').count()).toBe(3);
    const nearPaths = await near.getByTestId('copy-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-path') ?? ''));
    expect(nearPaths.map((p) => path.basename(p))).toContain('zz-resized-copy.jpg');

    // Keep together (the default): every set wholly in training or wholly in validation, all images used.
    expect(await page.getByTestId('copies-together').isChecked()).toBe(true);
    const p = await plan(page);
    expect(p.train.ids.length + p.val.ids.length).toBe(TOTAL);
    const inVal = new Set(p.val.ids);
    const members = await sets.evaluateAll((els) => els.map((e) => (e.getAttribute('data-ids') ?? '').split(' ').map(Number)));
    expect(members).toHaveLength(20);
    for (const m of members) expect(new Set(m.map((id) => inVal.has(id))).size, `set ${m}`).toBe(1);
    expect(members.some((m) => inVal.has(m[0]))).toBe(true);
    const split = page.getByTestId('split-summary');
    expect(Number(await split.getAttribute('data-train')) + Number(await split.getAttribute('data-val'))).toBe(TOTAL);

    // The zip added images, not tensors: the worker holds what it held after the folder.
    const after = await page.evaluate(() => window.cxrLabTrain!.memory());
    expect(after.numTensors).toBe(before.numTensors);
    await page.getByTestId('copies').locator('summary', { hasText: 'Show the sets' }).click();
    expect(await seriousAxe(page)).toEqual([]);
    expect(session.problems).toEqual([]);
  });

  it('"Remove the extra copies" keeps one per set and lists the 21 removed; switching back restores them', async () => {
    const { page } = session;
    const split = page.getByTestId('split-summary');
    const used = async () => Number(await split.getAttribute('data-train')) + Number(await split.getAttribute('data-val'));
    await page.getByTestId('copies-remove').check();
    const removed = page.getByTestId('copies-removed');
    await removed.waitFor();
    expect(await removed.getAttribute('data-count')).toBe('21');
    expect(await used()).toBe(TOTAL - 21);
    await removed.locator('summary').click();
    expect(await page.getByTestId('copies-removed-item').count()).toBe(21);
    const p = await plan(page);
    const s = await trainState(page);
    // One image of each set stays (and every image that had no copy).
    const kept = new Set([...p.train.ids, ...p.val.ids]);
    const members = await page.getByTestId('copy-set').evaluateAll((els) => els.map((e) => (e.getAttribute('data-ids') ?? '').split(' ').map(Number)));
    for (const m of members) expect(m.filter((id) => kept.has(id))).toHaveLength(1);
    expect(kept.size).toBe(s.images.length - 21);
    expect(await seriousAxe(page)).toEqual([]);

    await page.getByTestId('copies-together').check();
    await removed.waitFor({ state: 'detached' });
    expect(await used()).toBe(TOTAL);
  });

  it('train-split images are recognised as base-network training images; "keep them out of validation" removes them from validation, and a run honours it', async () => {
    const { page } = session;
    await page.getByTestId('val-fraction').fill('0.5');
    const leakage = page.getByTestId('leakage');
    await leakage.waitFor();
    expect(await leakage.getAttribute('data-count')).toBe(String(2 * PER_TRAIN));
    const s = await trainState(page);
    const trainedNames = new Set(picked.train.map((p) => path.basename(p.file)));
    const flagged = s.images.filter((im) => im.baseTrained);
    expect(flagged.map((im) => path.basename(im.path)).sort()).toEqual([...trainedNames].sort());
    const p = await plan(page);
    const k = p.val.ids.filter((id) => flagged.some((im) => im.id === id)).length;
    expect(k).toBeGreaterThan(0);
    expect(await leakage.getAttribute('data-val')).toBe(String(k));
    expect(await page.getByTestId('leakage-summary').textContent()).toContain(
      `${2 * PER_TRAIN} of your images (${k} in validation) were used to train the base network`,
    );

    await page.getByTestId('exclude-base-trained').check();
    await page.waitForFunction(() => document.querySelector('[data-testid="leakage"]')?.getAttribute('data-val') === '0');
    const q = await plan(page);
    const flaggedIds = new Set(flagged.map((im) => im.id));
    expect(q.val.ids.filter((id) => flaggedIds.has(id))).toEqual([]);
    // They stay in training; nothing else is lost.
    expect(q.train.ids.filter((id) => flaggedIds.has(id))).toHaveLength(2 * PER_TRAIN);
    expect(q.train.ids.length + q.val.ids.length).toBe(TOTAL);
    expect(await seriousAxe(page)).toEqual([]);

    // A short run validates on exactly that split: no base-network image, no set across the split.
    await page.getByTestId('epochs').fill('2');
    await page.getByTestId('train-button').click();
    await page.getByTestId('run-status').and(page.locator('[data-status="done"], [data-status="error"]')).waitFor({ timeout: 240_000 });
    const done = await trainState(page);
    expect(done.run.status).toBe('done');
    expect(done.run.valIds.filter((id) => flaggedIds.has(id))).toEqual([]);
    expect([...done.run.valIds].sort((a, b) => a - b)).toEqual([...q.val.ids].sort((a, b) => a - b));
    const inVal = new Set(done.run.valIds);
    const members = await page.getByTestId('copy-set').evaluateAll((els) => els.map((e) => (e.getAttribute('data-ids') ?? '').split(' ').map(Number)));
    for (const m of members) expect(new Set(m.map((id) => inVal.has(id))).size).toBe(1);
    expect(await seriousAxe(page)).toEqual([]);
    expect(session.problems).toEqual([]);
  });

  it('a broken train-hashes.json gives a clear message, not a crash; copies are still found and training still starts', async () => {
    const bad = await openTrain(browser, server.url, {
      contextOptions: { serviceWorkers: 'block' },
      beforeNavigate: (context) =>
        context.route('**/model/train-hashes.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '{"version": 9}' })),
    });
    try {
      const { page } = bad;
      const files = picked.val.slice(0, 3).map((p) => p.file);
      await page.getByTestId('class-files-input').nth(0).setInputFiles(files);
      await page
        .getByTestId('class-files-input')
        .nth(1)
        .setInputFiles([...picked.val.slice(PER_VAL, PER_VAL + 3).map((p) => p.file), files[0]]);
      await waitPrepared(page, 7);
      const error = page.getByTestId('leakage-error');
      await error.waitFor();
      expect(await error.textContent()).toContain('version 9 is not supported');
      // The same file in both classes: a conflict the teacher resolves, never silently.
      const conflict = page.getByTestId('copy-conflict');
      await conflict.waitFor();
      expect(await page.getByTestId('copies').getAttribute('data-conflicts')).toBe('1');
      expect(await seriousAxe(page)).toEqual([]);
      await conflict.getByTestId('copy-resolve').first().click();
      await page.getByTestId('copy-conflict').waitFor({ state: 'detached' });
      expect((await trainState(page)).images).toHaveLength(6);
      expect(await page.getByTestId('train-button').isEnabled()).toBe(true);
      expect(bad.problems).toEqual([]);
    } finally {
      await bad.context.close();
    }
  });
});
