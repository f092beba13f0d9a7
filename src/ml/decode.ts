// Byte-level image decoding shared by Node and (for formats canvas cannot keep exact, such as 16-bit
// PNG) the browser. JPEG uses jpeg-js, PNG uses fast-png: both maintained, pure JS, no native code.
import type { DecodedImage } from './preprocess';

/**
 * The one set of size limits of every decoder (PNG, JPEG, GIF, BMP, WebP here and in
 * decode-browser.ts, DICOM in dicom.ts): pixels per side and in total. 50 megapixels holds the
 * largest radiography detectors (43×43 cm at 100 µm ≈ 18.5 MP) and a 48-MP phone photo of a film; an
 * RGBA copy of it is 200 MB, which is already a lot for a browser tab.
 */
export const MAX_IMAGE_SIDE = 16384;
export const MAX_IMAGE_PIXELS = 50_000_000;
/** Files above this size are refused before they are read (no chest X-ray image needs more). */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;

export class ImageDecodeError extends Error {
  constructor(public readonly reason: string) {
    super(reason);
    this.name = 'ImageDecodeError';
  }
}

/** An image refused for its declared size (before any pixel memory was allocated): no decoder should retry it. */
export class ImageSizeError extends ImageDecodeError {
  constructor(reason: string) {
    super(reason);
    this.name = 'ImageSizeError';
  }
}

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'dicom' | 'unknown';

/** Recognises a format from magic bytes, never from the file name. */
export function sniffFormat(bytes: Uint8Array): ImageFormat {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'gif';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'webp';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d) return 'dicom';
  return 'unknown';
}

export function checkImageSize(width: number, height: number): void {
  if (!(width > 0 && height > 0)) throw new ImageDecodeError('image has no pixels');
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    throw new ImageSizeError(
      `image too large: ${width}×${height}, limit ${MAX_IMAGE_SIDE} px per side and ${MAX_IMAGE_PIXELS / 1e6} megapixels`,
    );
  }
}

/** Reads width/height from a PNG header without decoding (to refuse huge images cheaply). */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 24) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

export interface JpegFrameHeader {
  /** The SOF marker (0xc0..0xcf without DHT/JPG/DAC): 0xc9..0xcb and 0xcd..0xcf are arithmetic-coded. */
  marker: number;
  width: number;
  height: number;
  /** Colour components: 1 gray, 3 YCbCr, 4 CMYK/YCCK. */
  components: number;
}

/** The first frame header (SOF) of a JPEG, read without decoding; null when there is none. */
export function jpegFrameHeader(bytes: Uint8Array): JpegFrameHeader | null {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) {
      i++;
      continue;
    }
    const marker = bytes[i + 1];
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0xff) {
      i += marker === 0xff ? 1 : 2;
      continue;
    }
    const len = (bytes[i + 2] << 8) | bytes[i + 3];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { marker, height: (bytes[i + 5] << 8) | bytes[i + 6], width: (bytes[i + 7] << 8) | bytes[i + 8], components: bytes[i + 9] };
    }
    i += 2 + len;
  }
  return null;
}

/** Reads width/height from a JPEG's SOF marker without decoding. */
export function jpegSize(bytes: Uint8Array): { width: number; height: number } | null {
  const frame = jpegFrameHeader(bytes);
  return frame && { width: frame.width, height: frame.height };
}

const u16le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u24le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
const i32le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);

/** Width and height from the file header of any format but DICOM (null when the header is too short to tell). */
export function headerSize(bytes: Uint8Array, format: ImageFormat): { width: number; height: number } | null {
  const b = bytes;
  switch (format) {
    case 'png':
      return pngSize(b);
    case 'jpeg':
      return jpegSize(b);
    case 'gif':
      return b.length >= 10 ? { width: u16le(b, 6), height: u16le(b, 8) } : null;
    case 'bmp': {
      if (b.length < 26) return null;
      const dib = i32le(b, 14);
      if (dib === 12) return { width: u16le(b, 18), height: u16le(b, 20) };
      return { width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) };
    }
    case 'webp': {
      if (b.length < 30) return null;
      const chunk = String.fromCharCode(b[12], b[13], b[14], b[15]);
      if (chunk === 'VP8 ') return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
      if (chunk === 'VP8L') {
        return {
          width: 1 + (((b[22] & 0x3f) << 8) | b[21]),
          height: 1 + (((b[24] & 0x0f) << 10) | (b[23] << 2) | ((b[22] & 0xc0) >> 6)),
        };
      }
      if (chunk === 'VP8X') return { width: 1 + u24le(b, 24), height: 1 + u24le(b, 27) };
      return null;
    }
    default:
      return null;
  }
}

