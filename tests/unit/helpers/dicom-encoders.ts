// Encoders for compressed DICOM test fixtures. JPEG 2000, HTJ2K and JPEG-LS use the encoder builds
// of the same codec packages the app decodes with (OpenJPEG, OpenJPH, CharLS); JPEG Lossless and RLE
// are written here by hand from the standard (ITU T.81 Annex H, DICOM PS3.5 Annex G), so that the
// decoders are checked against an independent writer. The decoders never import this file.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface GrayFrame {
  width: number;
  height: number;
  /** Unsigned samples (two's complement bit patterns for signed data), row-major. */
  pixels: ArrayLike<number>;
  bitsPerSample: number;
  signed?: boolean;
}

type Encoder = {
  getDecodedBuffer(info: Record<string, unknown>): Uint8Array;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  delete(): void;
  setNearLossless?(n: number): void;
  setQuality?(lossless: boolean, quality: number): void;
};

const modules = new Map<string, Promise<Record<string, new () => Encoder>>>();
function codec(entry: string): Promise<Record<string, new () => Encoder>> {
  if (!modules.has(entry)) {
    const factory = require(entry) as (o: Record<string, unknown>) => Promise<Record<string, new () => Encoder>>;
    modules.set(entry, factory({ print: () => {}, printErr: () => {} }));
  }
  return modules.get(entry)!;
}

function samplesAsBytes(f: GrayFrame): Uint8Array {
  if (f.bitsPerSample <= 8) return Uint8Array.from(f.pixels, (v) => v & 0xff);
  const w = new Uint16Array(f.pixels.length);
  for (let i = 0; i < w.length; i++) w[i] = f.pixels[i] & 0xffff;
  return new Uint8Array(w.buffer);
}

async function encodeWith(entry: string, cls: string, f: GrayFrame, configure?: (e: Encoder) => void, componentCount = 1): Promise<Uint8Array> {
  const m = await codec(entry);
  const enc = new m[cls]();
  try {
    const info = {
      width: f.width,
      height: f.height,
      bitsPerSample: f.bitsPerSample,
      componentCount,
      isSigned: f.signed === true,
      isUsingColorTransform: false,
    };
    enc.getDecodedBuffer(info).set(samplesAsBytes(f));
    configure?.(enc);
    enc.encode();
    return enc.getEncodedBuffer().slice();
  } finally {
    enc.delete();
  }
}

/** JPEG 2000 code stream (OpenJPEG encoder); lossless unless `quality` (lossy) is given. */
export function encodeJ2k(f: GrayFrame): Promise<Uint8Array> {
  return encodeWith('@cornerstonejs/codec-openjpeg/wasmjs', 'J2KEncoder', f);
}

/** HTJ2K code stream (OpenJPH encoder), reversible. */
export function encodeHtj2k(f: GrayFrame): Promise<Uint8Array> {
  return encodeWith('@cornerstonejs/codec-openjph/wasmjs', 'HTJ2KEncoder', f);
}

/** JPEG-LS (CharLS encoder); `near` > 0 for near-lossless. */
export function encodeJpegLs(f: GrayFrame, near = 0): Promise<Uint8Array> {
  return encodeWith('@cornerstonejs/codec-charls/wasmjs', 'JpegLSEncoder', f, (e) => e.setNearLossless?.(near));
}

/**
 * 8-bit RGB as JPEG-LS with CharLS interleave mode 0 (none: `samples` planar, as CharLS takes them),
 * 1 (line) or 2 (sample; `samples` interleaved for both).
 */
export function encodeJpegLsRgb(width: number, height: number, samples: ArrayLike<number>, interleave: 0 | 1 | 2): Promise<Uint8Array> {
  return encodeWith(
    '@cornerstonejs/codec-charls/wasmjs',
    'JpegLSEncoder',
    { width, height, bitsPerSample: 8, pixels: samples },
    (e) => (e as unknown as { setInterleaveMode(m: number): void }).setInterleaveMode(interleave),
    3,
  );
}

/** 8-bit interleaved RGB as HTJ2K (no colour transform). */
export function encodeHtj2kRgb(width: number, height: number, rgb: ArrayLike<number>): Promise<Uint8Array> {
  return encodeWith('@cornerstonejs/codec-openjph/wasmjs', 'HTJ2KEncoder', { width, height, bitsPerSample: 8, pixels: rgb }, undefined, 3);
}

// ---------------------------------------------------------------------------------------------
// JPEG Lossless (process 14), one component, any predictor 1–7, point transform 0
// ---------------------------------------------------------------------------------------------

class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >>> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0x00); // byte stuffing
    this.acc = 0;
    this.n = 0;
  }
  finish(): number[] {
    if (this.n > 0) {
      while (this.n > 0) this.write(1, 1); // pad with ones
    }
    return this.bytes;
  }
}

