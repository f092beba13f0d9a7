// The production build as deployed: one copy of each library, a precache without duplicates, a
// cross-origin isolated page, and tfjs's threaded wasm binary working from the minified build
// (the blob: thread pool within the CSP; same probabilities as single-threaded; offline too).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { libraryCopies, precacheEntries, precacheSummary, LIBRARY_MARKERS } from '../../scripts/lib/build-report';
import {
  addFiles,
  hasData,
  openApp,
  readTable,
  skipReason,
  startPreview,
  testImages,
  useAppHarness,
  waitForModel,
  waitForRows,
  waitForServiceWorker,
} from './helpers';

describe('Deployment: build, headers, threads', () => {
  if (!hasData()) it.skip(skipReason(), () => {});
  const app = useAppHarness();

  it('bundles each tfjs library once (the workers share chunks) and precaches every file once', () => {
    const copies = libraryCopies(app.build.distDir);
    for (const lib of Object.keys(LIBRARY_MARKERS)) expect({ lib, files: copies[lib].length }).toEqual({ lib, files: 1 });
    const pre = precacheSummary(app.build.distDir);
    expect(pre.duplicates).toEqual([]);
    // What offline use needs is there: the page, the model, and every wasm binary the backend may pick.
    const urls = precacheEntries(app.build.distDir).map((e) => e.url);
    for (const want of [
      /^index\.html$/,
      /^model\/model\.json$/,
      /^model\/metadata\.json$/,
      /^model\/weights\.bin$/,
      /tfjs-backend-wasm-[\w-]{8}\.wasm$/,
      /tfjs-backend-wasm-simd-[^/]*\.wasm$/,
      /tfjs-backend-wasm-threaded-simd-[^/]*\.wasm$/,
    ])
      expect({ want: String(want), found: urls.some((u) => want.test(u)) }).toEqual({ want: String(want), found: true });
  });

  it('each worker chunk names every chunk it reaches statically up front, so the browser fetches them in one round (no import waterfall)', () => {
    const dir = path.join(app.build.distDir, 'assets');
    const staticImports = (code: string) => [...code.matchAll(/(?:import|from)\s*"\.\/([^"]+\.js)"/g)].map((m) => m[1]);
    const reach = (file: string, seen = new Set<string>()): Set<string> => {
      for (const dep of staticImports(fs.readFileSync(path.join(dir, file), 'utf8')))
        if (!seen.has(dep)) {
          seen.add(dep);
          reach(dep, seen);
        }
      return seen;
    };
    const workers = fs.readdirSync(dir).filter((f) => /\.worker-[\w-]+\.js$/.test(f));
    expect(workers.length).toBeGreaterThanOrEqual(3); // inference, training, embedding helper (+ report)
    for (const w of workers) {
      const code = fs.readFileSync(path.join(dir, w), 'utf8');
      const head = code.match(/^(?:import"\.\/[^"]+\.js";)*/)![0];
      const upFront = new Set([...head.matchAll(/import"\.\/([^"]+\.js)";/g)].map((m) => m[1]));
      const reached = reach(w);
      // Every chunk the worker reaches is in its first statements (a worker with one import needs none).
      if (reached.size > staticImports(code).length) expect({ w, missing: [...reached].filter((f) => !upFront.has(f)) }).toEqual({ w, missing: [] });
    }
  });

  it.skipIf(!hasData())(
    'the page is cross-origin isolated; ?threads=1 runs the threaded wasm binary with the same probabilities as ?threads=0, within the CSP',
    async () => {
      const image = testImages('covid', 1);
      const run = async (threads: '0' | '1') => {
        const s = await openApp(app.browser, `${app.server.url}?backend=wasm&threads=${threads}`);
        const isolated = await s.page.evaluate(() => crossOriginIsolated);
        const details = await s.page.evaluate(() => window.cxrLab!.model().info?.backend.details ?? []);
        await addFiles(s.page, image);
        await waitForRows(s.page, 1);
        const [row] = await readTable(s.page);
        // What the app itself fetched (the service worker's precache fetches every binary in the background).
        const wasmFiles = s.log.entries
          .filter((e) => !e.fromServiceWorker)
          .map((e) => new URL(e.url).pathname)
          .filter((p) => p.endsWith('.wasm'));
        await s.context.close();
        return { isolated, details, row, wasmFiles, problems: s.problems, foreign: s.log.foreign() };
      };
      const threaded = await run('1');
      const single = await run('0');
      expect(threaded.isolated).toBe(true);
      expect(threaded.wasmFiles.some((p) => /threaded-simd/.test(p))).toBe(true);
      expect(single.wasmFiles.some((p) => /threaded-simd/.test(p))).toBe(false);
      expect(single.details).toContain('single-threaded (threads turned off)');
      expect(threaded.row.status).toBe('done');
      expect(threaded.row.label).toBe(single.row.label);
      for (const [cls, p] of Object.entries(single.row.probabilities)) expect(Math.abs(threaded.row.probabilities[cls] - p)).toBeLessThan(1e-5);
      expect(threaded.problems).toEqual([]);
      expect(threaded.foreign).toEqual([]);
    },
  );

  it.skipIf(!hasData())('on a first visit the offline precache waits for the model: the service worker is registered after the model is ready', async () => {
    const context = await app.browser.newContext();
    await context.addInitScript(() => {
      const sw = navigator.serviceWorker;
      const register = sw.register.bind(sw);
      sw.register = (...args: Parameters<ServiceWorkerContainer['register']>) => {
        (window as unknown as { swRegisteredAt?: number }).swRegisteredAt = performance.now();
        return register(...args);
      };
    });
    const page = await context.newPage();
    await page.goto(`${app.server.url}?backend=wasm#/classify`);
    await waitForModel(page);
    await waitForServiceWorker(page);
    const t = await page.evaluate(() => ({
      registeredAt: (window as unknown as { swRegisteredAt?: number }).swRegisteredAt ?? null,
      modelReadyAt: performance.getEntriesByName('cxr:model-ready')[0]?.startTime ?? null,
    }));
    expect(t.registeredAt).not.toBeNull();
    expect(t.modelReadyAt).not.toBeNull();
    expect(t.registeredAt!).toBeGreaterThanOrEqual(t.modelReadyAt!);
    await context.close();
  });

  it.skipIf(!hasData())('offline after one visit, the threaded binary still loads from the precache', async () => {
    const own = await startPreview();
    const { page, context, problems } = await openApp(app.browser, `${own.url}?backend=wasm&threads=1`);
    await waitForServiceWorker(page);
    await own.close();
    await context.setOffline(true);
    await page.reload();
    expect(await waitForModel(page)).toBe('wasm');
    await addFiles(page, testImages('normal', 1));
    await waitForRows(page, 1);
    expect((await readTable(page))[0].status).toBe('done');
    await context.setOffline(false);
    expect(problems).toEqual([]);
    await context.close();
  });
});
