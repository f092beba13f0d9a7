// DICOM as hospitals export it: every compressed transfer syntax CXR Lab decodes, each photometric
// and grey-level case, the header fields it uses (and the identifying ones it must never read), and
// the specific messages for broken files. Fixtures are written by the test: uncompressed by
// helpers/dicom-writer.ts, compressed frames by helpers/dicom-encoders.ts (codec packages' encoders,
// or hand-written JPEG Lossless / RLE). Known answers: each file encodes a known 8-bit picture, and
// the decoder must give it back exactly (lossless) or within a stated error (lossy).
import { describe, expect, it } from 'vitest';
import { decodeImageBytes, ImageDecodeError, MAX_IMAGE_SIDE } from '../../src/image/decode';
import { decodeDicom } from '../../src/image/dicom';
import { toGray8, type GrayImage } from '../../src/image/preprocess';
import { makeDicom, TS, type DicomImageSpec } from './helpers/dicom-writer';
import {
  asExtendedJpeg,
  encodeHtj2k,
  encodeHtj2kRgb,
  encodeJ2k,
  encodeJpegExtended,
  encodeJpegLossless,
  encodeJpegLs,
  encodeJpegLsRgb,
  encodeRle,
  type GrayFrame,
} from './helpers/dicom-encoders';
import { encode as encodeJpegJs } from 'jpeg-js';

const W = 96;
const H = 80;
/** The known picture: gradients, a bright disc, a dark bar and deterministic noise; 8-bit. */
const picture: Uint8Array = (() => {
  const p = new Uint8Array(W * H);
  let seed = 12345;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const disc = (x - 60) ** 2 + (y - 30) ** 2 < 300 ? 80 : 0;
      const bar = x > 10 && x < 20 ? -60 : 0;
      const v = 40 + x + y + disc + bar + ((seed >>> 24) % 16);
      p[y * W + x] = Math.max(0, Math.min(255, v));
    }
  }
  return p;
})();
const map = (f: (v: number) => number) => Array.from(picture, f);
const base = { rows: H, columns: W };
// 12-bit stored values s = 16 v; the linear window c − 0.5 = 2040, w − 1 = 4080 maps s back onto v exactly.
const WIN12 = { windowCenter: 2040.5, windowWidth: 4081 };
const frame12 = (): GrayFrame => ({ width: W, height: H, bitsPerSample: 12, pixels: map((v) => v * 16) });

async function gray(bytes: Uint8Array): Promise<GrayImage> {
  return toGray8(await decodeImageBytes(bytes));
}

function diffs(a: GrayImage, b: ArrayLike<number>): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a.data[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / b.length };
}

async function expectPicture(bytes: Uint8Array, tolerance = 0): Promise<void> {
  const g = await gray(bytes);
  expect([g.width, g.height]).toEqual([W, H]);
  expect(diffs(g, picture).max).toBeLessThanOrEqual(tolerance);
}

