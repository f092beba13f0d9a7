// Browser image decoding (main thread or worker): bytes → DecodedImage for the shared preprocessing.
// The one file of src/image that needs browser APIs (createImageBitmap, OffscreenCanvas), and only for
// formats the shared decoders cannot read; everything else in src/image is pure and runs in Node too.
//
// - PNG goes through fast-png (src/image/decode.ts), exactly as in Node: 16-bit depth is kept (a canvas
//   would squash it to 8 bit), palette and alpha are handled, and no colour management is applied.
// - Gray and YCbCr JPEG go through jpeg-js, exactly as in Node (EXIF orientation applied). Measured:
//   Chromium's JPEG decoder differs from jpeg-js by ±1 on ~7% of the pixels of the data set's images,
//   and histogram equalisation amplifies that to up to 6/255 in the model input; with the same
//   decoder the browser's input is bit-identical to training and `npm run predict`.
// - GIF (first frame) goes through decodeGif (src/image/decode.ts), as in Node: the page and the CLIs
//   classify the same pixels.
// - CMYK/YCCK JPEG (4 components), JPEG variants jpeg-js cannot read (arithmetic coding, 12-bit…),
//   WebP and BMP use the browser's own decoder: createImageBitmap + OffscreenCanvas, EXIF orientation
//   applied ('from-image'), no colour-space conversion.
// - Sizes are read from the header first (checkDeclaredImage), so a huge image, or a tiny file that
//   declares one, is refused before anything is decoded or allocated.
import {
  ImageDecodeError,
  ImageSizeError,
  MAX_FILE_BYTES,
  checkDeclaredImage,
  checkImageSize,
  decodeGif,
  decodeJpeg,
  decodePng,
  headerSize,
  jpegFrameHeader,
  sniffFormat,
  type ImageFormat,
} from './decode';
import type { DecodedImage } from './preprocess';

// The limits and the header reader live with the shared decoders (one set of limits for every path).
export { MAX_FILE_BYTES, headerSize };

let decodeCount = 0;

/** decodeImageFile calls so far in this realm (page or worker): how the Train page shows it decodes each image once. */
export function decodesSoFar(): number {
  return decodeCount;
}

export interface BrowserDecoded {
  image: DecodedImage;
  format: ImageFormat;
}

/** Number of colour components in a JPEG's frame header (1 gray, 3 YCbCr, 4 CMYK/YCCK), or null. */
export function jpegComponents(bytes: Uint8Array): number | null {
  return jpegFrameHeader(bytes)?.components ?? null;
}

async function decodeJpegBrowser(bytes: Uint8Array): Promise<DecodedImage> {
  if (jpegComponents(bytes) !== 4) {
    try {
      return await decodeJpeg(bytes);
    } catch (e) {
      if (e instanceof ImageSizeError) throw e;
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
  decodeCount++;
  if (input instanceof Blob && input.size > MAX_FILE_BYTES) {
    throw new ImageDecodeError(`file too large: ${(input.size / 1e6).toFixed(0)} MB, limit ${MAX_FILE_BYTES / 1024 / 1024} MB`);
  }
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(await input.arrayBuffer());
  if (bytes.length === 0) throw new ImageDecodeError('empty file');
  const format = sniffFormat(bytes);
  if (format === 'unknown') throw new ImageDecodeError('not an image');
  // DICOM (.dcm or any name carrying the DICM magic): the shared platform-neutral decoder.
  if (format === 'dicom') return { image: (await (await import('./dicom')).decodeDicom(bytes)).image, format };
  // Before any pixel memory: the shared limits, and whether the file can hold what its header declares.
  checkDeclaredImage(bytes, format);
  const image =
    format === 'png'
      ? await decodePng(bytes)
      : format === 'jpeg'
        ? await decodeJpegBrowser(bytes)
        : format === 'gif'
          ? await decodeGif(bytes)
          : await decodeWithBitmap(bytes, format);
  return { image, format };
}
