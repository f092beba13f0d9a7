// Small Vite plugins used by vite.config.ts.
import fs from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vite';

/**
 * `CXR_MODEL_DIR=<dir> vite build` ships the model found in <dir> as `model/` instead of
 * public/model (tests and development use a generated random model; the real one stays untouched).
 * The files are emitted as build assets, so the service worker precaches them like any other.
 */
export function modelDirPlugin(dir = process.env.CXR_MODEL_DIR): Plugin {
  return {
    name: 'cxr-model-dir',
    apply: 'build',
    generateBundle() {
      if (!dir) return;
      const abs = path.resolve(dir);
      if (!fs.existsSync(path.join(abs, 'model.json'))) this.error(`CXR_MODEL_DIR=${dir} has no model.json`);
      for (const name of fs.readdirSync(abs)) {
        const file = path.join(abs, name);
        if (!fs.statSync(file).isFile()) continue;
        this.emitFile({ type: 'asset', fileName: `model/${name}`, source: fs.readFileSync(file) });
      }
      this.warn(`model/ taken from ${abs} (CXR_MODEL_DIR)`);
    },
  };
}

interface HeaderRule {
  pattern: RegExp;
  headers: [string, string][];
}

/** Parses a Netlify-style _headers file: a path line, then indented "Name: value" lines. */
export function parseHeadersFile(text: string): HeaderRule[] {
  const rules: HeaderRule[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      const glob = line
        .trim()
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*');
      rules.push({ pattern: new RegExp(`^${glob}$`), headers: [] });
    } else if (rules.length) {
      const i = line.indexOf(':');
      if (i > 0) rules[rules.length - 1].headers.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
    }
  }
  return rules;
}

/** Makes `vite preview` send the headers of public/_headers (CSP…), like the production host. */
export function staticHeadersPlugin(file = 'public/_headers'): Plugin {
  return {
    name: 'cxr-static-headers',
    configurePreviewServer(server) {
      const p = path.resolve(server.config.root, file);
      if (!fs.existsSync(p)) return;
      const rules = parseHeadersFile(fs.readFileSync(p, 'utf8'));
      server.middlewares.use((req, res, next) => {
        const url = (req.url ?? '/').split('?')[0];
        for (const r of rules) if (r.pattern.test(url)) for (const [k, v] of r.headers) res.setHeader(k, v);
        next();
      });
    },
  };
}

/**
 * Builds the Web Workers as chunks of the app's own build instead of as separate bundles.
 *
 * Vite bundles each `new Worker(new URL('./x.worker.ts', import.meta.url))` on its own, so every
 * worker carried its own copy of tfjs (three 524 kB copies, all precached). Emitted as chunks of the
 * main build, the workers share their common modules (tfjs-core, -layers, the backends, our ml/
 * code) through ordinary ES chunks that a module worker imports like the page does. Build only:
 * the dev server keeps Vite's own worker handling.
 */
