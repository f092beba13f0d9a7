// Model loading (src/ml/io.ts, shared by the page's workers and the CLIs): a missing or short weight
// file is reported by name, whether the reader fails (Node: ENOENT; browser: HTTP 404) or a server
// answers with its HTML page (a static host's fallback for a missing file).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readerIOHandler, type FileReader } from '../../src/ml/io';
import { fsReader } from '../../scripts/lib/node-io';

const modelJson = {
  format: 'layers-model',
  modelTopology: { class_name: 'Sequential', config: { layers: [] } },
  weightsManifest: [
    { paths: ['group1-shard1of1.bin'], weights: [{ name: 'dense/kernel', shape: [160, 3], dtype: 'float32' }] },
    { paths: ['group2-shard1of2.bin', 'group2-shard2of2.bin'], weights: [{ name: 'conv/kernel', shape: [3, 3, 1, 8], dtype: 'float32' }] },
  ],
};
const sizes: Record<string, number> = { 'group1-shard1of1.bin': 160 * 3 * 4, 'group2-shard1of2.bin': 200, 'group2-shard2of2.bin': 3 * 3 * 8 * 4 - 200 };
const INDEX_HTML = '<!doctype html>\n<html lang="en"><head><title>CXR Lab</title></head><body><div id="root"></div></body></html>\n'.repeat(12);

function memoryReader(files: Record<string, Uint8Array>, missing: 'html' | '404'): FileReader {
  return async (rel) => {
    if (files[rel]) return files[rel];
    if (missing === 'html') return new TextEncoder().encode(INDEX_HTML);
    throw new Error(`HTTP 404 Not Found for http://localhost:4173/model/${rel}`);
  };
}

function files(except: string[] = [], shorten: string[] = []): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = { 'model.json': new TextEncoder().encode(JSON.stringify(modelJson)) };
  for (const [name, n] of Object.entries(sizes)) if (!except.includes(name)) out[name] = new Uint8Array(shorten.includes(name) ? n - 7 : n);
  return out;
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-model-io-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('a missing or short weight file is named', () => {
  it('the server answers with its HTML page (browser): the file is named, not "1543 bytes, expects …"', async () => {
    const err = await readerIOHandler(memoryReader(files(['group2-shard2of2.bin']), 'html')).load!().catch((e: Error) => e);
    expect(String(err)).toMatch(/weight file group2-shard2of2\.bin \(named in model\.json\) is missing/);
    expect(String(err)).not.toMatch(/expects/);
  });

  it('HTTP 404 (browser) and ENOENT (Node) name the file', async () => {
    const e404 = await readerIOHandler(memoryReader(files(['group1-shard1of1.bin']), '404')).load!().catch((e: Error) => e);
    expect(String(e404)).toMatch(/model file group1-shard1of1\.bin is missing/);
    const dir = path.join(tmp, 'model');
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of Object.entries(files(['group2-shard1of2.bin']))) fs.writeFileSync(path.join(dir, name), bytes);
    const enoent = await readerIOHandler(fsReader(dir)).load!().catch((e: Error) => e);
    expect(String(enoent)).toMatch(/model file group2-shard1of2\.bin is missing/);
  });

  it('a truncated shard names its group’s files and the sizes', async () => {
    const err = await readerIOHandler(memoryReader(files([], ['group1-shard1of1.bin']), '404')).load!().catch((e: Error) => e);
    expect(String(err)).toMatch(/weight file group1-shard1of1\.bin truncated or wrong: 1913 bytes, model\.json expects 1920/);
  });

  it('complete files load', async () => {
    const artifacts = await readerIOHandler(memoryReader(files(), '404')).load!();
    expect((artifacts.weightData as ArrayBuffer).byteLength).toBe(Object.values(sizes).reduce((a, b) => a + b, 0));
  });
});