/**
 * The most pixels a file of this format can hold per byte of file, where the format bounds its own
 * compression (null where it does not: WebP, RLE BMP, arithmetic-coded JPEG):
 *   JPEG (Huffman): every 8×8 block of the full-resolution component costs at least one bit → 512
 *     pixels per byte; 1024 leaves room for a truncated tail, which decoders render grey.
 *   PNG: deflate expands at most 1032:1 (RFC 1951: 258 bytes per ≥ 2-bit code), applied to the
 *     filtered rows (1 + row bytes each).
 *   GIF: an LZW table entry is one pixel longer than an earlier one and the table holds 4096, so a
 *     code yields at most ~4096 pixels, and codes are ≥ 3 bits wide; 4096 pixels per byte is a safe
 *     ceiling (it also covers a logical screen larger than its frames).
 *   BMP (uncompressed or bit fields): the rows are stored as they are; half of them must be there.
 */
const GIF_MAX_PIXELS_PER_BYTE = 4096;

function maxPixelsPerByte(bytes: Uint8Array, format: ImageFormat, width: number): number | null {
  switch (format) {
    case 'jpeg': {
      const frame = jpegFrameHeader(bytes);
      const arithmetic = frame !== null && frame.marker >= 0xc9 && frame.marker !== 0xcc;
      return arithmetic ? null : 1024;
    }
    case 'png': {
      const depth = bytes[24];
      const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[bytes[25]];
      if (!channels || !(depth > 0)) return null;
      const rowBytes = 1 + Math.ceil((width * channels * depth) / 8);
      return (1032 * width) / rowBytes;
    }
    case 'gif':
      return GIF_MAX_PIXELS_PER_BYTE;
    case 'bmp': {
      if (bytes.length < 34 || i32le(bytes, 14) === 12) return null;
      const bitsPerPixel = u16le(bytes, 28);
      const compression = i32le(bytes, 30);
      if ((compression !== 0 && compression !== 3) || !(bitsPerPixel > 0)) return null;
      return (2 * 8) / bitsPerPixel;
    }
    default:
      return null;
  }
}

/**
 * Checks the size an image's header declares, before any pixel memory is allocated: the shared
 * limits (checkImageSize), and whether a file this small can hold that many pixels at all (a 333-byte
 * JPEG declaring 8000×7000 would otherwise cost half a gigabyte of zeros). Throws ImageSizeError;
 * returns the declared size (null when the header does not tell, e.g. DICOM, which dicom.ts checks).
 */
export function checkDeclaredImage(bytes: Uint8Array, format: ImageFormat): { width: number; height: number } | null {
  const size = headerSize(bytes, format);
  if (!size) return null;
  checkImageSize(size.width, size.height);
  const perByte = maxPixelsPerByte(bytes, format, size.width);
  if (perByte !== null && size.width * size.height > perByte * bytes.length) {
    throw new ImageSizeError(
      `image declares ${size.width}×${size.height} pixels, more than a ${bytes.length}-byte ${format.toUpperCase()} file can hold (truncated, or made to exhaust memory)`,
    );
  }
  return size;
}

/**
 * Where a PNG that failed to decode was cut off, or null when its chunks are complete: a cut inside a
 * chunk is what a partial download or copy leaves, and fast-png reports it only as a decompression or
 * DataView error.
 */
function pngTruncation(bytes: Uint8Array): string | null {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8;
  while (p + 8 <= bytes.length) {
    const length = dv.getUint32(p);
    const type = String.fromCharCode(bytes[p + 4], bytes[p + 5], bytes[p + 6], bytes[p + 7]);
    const end = p + 12 + length;
    if (end > bytes.length) return `truncated PNG: the file ends inside its ${type} chunk (${bytes.length} bytes; that chunk needs ${end})`;
    if (type === 'IEND') return null;
    p = end;
  }
  return p < bytes.length ? `truncated PNG: the file ends inside a chunk header (${bytes.length} bytes)` : `truncated PNG: the file ends after ${bytes.length} bytes, before its IEND chunk`;
}

/** An error's message with its causes ("Error while decompressing the data:" alone says nothing). */
function messageWithCauses(e: unknown): string {
  const parts: string[] = [];
  for (let err: unknown = e, depth = 0; err !== undefined && err !== null && depth < 4; depth++) {
    const text = err instanceof Error ? err.message : String(err);
    const trimmed = text.trim().replace(/[:;,]\s*$/, '');
    if (trimmed !== '') parts.push(trimmed);
    err = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  }
  return parts.length > 0 ? parts.join(': ') : 'unreadable data';
}