export function sharedWorkerChunksPlugin(): Plugin {
  const WORKER_URL = /new\s+URL\(\s*(['"])(\.{1,2}\/[^'"]+\.worker\.ts)\1\s*,\s*import\.meta\.url\s*\)/g;
  return {
    name: 'cxr-shared-worker-chunks',
    apply: 'build',
    enforce: 'pre',
    async transform(code, id) {
      if (!code.includes('new Worker(') || !WORKER_URL.test(code)) return null;
      WORKER_URL.lastIndex = 0;
      let out = '';
      let last = 0;
      for (const m of code.matchAll(WORKER_URL)) {
        const resolved = await this.resolve(m[2], id);
        if (!resolved) this.error(`cannot resolve worker ${m[2]} from ${id}`);
        const ref = this.emitFile({ type: 'chunk', id: resolved.id, name: path.basename(m[2], '.ts') });
        out += code.slice(last, m.index) + `new URL(import.meta.ROLLUP_FILE_URL_${ref})`;
        last = m.index! + m[0].length;
      }
      return { code: out + code.slice(last), map: null };
    },
  };
}

/**
 * Lets a worker fetch all of its static imports at once. Rolldown does not hoist transitive imports
 * (Rollup's `hoistTransitiveImports`), so a worker chunk imports a few chunks, which import others,
 * which import more: on a cold start the inference worker waited on three rounds of requests before
 * tfjs could even start. This adds, at the top of each worker chunk, a side-effect import of every
 * chunk it reaches statically, in the order they evaluate (depth-first, dependencies first), so the
 * browser requests them all in the first round and the evaluation order stays the same.
 */
export function hoistWorkerImportsPlugin(): Plugin {
  return {
    name: 'cxr-hoist-worker-imports',
    apply: 'build',
    generateBundle(_options, bundle) {
      const chunks = new Map<string, { imports: string[]; code: string; name: string; fileName: string }>();
      for (const out of Object.values(bundle)) if (out.type === 'chunk') chunks.set(out.fileName, out);
      for (const chunk of chunks.values()) {
        if (!/\.worker$/.test(chunk.name)) continue;
        const order: string[] = [];
        const seen = new Set<string>();
        const visit = (file: string) => {
          if (seen.has(file)) return;
          seen.add(file);
          for (const dep of chunks.get(file)?.imports ?? []) visit(dep);
          order.push(file);
        };
        for (const dep of chunk.imports) visit(dep);
        // All of them, direct ones included, in depth-first post-order (the order the chunk's own
        // imports evaluate them in): the statements the chunk already has then find them evaluated.
        const dir = path.posix.dirname(chunk.fileName);
        const hoisted = order.map((f) => `import"./${path.posix.relative(dir, f)}";`);
        if (order.length > chunk.imports.length) (bundle[chunk.fileName] as { code: string }).code = hoisted.join('') + chunk.code;
      }
    },
  };
}

/**
 * Makes Vite's dynamic-import preload helper safe in a Web Worker. Once workers are chunks of the
 * main build (sharedWorkerChunksPlugin), their lazy imports (the tfjs backends, jpeg-js, the wasm
 * gradient kernels) go through `__vitePreload`, which adds `<link rel=modulepreload>` tags to
 * `document` and reports failures on `window` — neither exists in a worker. Patched: no preloading
 * where there is no document (the import itself still runs), and failures go to `globalThis`
 * (`window` on the page, the worker's scope in a worker). The build fails if the helper's code
 * changes shape, rather than shipping a helper that breaks workers.
 */
export function workerSafePreloadPlugin(): Plugin {
  const patches: [RegExp, string][] = [
    [/if \(__VITE_IS_MODERN__ && deps && deps\.length > 0\)/, 'if (__VITE_IS_MODERN__ && deps && deps.length > 0 && typeof document !== "undefined")'],
    [/window\.dispatchEvent\(/, 'globalThis.dispatchEvent('],
  ];
  return {
    name: 'cxr-worker-safe-preload',
    apply: 'build',
    transform(code, id) {
      if (!id.includes('vite/preload-helper')) return null;
      let out = code;
      for (const [re, to] of patches) {
        if (!re.test(out)) this.error(`vite's preload helper changed (no match for ${re}); update workerSafePreloadPlugin`);
        out = out.replace(re, to);
      }
      return { code: out, map: null };
    },
  };
}

/**
 * Makes tfjs's threaded wasm backend survive minification (the known tfjs + bundler pitfall).
 *
 * tfjs starts each wasm thread from a blob: script made of `WasmBackendModuleThreadedSimd.toString()`,
 * so that function must not refer to anything outside itself. It refers to `_scriptDir`, a
 * variable of the closure around it, behind a `typeof _scriptDir !== "undefined"` guard that only
 * works while the name is a free variable; the minifier sees the variable, drops the guard and
 * renames it, and every thread dies with "ReferenceError: e is not defined". The inner uses become
 * a global property read instead (undefined in the threads, as the guard intended, and also
 * undefined in our worker, where neither document.currentScript nor __filename exists). The build
 * fails if the code changes shape.
 */
export function tfjsThreadedWasmPlugin(): Plugin {
  const FILE = /tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/;
  const INNER = 'return (\nfunction(WasmBackendModuleThreadedSimd)';
  return {
    name: 'cxr-tfjs-threaded-wasm',
    apply: 'build',
    transform(code, id) {
      if (!FILE.test(id.split('?')[0])) return null;
      const i = code.indexOf(INNER);
      const uses = i < 0 ? 0 : (code.slice(i).match(/\b_scriptDir\b/g) ?? []).length;
      if (uses !== 4)
        this.error(
          `tfjs-backend-wasm-threaded-simd.js changed shape (${i < 0 ? 'no inner factory' : `${uses} uses of _scriptDir, expected 4`}); update tfjsThreadedWasmPlugin`,
        );
      return { code: code.slice(0, i) + code.slice(i).replace(/\b_scriptDir\b/g, 'globalThis.__tfjsWasmScriptDir'), map: null };
    },
  };
}
