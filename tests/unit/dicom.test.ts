// DICOM input: fixtures are written by the test itself (tests/unit/helpers/dicom-writer.ts) from
// images of ../shared/data/cxr, one per case the decoder must handle, and read back through the same
// entry point the tools and the app use (sniffing the DICM magic, never the file name).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImageBytes, ImageDecodeError, sniffFormat } from '../../src/image/decode';
import { decodeDicom, applyWindow } from '../../src/image/dicom';
import { DEFAULT_PREPROCESSING, preprocessDecoded, toGray8, type DecodedImage, type GrayImage } from '../../src/image/preprocess';
import { initNodeBackend } from '../../src/ml/tf-node';
import { buildClassifier, DEFAULT_MODEL_CONFIG, LAYER_NAMES } from '../../src/ml/model';
import { Classifier } from '../../src/ml/classifier';
import { CXR_CLASSES } from '../../src/core/labels';
import type { ModelMetadata } from '../../src/core/metadata';
import { loadClassifierFromDir, preprocessFile } from '../../scripts/lib/node-io';
import { makeDicom, TS } from './helpers/dicom-writer';
import { CXR_DIR, cxrEntries, hasCxr, hasPublicModel, PUBLIC_MODEL, skipMessage } from './helpers/shared-data';

if (!hasCxr()) console.warn(skipMessage('chest X-ray data (../shared/data/cxr)', CXR_DIR));

/** The model the equivalence test uses: public/model, or a seeded untrained network when it is absent. */
async function testClassifier(): Promise<Classifier> {
  if (hasPublicModel()) return loadClassifierFromDir(PUBLIC_MODEL);
  console.warn(`no model at ${PUBLIC_MODEL}: DICOM/image equivalence is checked with a seeded untrained network`);
  const model = buildClassifier({ ...DEFAULT_MODEL_CONFIG, seed: 99 });
  const metadata: ModelMetadata = {
    name: 'test',
    version: '0',
    task: 'test',
    classNames: [...CXR_CLASSES],
    input: { shape: [1, DEFAULT_PREPROCESSING.inputSize, DEFAULT_PREPROCESSING.inputSize, 1], dtype: 'float32', layout: 'NHWC' },
    preprocessing: DEFAULT_PREPROCESSING,
    layers: { embedding: LAYER_NAMES.embedding, lastConv: LAYER_NAMES.lastConv, logits: LAYER_NAMES.logits },
    uncertainBelow: 0.6,
  };
  return new Classifier(model, metadata);
}

function grayOf(img: DecodedImage): GrayImage {
  return toGray8(img);
}

function expectSamePixels(a: GrayImage, b: GrayImage): void {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let diff = 0;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) diff++;
  expect(diff).toBe(0);
}

function reasonOf(fn: () => Promise<unknown>): Promise<string> {
  return fn().then(
    () => {
      throw new Error('expected an ImageDecodeError');
    },
    (e) => {
      expect(e).toBeInstanceOf(ImageDecodeError);
      return (e as ImageDecodeError).reason;
    },
  );
}

