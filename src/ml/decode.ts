// Byte-level image decoding shared by Node and (for formats canvas cannot keep exact, such as 16-bit
// PNG) the browser. JPEG uses jpeg-js, PNG uses fast-png: both maintained, pure JS, no native code.
import type { DecodedImage } from './preprocess';

/** Largest image we accept, in pixels per side and in total (decoding beyond this exhausts memory). */
export const MAX_IMAGE_SIDE = 16384;
export const MAX_IMAGE_PIXELS = 60_000_000;

export class ImageDecodeError extends Error {
  constructor(public readonly reason: string) {
    super(reason);
    this.name = 'ImageDecodeError';
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
    throw new ImageDecodeError(
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

/** Reads width/height from a JPEG's SOF marker without decoding. */
export function jpegSize(bytes: Uint8Array): { width: number; height: number } | null {
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
      return { height: (bytes[i + 5] << 8) | bytes[i + 6], width: (bytes[i + 7] << 8) | bytes[i + 8] };
    }
    i += 2 + len;
  }
  return null;
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
  const size = pngSize(bytes);
  if (size) checkImageSize(size.width, size.height);
  const { decode } = await import('fast-png');
  let png;
  try {
    png = decode(bytes);
  } catch (e) {
    throw new ImageDecodeError(`corrupt PNG: ${(e as Error).message}`);
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
  const size = jpegSize(bytes);
  if (size) checkImageSize(size.width, size.height);
  const jpeg = await import('jpeg-js');
  const decodeFn = (jpeg as unknown as { decode?: typeof import('jpeg-js').decode; default?: { decode: typeof import('jpeg-js').decode } });
  const decode = decodeFn.decode ?? decodeFn.default!.decode;
  let raw;
  try {
    raw = decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6 });
  } catch (e) {
    throw new ImageDecodeError(`corrupt JPEG: ${(e as Error).message}`);
  }
  const img: DecodedImage = { width: raw.width, height: raw.height, channels: 4, data: raw.data as Uint8Array, bitDepth: 8 };
  return applyOrientation(img, jpegOrientation(bytes));
}

/** Decodes PNG, JPEG or DICOM bytes (the formats Node tools need); other formats get a clear reason. */
export async function decodeImageBytes(bytes: Uint8Array): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageDecodeError('empty file');
  const format = sniffFormat(bytes);
  switch (format) {
    case 'png':
      return decodePng(bytes);
    case 'jpeg':
      return decodeJpeg(bytes);
    case 'dicom':
      return (await (await import('./dicom')).decodeDicom(bytes)).image;
    case 'unknown':
      throw new ImageDecodeError('not an image');
    default:
      throw new ImageDecodeError(`${format.toUpperCase()} is not supported by this decoder`);
  }
}
