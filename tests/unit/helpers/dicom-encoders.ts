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

async function encodeWith(entry: string, cls: string, f: GrayFrame, configure?: (e: Encoder) => void): Promise<Uint8Array> {
  const m = await codec(entry);
  const enc = new m[cls]();
  try {
    const info = { width: f.width, height: f.height, bitsPerSample: f.bitsPerSample, componentCount: 1, isSigned: f.signed === true, isUsingColorTransform: false };
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