async function reason(bytes: Uint8Array): Promise<string> {
  try {
    await decodeDicom(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(ImageDecodeError);
    return (e as ImageDecodeError).reason;
  }
  throw new Error('expected an ImageDecodeError');
}

const compressed = (ts: string, frame: Uint8Array, extra: Partial<DicomImageSpec> = {}) =>
  makeDicom({ ...base, transferSyntax: ts, frames: [frame], bitsAllocated: 16, bitsStored: 12, ...WIN12, ...extra });

describe('compressed transfer syntaxes: known answers', () => {
  it('JPEG 2000 lossless (.90), 12-bit: exactly the encoded picture', async () => {
    await expectPicture(compressed(TS.jpeg2000, await encodeJ2k(frame12())));
  });

  it('JPEG 2000 (.91) holding a lossless code stream, and a signed 16-bit CT-like image', async () => {
    await expectPicture(compressed(TS.jpeg2000Lossy, await encodeJ2k(frame12())));
    // stored = 4 v − 500 (negative values included), HU = stored − 1024; window maps HU back onto v.
    const signed: GrayFrame = { width: W, height: H, bitsPerSample: 16, signed: true, pixels: map((v) => (4 * v - 500) & 0xffff) };
    const c = -1524 + 0.5 + 510;
    const dcm = compressed(TS.jpeg2000, await encodeJ2k(signed), {
      bitsStored: 16,
      pixelRepresentation: 1,
      rescaleIntercept: -1024,
      rescaleSlope: 1,
      windowCenter: c,
      windowWidth: 1021,
    });
    await expectPicture(dcm);
  });

  it('HTJ2K lossless (.201), 12-bit', async () => {
    await expectPicture(compressed(TS.htj2k, await encodeHtj2k(frame12())));
  });

  it('a J2K code stream wrapped in a JP2 file (as some exporters write it) is unwrapped', async () => {
    const stream = await encodeJ2k(frame12());
    const box = (type: string, body: Uint8Array) => {
      const b = new Uint8Array(8 + body.length);
      new DataView(b.buffer).setUint32(0, b.length);
      for (let i = 0; i < 4; i++) b[4 + i] = type.charCodeAt(i);
      b.set(body, 8);
      return b;
    };
    const parts = [box('jP  ', Uint8Array.from([0x0d, 0x0a, 0x87, 0x0a])), box('ftyp', new TextEncoder().encode('jp2 \0\0\0\0jp2 ')), box('jp2c', stream)];
    const jp2 = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((o, p) => (jp2.set(p, o), o + p.length), 0);
    await expectPicture(compressed(TS.jpeg2000, jp2));
  });

  it('JPEG-LS lossless (.80) and near-lossless (.81, NEAR = 2 in 12-bit units: ≤ 1 grey level after the window)', async () => {
    await expectPicture(compressed(TS.jpegLs, await encodeJpegLs(frame12())));
    await expectPicture(compressed(TS.jpegLsNear, await encodeJpegLs(frame12(), 2)), 1);
  });

  it('JPEG-LS with signed 12-bit data (PixelRepresentation 1): sign-extended from BitsStored', async () => {
    // stored = 8 v − 1024 as 12-bit two's complement; modality = 0.5 stored + 100; window maps back onto v.
    const f: GrayFrame = { width: W, height: H, bitsPerSample: 12, pixels: map((v) => (8 * v - 1024) & 0x0fff) };
    await expectPicture(
      compressed(TS.jpegLs, await encodeJpegLs(f), { pixelRepresentation: 1, rescaleSlope: 0.5, rescaleIntercept: 100, windowCenter: 98.5, windowWidth: 1021 }),
    );
  });

  it('JPEG Lossless, first-order prediction (.70) and other predictors (.57), 12- and 16-bit', async () => {
    await expectPicture(compressed(TS.jpegLossless, encodeJpegLossless(frame12(), 1)));
    for (const predictor of [2, 4, 7]) await expectPicture(compressed(TS.jpegLossless14, encodeJpegLossless(frame12(), predictor)));
    const f16: GrayFrame = { width: W, height: H, bitsPerSample: 16, pixels: map((v) => v * 257) };
    await expectPicture(compressed(TS.jpegLossless, encodeJpegLossless(f16, 1), { bitsStored: 16, windowCenter: 32768, windowWidth: 65536 }));
  });

  it('JPEG Extended (.51) with 8-bit samples (libjpeg-turbo): within JPEG quantisation error of the picture', async () => {
    const jpeg = new Uint8Array(
      encodeJpegJs({ width: W, height: H, data: Uint8Array.from({ length: W * H * 4 }, (_, i) => (i % 4 === 3 ? 255 : picture[i >> 2])) }, 95).data,
    );
    const dcm = makeDicom({ ...base, transferSyntax: TS.jpegExtended, frames: [asExtendedJpeg(jpeg)] });
    const g = await gray(dcm);
    const d = diffs(g, picture);
    expect(d.mean).toBeLessThan(2);
    expect(d.max).toBeLessThanOrEqual(16);
    // Same frame as baseline (.50, jpeg-js): the two decoders agree to within IDCT rounding.
    const baseline = await gray(makeDicom({ ...base, transferSyntax: TS.jpegBaseline, frames: [jpeg] }));
    expect(diffs(g, baseline.data).max).toBeLessThanOrEqual(2);
    // Colour (YBR_FULL_422 as exporters label it): libjpeg-turbo returns RGB, as jpeg-js does for .50.
    const tinted = new Uint8Array(
      encodeJpegJs(
        {
          width: W,
          height: H,
          data: Uint8Array.from({ length: W * H * 4 }, (_, i) => (i % 4 === 3 ? 255 : i % 4 === 0 ? picture[i >> 2] : 255 - picture[i >> 2])),
        },
        95,
      ).data,
    );
    const colour = { ...base, samplesPerPixel: 3 as const, photometric: 'YBR_FULL_422' };
    const ext = await decodeDicom(makeDicom({ ...colour, transferSyntax: TS.jpegExtended, frames: [asExtendedJpeg(tinted)] }));
    const ref = await decodeDicom(makeDicom({ ...colour, transferSyntax: TS.jpegBaseline, frames: [tinted] }));
    expect(ext.image.channels).toBe(3);
    let max = 0;
    for (let i = 0; i < W * H * 3; i++) max = Math.max(max, Math.abs(ext.image.data[i] - ref.image.data[i]));
    expect(max).toBeLessThanOrEqual(3);
  });

  it('JPEG Extended (.51) with 12-bit samples: within the quantisation error, with and without restart markers, odd sizes', async () => {
    // q = 2 on every coefficient: after the window (÷ 16) the picture comes back within one grey level.
    for (const restart of [0, 7]) {
      await expectPicture(compressed(TS.jpegExtended, encodeJpegExtended(frame12(), 2, restart)), 1);
    }
    // 90 × 75: partial blocks at the right and bottom edges.
    const w = 90;
    const h = 75;
    const crop = Array.from({ length: w * h }, (_, i) => picture[Math.floor(i / w) * W + (i % w)]);
    const dcm = makeDicom({
      rows: h,
      columns: w,
      bitsAllocated: 16,
      bitsStored: 12,
      ...WIN12,
      transferSyntax: TS.jpegExtended,
      frames: [encodeJpegExtended({ width: w, height: h, bitsPerSample: 12, pixels: crop.map((v) => v * 16) }, 2)],
    });
    const g = await gray(dcm);
    expect([g.width, g.height]).toEqual([w, h]);
    expect(diffs(g, crop).max).toBeLessThanOrEqual(1);
  });

  it('the sequential-DCT decoder matches libjpeg-turbo (an independent decoder) on the same 8-bit stream', async () => {
    // Our 12-bit path and libjpeg-turbo read one 8-bit stream (with restart markers): Huffman,
    // dequantisation and inverse DCT must agree to rounding, and both must give the picture back.
    const stream = encodeJpegExtended({ width: W, height: H, bitsPerSample: 8, pixels: picture }, 3, 5);
    const viaLibjpeg = await gray(makeDicom({ ...base, transferSyntax: TS.jpegExtended, frames: [stream] }));
    const { decodeJpegExtended } = await import('../../src/image/jpeg-extended');
    const viaOurs = decodeJpegExtended(stream);
    expect(viaOurs.precision).toBe(8);
    expect(diffs(viaLibjpeg, viaOurs.data).max).toBeLessThanOrEqual(1);
    expect(diffs(viaLibjpeg, picture).max).toBeLessThanOrEqual(3);
  });

  it('12-bit JPEG Extended that is corrupt or colour gets a specific message', async () => {
    const good = encodeJpegExtended(frame12(), 2);
    expect(await reason(compressed(TS.jpegExtended, good.subarray(0, good.length - 400)))).toMatch(/corrupt DICOM JPEG Extended pixel data/);
    const sof1 = Uint8Array.from([0xff, 0xd8, 0xff, 0xc1, 0, 17, 12, 0, H, 0, W, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 0xff, 0xd9]);
    expect(await reason(compressed(TS.jpegExtended, sof1, { samplesPerPixel: 3, photometric: 'RGB' }))).toMatch(
      /JPEG Extended with 3 components of 12 bits is not supported/,
    );
  });

  it('RLE Lossless (.5): 8-bit, 16-bit, and RGB (three segments)', async () => {
    await expectPicture(makeDicom({ ...base, transferSyntax: TS.rle, frames: [encodeRle(picture, W, H, 8)] }));
    await expectPicture(
      makeDicom({
        ...base,
        transferSyntax: TS.rle,
        bitsAllocated: 16,
        bitsStored: 12,
        ...WIN12,
        frames: [
          encodeRle(
            map((v) => v * 16),
            W,
            H,
            16,
          ),
        ],
      }),
    );
    const rgb = new Uint8Array(W * H * 3);
    for (let i = 0; i < W * H; i++) rgb.set([picture[i], 255 - picture[i], picture[i] >> 1], i * 3);
    const colour = await decodeDicom(makeDicom({ ...base, transferSyntax: TS.rle, samplesPerPixel: 3, frames: [encodeRle(rgb, W, H, 8, 3)] }));
    expect(colour.image.channels).toBe(3);
    expect(Buffer.compare(Buffer.from(colour.image.data as Uint8Array), Buffer.from(rgb))).toBe(0);
  });

  it('RGB through JPEG-LS (each CharLS interleave mode) and HTJ2K comes back as the same interleaved RGB', async () => {
    const rgb = new Uint8Array(W * H * 3);
    for (let i = 0; i < W * H; i++) rgb.set([picture[i], 255 - picture[i], (picture[i] * 7) & 255], i * 3);
    const planar = new Uint8Array(W * H * 3);
    for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) planar[c * W * H + i] = rgb[i * 3 + c];
    const frames = [
      [TS.jpegLs, await encodeJpegLsRgb(W, H, planar, 0)],
      [TS.jpegLs, await encodeJpegLsRgb(W, H, rgb, 1)],
      [TS.jpegLs, await encodeJpegLsRgb(W, H, rgb, 2)],
      [TS.htj2k, await encodeHtj2kRgb(W, H, rgb)],
    ] as const;
    for (const [transferSyntax, frame] of frames) {
      const { image } = await decodeDicom(makeDicom({ ...base, samplesPerPixel: 3, transferSyntax, frames: [frame] }));
      expect(image.channels).toBe(3);
      expect(Buffer.compare(Buffer.from(image.data as Uint8Array), Buffer.from(rgb))).toBe(0);
    }
  });

  it('explicit VR big endian, implicit and explicit little endian, deflated: the same picture', async () => {
    for (const transferSyntax of [TS.bigEndian, TS.implicitLE, TS.explicitLE, TS.deflatedLE]) {
      await expectPicture(makeDicom({ ...base, transferSyntax, bitsAllocated: 16, bitsStored: 12, ...WIN12, pixels: map((v) => v * 16) }));
      await expectPicture(makeDicom({ ...base, transferSyntax, pixels: picture }));
    }
  });

  it('multi-frame encapsulated file: the first frame, with a note (offset table or one fragment per frame)', async () => {
    const first = await encodeJ2k(frame12());
    const second = await encodeJ2k({ ...frame12(), pixels: map((v) => (255 - v) * 16) });
    for (const basicOffsetTable of [true, false]) {
      const dcm = makeDicom({
        ...base,
        transferSyntax: TS.jpeg2000,
        frames: [first, second],
        basicOffsetTable,
        numberOfFrames: 2,
        bitsAllocated: 16,
        bitsStored: 12,
        ...WIN12,
      });
      await expectPicture(dcm);
      expect((await decodeDicom(dcm)).info.meta.notes).toContain('multi-frame file (2 frames): only the first frame was read');
    }
    // Native multi-frame too.
    const native = makeDicom({ ...base, pixels: [...picture, ...map((v) => 255 - v)], numberOfFrames: 2 });
    await expectPicture(native);
  });
});

