// Builds the bench-only page (bench/page: the shipped model vs. the reference MobileNetV2, timed in
// a worker) with Vite into .cache/bench-page-dist, and serves it with the model folder on localhost.
// Separate from the app build: nothing here goes into dist/ or the app's JavaScript budget.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { REPO_ROOT, freePort } from '../../tests/browser/helpers';
import { sharedWorkerChunksPlugin, tfjsThreadedWasmPlugin, workerSafePreloadPlugin } from '../../scripts/lib/vite-plugins';

export const PAGE_DIR = path.join(REPO_ROOT, 'bench/page');
export const PAGE_DIST = path.join(REPO_ROOT, '.cache/bench-page-dist');
const STAMP = path.join(REPO_ROOT, '.cache/bench-page-stamp.json');
const INPUTS = ['src/ml', 'src/core', 'bench/page', 'bench/lib', 'scripts/lib/vite-plugins.ts', 'package-lock.json'];

function newestMtime(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of fs.readdirSync(p)) max = Math.max(max, newestMtime(path.join(p, name)));
  return max;
}

/** Builds the page unless .cache/bench-page-dist is newer than its inputs. Returns true when it built. */
export async function buildBenchPage(): Promise<boolean> {
  const inputs = Math.max(...INPUTS.map((p) => newestMtime(path.join(REPO_ROOT, p))));
  let stampTime = 0;
  try {
    stampTime = JSON.parse(fs.readFileSync(STAMP, 'utf8')).time ?? 0;
  } catch {
    /* no stamp */
  }
  if (fs.existsSync(path.join(PAGE_DIST, 'index.html')) && stampTime >= inputs) return false;
  const started = Date.now();
  const { build } = await import('vite');
  await build({
    configFile: false,
    root: PAGE_DIR,
    base: './',
    logLevel: 'error',
    mode: 'production',
    // The app's build plugins, so the page runs what the app ships (shared worker chunks, the
    // threaded wasm backend intact under minification).
    plugins: [sharedWorkerChunksPlugin(), workerSafePreloadPlugin(), tfjsThreadedWasmPlugin()],
    worker: { format: 'es' },
    build: { outDir: PAGE_DIST, emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false, chunkSizeWarningLimit: 10_000 },
  });
  fs.writeFileSync(STAMP, JSON.stringify({ time: started }));
  return true;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves PAGE_DIST at / and `modelDir` at /model/ on 127.0.0.1 (free port). */
export async function serveBenchPage(modelDir: string): Promise<StaticServer> {
  const port = await freePort();
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const [root, rel] = urlPath.startsWith('/model/') ? [modelDir, urlPath.slice('/model/'.length)] : [PAGE_DIST, urlPath.slice(1) || 'index.html'];
    const file = path.resolve(root, rel);
    if (!file.startsWith(path.resolve(root) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    // Cross-origin isolated like the app (public/_headers), so the threaded wasm binary can run.
    res.writeHead(200, {
      'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
