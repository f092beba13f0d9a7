// Train-page projects end to end (production build, headless Chromium, wasm backend): a prepared and
// trained data set asks before it is lost, saves to one .cxrlab file and into this browser, survives a
// reload, and comes back from either with the same images per class, split, settings, curves and
// predictions, without decoding the images again and without leaking tensors. A damaged file is
// refused with a clear message and leaves the work as it was.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipSync, zipSync } from 'fflate';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { ensureBuild, hasData, launchBrowser, manifest, openApp, skipReason, startPreview, testImages, type AppSession, type PreviewServer } from './helpers';
import type { TrainerState } from '../../src/ui/state/trainer';
import type { ProjectState } from '../../src/ui/lib/project';

if (!hasData()) console.warn(skipReason());

const PER_CLASS = 12;

function makeDataset(): { root: string; dir: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-projects-test-'));
  const dir = path.join(root, 'dataset');
  for (const label of ['covid', 'normal']) {
    fs.mkdirSync(path.join(dir, label), { recursive: true });
    for (const r of manifest()
      .filter((m) => m.split === 'train' && m.label === label)
      .slice(0, PER_CLASS))
      fs.copyFileSync(r.path, path.join(dir, label, path.basename(r.path)));
  }
  return { root, dir };
}

const trainState = (page: Page) => page.evaluate(() => window.cxrLabTrain!.state()) as Promise<TrainerState>;
const projectState = (page: Page) => page.evaluate(() => window.cxrLabProject!.state()) as Promise<ProjectState>;

async function waitReady(page: Page): Promise<void> {
  await page.getByTestId('base-status').and(page.locator('[data-status="ready"], [data-status="error"]')).waitFor({ timeout: 180_000 });
  expect((await trainState(page)).base.status).toBe('ready');
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

/** What a restore must bring back: images per class, the split, the settings, the curves, the validation results. */
async function snapshot(page: Page) {
  return page.evaluate(() => {
    const s = window.cxrLabTrain!.state();
    const plan = window.cxrLabTrain!.planSplit!();
    const pathOf = new Map(s.images.map((im) => [im.id, im.path]));
    const perClass = Object.fromEntries(s.classes.map((c) => [c.name, s.images.filter((im) => im.classKey === c.key && im.status === 'ready').length]));
    return {
      perClass,
      train: plan.train.ids.map((id) => pathOf.get(id)).sort(),
      val: plan.val.ids.map((id) => pathOf.get(id)).sort(),
      settings: s.settings,
      history: s.run.history,
      status: s.run.status,
      keptEpoch: s.run.result?.keptEpoch,
      runVal: s.run.valIds.map((id) => pathOf.get(id)),
      valLabels: s.run.valLabels,
      valProbs: s.run.valProbs ? Array.from(s.run.valProbs) : null,
      thumbs: s.images.filter((im) => im.thumb).length,
    };
  });
}

/** Probabilities shown by "Try it", per file. */
async function tryIt(page: Page, files: string[]): Promise<Record<string, Record<string, number>>> {
  await page.getByTestId('preview-input').setInputFiles(files);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="preview-result"][data-status="done"]').length >= n, files.length, {
    timeout: 60_000,
  });
  return page
    .getByTestId('preview-result')
    .evaluateAll((items) =>
      Object.fromEntries(
        items.map((li) => [
          li.getAttribute('data-file'),
          Object.fromEntries(
            Array.from(li.querySelectorAll('[data-testid="probabilities"] li')).map((b) => [
              b.getAttribute('data-class'),
              Number(b.getAttribute('data-value')),
            ]),
          ),
        ]),
      ),
    );
}