describe('grey levels as DICOM defines them', () => {
  it('MONOCHROME1 is inverted after the window, not before', async () => {
    // Stored s = 255 − v (MONOCHROME1: low = white). An asymmetric window [s 50 … 200] shows, after
    // inversion, 255 − window(s); inverting before the window would give window(255 − s) instead.
    const dcm = makeDicom({
      ...base,
      photometric: 'MONOCHROME1',
      bitsAllocated: 16,
      bitsStored: 16,
      pixels: map((v) => 255 - v),
      windowCenter: 125.5,
      windowWidth: 151,
      voiLutFunction: 'LINEAR_EXACT',
    });
    const g = await gray(dcm);
    const expected = map((v) => 255 - Math.max(0, Math.min(255, Math.round(((255 - v - 50) / 151) * 255))));
    expect(diffs(g, expected).max).toBe(0);
    expect((await decodeDicom(dcm)).info.meta.windowDescription).toMatch(/MONOCHROME1 inverted after it/);
  });

  it('MONOCHROME1 through a compressed syntax (JPEG-LS), and YBR_FULL colour (native and RLE) converted to RGB', async () => {
    const inv: GrayFrame = { width: W, height: H, bitsPerSample: 12, pixels: map((v) => (255 - v) * 16) };
    await expectPicture(compressed(TS.jpegLs, await encodeJpegLs(inv), { photometric: 'MONOCHROME1' }));
    // Y = v with a fixed tint (Cb 100, Cr 150): RGB by the YCbCr (full range) equations of PS3.3 C.7.6.3.1.2.
    const ybr = new Uint8Array(W * H * 3);
    for (let i = 0; i < W * H; i++) ybr.set([picture[i], 100, 150], i * 3);
    const clamp = (x: number) => Math.max(0, Math.min(255, Math.round(x)));
    const expected = new Uint8Array(W * H * 3);
    for (let i = 0; i < W * H; i++) {
      const y = picture[i];
      expected.set([clamp(y + 1.402 * 22), clamp(y - 0.344136 * -28 - 0.714136 * 22), clamp(y + 1.772 * -28)], i * 3);
    }
    for (const dcm of [
      makeDicom({ ...base, samplesPerPixel: 3, photometric: 'YBR_FULL', pixels: ybr }),
      makeDicom({ ...base, samplesPerPixel: 3, photometric: 'YBR_FULL', transferSyntax: TS.rle, frames: [encodeRle(ybr, W, H, 8, 3)] }),
    ]) {
      const { image } = await decodeDicom(dcm);
      expect(image.channels).toBe(3);
      expect(Buffer.compare(Buffer.from(image.data as Uint8Array), Buffer.from(expected))).toBe(0);
    }
  });

  it('VOI LUT Sequence (no window in the header) maps stored values through the table', async () => {
    // LUT over 12-bit inputs 0..4095, 16 bits out: entry k = 65535 · ⌊k / 16⌋ / 255, so stored 16 v shows as v.
    const data = Array.from({ length: 4096 }, (_, k) => Math.round(((k >> 4) / 255) * 65535));
    const dcm = makeDicom({ ...base, bitsAllocated: 16, bitsStored: 12, pixels: map((v) => v * 16), voiLut: { first: 0, bits: 16, data } });
    const { image, info } = await decodeDicom(dcm);
    expect(info.window?.source).toBe('voi-lut');
    expect(diffs(toGray8(image), picture).max).toBe(0);
    expect(info.meta.windowDescription).toMatch(/VOI LUT from the header/);
    // A window in the header takes precedence, and the description says a LUT was there too.
    const both = await decodeDicom(
      makeDicom({ ...base, bitsAllocated: 16, bitsStored: 12, pixels: map((v) => v * 16), voiLut: { first: 0, bits: 16, data: data.map(() => 0) }, ...WIN12 }),
    );
    expect(both.info.window?.source).toBe('header');
    expect(diffs(toGray8(both.image), picture).max).toBe(0);
    expect(both.info.meta.windowDescription).toMatch(/a VOI LUT is also in the header/);
  });

  it('Modality LUT Sequence replaces rescale slope/intercept', async () => {
    // Stored 0..255 → modality 10·s through the table; window maps 10·v back onto v.
    const data = Array.from({ length: 256 }, (_, k) => 10 * k);
    const dcm = makeDicom({
      ...base,
      bitsAllocated: 16,
      bitsStored: 8,
      pixels: picture,
      modalityLut: { first: 0, bits: 16, data },
      rescaleSlope: 3,
      rescaleIntercept: 7,
      windowCenter: 1275.5,
      windowWidth: 2551,
    });
    const { image, info } = await decodeDicom(dcm);
    expect(info.meta.notes.join(' ')).toMatch(/modality LUT sequence applied/);
    expect(diffs(toGray8(image), picture).max).toBeLessThanOrEqual(1);
  });

  it('several windows: the first is used and the choice is shown', async () => {
    const dcm = makeDicom({
      ...base,
      bitsAllocated: 16,
      bitsStored: 12,
      pixels: map((v) => v * 16),
      windowCenter: '2040.5\\600\\3000',
      windowWidth: '4081\\400\\100',
    });
    const { image, info } = await decodeDicom(dcm);
    expect(diffs(toGray8(image), picture).max).toBe(0);
    expect(info.window).toMatchObject({ source: 'header', index: 0, count: 3 });
    expect(info.meta.windowDescription).toBe('window C 2040.5 W 4081 from the header, first of 3');
    expect(info.meta.notes).toContain('the header offers 3 windows; the first was used');
  });
});