/** A JPEG Lossless (SOF3) stream; predictor 1 is DICOM's .70, any 1–7 its .57. */
export function encodeJpegLossless(f: GrayFrame, predictor = 1): Uint8Array {
  const { width: w, height: h, bitsPerSample: p } = f;
  // One Huffman table for the 17 difference categories, every code 5 bits long (none all ones).
  const counts = new Array(16).fill(0);
  counts[4] = 17;
  const symbols = Array.from({ length: 17 }, (_, i) => i);
  const bits = new BitWriter();
  const px = (x: number, y: number) => f.pixels[y * w + x];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let pred: number;
      if (x === 0 && y === 0) pred = 1 << (p - 1);
      else if (y === 0) pred = px(x - 1, 0);
      else if (x === 0) pred = px(0, y - 1);
      else {
        const a = px(x - 1, y);
        const b = px(x, y - 1);
        const c = px(x - 1, y - 1);
        pred = [0, a, b, c, a + b - c, a + ((b - c) >> 1), b + ((a - c) >> 1), (a + b) >> 1][predictor];
      }
      let diff = (px(x, y) - pred) % 65536;
      if (diff > 32768) diff -= 65536;
      if (diff < -32767) diff += 65536;
      const ssss = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
      bits.write(ssss, 5); // canonical code of symbol k is k (all lengths equal)
      if (ssss > 0 && ssss < 16) bits.write(diff > 0 ? diff : diff + (1 << ssss) - 1, ssss);
    }
  }
  const data = bits.finish();
  const out: number[] = [0xff, 0xd8];
  out.push(0xff, 0xc3, 0, 11, p, h >> 8, h & 255, w >> 8, w & 255, 1, 1, 0x11, 0);
  out.push(0xff, 0xc4, 0, 2 + 1 + 16 + 17, 0x00, ...counts, ...symbols);
  out.push(0xff, 0xda, 0, 8, 1, 1, 0x00, predictor, 0, 0);
  out.push(...data, 0xff, 0xd9);
  return Uint8Array.from(out);
}

// ---------------------------------------------------------------------------------------------
// RLE Lossless (PS3.5 Annex G)
// ---------------------------------------------------------------------------------------------

function packBits(src: Uint8Array): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < src.length) {
    let run = 1;
    while (i + run < src.length && run < 128 && src[i + run] === src[i]) run++;
    if (run >= 3) {
      out.push(257 - run, src[i]);
      i += run;
      continue;
    }
    let lit = 0;
    while (i + lit < src.length && lit < 128 && !(i + lit + 2 < src.length && src[i + lit] === src[i + lit + 1] && src[i + lit] === src[i + lit + 2])) lit++;
    out.push(lit - 1, ...src.subarray(i, i + lit));
    i += lit;
  }
  if (out.length % 2) out.push(0x80); // even length; 128 is a no-op
  return out;
}

