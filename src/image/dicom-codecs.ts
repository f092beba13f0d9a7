// Decoders for the compressed DICOM transfer syntaxes, platform-neutral (Node tools, the browser
// worker, tests) and loaded only when a file needs one:
//
//   JPEG 2000 (.90/.91)            @cornerstonejs/codec-openjpeg (OpenJPEG, wasm, decode-only build)
//   HTJ2K (.201/.202/.203)         @cornerstonejs/codec-openjph (OpenJPH, wasm)
//   JPEG-LS (.80/.81)              @cornerstonejs/codec-charls (CharLS, wasm, decode-only build)
//   JPEG Lossless (.57/.70)        @cornerstonejs/jpeg-lossless-decoder-js (pure JS)
//   JPEG Extended (.51), 8-bit     @cornerstonejs/codec-libjpeg-turbo-8bit (libjpeg-turbo, wasm)
//   JPEG Extended (.51), 12-bit    src/image/jpeg-extended.ts (ours: no npm codec decodes 12-bit JPEG)
//   RLE Lossless (.5)              our own PackBits reader (PS3.5 Annex G; a page of code)
//
// Each codec is a dynamic import, so its JavaScript is a separate chunk that a PNG or JPEG never
// loads. The wasm binaries are referenced with `new URL('…', import.meta.url)`: Vite emits them as
// same-origin assets of the build (the service worker precaches every .wasm), and in Node the same
// URL is a file: URL into node_modules. We read the bytes ourselves and hand them to the emscripten
// factory as `wasmBinary`, so the glue never guesses a location (nor fetches from a CDN). Compiling
// them needs 'wasm-unsafe-eval' in the CSP, which the tfjs wasm backend already requires; the glue
// uses neither eval nor new Function.
import { ImageDecodeError, checkImageSize } from './format';

/** One decoded frame: samples interleaved (component fastest), unsigned or signed per `signed`. */
export interface CodecFrame {
  width: number;
  height: number;
  components: number;
  bitsPerSample: number;
  signed: boolean;
  data: Uint8Array | Int8Array | Uint16Array | Int16Array;
}

/** The codec each decodable compressed transfer syntax uses. */
export const CODEC_OF: Record<string, string> = {
  '1.2.840.10008.1.2.4.90': '@cornerstonejs/codec-openjpeg',
  '1.2.840.10008.1.2.4.91': '@cornerstonejs/codec-openjpeg',
  '1.2.840.10008.1.2.4.201': '@cornerstonejs/codec-openjph',
  '1.2.840.10008.1.2.4.202': '@cornerstonejs/codec-openjph',
  '1.2.840.10008.1.2.4.203': '@cornerstonejs/codec-openjph',
  '1.2.840.10008.1.2.4.80': '@cornerstonejs/codec-charls',
  '1.2.840.10008.1.2.4.81': '@cornerstonejs/codec-charls',
  '1.2.840.10008.1.2.4.57': '@cornerstonejs/jpeg-lossless-decoder-js',
  '1.2.840.10008.1.2.4.70': '@cornerstonejs/jpeg-lossless-decoder-js',
  '1.2.840.10008.1.2.4.51': '@cornerstonejs/codec-libjpeg-turbo-8bit',
  '1.2.840.10008.1.2.5': 'built-in RLE decoder',
};

export function hasCodec(transferSyntax: string): boolean {
  return transferSyntax in CODEC_OF;
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

// A variable specifier, so that bundlers leave Node's fs out of the browser build (never reached there).
const NODE_FS = 'node:fs/promises';

async function wasmBytes(url: URL): Promise<ArrayBuffer> {
  if (url.protocol === 'file:') {
    const fs = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
    const b = await fs.readFile(url);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`HTTP ${res.status} for ${url.pathname}`);
  return res.arrayBuffer();
}

type EmscriptenFactory = (opts: Record<string, unknown>) => Promise<unknown>;
/** An instantiated codec module: its embind decoder classes by name. */
type CodecModule = Record<string, new () => EmbindDecoder>;

async function instantiate(mod: unknown, wasm: URL, name: string): Promise<CodecModule> {
  const factory = ((mod as { default?: unknown }).default ?? mod) as EmscriptenFactory;
  try {
    const wasmBinary = await wasmBytes(wasm);
    // print/printErr: OpenJPEG logs every header it reads.
    return (await factory({ wasmBinary, locateFile: () => wasm.href, print: () => {}, printErr: () => {} })) as CodecModule;
  } catch (e) {
    throw new ImageDecodeError(
      `the ${name} decoder could not be loaded (${e instanceof Error ? e.message : String(e)}); are you offline before the first visit finished caching?`,
    );
  }
}

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | null = null;
  return () =>
    (p ??= load().catch((e) => {
      p = null; // a failed load (offline) may succeed later
      throw e;
    }));
}

