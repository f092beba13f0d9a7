// Image formats and limits, shared by every decoder (raster, JPEG, DICOM and its codecs, the browser
// path): magic-byte sniffing, header sizes read without decoding, the one set of size limits, and
// the error types whose reason the user sees. Imports nothing, so decoders can depend on it without
// depending on each other (this split ended the decode.ts ⇄ dicom.ts import cycle).

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
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50)
    return 'webp';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d) return 'dicom';
  return 'unknown';
}

export function checkImageSize(width: number, height: number): void {
  if (!(width > 0 && height > 0)) throw new ImageDecodeError('image has no pixels');
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    throw new ImageSizeError(`image too large: ${width}×${height}, limit ${MAX_IMAGE_SIDE} px per side and ${MAX_IMAGE_PIXELS / 1e6} megapixels`);
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

export const u16le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
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
export const GIF_MAX_PIXELS_PER_BYTE = 4096;

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

/** An error's message with its causes ("Error while decompressing the data:" alone says nothing). */
export function messageWithCauses(e: unknown): string {
  const parts: string[] = [];
  for (let err: unknown = e, depth = 0; err !== undefined && err !== null && depth < 4; depth++) {
    const text = err instanceof Error ? err.message : String(err);
    const trimmed = text.trim().replace(/[:;,]\s*$/, '');
    if (trimmed !== '') parts.push(trimmed);
    err = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  }
  return parts.length > 0 ? parts.join(': ') : 'unreadable data';
}