/** An RLE Lossless frame of 8- or 16-bit samples, `samples` per pixel (interleaved input). */
export function encodeRle(pixels: ArrayLike<number>, width: number, height: number, bitsAllocated: 8 | 16, samples = 1): Uint8Array {
  const n = width * height;
  const segments: number[][] = [];
  for (let c = 0; c < samples; c++) {
    for (let byte = bitsAllocated / 8 - 1; byte >= 0; byte--) {
      const plane = new Uint8Array(n);
      for (let i = 0; i < n; i++) plane[i] = (pixels[i * samples + c] >> (8 * byte)) & 0xff;
      segments.push(packBits(plane));
    }
  }
  const header = new Uint8Array(64);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, segments.length, true);
  let off = 64;
  segments.forEach((s, k) => {
    dv.setUint32(4 + 4 * k, off, true);
    off += s.length;
  });
  const out = new Uint8Array(off);
  out.set(header);
  let o = 64;
  for (const s of segments) {
    out.set(s, o);
    o += s.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JPEG Extended (process 4: sequential DCT, Huffman, 8 or 12 bits), one component
// ---------------------------------------------------------------------------------------------

/**
 * A sequential-DCT JPEG (SOF1) of a grey frame: exact floating-point forward DCT, every coefficient
 * quantised by `q` (so the round trip errs by a fraction of `q`), flat Huffman tables (all DC codes
 * 5 bits, all AC codes 8 bits), optional restart markers every `restartInterval` blocks.
 */
export function encodeJpegExtended(f: GrayFrame, q = 2, restartInterval = 0): Uint8Array {
  const { width: w, height: h, bitsPerSample: p } = f;
  const T = new Float64Array(64);
  for (let x = 0; x < 8; x++) for (let u = 0; u < 8; u++) T[x * 8 + u] = ((u === 0 ? Math.SQRT1_2 : 1) * Math.cos(((2 * x + 1) * u * Math.PI) / 16)) / 2;
  const zigzag = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29,
    22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
  ];
  // Flat canonical tables: symbol i of a table gets code i.
  const dcSymbols = Array.from({ length: 16 }, (_, i) => i);
  const acSymbols = [0x00, 0xf0];
  for (let r = 0; r < 16; r++) for (let sz = 1; sz <= 14; sz++) acSymbols.push((r << 4) | sz);
  const acCode = new Map(acSymbols.map((sym, i) => [sym, i]));
  let bitsOut = new BitWriter();
  const size = (v: number) => (v === 0 ? 0 : Math.floor(Math.log2(Math.abs(v))) + 1);
  const put = (v: number, n: number) => n > 0 && bitsOut.write(v < 0 ? v + (1 << n) - 1 : v, n);
  const block = new Float64Array(64);
  const tmp = new Float64Array(64);
  const px = (x: number, y: number) => f.pixels[Math.min(h - 1, y) * w + Math.min(w - 1, x)] - (1 << (p - 1));
  let pred = 0;
  let count = 0;
  const rst: number[] = [];
  const chunks: number[][] = [];
  for (let by = 0; by < Math.ceil(h / 8); by++) {
    for (let bx = 0; bx < Math.ceil(w / 8); bx++) {
      if (restartInterval && count > 0 && count % restartInterval === 0) {
        chunks.push(bitsOut.finish());
        rst.push(0xd0 + ((count / restartInterval - 1) % 8));
        bitsOut = new BitWriter();
        pred = 0;
      }
      count++;
      for (let v = 0; v < 8; v++)
        for (let x = 0; x < 8; x++) {
          let sum = 0;
          for (let y = 0; y < 8; y++) sum += T[y * 8 + v] * px(bx * 8 + x, by * 8 + y);
          tmp[v * 8 + x] = sum;
        }
      for (let v = 0; v < 8; v++)
        for (let u = 0; u < 8; u++) {
          let sum = 0;
          for (let x = 0; x < 8; x++) sum += T[x * 8 + u] * tmp[v * 8 + x];
          block[v * 8 + u] = Math.round(sum / q);
        }
      const diff = block[0] - pred;
      pred = block[0];
      bitsOut.write(size(diff), 5);
      put(diff, size(diff));
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const c = block[zigzag[k]];
        if (c === 0) {
          run++;
          continue;
        }
        while (run > 15) {
          bitsOut.write(acCode.get(0xf0)!, 8);
          run -= 16;
        }
        const s = size(c);
        if (s > 14) throw new Error(`AC coefficient ${c} needs ${s} bits; use a larger q`);
        bitsOut.write(acCode.get((run << 4) | s)!, 8);
        put(c, s);
        run = 0;
      }
      if (run > 0) bitsOut.write(acCode.get(0x00)!, 8);
    }
  }
  chunks.push(bitsOut.finish());
  const dcCounts = new Array(16).fill(0);
  dcCounts[4] = dcSymbols.length;
  const acCounts = new Array(16).fill(0);
  acCounts[7] = acSymbols.length;
  const out: number[] = [0xff, 0xd8];
  out.push(0xff, 0xdb, 0, 67, 0x00, ...new Array(64).fill(q));
  out.push(0xff, 0xc1, 0, 11, p, h >> 8, h & 255, w >> 8, w & 255, 1, 1, 0x11, 0);
  const dht = (tc: number, counts: number[], symbols: number[]) => {
    const len = 2 + 1 + 16 + symbols.length;
    out.push(0xff, 0xc4, len >> 8, len & 255, tc << 4, ...counts, ...symbols);
  };
  dht(0, dcCounts, dcSymbols);
  dht(1, acCounts, acSymbols);
  if (restartInterval) out.push(0xff, 0xdd, 0, 4, restartInterval >> 8, restartInterval & 255);
  out.push(0xff, 0xda, 0, 8, 1, 1, 0x00, 0, 63, 0);
  chunks.forEach((c, i) => {
    out.push(...c);
    if (i < rst.length) out.push(0xff, rst[i]);
  });
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}

/** A baseline JPEG re-labelled as extended sequential (SOF0 → SOF1, 8-bit): what .51 files with 8-bit data hold. */
export function asExtendedJpeg(jpeg: Uint8Array): Uint8Array {
  const out = jpeg.slice();
  let i = 2;
  while (i + 4 < out.length) {
    if (out[i] !== 0xff) throw new Error('not a marker');
    const m = out[i + 1];
    if (m === 0xc0) {
      out[i + 1] = 0xc1;
      return out;
    }
    i += 2 + ((out[i + 2] << 8) | out[i + 3]);
  }
  throw new Error('no SOF0 marker');
}