describe('the header: used fields, and identifying fields never read', () => {
  const identifying = { patientName: 'DOE^JANE', patientId: 'MRN-0042-77', birthDate: '19610503', accession: 'ACC-99881' };

  it('view, orientation, body part, age, sex, modality and manufacturer come out; name, ID, birth date and accession never do', async () => {
    const dcm = makeDicom({
      ...base,
      pixels: picture,
      ...identifying,
      viewPosition: 'PA',
      patientOrientation: 'L\\F',
      bodyPart: 'CHEST',
      patientAge: '007Y',
      patientSex: 'F',
      modality: 'DX',
      manufacturer: 'Acme Imaging',
      manufacturerModel: 'DR-9000',
    });
    const decoded = await decodeDicom(dcm);
    expect(decoded.info.meta).toMatchObject({
      viewPosition: 'PA',
      patientOrientation: ['L', 'F'],
      bodyPart: 'CHEST',
      patientAge: '007Y',
      ageYears: 7,
      patientSex: 'F',
      modality: 'DX',
      manufacturer: 'Acme Imaging',
      manufacturerModel: 'DR-9000',
    });
    expect(decoded.image.dicom).toBe(decoded.info.meta);
    const everything = JSON.stringify(decoded, (_, v) => (ArrayBuffer.isView(v) ? undefined : v));
    for (const value of Object.values(identifying)) expect(everything).not.toContain(value);
  });
});