/** EXIF orientation (1..8) of a JPEG, or 1 when absent. */
export function jpegOrientation(bytes: Uint8Array): number {
  let i = 2;
  while (i + 4 < bytes.length && bytes[i] === 0xff) {
    const marker = bytes[i + 1];
    const len = (bytes[i + 2] << 8) | bytes[i + 3];
    if (marker === 0xe1 && bytes[i + 4] === 0x45 && bytes[i + 5] === 0x78 && bytes[i + 6] === 0x69 && bytes[i + 7] === 0x66) {
      const t = i + 10; // TIFF header
      const little = bytes[t] === 0x49;
      const u16 = (o: number) => (little ? bytes[o] | (bytes[o + 1] << 8) : (bytes[o] << 8) | bytes[o + 1]);
      const u32 = (o: number) => (little ? (u16(o) | (u16(o + 2) << 16)) >>> 0 : ((u16(o) << 16) | u16(o + 2)) >>> 0);
      const ifd = t + u32(t + 4);
      const count = u16(ifd);
      for (let e = 0; e < count; e++) {
        const entry = ifd + 2 + e * 12;
        if (entry + 12 > bytes.length) break;
        if (u16(entry) === 0x0112) {
          const v = u16(entry + 8);
          return v >= 1 && v <= 8 ? v : 1;
        }
      }
      return 1;
    }
    if (marker === 0xda) break;
    i += 2 + len;
  }
  return 1;
}

/** Applies an EXIF orientation to interleaved pixels (what browsers do by default). */
export function applyOrientation(img: DecodedImage, orientation: number): DecodedImage {
  if (orientation <= 1 || orientation > 8) return img;
  const { width: w, height: h, channels: c, data } = img;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new (data.constructor as { new (n: number): typeof data })(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let nx: number;
      let ny: number;
      switch (orientation) {
        case 2: nx = w - 1 - x; ny = y; break;
        case 3: nx = w - 1 - x; ny = h - 1 - y; break;
        case 4: nx = x; ny = h - 1 - y; break;
        case 5: nx = y; ny = x; break;
        case 6: nx = h - 1 - y; ny = x; break;
        case 7: nx = h - 1 - y; ny = w - 1 - x; break;
        default: nx = y; ny = w - 1 - x; break; // 8
      }
      const s = (y * w + x) * c;
      const d = (ny * ow + nx) * c;
      for (let k = 0; k < c; k++) out[d + k] = data[s + k];
    }
  }
  return { ...img, width: ow, height: oh, data: out };
}

/** Decodes a PNG of any bit depth, palette or alpha with fast-png. */
export async function decodePng(bytes: Uint8Array): Promise<DecodedImage> {
  checkDeclaredImage(bytes, 'png');
  const { decode } = await import('fast-png');
  let png;
  try {
    png = decode(bytes);
  } catch (e) {
    throw new ImageDecodeError(pngTruncation(bytes) ?? `corrupt PNG: ${messageWithCauses(e)}`);
  }
  let channels = png.channels as 1 | 2 | 3 | 4;
  let data = png.data as Uint8Array | Uint16Array;
  let depth = png.depth;
  if (png.palette) {
    // Expand palette indices to RGB(A).
    const pal = png.palette;
    const hasA = pal.some((e) => e.length === 4);
    const n = png.width * png.height;
    const out = new Uint8Array(n * (hasA ? 4 : 3));
    const idx = unpackIndices(data as Uint8Array, png.width, png.height, depth);
    for (let i = 0; i < n; i++) {
      const e = pal[idx[i]] ?? [0, 0, 0, 255];
      out[i * (hasA ? 4 : 3)] = e[0];
      out[i * (hasA ? 4 : 3) + 1] = e[1];
      out[i * (hasA ? 4 : 3) + 2] = e[2];
      if (hasA) out[i * 4 + 3] = e.length === 4 ? e[3] : 255;
    }
    data = out;
    channels = hasA ? 4 : 3;
    depth = 8;
  } else if (depth < 8) {
    // 1/2/4-bit gray: unpack and scale to 8 bit.
    const idx = unpackIndices(data as Uint8Array, png.width, png.height * channels, depth);
    const scale = 255 / ((1 << depth) - 1);
    data = Uint8Array.from(idx, (v) => Math.round(v * scale));
    depth = 8;
  }
  return { width: png.width, height: png.height, channels, data, bitDepth: depth === 16 ? 16 : 8 };
}

