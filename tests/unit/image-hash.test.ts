// Perceptual image hashes (src/core/image-hash.ts through src/image/image-hash.ts) and the shipped
// public/model/train-hashes.json (npm run hashes; read by src/core/train-hashes.ts). On real data the
// tests measure the near-duplicate threshold: 200 train images against themselves re-encoded (70 %
// resize + JPEG quality 75, written and decoded as a file) and against each other (distinct patients).
import fs from 'node:fs';
import path from 'node:path';
import * as jpegNs from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { dctHash, fnv1a64Hex, hammingDistance, HASH_SIDE, packHashes, unpackHashes, base64Decode, base64Encode } from '../../src/core/image-hash';
import { knownTrainingImages, NEAR_DUPLICATE_DISTANCE, parseTrainHashes, TrainHashesError } from '../../src/core/train-hashes';
import { decodeImageBytes } from '../../src/image/decode';
import { areaDownscale } from '../../src/image/degrade';
import { decodedImageHash, preparedImageHash } from '../../src/image/image-hash';
import { prepareImage } from '../../src/image/pipeline';
import { DEFAULT_PREPROCESSING } from '../../src/image/preprocess';
import { toGray8 } from '../../src/image/preprocess';
import { CXR_DIR, cxrEntries, hasCxr, PUBLIC_MODEL, skipMessage } from './helpers/shared-data';

type JpegModule = typeof import('jpeg-js');
const jpeg: JpegModule = ((jpegNs as unknown as { encode?: unknown }).encode ? jpegNs : (jpegNs as unknown as { default: JpegModule }).default) as JpegModule;

if (!hasCxr()) console.warn(skipMessage('chest X-ray data (../shared/data/cxr)', CXR_DIR));

const TRAIN_HASHES = path.join(PUBLIC_MODEL, 'train-hashes.json');

function randomHash(seed: number): string {
  let s = seed >>> 0;
  let h = '';
  for (let i = 0; i < 16; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    h += (s >>> 28).toString(16);
  }
  return h;
}

describe('image-hash (pure)', () => {
  it('hashes a 32×32 image to 16 hex digits, robust to brightness and small noise, different for another picture', () => {
    const a = new Float32Array(HASH_SIDE * HASH_SIDE);
    const b = new Float32Array(HASH_SIDE * HASH_SIDE);
    for (let y = 0; y < HASH_SIDE; y++)
      for (let x = 0; x < HASH_SIDE; x++) {
        a[y * HASH_SIDE + x] = 128 + 100 * Math.sin(x / 5) * Math.cos(y / 7);
        b[y * HASH_SIDE + x] = 128 + 100 * Math.cos(x / 3 + y / 4);
      }
    const ha = dctHash(a);
    expect(ha).toMatch(/^[0-9a-f]{16}$/);
    expect(hammingDistance(ha, dctHash(a.map((v) => v * 0.8 + 20)))).toBe(0);
    expect(hammingDistance(ha, dctHash(a.map((v, i) => v + ((i * 7919) % 5) - 2)))).toBeLessThanOrEqual(2);
    expect(hammingDistance(ha, dctHash(b))).toBeGreaterThan(16);
    expect(() => dctHash(new Float32Array(10))).toThrow(/32×32/);
  });

  it('Hamming distance counts differing bits and refuses non-hashes', () => {
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('8000000000000001', '0000000000000000')).toBe(2);
    expect(hammingDistance('0123456789abcdef', '0123456789abcdef')).toBe(0);
    expect(() => hammingDistance('xyz', '0000000000000000')).toThrow(/16 hex digits/);
  });

  it('packs and unpacks hashes (sorted, deduplicated), base64 round trip', () => {
    const hashes = Array.from({ length: 101 }, (_, i) => randomHash(i));
    const packed = packHashes([...hashes, hashes[3]]);
    expect(packed.length).toBe(Math.ceil((101 * 8) / 3) * 4);
    expect(unpackHashes(packed)).toEqual([...new Set(hashes)].sort());
    for (const n of [0, 1, 2, 3, 7]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + 13) & 255);
      expect(base64Decode(base64Encode(bytes))).toEqual(bytes);
      expect(base64Encode(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
    expect(() => unpackHashes('AAAA')).toThrow(/multiple of 8/);
  });

  it('FNV-1a 64 matches the reference vectors', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(fnv1a64Hex(enc(''))).toBe('cbf29ce484222325');
    expect(fnv1a64Hex(enc('a'))).toBe('af63dc4c8601ec8c');
    expect(fnv1a64Hex(enc('foobar'))).toBe('85944171f73967e8');
  });

  it('train-hashes reader: clear errors on a wrong version or shape; knownTrainingImages finds near copies', () => {
    const hashes = ['0000000000000000', 'ffffffffffffffff'];
    const file = { version: 1, algorithm: 'dct-phash-64', source: 'test', count: 2, hashes: packHashes(hashes) };
    const set = parseTrainHashes(JSON.stringify(file));
    expect(set.count).toBe(2);
    expect(knownTrainingImages(['0000000000000003', 'ffffffffffffffff', '00000000ffffffff', 'junk'], set, 4)).toEqual([
      { index: 0, distance: 2 },
      { index: 1, distance: 0 },
    ]);
    expect(() => parseTrainHashes({ ...file, version: 2 })).toThrow(/version 2 is not supported/);
    expect(() => parseTrainHashes({ ...file, algorithm: 'md5' })).toThrow(TrainHashesError);
    expect(() => parseTrainHashes({ ...file, hashes: 'AAAA' })).toThrow(/multiple of 8/);
    expect(() => parseTrainHashes({ ...file, count: 1 })).toThrow(/2 hashes but count says 1/);
    expect(() => parseTrainHashes('{')).toThrow(/not JSON/);
  });
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Gray image → 70 % area downscale → JPEG quality 75 bytes (what a re-export of the file gives). */
function reencode(gray: { width: number; height: number; data: Uint8Array }): Uint8Array {
  const w = Math.round(gray.width * 0.7);
  const h = Math.round(gray.height * 0.7);
  const small = areaDownscale(Float32Array.from(gray.data), gray.width, gray.height, w, h);
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const v = Math.max(0, Math.min(255, Math.round(small[i])));
    rgba.fill(v, 4 * i, 4 * i + 3);
    rgba[4 * i + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ data: rgba, width: w, height: h }, 75).data);
}

