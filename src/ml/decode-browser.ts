// Browser image decoding (main thread or worker): bytes → DecodedImage for the shared preprocessing.
//
// - PNG goes through fast-png (src/ml/decode.ts), exactly as in Node: 16-bit depth is kept (a canvas
//   would squash it to 8 bit), palette and alpha are handled, and no colour management is applied.
// - Gray and YCbCr JPEG go through jpeg-js, exactly as in Node (EXIF orientation applied). Measured:
//   Chromium's JPEG decoder differs from jpeg-js by ±1 on ~7% of the pixels of the data set's images,
//   and histogram equalisation amplifies that to up to 6/255 in the model input; with the same
//   decoder the browser's input is bit-identical to training and `npm run predict`.
// - CMYK/YCCK JPEG (4 components), JPEG variants jpeg-js cannot read (arithmetic coding, 12-bit…),
//   WebP, BMP and GIF (first frame) use the browser's own decoder: createImageBitmap +
//   OffscreenCanvas, EXIF orientation applied ('from-image'), no colour-space conversion.
// - Sizes are read from the header first, so a huge image is refused before it is decoded.
import { ImageDecodeError, checkImageSize, decodeJpeg, decodePng, jpegSize, pngSize, sniffFormat, type ImageFormat } from './decode';
import type { DecodedImage } from './preprocess';

/** Files above this size are refused before reading (no chest X-ray image needs more). */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;

export interface BrowserDecoded {
  image: DecodedImage;
  format: ImageFormat;
}

const u16le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u24le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
const i32le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);

/** Width and height from the file header (null when the header is too short to tell). */
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
      const dib = b[14] | (b[15] << 8) | (b[16] << 16) | (b[17] << 24);
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

/** Number of colour components in a JPEG's frame header (1 gray, 3 YCbCr, 4 CMYK/YCCK), or null. */
export function jpegComponents(bytes: Uint8Array): number | null {
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
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return bytes[i + 9];
    i += 2 + ((bytes[i + 2] << 8) | bytes[i + 3]);
  }
  return null;
}

async function decodeJpegBrowser(bytes: Uint8Array): Promise<DecodedImage> {
  if (jpegComponents(bytes) !== 4) {
    try {
      return await decodeJpeg(bytes);
    } catch (e) {
      if (e instanceof ImageDecodeError && e.reason.startsWith('image too large')) throw e;
      // Not readable by jpeg-js: let the browser try (it reads more JPEG variants).
    }
  }
  return decodeWithBitmap(bytes, 'jpeg');
}

async function decodeWithBitmap(bytes: Uint8Array, format: ImageFormat): Promise<DecodedImage> {
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') {
    throw new ImageDecodeError(`this browser cannot decode ${format.toUpperCase()} here (no createImageBitmap/OffscreenCanvas)`);
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: `image/${format}` }), {
      imageOrientation: 'from-image',
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
  } catch {
    throw new ImageDecodeError(`corrupt or unsupported ${format.toUpperCase()} file (the browser could not decode it)`);
  }
  try {
    checkImageSize(bitmap.width, bitmap.height);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new ImageDecodeError('no 2D canvas available to read the pixels');
    ctx.drawImage(bitmap, 0, 0);
    const { data, width, height } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    return { width, height, channels: 4, data, bitDepth: 8 };
  } finally {
    bitmap.close();
  }
}

/**
 * Decodes an image file. Throws ImageDecodeError whose `reason` is fit to show the user:
 * "empty file", "not an image", "image too large: W×H, limit …", "corrupt … file".
 */
export async function decodeImageFile(input: Blob | Uint8Array): Promise<BrowserDecoded> {
  if (input instanceof Blob && input.size > MAX_FILE_BYTES) {
    throw new ImageDecodeError(`file too large: ${(input.size / 1e6).toFixed(0)} MB, limit ${MAX_FILE_BYTES / 1024 / 1024} MB`);
  }
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(await input.arrayBuffer());
  if (bytes.length === 0) throw new ImageDecodeError('empty file');
  const format = sniffFormat(bytes);
  if (format === 'unknown') throw new ImageDecodeError('not an image');
  // DICOM (.dcm or any name carrying the DICM magic): the shared platform-neutral decoder.
  if (format === 'dicom') return { image: (await (await import('./dicom')).decodeDicom(bytes)).image, format };
  const size = headerSize(bytes, format);
  if (size) checkImageSize(size.width, size.height);
  const image = format === 'png' ? await decodePng(bytes) : format === 'jpeg' ? await decodeJpegBrowser(bytes) : await decodeWithBitmap(bytes, format);
  return { image, format };
}