function unpackIndices(packed: Uint8Array, width: number, rows: number, depth: number): Uint8Array {
  if (depth === 8) return packed;
  const out = new Uint8Array(width * rows);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)];
      out[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** Decodes a baseline or progressive JPEG with jpeg-js (EXIF orientation applied, as browsers do). */
export async function decodeJpeg(bytes: Uint8Array): Promise<DecodedImage> {
  checkDeclaredImage(bytes, 'jpeg');
  const jpeg = await import('jpeg-js');
  const decodeFn = (jpeg as unknown as { decode?: typeof import('jpeg-js').decode; default?: { decode: typeof import('jpeg-js').decode } });
  const decode = decodeFn.decode ?? decodeFn.default!.decode;
  let raw;
  try {
    raw = decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6 });
  } catch (e) {
    throw new ImageDecodeError(`corrupt JPEG: ${messageWithCauses(e)}`);
  }
  const img: DecodedImage = { width: raw.width, height: raw.height, channels: 4, data: raw.data as Uint8Array, bitDepth: 8 };
  return applyOrientation(img, jpegOrientation(bytes));
}

/**
 * Decodes the first frame of a GIF (87a/89a) the way browsers show it: the frame drawn at its offset
 * on a transparent logical screen, the graphic control extension's transparent index honoured,
 * interlaced rows reordered. RGBA output. One implementation for the page and the CLIs, so both
 * classify a GIF from the same pixels (as for PNG and JPEG).
 */
export async function decodeGif(bytes: Uint8Array): Promise<DecodedImage> {
  checkDeclaredImage(bytes, 'gif');
  const b = bytes;
  const fail = (why: string): never => {
    throw new ImageDecodeError(`corrupt GIF: ${why}`);
  };
  if (b.length < 13) fail('header truncated');
  const width = u16le(b, 6);
  const height = u16le(b, 8);
  const flags = b[10];
  let p = 13;
  let globalPalette: Uint8Array | null = null;
  if (flags & 0x80) {
    const n = 3 << ((flags & 7) + 1);
    if (p + n > b.length) fail('colour table truncated');
    globalPalette = b.subarray(p, p + n);
    p += n;
  }
  let transparent = -1;
  for (;;) {
    if (p >= b.length) fail('no image in the file');
    const block = b[p++];
    if (block === 0x3b) fail('no image in the file');
    if (block === 0x21) {
      const label = b[p++];
      if (label === 0xf9 && b[p] >= 4 && p + 4 < b.length) transparent = b[p + 1] & 1 ? b[p + 4] : -1;
      while (p < b.length && b[p] !== 0) p += b[p] + 1; // skip the extension's sub-blocks
      p++;
      continue;
    }
    if (block !== 0x2c) fail(`unexpected block 0x${block.toString(16)}`);
    if (p + 9 > b.length) fail('image descriptor truncated');
    const left = u16le(b, p);
    const top = u16le(b, p + 2);
    const fw = u16le(b, p + 4);
    const fh = u16le(b, p + 6);
    const fflags = b[p + 8];
    p += 9;
    let palette = globalPalette;
    if (fflags & 0x80) {
      const n = 3 << ((fflags & 7) + 1);
      if (p + n > b.length) fail('colour table truncated');
      palette = b.subarray(p, p + n);
      p += n;
    }
    if (!palette) fail('no colour table');
    // The frame's own index buffer is allocated too: the same limits as the screen.
    checkImageSize(fw, fh);
    if (fw * fh > GIF_MAX_PIXELS_PER_BYTE * b.length) {
      throw new ImageSizeError(`GIF frame declares ${fw}×${fh} pixels, more than a ${b.length}-byte GIF file can hold (truncated, or made to exhaust memory)`);
    }
    const minCodeSize = b[p++];
    if (!(minCodeSize >= 1 && minCodeSize <= 11)) fail(`LZW code size ${minCodeSize}`);
    // Gather the sub-blocks of LZW data.
    let total = 0;
    for (let q = p; q < b.length && b[q] !== 0; q += b[q] + 1) total += b[q];
    const lzw = new Uint8Array(total);
    for (let off = 0; p < b.length && b[p] !== 0; p += b[p] + 1) {
      const n = Math.min(b[p], b.length - p - 1);
      lzw.set(b.subarray(p + 1, p + 1 + n), off);
      off += n;
    }
    const indices = lzwDecode(lzw, minCodeSize, fw * fh);
    const rowOrder = fflags & 0x40 ? interlacedRows(fh) : null;
    const out = new Uint8Array(width * height * 4);
    const colours = palette!.length / 3;
    for (let r = 0; r < fh; r++) {
      const y = top + (rowOrder ? rowOrder[r] : r);
      if (y >= height) continue;
      for (let x = 0; x < fw; x++) {
        const X = left + x;
        const k = r * fw + x;
        if (X >= width || k >= indices.filled) continue;
        const idx = indices.data[k];
        if (idx === transparent || idx >= colours) continue;
        const o = (y * width + X) * 4;
        out[o] = palette![idx * 3];
        out[o + 1] = palette![idx * 3 + 1];
        out[o + 2] = palette![idx * 3 + 2];
        out[o + 3] = 255;
      }
    }
    return { width, height, channels: 4, data: out, bitDepth: 8 };
  }
}