async function seriousAxe(page: Page): Promise<string[]> {
  const axe = await new AxeBuilder({ page }).analyze();
  return axe.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Whether closing the page now makes the browser ask (the dialog a user would see), dismissed so the page stays. */
async function asksBeforeClose(page: Page): Promise<boolean> {
  await page.getByTestId('project-panel').locator('h2').click(); // a user gesture: Chromium asks only after one
  const dialog = new Promise<string>((resolve) => page.once('dialog', (d) => void d.dismiss().then(() => resolve(d.type()))));
  const none = new Promise<string>((resolve) => setTimeout(() => resolve('none'), 3000));
  await page.close({ runBeforeUnload: true });
  return (await Promise.race([dialog, none])) === 'beforeunload';
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe.skipIf(!hasData())('Train page projects', () => {
  let server: PreviewServer;
  let browser: Browser;
  let session: AppSession;
  let data: ReturnType<typeof makeDataset>;
  let projectFile = '';
  const previewFiles = [...testImages('covid', 1), ...testImages('normal', 1)];

  beforeAll(async () => {
    await ensureBuild();
    server = await startPreview();
    browser = await launchBrowser();
    data = makeDataset();
    session = await openApp(browser, `${server.url}?backend=wasm`, { hash: '#/train', waitForModel: false });
    await waitReady(session.page);
  });

  afterAll(async () => {
    await session?.context.close();
    await browser?.close();
    await server?.close();
    if (data) fs.rmSync(data.root, { recursive: true, force: true });
  });

  it('prepared and trained work: asks before a reload; saved to a file and in this browser it comes back after a reload, the same, without decoding again', async () => {
    const { page } = session;
    expect(await page.getByTestId('project-status').getAttribute('data-dirty')).toBe('false');
    await page.getByTestId('dataset-folder-input').setInputFiles(data.dir);
    await waitPrepared(page, 2 * PER_CLASS);
    let s = await trainState(page);
    const freshMs = s.embed.doneAt! - s.embed.startedAt!;
    // Settings that differ from the defaults, so that a restore has to bring them back.
    await page.getByTestId('seed').fill('7');
    await page.getByTestId('val-fraction').fill('0.3');
    await page.getByTestId('epochs').fill('4');
    // Unsaved prepared images: the page asks before it is closed or reloaded.
    expect(await page.getByTestId('project-status').getAttribute('data-dirty')).toBe('true');
    expect(await asksBeforeClose(page)).toBe(true);

    await page.getByTestId('train-button').click();
    await page.getByTestId('run-status').and(page.locator('[data-status="done"], [data-status="error"]')).waitFor({ timeout: 240_000 });
    s = await trainState(page);
    expect(s.run.status, s.run.error ?? '').toBe('done');
    const before = await snapshot(page);
    expect(before.history).toHaveLength(4);
    expect(before.settings.seed).toBe(7);
    expect(before.perClass).toEqual({ covid: PER_CLASS, normal: PER_CLASS });
    const predicted = await tryIt(page, previewFiles);
    const tensors = (await page.evaluate(() => window.cxrLabTrain!.memory())).numTensors;
    expect(await asksBeforeClose(page)).toBe(true);

    // One file…
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('project-download').click()]);
    expect(download.suggestedFilename()).toMatch(/\.cxrlab$/);
    projectFile = path.join(data.root, download.suggestedFilename());
    await download.saveAs(projectFile);
    await page.getByTestId('project-status').and(page.locator('[data-dirty="false"]')).waitFor();
    // …and a copy in this browser.
    await page.getByTestId('project-name').fill('two classes');
    await page.getByTestId('project-save').click();
    await page.getByTestId('saved-project').and(page.locator('[data-name="two classes"]')).waitFor();
    expect(await page.getByTestId('project-message').innerText()).toMatch(/saved in this browser as "two classes"/);
    expect(await seriousAxe(page)).toEqual([]);

    // Nothing unsaved: the reload goes through without a question, and the work is gone from the page.
    let asked = false;
    page.on('dialog', (d) => {
      asked = true;
      void d.accept();
    });
    await page.reload();
    await waitReady(page);
    expect(asked).toBe(false);
    expect((await trainState(page)).images).toHaveLength(0);

    // From the file: everything is back; the prepared data is reused (no decode), the model predicts the same.
    const restoreMs: number[] = [];
    await page.getByTestId('project-file-input').setInputFiles(projectFile);
    await page.waitForFunction(() => window.cxrLabProject!.state().lastRestoreMs !== null && !window.cxrLabProject!.state().busy, undefined, {
      timeout: 180_000,
    });
    let p = await projectState(page);
    restoreMs.push(p.lastRestoreMs!);
    expect(p.message?.text).toMatch(/^Opened "[^"]+": 24 images in 2 classes, the trained model and its curves\.$/);
    const fromFile = await snapshot(page);
    expect(fromFile).toEqual(before);
    expect((await trainState(page)).embed.stats?.processed ?? 0).toBe(0); // nothing decoded in this page's worker
    expect(await page.getByTestId('run-status').getAttribute('data-status')).toBe('done');
    expect(await page.getByTestId('evaluation').count()).toBe(1);
    expect(await tryIt(page, previewFiles)).toEqual(predicted);
    expect(await page.getByTestId('project-status').getAttribute('data-dirty')).toBe('false');
    const base = (await page.evaluate(() => window.cxrLabTrain!.memory())).numTensors;
    expect(base).toBe(tensors);
    expect(await seriousAxe(page)).toEqual([]);

    // From this browser's storage (twice more, for the timing): the same again, and the tensors stay flat.
    for (let i = 0; i < 2; i++) {
      await page.getByTestId('saved-project').and(page.locator('[data-name="two classes"]')).getByTestId('project-open-saved').click();
      await page.waitForFunction(() => !window.cxrLabProject!.state().busy && window.cxrLabProject!.state().restoring === null, undefined, {
        timeout: 180_000,
      });
      p = await projectState(page);
      expect(p.message?.kind).toBe('ok');
      restoreMs.push(p.lastRestoreMs!);
      expect(await snapshot(page)).toEqual(before);
      expect((await page.evaluate(() => window.cxrLabTrain!.memory())).numTensors).toBe(base);
    }
    expect(await tryIt(page, previewFiles)).toEqual(predicted);
    console.log(
      `[projects] fresh preparation of ${2 * PER_CLASS} images: ${Math.round(freshMs)} ms; restore (file + 2× browser): median ${Math.round(median(restoreMs))} ms (${restoreMs.map(Math.round).join(', ')})`,
    );
    expect(session.problems).toEqual([]);
  });

  it('a damaged or foreign file is refused with a clear message; the current work is untouched', async () => {
    const { page } = session;
    const before = await snapshot(page);
    const bytes = fs.readFileSync(projectFile);
    await page
      .getByTestId('project-file-input')
      .setInputFiles({ name: 'cut.cxrlab', mimeType: 'application/zip', buffer: bytes.subarray(0, bytes.length >> 1) });
    await page.getByTestId('project-message').and(page.locator('[role="alert"]')).waitFor();
    expect(await page.getByTestId('project-message').innerText()).toMatch(/^Not opened: the file is damaged or incomplete .*Your current work is unchanged\./);
    await page
      .getByTestId('project-file-input')
      .setInputFiles({ name: 'notes.cxrlab', mimeType: 'text/plain', buffer: Buffer.from('just some text, not a project') });
    await page.waitForFunction(() => /not a \.cxrlab \(zip\) file/.test(document.querySelector('[data-testid="project-message"]')?.textContent ?? ''));
    expect(await snapshot(page)).toEqual(before);
    expect(await seriousAxe(page)).toEqual([]);
  });

  it('saved under another base network: the images are prepared again from their files, with progress, and come out the same', async () => {
    const { page } = session;
    const before = await snapshot(page);
    const files = unzipSync(new Uint8Array(fs.readFileSync(projectFile)));
    const m = JSON.parse(new TextDecoder().decode(files['project.json']));
    m.prepared.base = 'another network@1 0000000000000000';
    files['project.json'] = new TextEncoder().encode(JSON.stringify(m));
    const processed = (await trainState(page)).embed.stats?.processed ?? 0;
    await page.getByTestId('project-file-input').setInputFiles({ name: 'other.cxrlab', mimeType: 'application/zip', buffer: Buffer.from(zipSync(files)) });
    await page.getByTestId('project-progress').waitFor();
    expect(await page.getByTestId('project-progress').innerText()).toMatch(/of 24 images ready \(24 prepared again from their files\)/);
    await page.waitForFunction(() => !window.cxrLabProject!.state().busy && window.cxrLabProject!.state().restoring === null, undefined, { timeout: 180_000 });
    expect((await projectState(page)).message?.text).toMatch(/24 images are prepared again \(saved with a different base network\)\.$/);
    expect(((await trainState(page)).embed.stats?.processed ?? 0) - processed).toBe(24);
    expect(await snapshot(page)).toEqual(before);
    expect(await seriousAxe(page)).toEqual([]);
  });

  it('a full browser storage is reported as such (the work stays unsaved); deleting the copy empties the list', async () => {
    const { page } = session;
    // A real QuotaExceededError, in a fresh browser context whose quota for this origin is lowered to
    // 100 kB before it stores anything: Chromium keeps the quota it first read for an origin's
    // storage, so lowering it in a context that has already saved has no effect on its writes.
    const origin = new URL(server.url).origin;
    const full = await openApp(browser, `${server.url}?backend=wasm`, {
      hash: '#/train',
      waitForModel: false,
      beforeNavigate: async (context) => {
        const cdp = await context.newCDPSession(await context.newPage());
        await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 100_000 });
      },
    });
    const fp = full.page;
    await fp.getByTestId('project-file-input').setInputFiles(projectFile);
    await fp.waitForFunction(() => !window.cxrLabProject!.state().busy && window.cxrLabProject!.state().restoring === null, undefined, { timeout: 180_000 });
    await fp.getByTestId('seed').fill('8'); // something new to save
    await fp.getByTestId('project-name').fill('too big');
    await fp.getByTestId('project-save').click();
    await fp.getByTestId('project-message').and(fp.locator('[role="alert"]')).waitFor({ timeout: 60_000 });
    expect(await fp.getByTestId('project-message').innerText()).toMatch(
      /^Not saved: this browser's storage is full \(the project needs \d+\.\d MB\): download the project file instead, or delete saved projects or models\./,
    );
    expect(await fp.getByTestId('project-status').getAttribute('data-dirty')).toBe('true');
    expect(await fp.getByTestId('saved-project').count()).toBe(0);
    expect(await seriousAxe(fp)).toEqual([]);
    expect(full.problems).toEqual([]);
    await full.context.close();
    await page.getByTestId('seed').fill('8'); // unsaved work in the first session
    // Opening a project over unsaved work asks first; Cancel keeps the work, "Open anyway" replaces it.
    const openSaved = page.getByTestId('saved-project').and(page.locator('[data-name="two classes"]')).getByTestId('project-open-saved');
    await openSaved.click();
    await page.getByTestId('project-confirm').waitFor();
    expect(await page.getByTestId('project-confirm').innerText()).toMatch(/not saved: opening “two classes” replaces them/);
    expect(await seriousAxe(page)).toEqual([]);
    await page.getByTestId('project-confirm-cancel').click();
    expect((await trainState(page)).settings.seed).toBe(8);
    await openSaved.click();
    await page.getByTestId('project-confirm-open').click();
    await page.waitForFunction(() => window.cxrLabTrain!.state().settings.seed === 7 && !window.cxrLabProject!.state().busy, undefined, { timeout: 60_000 });
    expect(await page.getByTestId('project-status').getAttribute('data-dirty')).toBe('false');
    await page.getByRole('button', { name: 'Delete saved project two classes' }).click();
    await page.getByText('No saved projects yet.').waitFor();
  });
});
