// Shared helpers for the browser tests (headless Debian Chromium via playwright-core, against the
// production build served by `vite preview`):
//
//   const build = await ensureBuild();          // builds dist/ once (rebuilds only when sources changed)
//   const server = await startPreview();        // vite preview on a free port → server.url
//   const browser = await launchBrowser();
//   const { context, page, log } = await openApp(browser, server.url);
//   ... expect(log.foreign()).toEqual([]) ...
//   await browser.close(); await server.close();
//
// Images come from ../shared/data/cxr (never copied into the repo); use `dataDir()` and skip the
// test with `describe.skipIf(!hasData())` plus `skipReason()` when it is absent.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

export const REPO_ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
export const DIST_DIR = path.join(REPO_ROOT, 'dist');
export const DATA_DIR = path.resolve(REPO_ROOT, '../shared/data/cxr');
export const SHIPPED_MODEL_DIR = path.join(REPO_ROOT, 'public/model');
export const DEV_MODEL_DIR = path.join(REPO_ROOT, '.cache/dev-model');
const STAMP = path.join(REPO_ROOT, '.cache/browser-build-stamp.json');
const VITE = path.join(REPO_ROOT, 'node_modules/.bin/vite');

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

export function hasData(): boolean {
  return fs.existsSync(path.join(DATA_DIR, 'manifest.csv'));
}

export function skipReason(): string {
  return `chest X-ray data not found at ${DATA_DIR} (../shared/data/cxr): browser tests that need images are skipped`;
}

export interface ManifestRow {
  file: string;
  label: string;
  split: string;
  /** Absolute path. */
  path: string;
}

let manifestCache: ManifestRow[] | null = null;

/** Rows of ../shared/data/cxr/manifest.csv (first three columns: file,label,split). */
export function manifest(): ManifestRow[] {
  if (manifestCache) return manifestCache;
  const lines = fs.readFileSync(path.join(DATA_DIR, 'manifest.csv'), 'utf8').trim().split(/\r?\n/);
  const header = lines[0].split(',');
  const fi = header.indexOf('file');
  const li = header.indexOf('label');
  const si = header.indexOf('split');
  manifestCache = lines.slice(1).map((line) => {
    const cells = line.split(','); // file, label and split never contain commas
    return { file: cells[fi], label: cells[li], split: cells[si], path: path.join(DATA_DIR, cells[fi]) };
  });
  return manifestCache;
}

/** The first `n` test-split images of a class (deterministic: manifest order). */
export function testImages(label: string, n = 1): string[] {
  return manifest()
    .filter((r) => r.split === 'test' && r.label === label)
    .slice(0, n)
    .map((r) => r.path);
}

// ---------------------------------------------------------------------------------------------
// Model + build
// ---------------------------------------------------------------------------------------------

/** The model the tests build with: public/model when a model is there, else the generated dev model. */
export async function testModelDir(): Promise<string> {
  if (fs.existsSync(path.join(SHIPPED_MODEL_DIR, 'model.json'))) return SHIPPED_MODEL_DIR;
  if (!fs.existsSync(path.join(DEV_MODEL_DIR, 'model.json'))) {
    const { makeDevModel } = await import('../../scripts/make-dev-model');
    await makeDevModel(DEV_MODEL_DIR);
  }
  return DEV_MODEL_DIR;
}

function newestMtime(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of fs.readdirSync(p)) max = Math.max(max, newestMtime(path.join(p, name)));
  return max;
}

const BUILD_INPUTS = ['src', 'public', 'index.html', 'vite.config.ts', 'scripts/lib/vite-plugins.ts', 'package.json', 'package-lock.json'];

export interface BuildInfo {
  distDir: string;
  modelDir: string;
  /** True when this call ran `vite build`. */
  built: boolean;
}

/**
 * Builds the production site once: skipped when dist/ is newer than every input and was built with
 * the same model folder. Set CXR_SKIP_BUILD=1 to use dist/ as it is.
 */
