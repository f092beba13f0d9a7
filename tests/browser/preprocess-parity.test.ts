// The same file gives the same model input in Node (jpeg-js / fast-png + preprocessDecoded) and in
// the browser (the worker's decode-browser + preprocessDecoded): max |diff| ≤ 2/255 in [0,1] units.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { encode as encodePng } from 'fast-png';
import { decodeImageBytes } from '../../src/image/decode';
import { preprocessDecoded, toGray8, type DecodedImage } from '../../src/image/preprocess';
import { parseModelMetadata, type PreprocessingSpec } from '../../src/core/metadata';
import { ensureBuild, hasData, launchBrowser, openApp, skipReason, startPreview, testImages, type PreviewServer } from './helpers';

const TOLERANCE = 2 / 255;

/** A dataset JPEG re-encoded as a 16-bit grayscale PNG that uses the low byte too. */
async function sixteenBitPng(jpegPath: string): Promise<Buffer> {
  const gray = toGray8(await decodeImageBytes(new Uint8Array(fs.readFileSync(jpegPath))));
  const data = new Uint16Array(gray.width * gray.height);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(65535, 1000 + gray.data[i] * 240 + ((i * 37) % 240));
  return Buffer.from(encodePng({ width: gray.width, height: gray.height, data, depth: 16, channels: 1 }));
}

/** An 8-bit RGBA PNG with a varying alpha channel (alpha is composited on black by toGray8). */
async function alphaPng(jpegPath: string): Promise<Buffer> {
  const gray = toGray8(await decodeImageBytes(new Uint8Array(fs.readFileSync(jpegPath))));
  const n = gray.width * gray.height;
  const data = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    data.set([gray.data[i], Math.round(gray.data[i] * 0.9), 255 - gray.data[i], 128 + (i % 128)], i * 4);
  }
  return Buffer.from(encodePng({ width: gray.width, height: gray.height, data, depth: 8, channels: 4 }));
}

/** Inserts an EXIF APP1 segment with the given orientation right after the JPEG's SOI marker. */
function withExifOrientation(jpeg: Buffer, orientation: number): Buffer {
  const tiff = Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const len = body.length + 2;
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, len >> 8, len & 0xff]), body]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

/** A bottom-up 24-bit BMP (the browser decodes it; Node gets the same pixels directly). */
function bmp24(img: { width: number; height: number; rgb: Uint8Array }): Buffer {
  const rowBytes = Math.ceil((img.width * 3) / 4) * 4;
  const size = 54 + rowBytes * img.height;
  const b = Buffer.alloc(size);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(size, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(img.width, 18);
  b.writeInt32LE(img.height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(rowBytes * img.height, 34);
  for (let y = 0; y < img.height; y++) {
    const row = 54 + (img.height - 1 - y) * rowBytes;
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 3;
      b[row + x * 3] = img.rgb[s + 2];
      b[row + x * 3 + 1] = img.rgb[s + 1];
      b[row + x * 3 + 2] = img.rgb[s];
    }
  }
  return b;
}

async function browserInput(page: Page, bytes: Buffer): Promise<{ input: number[]; format: string; width: number; height: number; bitDepth: number }> {
  return page.evaluate(async (b64) => {
    const bin = atob(b64);
    const u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    const r = await window.cxrLab!.preprocess(u8);
    return { input: Array.from(r.input), format: r.format, width: r.width, height: r.height, bitDepth: r.bitDepth };
  }, bytes.toString('base64'));
}

function maxDiffUnit(a: ArrayLike<number>, b: ArrayLike<number>, spec: PreprocessingSpec): number {
  expect(a.length).toBe(b.length);
  const span = spec.range[1] - spec.range[0];
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]) / span);
  return max;
}

if (!hasData()) console.warn(skipReason());

describe.skipIf(!hasData())('preprocessing parity: Node vs browser', () => {
  let server: PreviewServer;
  let browser: Browser;
  let page: Page;
  let spec: PreprocessingSpec;

  beforeAll(async () => {
    const build = await ensureBuild();
    spec = parseModelMetadata(JSON.parse(fs.readFileSync(path.join(build.modelDir, 'metadata.json'), 'utf8'))).preprocessing;
    server = await startPreview();
    browser = await launchBrowser();
    ({ page } = await openApp(browser, server.url));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const jpegs = () => [...testImages('covid', 2), ...testImages('normal', 2), ...testImages('pneumonia', 2)];

  it('dataset JPEGs (test split, several classes and sources)', async () => {
    for (const file of jpegs()) {
      const bytes = fs.readFileSync(file);
      const node = preprocessDecoded(await decodeImageBytes(new Uint8Array(bytes)), spec);
      const web = await browserInput(page, bytes);
      expect(web.format).toBe('jpeg');
      const d = maxDiffUnit(node, web.input, spec);
      expect(d, `${path.basename(file)}: max diff ${(d * 255).toFixed(2)}/255`).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('a 16-bit grayscale PNG keeps its depth in the browser and matches Node', async () => {
    const bytes = await sixteenBitPng(testImages('covid', 3)[2]);
    const node = preprocessDecoded(await decodeImageBytes(new Uint8Array(bytes)), spec);
    const web = await browserInput(page, bytes);
    expect(web.format).toBe('png');
    expect(web.bitDepth).toBe(16);
    expect(maxDiffUnit(node, web.input, spec)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('an RGBA PNG with alpha matches Node', async () => {
    const bytes = await alphaPng(testImages('normal', 3)[2]);
    const node = preprocessDecoded(await decodeImageBytes(new Uint8Array(bytes)), spec);
    const web = await browserInput(page, bytes);
    expect(maxDiffUnit(node, web.input, spec)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('a JPEG with EXIF orientation 6 is rotated the same way in both', async () => {
    const src = fs.readFileSync(testImages('pneumonia', 3)[2]);
    const bytes = withExifOrientation(src, 6);
    const decoded = await decodeImageBytes(new Uint8Array(bytes));
    const plain = await decodeImageBytes(new Uint8Array(src));
    expect([decoded.width, decoded.height]).toEqual([plain.height, plain.width]);
    const node = preprocessDecoded(decoded, spec);
    const web = await browserInput(page, bytes);
    expect([web.width, web.height]).toEqual([decoded.width, decoded.height]);
    expect(maxDiffUnit(node, web.input, spec)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('a 24-bit BMP decoded by the browser matches the same pixels preprocessed in Node', async () => {
    const plain = await decodeImageBytes(new Uint8Array(fs.readFileSync(testImages('covid', 4)[3])));
    const rgb = new Uint8Array(plain.width * plain.height * 3);
    for (let i = 0; i < plain.width * plain.height; i++) {
      const v = plain.data[i * plain.channels];
      rgb.set([v, Math.max(0, v - 20), Math.min(255, v + 20)], i * 3);
    }
    const img: DecodedImage = { width: plain.width, height: plain.height, channels: 3, data: rgb, bitDepth: 8 };
    const node = preprocessDecoded(img, spec);
    const web = await browserInput(page, bmp24({ width: img.width, height: img.height, rgb }));
    expect(web.format).toBe('bmp');
    expect(maxDiffUnit(node, web.input, spec)).toBeLessThanOrEqual(TOLERANCE);
  });
});