/** Source row of each stored row of an interlaced GIF frame (passes: every 8th from 0, 8th from 4, 4th from 2, 2nd from 1). */
function interlacedRows(height: number): Int32Array {
  const rows = new Int32Array(height);
  let r = 0;
  for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]]) for (let y = start; y < height; y += step) rows[r++] = y;
  return rows;
}

/** GIF's variable-width LZW (LSB-first codes, clear and end codes, the code width grows to 12 bits). */
function lzwDecode(data: Uint8Array, minCodeSize: number, pixels: number): { data: Uint8Array; filled: number } {
  const out = new Uint8Array(pixels);
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const prefix = new Int16Array(4096);
  const suffix = new Uint8Array(4096);
  const firstOf = new Uint8Array(4096);
  const lengthOf = new Uint16Array(4096);
  for (let i = 0; i < clear; i++) {
    suffix[i] = i;
    firstOf[i] = i;
    lengthOf[i] = 1;
  }
  let codeSize = minCodeSize + 1;
  let next = end + 1;
  let previous = -1;
  let filled = 0;
  let acc = 0;
  let bits = 0;
  let pos = 0;
  while (filled < pixels) {
    while (bits < codeSize && pos < data.length) {
      acc |= data[pos++] << bits;
      bits += 8;
    }
    if (bits < codeSize) break; // data ran out: the rest of the frame stays unfilled (drawn transparent, as browsers leave it)
    const code = acc & ((1 << codeSize) - 1);
    acc >>>= codeSize;
    bits -= codeSize;
    if (code === clear) {
      codeSize = minCodeSize + 1;
      next = end + 1;
      previous = -1;
      continue;
    }
    if (code === end) break;
    if (previous === -1) {
      if (code >= clear) break; // a stream must start with a literal
      out[filled++] = code;
      previous = code;
      continue;
    }
    if (code > next || (code === next && next >= 4096)) break; // a code not yet defined: corrupt data, stop here
    if (next < 4096) {
      // The new entry is the previous string plus the first pixel of this one; when this code is the
      // entry itself (the KwKwK case) its first pixel is the previous string's first pixel.
      prefix[next] = previous;
      suffix[next] = firstOf[code === next ? previous : code];
      firstOf[next] = firstOf[previous];
      lengthOf[next] = lengthOf[previous] + 1;
      next++;
      if (next === 1 << codeSize && codeSize < 12) codeSize++;
    }
    // Write the code's string backwards into place (clipped at the frame's end).
    let c = code;
    for (let k = lengthOf[code] - 1; k >= 0; k--) {
      if (filled + k < pixels) out[filled + k] = suffix[c];
      c = prefix[c];
    }
    filled = Math.min(filled + lengthOf[code], pixels);
    previous = code;
  }
  return { data: out, filled };
}

/** Decodes PNG, JPEG, GIF or DICOM bytes (the formats Node tools read); WebP and BMP get a clear reason. */
export async function decodeImageBytes(bytes: Uint8Array): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageDecodeError('empty file');
  const format = sniffFormat(bytes);
  switch (format) {
    case 'png':
      return decodePng(bytes);
    case 'jpeg':
      return decodeJpeg(bytes);
    case 'gif':
      return decodeGif(bytes);
    case 'dicom':
      return (await (await import('./dicom')).decodeDicom(bytes)).image;
    case 'unknown':
      throw new ImageDecodeError('not an image');
    default:
      throw new ImageDecodeError(`${format.toUpperCase()} is not supported by this decoder`);
  }
}
