// What a production build (dist/) holds, for the bench and the deployment test: the service
// worker's precache list with sizes, and how many JavaScript files carry each tfjs library.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface PrecacheEntry {
  url: string;
  bytes: number;
  sha256: string;
}

/** The entries of dist/sw.js's precache manifest (workbox `precacheAndRoute([{url, revision}, …])`). */
export function precacheEntries(distDir: string): PrecacheEntry[] {
  const sw = fs.readFileSync(path.join(distDir, 'sw.js'), 'utf8');
  const urls = [...sw.matchAll(/\{url:"([^"]+)",revision:(?:"[^"]*"|null)\}/g)].map((m) => m[1]);
  if (urls.length === 0) throw new Error('dist/sw.js has no precache manifest (did workbox change its output?)');
  return urls.map((url) => {
    const buf = fs.readFileSync(path.join(distDir, url));
    return { url, bytes: buf.length, sha256: crypto.createHash('sha256').update(buf).digest('hex') };
  });
}

export interface PrecacheSummary {
  files: number;
  bytes: number;
  jsFiles: number;
  jsBytes: number;
  /** Groups of precached files with identical content (should be none). */
  duplicates: string[][];
}

export function precacheSummary(distDir: string): PrecacheSummary {
  const entries = precacheEntries(distDir);
  const js = entries.filter((e) => e.url.endsWith('.js'));
  const byHash = new Map<string, string[]>();
  for (const e of entries) byHash.set(e.sha256, [...(byHash.get(e.sha256) ?? []), e.url]);
  return {
    files: entries.length,
    bytes: entries.reduce((s, e) => s + e.bytes, 0),
    jsFiles: js.length,
    jsBytes: js.reduce((s, e) => s + e.bytes, 0),
    duplicates: [...byHash.values()].filter((g) => g.length > 1),
  };
}

/**
 * A string that survives minification and occurs once in each library's source (error messages):
 * a build that bundles a library twice (e.g. once per worker) has it in two files.
 */
export const LIBRARY_MARKERS: Record<string, string> = {
  '@tensorflow/tfjs-core': 'Cannot evaluate flag',
  '@tensorflow/tfjs-layers': 'Improper config format',
  '@tensorflow/tfjs-backend-wasm': 'WasmBackendModule',
  '@tensorflow/tfjs-backend-webgl': 'Failed to compile fragment shader',
  '@tensorflow/tfjs-backend-cpu': 'is not supported by the CPU backend',
};

/** For each library, the built JavaScript files that contain it. */
export function libraryCopies(distDir: string): Record<string, string[]> {
  const assets = path.join(distDir, 'assets');
  const files = fs.readdirSync(assets).filter((f) => f.endsWith('.js'));
  const text = new Map(files.map((f) => [f, fs.readFileSync(path.join(assets, f), 'utf8')]));
  return Object.fromEntries(Object.entries(LIBRARY_MARKERS).map(([lib, marker]) => [lib, files.filter((f) => text.get(f)!.includes(marker))]));
}