async function hashFile(file: string): Promise<{ hash: string; gray: ReturnType<typeof toGray8> }> {
  const img = await decodeImageBytes(new Uint8Array(fs.readFileSync(file)));
  return { hash: decodedImageHash(img), gray: toGray8(img) };
}

describe.skipIf(!hasCxr())('image hashes on the data set (../shared/data/cxr)', () => {
  it(`near-duplicate threshold: re-encoded copies ≤ ${NEAR_DUPLICATE_DISTANCE} bits, ≥ 99 % of distinct-patient pairs above`, async () => {
    const train = cxrEntries('train');
    const step = Math.floor(train.length / 200);
    const picked = Array.from({ length: 200 }, (_, i) => train[i * step]);
    const rows: { hash: string; copy: string; patient: string; group: string }[] = [];
    for (const e of picked) {
      const { hash, gray } = await hashFile(path.join(CXR_DIR, e.file));
      const copy = decodedImageHash(await decodeImageBytes(reencode(gray)));
      rows.push({ hash, copy, patient: e.extra.patient_id ?? e.file, group: e.extra.group_id ?? e.file });
    }
    const copies = rows.map((r) => hammingDistance(r.hash, r.copy)).sort((a, b) => a - b);
    const distinct: number[] = [];
    for (let i = 0; i < rows.length; i++)
      for (let j = i + 1; j < rows.length; j++) {
        if (rows[i].patient === rows[j].patient || rows[i].group === rows[j].group) continue;
        distinct.push(hammingDistance(rows[i].hash, rows[j].hash));
      }
    distinct.sort((a, b) => a - b);
    const above = distinct.filter((d) => d > NEAR_DUPLICATE_DISTANCE).length / distinct.length;
    console.log(
      `image-hash threshold: copies (70 % + JPEG q75, n=${copies.length}) median ${percentile(copies, 50)} p99 ${percentile(copies, 99)} max ${copies[copies.length - 1]}; ` +
        `distinct pairs (n=${distinct.length}) min ${distinct[0]} p0.1 ${percentile(distinct, 0.1)} p1 ${percentile(distinct, 1)} median ${percentile(distinct, 50)}; ` +
        `T=${NEAR_DUPLICATE_DISTANCE}: ${(above * 100).toFixed(2)} % of distinct pairs above`,
    );
    expect(copies[copies.length - 1]).toBeLessThanOrEqual(NEAR_DUPLICATE_DISTANCE);
    expect(above).toBeGreaterThanOrEqual(0.99);
  }, 300_000);

  it('the shipped train-hashes.json covers the train split, recognises train images and their re-encoded copies, not test images', async () => {
    const text = fs.readFileSync(TRAIN_HASHES, 'utf8');
    expect(text.length).toBeLessThan(100 * 1024);
    const set = parseTrainHashes(text);
    const train = cxrEntries('train');
    expect(set.count).toBe(train.length);
    const trainSample = [0, 1, 2, Math.floor(train.length / 2), train.length - 1].map((i) => train[i]);
    const trainHashes: string[] = [];
    const copyHashes: string[] = [];
    for (const e of trainSample) {
      const { hash, gray } = await hashFile(path.join(CXR_DIR, e.file));
      trainHashes.push(hash);
      copyHashes.push(decodedImageHash(await decodeImageBytes(reencode(gray))));
    }
    // The app hashes what prepareImage prepared: the same hash as the CLI's.
    for (const [i, e] of trainSample.entries()) {
      const img = await decodeImageBytes(new Uint8Array(fs.readFileSync(path.join(CXR_DIR, e.file))));
      expect(preparedImageHash(prepareImage(img, DEFAULT_PREPROCESSING))).toBe(trainHashes[i]);
    }
    expect(knownTrainingImages(trainHashes, set).map((m) => m.distance)).toEqual([0, 0, 0, 0, 0]);
    expect(knownTrainingImages(copyHashes, set).map((m) => m.index)).toEqual([0, 1, 2, 3, 4]);
    // Test images are other patients: their nearest training image is further than the threshold (≥ 99 %).
    const test = cxrEntries('test');
    const testHashes = await Promise.all(test.map(async (e) => (await hashFile(path.join(CXR_DIR, e.file))).hash));
    const nearest = knownTrainingImages(testHashes, set, 64)
      .map((m) => m.distance)
      .sort((a, b) => a - b);
    const matched = knownTrainingImages(testHashes, set);
    const hist: Record<number, number> = {};
    for (const d of nearest) hist[d] = (hist[d] ?? 0) + 1;
    console.log(
      `test images (n=${test.length}) nearest train distance: min ${nearest[0]} p1 ${percentile(nearest, 1)} median ${percentile(nearest, 50)} histogram ${JSON.stringify(hist)}; ` +
        `${matched.length} within ${NEAR_DUPLICATE_DISTANCE} bits (${matched.map((m) => `${test[m.index].file}:${m.distance}`).join(', ')})`,
    );
    expect(matched.length / test.length).toBeLessThanOrEqual(0.01);
  }, 300_000);
});