describe.skipIf(!hasCxr())('DICOM decoding (fixtures written from ../shared/data/cxr images)', () => {
  let jpegBytes: Uint8Array;
  let source: GrayImage; // the 8-bit gray image every fixture encodes
  let colour: DecodedImage; // an RGB version of it (tinted), for the colour cases
  let classifier: Classifier;

  beforeAll(async () => {
    await initNodeBackend('wasm', { threads: 1 });
    const entry = cxrEntries('test')[0];
    jpegBytes = new Uint8Array(fs.readFileSync(path.join(CXR_DIR, entry.file)));
    source = toGray8(await decodeImageBytes(jpegBytes));
    const rgb = new Uint8Array(source.data.length * 3);
    for (let i = 0; i < source.data.length; i++) {
      const v = source.data[i];
      rgb[i * 3] = v;
      rgb[i * 3 + 1] = Math.round(v * 0.8);
      rgb[i * 3 + 2] = Math.round(v * 0.5);
    }
    colour = { width: source.width, height: source.height, channels: 3, data: rgb, bitDepth: 8 };
    classifier = await testClassifier();
  });

  const base = () => ({ rows: source.height, columns: source.width });
  const map = (f: (v: number) => number) => Array.from(source.data, f);

  /** Decodes through decodeImageBytes (magic sniffing), as the tools and the app do. */
  async function roundTrip(bytes: Uint8Array): Promise<GrayImage> {
    expect(sniffFormat(bytes)).toBe('dicom');
    return grayOf(await decodeImageBytes(bytes));
  }

  it('MONOCHROME2, 8 bits allocated and stored, no window: the stored pixels as they are', async () => {
    const dcm = makeDicom({ ...base(), pixels: source.data });
    expectSamePixels(await roundTrip(dcm), source);
    expect((await decodeDicom(dcm)).info.window?.source).toBe('stored-range');
  });

  it('MONOCHROME1 is inverted (minimum = white)', async () => {
    const dcm = makeDicom({ ...base(), photometric: 'MONOCHROME1', pixels: map((v) => 255 - v), windowCenter: 128, windowWidth: 256 });
    expectSamePixels(await roundTrip(dcm), source);
    // Without a window too.
    expectSamePixels(await roundTrip(makeDicom({ ...base(), photometric: 'MONOCHROME1', pixels: map((v) => 255 - v) })), source);
  });

  it('12 bits stored in 16 (HighBit 11), with garbage in the unused high bits, header window', async () => {
    // Linear VOI (PS3.3 C.11.2.1.2): c − 0.5 = 2040, w − 1 = 4080 maps s = 16 v back onto v exactly.
    const pixels = map((v) => (v * 16) | 0xa000);
    const dcm = makeDicom({ ...base(), bitsAllocated: 16, bitsStored: 12, highBit: 11, pixels, windowCenter: 2040.5, windowWidth: 4081 });
    expectSamePixels(await roundTrip(dcm), source);
    const { info } = await decodeDicom(dcm);
    expect(info).toMatchObject({ bitsAllocated: 16, bitsStored: 12, highBit: 11, window: { source: 'header', center: 2040.5, width: 4081 } });
  });

  it('12 bits stored at the top of the word (HighBit 15)', async () => {
    const pixels = map((v) => ((v * 16) << 4) | 0x5);
    const dcm = makeDicom({ ...base(), bitsAllocated: 16, bitsStored: 12, highBit: 15, pixels, windowCenter: 2040.5, windowWidth: 4081 });
    expectSamePixels(await roundTrip(dcm), source);
  });

  it('16 bits stored, header window', async () => {
    const dcm = makeDicom({ ...base(), bitsAllocated: 16, bitsStored: 16, pixels: map((v) => v * 257), windowCenter: 32768, windowWidth: 65536 });
    expectSamePixels(await roundTrip(dcm), source);
  });

  it('signed 12-bit values (two’s complement, sign-extended by the decoder) with rescale slope/intercept', async () => {
    // stored = 8 v − 1024 ∈ [−1024, 1016]; modality value = 0.5 stored + 100 = 4 v − 412;
    // window c = 98.5, w = 1021 maps it back onto v.
    const pixels = map((v) => (8 * v - 1024) & 0x0fff);
    const dcm = makeDicom({
      ...base(),
      bitsAllocated: 16,
      bitsStored: 12,
      pixelRepresentation: 1,
      pixels,
      rescaleSlope: 0.5,
      rescaleIntercept: 100,
      windowCenter: 98.5,
      windowWidth: 1021,
    });
    expectSamePixels(await roundTrip(dcm), source);
    const { info } = await decodeDicom(dcm);
    expect(info).toMatchObject({ pixelRepresentation: 1, rescaleSlope: 0.5, rescaleIntercept: 100 });
  });

  it('signed 16-bit values with a CT-like rescale (intercept −1024)', async () => {
    // stored = 4 v − 500 (int16, negative values included), HU = stored − 1024.
    const pixels = map((v) => (4 * v - 500) & 0xffff);
    const c = -1524 + 0.5 + 510; // c − 0.5 = HU(v = 127.5)
    const dcm = makeDicom({
      ...base(),
      bitsAllocated: 16,
      bitsStored: 16,
      pixelRepresentation: 1,
      pixels,
      rescaleSlope: 1,
      rescaleIntercept: -1024,
      windowCenter: c,
      windowWidth: 1021,
    });
    expectSamePixels(await roundTrip(dcm), source);
  });

  it('uses the first window when the header lists several', async () => {
    const pixels = map((v) => v * 257);
    const dcm = makeDicom({ ...base(), bitsAllocated: 16, pixels, windowCenter: '32768\\1000', windowWidth: '65536\\200' });
    expectSamePixels(await roundTrip(dcm), source);
  });

  it('window from the header vs automatic window (0.5–99.5 percentile) when the header has none', async () => {
    const pixels = map((v) => 1000 + v * 40); // 16-bit, no window in the header
    const auto = await decodeDicom(makeDicom({ ...base(), bitsAllocated: 16, pixels }));
    expect(auto.info.window?.source).toBe('auto');
    const g = grayOf(auto.image);
    // A monotone stretch of the source: order preserved, full output range used, ~0.5 % clipped per end.
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < g.data.length; i++) {
      if (g.data[i] === 0) lo++;
      if (g.data[i] === 255) hi++;
    }
    expect(lo / g.data.length).toBeGreaterThan(0.004);
    expect(lo / g.data.length).toBeLessThan(0.05);
    expect(hi / g.data.length).toBeGreaterThan(0.004);
    expect(hi / g.data.length).toBeLessThan(0.05);
    for (let i = 1; i < 5000; i += 7) {
      const j = i * 13;
      if (source.data[i] < source.data[j]) expect(g.data[i]).toBeLessThanOrEqual(g.data[j]);
    }
    // A header window takes precedence and gives a different picture; `window: 'auto'` overrides it.
    const withHeader = makeDicom({ ...base(), bitsAllocated: 16, pixels, windowCenter: 1000 + 127.5 * 40, windowWidth: 2000 });
    const header = await decodeDicom(withHeader);
    expect(header.info.window).toMatchObject({ source: 'header', center: 1000 + 127.5 * 40, width: 2000 });
    expect(Buffer.compare(Buffer.from(header.image.data as Uint8Array), Buffer.from(auto.image.data as Uint8Array))).not.toBe(0);
    const forced = await decodeDicom(withHeader, { window: 'auto' });
    expect(forced.info.window?.source).toBe('auto');
    expect(Buffer.compare(Buffer.from(forced.image.data as Uint8Array), Buffer.from(auto.image.data as Uint8Array))).toBe(0);
    // Pixel padding is left out of the automatic window.
    const padded = Array.from(pixels);
    for (let i = 0; i < padded.length / 5; i++) padded[i] = 0; // 20 % padding at value 0
    const lowEdge = (w: { center: number; width: number } | undefined) => w!.center - w!.width / 2;
    const pad = await decodeDicom(makeDicom({ ...base(), bitsAllocated: 16, pixels: padded, pixelPaddingValue: 0 }));
    expect(lowEdge(pad.info.window)).toBeGreaterThanOrEqual(1000);
    const noPad = await decodeDicom(makeDicom({ ...base(), bitsAllocated: 16, pixels: padded }));
    expect(lowEdge(noPad.info.window)).toBe(0);
  });

  it('VOI LUT functions: LINEAR_EXACT and SIGMOID from the header', async () => {
    const exact = await decodeDicom(
      makeDicom({ ...base(), bitsAllocated: 16, pixels: map((v) => v * 4), windowCenter: 510, windowWidth: 1020, voiLutFunction: 'LINEAR_EXACT' }),
    );
    expectSamePixels(grayOf(exact.image), source);
    const sig = await decodeDicom(
      makeDicom({ ...base(), bitsAllocated: 16, pixels: map((v) => v * 4), windowCenter: 510, windowWidth: 1020, voiLutFunction: 'SIGMOID' }),
    );
    expect(sig.info.window?.function).toBe('SIGMOID');
    const out = new Uint8Array(3);
    applyWindow([0, 510, 1020], { center: 510, width: 1020, function: 'SIGMOID' }, out);
    expect(Array.from(out)).toEqual([30, 128, 225]);
  });

  it('implicit VR little endian and deflated explicit VR little endian', async () => {
    const spec = {
      ...base(),
      bitsAllocated: 16 as const,
      bitsStored: 12,
      pixels: map((v) => v * 16),
      windowCenter: 2040.5,
      windowWidth: 4081,
      rescaleSlope: 1,
      rescaleIntercept: 0,
    };
    expectSamePixels(await roundTrip(makeDicom({ ...spec, transferSyntax: TS.implicitLE })), source);
    expectSamePixels(await roundTrip(makeDicom({ ...spec, transferSyntax: TS.deflatedLE })), source);
  });

  it('RGB, interleaved and planar, passes through as colour', async () => {
    const inter = await decodeDicom(makeDicom({ ...base(), samplesPerPixel: 3, pixels: colour.data }));
    expect(inter.image.channels).toBe(3);
    expect(Buffer.compare(Buffer.from(inter.image.data as Uint8Array), Buffer.from(colour.data as Uint8Array))).toBe(0);
    const n = source.data.length;
    const planar = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) planar[c * n + i] = colour.data[i * 3 + c];
    const pl = await decodeDicom(makeDicom({ ...base(), samplesPerPixel: 3, planarConfiguration: 1, pixels: planar }));
    expect(Buffer.compare(Buffer.from(pl.image.data as Uint8Array), Buffer.from(colour.data as Uint8Array))).toBe(0);
  });

  it('JPEG Baseline (encapsulated) decodes to the same pixels as the JPEG itself', async () => {
    const dcm = makeDicom({ ...base(), transferSyntax: TS.jpegBaseline, frames: [jpegBytes] });
    expectSamePixels(await roundTrip(dcm), source);
  });

  it('compressed transfer syntaxes without a decoder give a clear message naming the syntax; garbage in a decodable one is called corrupt', async () => {
    const cases: [string, RegExp][] = [
      ['1.2.840.10008.1.2.4.110', /JPEG XL Lossless.*1\.2\.840\.10008\.1\.2\.4\.110.*cannot be decoded here/],
      ['1.2.840.10008.1.2.4.92', /JPEG 2000 Part 2.*1\.2\.840\.10008\.1\.2\.4\.92.*cannot be decoded here/],
      [TS.jpeg2000, /corrupt DICOM JPEG 2000 pixel data/],
      [TS.jpegLossless, /corrupt DICOM JPEG Lossless pixel data/],
      [TS.rle, /corrupt DICOM RLE pixel data/],
    ];
    for (const [ts, re] of cases) {
      const dcm = makeDicom({ ...base(), transferSyntax: ts, frames: [new Uint8Array([1, 2, 3, 4])] });
      expect(await reasonOf(() => decodeImageBytes(dcm))).toMatch(re);
    }
  });

  it('files without an extension are recognised by the DICM magic; truncated or empty files get a reason', async () => {
    const dcm = makeDicom({ ...base(), pixels: source.data });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-dicom-'));
    const file = path.join(dir, 'IM000001'); // no extension, as PACS exports name them
    fs.writeFileSync(file, dcm);
    const input = await preprocessFile(file, DEFAULT_PREPROCESSING);
    expect(Array.from(input)).toEqual(Array.from(preprocessDecoded({ ...source, channels: 1, bitDepth: 8 }, DEFAULT_PREPROCESSING)));
    fs.rmSync(dir, { recursive: true });
    expect(await reasonOf(() => decodeImageBytes(dcm.subarray(0, dcm.length - 5000)))).toMatch(/truncated|corrupt/);
    expect(await reasonOf(() => decodeImageBytes(dcm.subarray(0, 200)))).toMatch(/DICOM/);
  });

  it('a DICOM made from an image gives the same prediction as that image (within 1e-3)', async () => {
    const spec = classifier.metadata.preprocessing;
    const fromJpeg = preprocessDecoded(await decodeImageBytes(jpegBytes), spec);
    const fixtures = [
      makeDicom({ ...base(), pixels: source.data }),
      makeDicom({ ...base(), photometric: 'MONOCHROME1', pixels: map((v) => 255 - v) }),
      makeDicom({ ...base(), bitsAllocated: 16, bitsStored: 12, pixels: map((v) => v * 16), windowCenter: 2040.5, windowWidth: 4081 }),
      makeDicom({ ...base(), bitsAllocated: 16, pixels: map((v) => v * 257), windowCenter: 32768, windowWidth: 65536 }),
      makeDicom({
        ...base(),
        bitsAllocated: 16,
        bitsStored: 12,
        pixelRepresentation: 1,
        pixels: map((v) => (8 * v - 1024) & 0x0fff),
        rescaleSlope: 0.5,
        rescaleIntercept: 100,
        windowCenter: 98.5,
        windowWidth: 1021,
      }),
      makeDicom({ ...base(), transferSyntax: TS.jpegBaseline, frames: [jpegBytes] }),
    ];
    const inputs = [fromJpeg, ...(await Promise.all(fixtures.map(async (f) => preprocessDecoded(await decodeImageBytes(f), spec))))];
    const { predictions } = await classifier.predict(inputs);
    for (const p of predictions.slice(1)) {
      expect(p.label).toBe(predictions[0].label);
      p.probabilities.forEach((v, k) => expect(Math.abs(v - predictions[0].probabilities[k])).toBeLessThan(1e-3));
    }
    // An automatically windowed 16-bit version is a contrast stretch: the prediction stays close.
    const auto = preprocessDecoded(await decodeImageBytes(makeDicom({ ...base(), bitsAllocated: 16, pixels: map((v) => 1000 + v * 40) })), spec);
    const [pa] = (await classifier.predict([auto])).predictions;
    pa.probabilities.forEach((v, k) => expect(Math.abs(v - predictions[0].probabilities[k])).toBeLessThan(0.1));
  });
});

describe('DICOM errors without data', () => {
  it('no pixel data, unsupported photometric interpretation', async () => {
    const px = new Uint8Array(16).fill(7);
    const noPixels = makeDicom({ rows: 4, columns: 4, pixels: px });
    // Cut the file right before the pixel data element: a valid data set without (7FE0,0010).
    const cut = noPixels.subarray(0, noPixels.length - (16 + 12));
    expect(await reasonOf(() => decodeDicom(cut))).toMatch(/no pixel data/);
    expect(await reasonOf(() => decodeDicom(makeDicom({ rows: 4, columns: 4, pixels: px, photometric: 'PALETTE COLOR' })))).toMatch(/PALETTE COLOR/);
  });
});