export async function ensureBuild(): Promise<BuildInfo> {
  const modelDir = await testModelDir();
  if (process.env.CXR_SKIP_BUILD === '1') return { distDir: DIST_DIR, modelDir, built: false };
  const inputs = Math.max(...BUILD_INPUTS.map((p) => newestMtime(path.join(REPO_ROOT, p))), newestMtime(modelDir));
  let stamp: { modelDir?: string; time?: number; production?: boolean } = {};
  try {
    stamp = JSON.parse(fs.readFileSync(STAMP, 'utf8'));
  } catch {
    /* no stamp yet */
  }
  const fresh = fs.existsSync(path.join(DIST_DIR, 'index.html')) && stamp.modelDir === modelDir && (stamp.time ?? 0) >= inputs && stamp.production === true;
  if (fresh) return { distDir: DIST_DIR, modelDir, built: false };
  // Vitest sets NODE_ENV=test, which would make `vite build` produce a non-production bundle
  // (import.meta.env.PROD false: no service worker, React development build).
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  if (modelDir === SHIPPED_MODEL_DIR) delete env.CXR_MODEL_DIR;
  else env.CXR_MODEL_DIR = modelDir;
  const started = Date.now();
  const r = spawnSync(VITE, ['build', '--logLevel', 'warn'], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
  fs.mkdirSync(path.dirname(STAMP), { recursive: true });
  fs.writeFileSync(STAMP, JSON.stringify({ modelDir, time: started, production: true }));
  return { distDir: DIST_DIR, modelDir, built: true };
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface PreviewServer {
  /** Site URL, ending in '/'. */
  url: string;
  origin: string;
  process: ChildProcess;
  close(): Promise<void>;
}

/**
 * Serves dist/ (or `outDir`, another build) with `vite preview` (which applies public/_headers) on a
 * free port. `base` e.g. '/sub/path/'.
 */
export async function startPreview(opts: { base?: string; outDir?: string } = {}): Promise<PreviewServer> {
  const port = await freePort();
  const args = ['preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'];
  if (opts.base) args.push('--base', opts.base);
  if (opts.outDir) args.push('--outDir', opts.outDir);
  const child = spawn(VITE, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const origin = `http://127.0.0.1:${port}`;
  const url = `${origin}${opts.base ?? '/'}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vite preview exited (${child.exitCode}):\n${output}`);
    try {
      const res = await fetch(url);
      if (res.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`vite preview did not answer on ${url}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    origin,
    process: child,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Browser
// ---------------------------------------------------------------------------------------------

/** Headless Chromium with WebGL through SwiftShader (no GPU needed) and no background traffic. */
export function launchBrowser(extraArgs: string[] = [], opts: { webgl?: boolean } = {}): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      // WebGL through SwiftShader; `webgl: false` removes GPU and software GL to test the fallback.
      ...(opts.webgl === false
        ? ['--disable-gpu', '--disable-software-rasterizer']
        : ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist']),
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--disable-default-apps',
      '--disable-domain-reliability',
      '--metrics-recording-only',
      ...extraArgs,
    ],
  });
}

export interface NetworkEntry {
  url: string;
  method: string;
  resourceType: string;
  fromServiceWorker: boolean;
}

export interface NetworkLog {
  entries: NetworkEntry[];
  /** Requests whose origin is not `origin` (data: and blob: URLs are local, not requests). */
  foreign(): NetworkEntry[];
}

/**
 * Records every request of a context — pages, dedicated workers and the service worker — and
 * aborts any that would leave `origin`, so a test can assert that none was attempted.
 */
export async function recordNetwork(context: BrowserContext, origin: string): Promise<NetworkLog> {
  const entries: NetworkEntry[] = [];
  const seen = new Set<string>();
  const add = (url: string, method: string, resourceType: string, fromServiceWorker: boolean) => {
    if (url.startsWith('data:') || url.startsWith('blob:')) return;
    const key = `${method} ${url} ${resourceType} ${fromServiceWorker} ${entries.length}`;
    if (seen.has(key)) return;
    seen.add(key);
    entries.push({ url, method, resourceType, fromServiceWorker });
  };
  context.on('request', (req) => add(req.url(), req.method(), req.resourceType(), !!req.serviceWorker()));
  await context.route(
    (url) => url.origin !== origin,
    (route) => {
      const req = route.request();
      add(req.url(), req.method(), req.resourceType(), !!req.serviceWorker());
      void route.abort('blockedbyclient');
    },
  );
  return {
    entries,
    foreign: () => entries.filter((e) => new URL(e.url).origin !== origin),
  };
}

export interface AppSession {
  context: BrowserContext;
  page: Page;
  log: NetworkLog;
  /** Console errors, page errors and CSP violations seen so far. */
  problems: string[];
}

/**
 * New context + page on the app. The "not for clinical use" notice is pre-acknowledged unless
 * `acknowledge: false`. Collects CSP violations (from the page and its workers) and console errors.
 */
export async function openApp(
  browser: Browser,
  url: string,
  opts: {
    acknowledge?: boolean;
    contextOptions?: BrowserContextOptions;
    hash?: string;
    waitForModel?: boolean;
    /** Runs on the new context before the first navigation (e.g. to install routes). */
    beforeNavigate?: (context: BrowserContext) => unknown;
  } = {},
): Promise<AppSession> {
  const context = await browser.newContext({ acceptDownloads: true, ...opts.contextOptions });
  const origin = new URL(url).origin;
  const log = await recordNetwork(context, origin);
  const problems: string[] = [];
  if (opts.acknowledge !== false) {
    await context.addInitScript(() => {
      try {
        localStorage.setItem('cxr-lab.notice-acknowledged.v1', 'yes');
      } catch {
        /* opaque origin */
      }
    });
  }
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  await opts.beforeNavigate?.(context);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    else if (/Content.Security.Policy|CSP|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('worker', (w) => w.on('console', (m) => /Refused|CSP|Content Security/i.test(m.text()) && problems.push(`worker console: ${m.text()}`)));
  await page.goto(url + (opts.hash ?? '#/classify'));
  if (opts.waitForModel !== false) await waitForModel(page);
  return { context, page, log, problems };
}

/** Waits until the model is loaded (or fails with the shown error). Returns the backend name. */
export async function waitForModel(page: Page, timeout = 180_000): Promise<string> {
  const status = page.getByTestId('model-status');
  try {
    await status.and(page.locator('[data-status="ready"], [data-status="error"]')).waitFor({ timeout });
  } catch (e) {
    const state = await page.evaluate(() => JSON.stringify(window.cxrLab?.model() ?? null)).catch(() => 'unavailable');
    throw new Error(`model not ready after ${timeout} ms; model state: ${state}`, { cause: e });
  }
  if ((await status.getAttribute('data-status')) === 'error') throw new Error(`model failed to load: ${await page.getByTestId('model-error').innerText()}`);
  return (await page.getByTestId('backend').getAttribute('data-backend')) ?? '';
}

/** Gives files to the page through the (hidden) file input, as the picker would. */
export async function addFiles(page: Page, files: (string | { name: string; buffer: Buffer; mimeType?: string })[]): Promise<void> {
  await page
    .getByTestId('file-input')
    .setInputFiles(
      files.map((f) =>
        typeof f === 'string' ? { name: path.basename(f), buffer: fs.readFileSync(f), mimeType: mimeOf(f) } : { mimeType: 'application/octet-stream', ...f },
      ),
    );
}

/** Drops files on the drop zone through a real DataTransfer (the drag-and-drop path). */
export async function dropFiles(page: Page, files: { name: string; buffer: Buffer; mimeType?: string }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, type: f.mimeType ?? mimeOf(f.name), b64: f.buffer.toString('base64') }));
  const dt = await page.evaluateHandle((items) => {
    const d = new DataTransfer();
    for (const it of items) {
      const bin = atob(it.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      d.items.add(new File([bytes], it.name, { type: it.type }));
    }
    return d;
  }, payload);
  const zone = page.getByTestId('dropzone');
  await zone.dispatchEvent('dragenter', { dataTransfer: dt });
  await zone.dispatchEvent('dragover', { dataTransfer: dt });
  await zone.dispatchEvent('drop', { dataTransfer: dt });
}

function mimeOf(name: string): string {
  const ext = path.extname(name).toLowerCase();
  return (
    (
      { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.bmp': 'image/bmp', '.gif': 'image/gif' } as Record<
        string,
        string
      >
    )[ext] ?? 'application/octet-stream'
  );
}

/** Waits until `n` rows are finished (done or error) and none is queued or running. */
export async function waitForRows(page: Page, n: number, timeout = 180_000): Promise<void> {
  await page.waitForFunction(
    (count) => {
      const rows = window.cxrLab?.batch().rows ?? [];
      const finished = rows.filter((r) => r.status === 'done' || r.status === 'error' || r.status === 'cancelled').length;
      return finished >= count && !rows.some((r) => r.status === 'queued' || r.status === 'running');
    },
    n,
    { timeout, polling: 100 },
  );
}

export interface ShownResult {
  file: string;
  status: string;
  label: string | null;
  probabilities: Record<string, number>;
  error: string | null;
}

/** Reads the results table as the user sees it (label text, exact probabilities from data-value). */
export async function readTable(page: Page): Promise<ShownResult[]> {
  return page.getByTestId('result-row').evaluateAll((rows) =>
    rows.map((tr) => {
      const probabilities: Record<string, number> = {};
      tr.querySelectorAll('[data-testid^="cell-"][data-value]').forEach((td) => {
        const cls = (td.getAttribute('data-testid') ?? '').slice('cell-'.length);
        probabilities[cls] = Number(td.getAttribute('data-value'));
      });
      return {
        file: tr.getAttribute('data-file') ?? '',
        status: tr.getAttribute('data-status') ?? '',
        label: tr.querySelector('[data-testid="label"]')?.textContent ?? null,
        probabilities,
        error: tr.querySelector('[data-testid="row-error"]')?.textContent ?? null,
      };
    }),
  );
}

/** The inference worker's tf.memory(). */
export function workerMemory(page: Page): Promise<{ numTensors: number; numBytes: number; backend: string | null }> {
  return page.evaluate(() => window.cxrLab!.memory());
}

/** Waits until the service worker is active and controls the page (precache complete). */
export async function waitForServiceWorker(page: Page, timeout = 60_000): Promise<void> {
  try {
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout, polling: 250 });
  } catch (e) {
    const state = await page
      .evaluate(async () => {
        const regs = await navigator.serviceWorker.getRegistrations();
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
        return JSON.stringify({
          readyState: document.readyState,
          loadEventEnd: nav?.loadEventEnd,
          registrations: regs.map((r) => ({ scope: r.scope, active: r.active?.state, installing: r.installing?.state, waiting: r.waiting?.state })),
        });
      })
      .catch((err: Error) => err.message);
    throw new Error(`no service worker controls the page after ${timeout} ms; registrations: ${state}`, { cause: e });
  }
}

export interface AppHarness {
  build: BuildInfo;
  server: PreviewServer;
  browser: Browser;
}

/**
 * The lifecycle every page suite needs, registered on the calling describe(): one build, one
 * `vite preview` and one Chromium for all its tests; contexts a failing test left open are closed
 * after each test (so one failure does not slow the next); browser and server closed at the end.
 * The fields are set in beforeAll, so read them inside tests only.
 */
export function useAppHarness(): AppHarness {
  const h = {} as AppHarness;
  beforeAll(async () => {
    h.build = await ensureBuild();
    h.server = await startPreview();
    h.browser = await launchBrowser();
  });
  afterEach(async () => {
    for (const c of h.browser?.contexts() ?? []) await c.close().catch(() => {});
  });
  afterAll(async () => {
    await h.browser?.close();
    await h.server?.close();
  });
  return h;
}
