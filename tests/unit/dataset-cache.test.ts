// The decoded-pixel cache of the Node tools (scripts/lib/dataset.ts, used by train, evaluate, audit,
// fit-ood, evaluate:ood, evaluate:shift) is keyed by content: replacing the images behind an unchanged
// manifest, or another folder with the same manifest, decodes again instead of returning the old pixels.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, selectionContentKey } from '../../scripts/lib/dataset';
import { REPO_ROOT } from '../../scripts/lib/node-io';
import { sha256Hex } from '../../src/core/manifest';

let tmp: string;
const made: string[] = [];

function writeImage(file: string, value: number, size = 40): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encode({ width: size, height: size, data: new Uint8Array(size * size).fill(value), channels: 1, depth: 8 }));
}

function makeFolder(name: string, values: [number, number]): string {
  const dir = path.join(tmp, name);
  made.push(dir);
  writeImage(path.join(dir, 'images/a.png'), values[0]);
  writeImage(path.join(dir, 'images/b.png'), values[1]);
  fs.writeFileSync(path.join(dir, 'manifest.csv'), 'file,label,split\nimages/a.png,covid,test\nimages/b.png,normal,test\n');
  return dir;
}

const firstPixels = (ds: Awaited<ReturnType<typeof loadDataset>>) => ds.images.map((im) => im.gray.data[0]);

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-cache-test-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  // The cache files of these throw-away folders (named gray-<folder hash>-<splits>-<content key>.bin).
  const cacheDir = path.join(REPO_ROOT, '.cache');
  const prefixes = made.map((dir) => `gray-${sha256Hex(path.resolve(dir)).slice(0, 8)}-`);
  for (const name of fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir) : [])
    if (prefixes.some((p) => name.startsWith(p))) fs.rmSync(path.join(cacheDir, name));
});

describe('pixel cache keyed by content', () => {
  it('replacing the images behind an unchanged manifest gives the new pixels', async () => {
    const dir = makeFolder('replaced', [10, 20]);
    const first = await loadDataset(dir, { splits: ['test'], quiet: true });
    expect(firstPixels(first)).toEqual([10, 20]);
    // Served from the cache the second time (same content)…
    const again = await loadDataset(dir, { splits: ['test'], quiet: true });
    expect(again.contentKey).toBe(first.contentKey);
    expect(firstPixels(again)).toEqual([10, 20]);
    // …but not after the images change (the manifest text is byte-identical).
    const manifestBefore = fs.readFileSync(path.join(dir, 'manifest.csv'), 'utf8');
    writeImage(path.join(dir, 'images/a.png'), 200, 48);
    writeImage(path.join(dir, 'images/b.png'), 210, 48);
    expect(fs.readFileSync(path.join(dir, 'manifest.csv'), 'utf8')).toBe(manifestBefore);
    const after = await loadDataset(dir, { splits: ['test'], quiet: true });
    expect(after.manifestHash).toBe(first.manifestHash);
    expect(after.contentKey).not.toBe(first.contentKey);
    expect(firstPixels(after)).toEqual([200, 210]);
    expect(after.images[0].gray.width).toBe(48);
  });

  it('another folder with the same manifest is not served the first folder’s pixels', async () => {
    const one = makeFolder('one', [30, 40]);
    const two = makeFolder('two', [90, 100]);
    expect(firstPixels(await loadDataset(one, { splits: ['test'], quiet: true }))).toEqual([30, 40]);
    expect(firstPixels(await loadDataset(two, { splits: ['test'], quiet: true }))).toEqual([90, 100]);
  });

  it('the key needs no decoding and matches what loadDataset reports', async () => {
    const dir = makeFolder('key', [1, 2]);
    const ds = await loadDataset(dir, { splits: ['test'], cache: false, quiet: true });
    expect(selectionContentKey(dir, ['test'])).toBe(ds.contentKey);
    fs.utimesSync(path.join(dir, 'images/a.png'), new Date(2000, 0, 1), new Date(2000, 0, 1));
    expect(selectionContentKey(dir, ['test'])).not.toBe(ds.contentKey);
  });
});