const openjpeg = once(async () =>
  instantiate(
    await import('@cornerstonejs/codec-openjpeg/decodewasmjs'),
    new URL('../../node_modules/@cornerstonejs/codec-openjpeg/dist/openjpegwasm_decode.wasm', import.meta.url),
    'JPEG 2000 (OpenJPEG)',
  ),
);
const openjph = once(async () =>
  instantiate(
    await import('@cornerstonejs/codec-openjph/wasmjs'),
    new URL('../../node_modules/@cornerstonejs/codec-openjph/dist/openjphjs.wasm', import.meta.url),
    'HTJ2K (OpenJPH)',
  ),
);
const charls = once(async () =>
  instantiate(
    await import('@cornerstonejs/codec-charls/decodewasmjs'),
    new URL('../../node_modules/@cornerstonejs/codec-charls/dist/charlswasm_decode.wasm', import.meta.url),
    'JPEG-LS (CharLS)',
  ),
);
const libjpegTurbo = once(async () =>
  instantiate(
    await import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs'),
    new URL('../../node_modules/@cornerstonejs/codec-libjpeg-turbo-8bit/dist/libjpegturbowasm_decode.wasm', import.meta.url),
    'JPEG (libjpeg-turbo)',
  ),
);

// ---------------------------------------------------------------------------------------------
// Code-stream headers: the size a codec is about to allocate, checked before it does
// ---------------------------------------------------------------------------------------------

/** Width/height from a JPEG 2000 / HTJ2K code stream's SIZ marker (or a JP2 file's), or null. */
export function j2kSize(b: Uint8Array): { width: number; height: number } | null {
  for (let i = 0; i + 14 < b.length && i < 1 << 16; i++) {
    if (b[i] === 0xff && b[i + 1] === 0x51) {
      const u32 = (o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
      if (i + 22 > b.length) return null;
      return { width: u32(i + 6) - u32(i + 14), height: u32(i + 10) - u32(i + 18) };
    }
  }
  return null;
}

/** Width/height from any JPEG-family SOF marker (SOF0–SOF15, JPEG-LS SOF55), or null. */
export function jpegFamilySize(b: Uint8Array): { width: number; height: number; precision: number; components: number; sof: number } | null {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) {
      i++;
      continue;
    }
    const m = b[i + 1];
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01 || m === 0xff) {
      i += m === 0xff ? 1 : 2;
      continue;
    }
    if ((m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === 0xf7) {
      return { precision: b[i + 4], height: (b[i + 5] << 8) | b[i + 6], width: (b[i + 7] << 8) | b[i + 8], components: b[i + 9], sof: m };
    }
    i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  }
  return null;
}

/**
 * The J2K code stream inside a frame: DICOM wants the bare stream (SOC FF4F, SIZ FF51), but some
 * exporters wrap it in a JP2 file (boxes before the stream), which the decoders do not read.
 */
export function j2kCodestream(b: Uint8Array): Uint8Array {
  if (b[0] === 0xff && b[1] === 0x4f) return b;
  for (let i = 0; i + 3 < b.length && i < 1 << 16; i++) {
    if (b[i] === 0xff && b[i + 1] === 0x4f && b[i + 2] === 0xff && b[i + 3] === 0x51) return b.subarray(i);
  }
  return b;
}

