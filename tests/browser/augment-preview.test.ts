// The Train page's augmentation preview, against the production build in headless Chromium (wasm): a
// few training images, each with augmented copies drawn exactly as the last-block stage draws them
// (checked pixel for pixel against augmentToInput in Node), new copies on "New samples", none when
// augmentation is off.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import AxeBuilder from '@axe-core/playwright';
import type { Locator, Page } from 'playwright-core';
import { SHIPPED_MODEL_DIR, hasData, manifest, openApp, skipReason, useAppHarness } from './helpers';
import type { TrainerState } from '../../src/ui/state/trainer';
import { decodeImageBytes } from '../../src/image/decode';
import { prepareImage } from '../../src/image/pipeline';
import { BASE_MARGIN, augmentToInput } from '../../src/image/augment';
import { inputToGray8 } from '../../src/image/preprocess';
import { createRng } from '../../src/core/random';
import { parseModelMetadata } from '../../src/core/metadata';
import { TRAIN_AUGMENT } from '../../src/worker/train-augment';

if (!hasData()) console.warn(skipReason());

async function seriousAxe(page: Page): Promise<string[]> {
  const axe = await new AxeBuilder({ page }).analyze();
  return axe.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** The gray pixels of every canvas the locator matches. */
function pixels(loc: Locator): Promise<number[][]> {
  return loc.evaluateAll((cs) =>
    (cs as HTMLCanvasElement[]).map((c) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      return Array.from({ length: c.width * c.height }, (_, i) => d[i * 4]);
    }),
  );
}

const differ = (a: number[], b: number[]) => a.some((v, i) => v !== b[i]);

describe.skipIf(!hasData())('Train page: augmentation preview', () => {
  const h = useAppHarness();
  let root: string;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-augment-test-'));
    for (const label of ['covid', 'normal']) {
      fs.mkdirSync(path.join(root, 'dataset', label), { recursive: true });
      for (const r of manifest()
        .filter((m) => m.split === 'train' && m.label === label)
        .slice(0, 10))
        fs.copyFileSync(r.path, path.join(root, 'dataset', label, path.basename(r.path)));
    }
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('shows 3 training images with distinct augmented copies (as training draws them), new ones on "New samples", none when augmentation is off', async () => {
    const { page } = await openApp(h.browser, `${h.server.url}?backend=wasm`, { hash: '#/train', waitForModel: false });
    await page.getByTestId('base-status').and(page.locator('[data-status="ready"]')).waitFor({ timeout: 180_000 });
    await page.getByTestId('dataset-folder-input').setInputFiles(path.join(root, 'dataset'));
    await page.waitForFunction(
      () => {
        const s = window.cxrLabTrain!.state();
        return s.images.length >= 20 && s.images.every((im) => im.status !== 'queued');
      },
      undefined,
      { timeout: 180_000, polling: 100 },
    );
    await page.locator('.tr-advanced > summary').click();
    const preview = page.getByTestId('augment-preview');
    // Off (the default: no last-block stage): no augmented copies, and it says so.
    expect(await preview.getAttribute('data-enabled')).toBe('false');
    expect(await preview.getByTestId('augment-off').isVisible()).toBe(true);
    expect(await preview.getByTestId('augment-variant').count()).toBe(0);

    await page.getByTestId('block-enabled').check();
    await preview.and(page.locator('[data-status="done"]')).waitFor({ timeout: 60_000 });
    const rows = preview.getByTestId('augment-row');
    expect(await rows.count()).toBe(3);
    const seed1 = await preview.getAttribute('data-seed');
    const originals = await pixels(preview.getByTestId('augment-original'));
    const first = await pixels(preview.getByTestId('augment-variant'));
    expect(first).toHaveLength(3 * 4);
    // Every copy differs from its original and from the other copies of the same image.
    for (let r = 0; r < 3; r++) {
      const own = first.slice(r * 4, r * 4 + 4);
      for (const v of own) expect(differ(v, originals[r])).toBe(true);
      for (let a = 0; a < 4; a++) for (let b = a + 1; b < 4; b++) expect(differ(own[a], own[b])).toBe(true);
    }

    // The exact path of training: augmentToInput on the image's base, with the same config and seed stream.
    const state = (await page.evaluate(() => window.cxrLabTrain!.state())) as TrainerState;
    const imageId = Number(await rows.first().getAttribute('data-image'));
    const entry = state.images.find((im) => im.id === imageId)!;
    const cls = state.classes.find((c) => c.key === entry.classKey)!.name;
    const spec = parseModelMetadata(JSON.parse(fs.readFileSync(path.join(SHIPPED_MODEL_DIR, 'metadata.json'), 'utf8'))).preprocessing;
    const image = await decodeImageBytes(new Uint8Array(fs.readFileSync(path.join(root, 'dataset', cls, path.basename(entry.path)))));
    const base = prepareImage(image, spec, { augmentBaseSize: Math.round(spec.inputSize * BASE_MARGIN) }).augmentBase!;
    const rng = createRng(Number(seed1) * 1009 + 0);
    for (let j = 0; j < 4; j++) {
      const node = Array.from(inputToGray8(augmentToInput(base, spec, TRAIN_AUGMENT, rng), spec));
      const maxDiff = Math.max(...node.map((v, i) => Math.abs(v - first[j][i])));
      expect(maxDiff, `copy ${j + 1}`).toBeLessThanOrEqual(1);
    }
    expect(await seriousAxe(page)).toEqual([]);

    // New samples: new copies of the same images.
    await preview.getByTestId('augment-reseed').click();
    await expect.poll(() => preview.getAttribute('data-seed')).not.toBe(seed1);
    await preview.and(page.locator('[data-status="done"]')).waitFor({ timeout: 60_000 });
    const second = await pixels(preview.getByTestId('augment-variant'));
    expect(second).toHaveLength(12);
    expect(await pixels(preview.getByTestId('augment-original'))).toEqual(originals);
    second.forEach((v, i) => expect(differ(v, first[i]), `copy ${i}`).toBe(true));

    // Off again: the copies vanish.
    await page.getByTestId('block-enabled').uncheck();
    await expect.poll(() => preview.getByTestId('augment-variant').count()).toBe(0);
    expect(await preview.getByTestId('augment-off').isVisible()).toBe(true);
    expect(await seriousAxe(page)).toEqual([]);
  });
});