describe('bad DICOM: a clear, specific message', () => {
  it('truncated pixel data, native and encapsulated', async () => {
    const native = makeDicom({ ...base, bitsAllocated: 16, pixels: map((v) => v * 16) });
    expect(await reason(native.subarray(0, native.length - 3000))).toMatch(/DICOM pixel data is truncated/);
    const enc = compressed(TS.jpeg2000, await encodeJ2k(frame12()));
    expect(await reason(enc.subarray(0, enc.length - 500))).toMatch(/DICOM pixel data is truncated/);
  });

  it('absurd dimensions are refused before anything is allocated, in the header or in the code stream', async () => {
    // The header claims 65535 × 65535 with 16 bytes of pixels: refused on the numbers alone.
    const huge = makeDicom({ rows: 65535, columns: 65535, pixels: new Uint8Array(16) });
    expect(await reason(huge)).toMatch(/image too large: 65535×65535/);
    expect(MAX_IMAGE_SIDE).toBeLessThan(65535);
    // A JPEG-LS stream whose frame header says 60000 × 60000 inside a 96 × 80 DICOM: refused before CharLS runs.
    const stream = await encodeJpegLs(frame12());
    const sof = stream.findIndex((b, i) => b === 0xff && stream[i + 1] === 0xf7);
    stream.set([0xea, 0x60, 0xea, 0x60], sof + 5);
    expect(await reason(compressed(TS.jpegLs, stream))).toMatch(/image too large: 60000×60000/);
    // A consistent but wrong size is named too.
    const j2k = await encodeJ2k({ ...frame12(), width: W / 2, pixels: map((v) => v * 16).slice(0, (W / 2) * H) });
    expect(await reason(compressed(TS.jpeg2000, j2k))).toMatch(/JPEG 2000 frame is 48×80 but the header says 96×80/);
  });

  it('missing pixel data: no element, or encapsulated with no fragments', async () => {
    const px = new Uint8Array(16).fill(7);
    const full = makeDicom({ rows: 4, columns: 4, pixels: px });
    expect(await reason(full.subarray(0, full.length - (16 + 12)))).toMatch(/no pixel data/);
    expect(await reason(makeDicom({ ...base, transferSyntax: TS.jpeg2000, frames: [] }))).toMatch(/JPEG 2000.*pixel data is missing/);
  });

  it('encapsulated data without a codec (MPEG-2) names the syntax; corrupt code streams are named', async () => {
    expect(await reason(makeDicom({ ...base, transferSyntax: TS.mpeg2, frames: [new Uint8Array([0, 0, 1, 0xb3])] }))).toMatch(
      /MPEG2 Main Profile.*1\.2\.840\.10008\.1\.2\.4\.100.*cannot be decoded here/,
    );
    expect(await reason(compressed(TS.jpeg2000, new Uint8Array([1, 2, 3, 4])))).toMatch(/corrupt DICOM JPEG 2000 pixel data/);
    const rle = encodeRle(picture, W, H, 8);
    expect(await reason(makeDicom({ ...base, transferSyntax: TS.rle, frames: [rle.subarray(0, 200)] }))).toMatch(/corrupt DICOM RLE pixel data/);
  });

  it('one bad file does not disturb the next: a batch decodes the good ones', async () => {
    const good = makeDicom({ ...base, transferSyntax: TS.jpegLs, frames: [await encodeJpegLs(frame12())], bitsAllocated: 16, bitsStored: 12, ...WIN12 });
    const bad = compressed(TS.jpeg2000, new Uint8Array([0xff, 0x4f, 0xff, 0x51, 0, 0]));
    const results = await Promise.allSettled([good, bad, good].map((b) => gray(b)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    for (const r of [results[0], results[2]]) expect(diffs((r as PromiseFulfilledResult<GrayImage>).value, picture).max).toBe(0);
  });
});
