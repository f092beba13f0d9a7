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
      const glob = line.trim().replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
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