function checkStreamSize(size: { width: number; height: number } | null, expect: { rows: number; columns: number }, what: string): void {
  if (!size) throw new ImageDecodeError(`corrupt DICOM ${what} pixel data: no frame header in the first fragment`);
  // A code stream larger than the header promises would make the codec allocate for it: refuse first.
  checkImageSize(size.width, size.height);
  if (size.width !== expect.columns || size.height !== expect.rows) {
    throw new ImageDecodeError(`DICOM ${what} frame is ${size.width}×${size.height} but the header says ${expect.columns}×${expect.rows}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

function typed(bytes: Uint8Array, bits: number, signed: boolean): CodecFrame['data'] {
  const copy = bytes.slice(); // out of the wasm heap, aligned
  if (bits <= 8) return signed ? new Int8Array(copy.buffer) : copy;
  return signed ? new Int16Array(copy.buffer, 0, copy.length >> 1) : new Uint16Array(copy.buffer, 0, copy.length >> 1);
}

interface EmbindDecoder {
  getEncodedBuffer(n: number): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned?: boolean };
  getDecodedBuffer(): Uint8Array;
  getInterleaveMode?(): number;
  delete(): void;
}

function runEmbind(decoder: EmbindDecoder, frame: Uint8Array, what: string): CodecFrame {
  try {
    decoder.getEncodedBuffer(frame.length).set(frame);
    decoder.decode();
    const fi = decoder.getFrameInfo();
    const signed = fi.isSigned === true;
    let data = typed(decoder.getDecodedBuffer(), fi.bitsPerSample, signed);
    // CharLS returns planar samples for interleave mode 0 (ILV_NONE); for line (1) and sample (2)
    // interleaving it has already arranged them by pixel.
    if (fi.componentCount > 1 && decoder.getInterleaveMode?.() === 0) data = interleave(data, fi.width, fi.height, fi.componentCount);
    return { width: fi.width, height: fi.height, components: fi.componentCount, bitsPerSample: fi.bitsPerSample, signed, data };
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    const msg = e instanceof Error ? e.message : typeof e === 'number' ? `codec error ${e}` : String(e);
    throw new ImageDecodeError(`corrupt DICOM ${what} pixel data (${msg})`);
  } finally {
    decoder.delete();
  }
}

/** Planar samples (all of component 0, then 1, …) → interleaved by pixel. */
function interleave<T extends CodecFrame['data']>(src: T, width: number, height: number, comps: number): T {
  const out = new (src.constructor as new (n: number) => T)(src.length);
  const n = width * height;
  for (let c = 0; c < comps; c++) for (let i = 0; i < n; i++) out[i * comps + c] = src[c * n + i];
  return out;
}

/** RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, one PackBits segment per byte plane. */
export function decodeRle(frame: Uint8Array, rows: number, columns: number, samplesPerPixel: number, bitsAllocated: number): CodecFrame {
  if (frame.length < 64) throw new ImageDecodeError('corrupt DICOM RLE pixel data: no RLE header');
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = dv.getUint32(0, true);
  const bytesPer = bitsAllocated / 8;
  if (!Number.isInteger(bytesPer) || bytesPer < 1 || bytesPer > 2)
    throw new ImageDecodeError(`DICOM RLE with BitsAllocated ${bitsAllocated} is not supported (8 or 16)`);
  if (segments !== samplesPerPixel * bytesPer) {
    throw new ImageDecodeError(
      `corrupt DICOM RLE pixel data: ${segments} segments, ${samplesPerPixel} samples of ${bitsAllocated} bits need ${samplesPerPixel * bytesPer}`,
    );
  }
  const n = rows * columns;
  const planes = new Uint8Array(n * segments);
  for (let s = 0; s < segments; s++) {
    const start = dv.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? dv.getUint32(8 + 4 * s, true) : frame.length;
    if (!(start >= 64 && start <= end && end <= frame.length))
      throw new ImageDecodeError(`corrupt DICOM RLE pixel data: segment ${s + 1} lies outside the frame`);
    const out = planes.subarray(s * n, (s + 1) * n);
    let o = 0;
    let i = start;
    while (o < n && i < end) {
      const h = frame[i++];
      if (h < 128) {
        const len = Math.min(h + 1, n - o, end - i);
        out.set(frame.subarray(i, i + len), o);
        o += len;
        i += h + 1;
      } else if (h > 128) {
        const len = Math.min(257 - h, n - o);
        out.fill(frame[i++], o, o + len);
        o += len;
      }
    }
    if (o < n) throw new ImageDecodeError(`corrupt DICOM RLE pixel data: segment ${s + 1} ends after ${o} of ${n} bytes`);
  }
  // Segments: for each sample, most significant byte first.
  if (bytesPer === 1) {
    const data = samplesPerPixel === 1 ? planes : interleave(planes, columns, rows, samplesPerPixel);
    return { width: columns, height: rows, components: samplesPerPixel, bitsPerSample: 8, signed: false, data };
  }
  const data = new Uint16Array(n * samplesPerPixel);
  for (let c = 0; c < samplesPerPixel; c++) {
    const hi = planes.subarray(2 * c * n, (2 * c + 1) * n);
    const lo = planes.subarray((2 * c + 1) * n, (2 * c + 2) * n);
    for (let i = 0; i < n; i++) data[i * samplesPerPixel + c] = (hi[i] << 8) | lo[i];
  }
  return { width: columns, height: rows, components: samplesPerPixel, bitsPerSample: 16, signed: false, data };
}

export interface FrameExpectation {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  pixelRepresentation: 0 | 1;
}

/**
 * Decodes one compressed frame of `transferSyntax` (see CODEC_OF). The code-stream header is read
 * first and must agree with the DICOM header (a mismatch is refused before the codec allocates).
 */
export async function decodeCompressedFrame(transferSyntax: string, frame: Uint8Array, expect: FrameExpectation): Promise<CodecFrame> {
  switch (transferSyntax) {
    case '1.2.840.10008.1.2.5':
      return decodeRle(frame, expect.rows, expect.columns, expect.samplesPerPixel, expect.bitsAllocated);
    case '1.2.840.10008.1.2.4.90':
    case '1.2.840.10008.1.2.4.91': {
      const stream = j2kCodestream(frame);
      checkStreamSize(j2kSize(stream), expect, 'JPEG 2000');
      const m = await openjpeg();
      return runEmbind(new m.J2KDecoder(), stream, 'JPEG 2000');
    }
    case '1.2.840.10008.1.2.4.201':
    case '1.2.840.10008.1.2.4.202':
    case '1.2.840.10008.1.2.4.203': {
      const stream = j2kCodestream(frame);
      checkStreamSize(j2kSize(stream), expect, 'HTJ2K');
      const m = await openjph();
      return runEmbind(new m.HTJ2KDecoder(), stream, 'HTJ2K');
    }
    case '1.2.840.10008.1.2.4.80':
    case '1.2.840.10008.1.2.4.81': {
      checkStreamSize(jpegFamilySize(frame), expect, 'JPEG-LS');
      const m = await charls();
      return runEmbind(new m.JpegLSDecoder(), frame, 'JPEG-LS');
    }
    case '1.2.840.10008.1.2.4.51': {
      const sof = jpegFamilySize(frame);
      checkStreamSize(sof, expect, 'JPEG Extended');
      if (sof!.precision !== 8) {
        // 12-bit data: our own sequential-DCT decoder (src/image/jpeg-extended.ts); no npm codec has one.
        const { decodeJpegExtended } = await import('./jpeg-extended');
        const f = decodeJpegExtended(frame);
        return { width: f.width, height: f.height, components: 1, bitsPerSample: f.precision, signed: false, data: f.data };
      }
      const m = await libjpegTurbo();
      return runEmbind(new m.JPEGDecoder(), frame, 'JPEG Extended');
    }
    case '1.2.840.10008.1.2.4.57':
    case '1.2.840.10008.1.2.4.70': {
      const sof = jpegFamilySize(frame);
      checkStreamSize(sof, expect, 'JPEG Lossless');
      const { Decoder } = await import('@cornerstonejs/jpeg-lossless-decoder-js');
      const bytesOut = sof!.precision > 8 ? 2 : 1;
      let out: Uint8Array;
      try {
        const copy = frame.slice();
        const r = new Decoder().decode(copy.buffer, 0, copy.length, bytesOut);
        out = new Uint8Array(r.buffer, r.byteOffset, r.byteLength);
      } catch (e) {
        throw new ImageDecodeError(`corrupt DICOM JPEG Lossless pixel data (${e instanceof Error ? e.message : String(e)})`);
      }
      const need = sof!.width * sof!.height * sof!.components * bytesOut;
      if (out.length < need) throw new ImageDecodeError(`corrupt DICOM JPEG Lossless pixel data: ${out.length} bytes decoded, the frame needs ${need}`);
      return {
        width: sof!.width,
        height: sof!.height,
        components: sof!.components,
        bitsPerSample: sof!.precision,
        signed: false,
        data: typed(out.subarray(0, need), sof!.precision, false),
      };
    }
    default:
      throw new ImageDecodeError(`no decoder for DICOM transfer syntax ${transferSyntax}`);
  }
}
