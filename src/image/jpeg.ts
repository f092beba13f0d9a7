// Baseline and progressive JPEG through jpeg-js, with EXIF orientation applied as browsers do. The
// same decoder in Node and the browser, so the model input is bit-identical (README, Layout); also
// used for JPEG-baseline DICOM frames (dicom.ts).
import type { DecodedImage } from './preprocess';
import { ImageDecodeError, MAX_IMAGE_PIXELS, checkDeclaredImage, messageWithCauses } from './format';

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
        case 2:
          nx = w - 1 - x;
          ny = y;
          break;
        case 3:
          nx = w - 1 - x;
          ny = h - 1 - y;
          break;
        case 4:
          nx = x;
          ny = h - 1 - y;
          break;
        case 5:
          nx = y;
          ny = x;
          break;
        case 6:
          nx = h - 1 - y;
          ny = x;
          break;
        case 7:
          nx = h - 1 - y;
          ny = w - 1 - x;
          break;
        default:
          nx = y;
          ny = w - 1 - x;
          break; // 8
      }
      const s = (y * w + x) * c;
      const d = (ny * ow + nx) * c;
      for (let k = 0; k < c; k++) out[d + k] = data[s + k];
    }
  }
  return { ...img, width: ow, height: oh, data: out };
}

/** Decodes a baseline or progressive JPEG with jpeg-js (EXIF orientation applied, as browsers do). */
export async function decodeJpeg(bytes: Uint8Array): Promise<DecodedImage> {
  checkDeclaredImage(bytes, 'jpeg');
  const jpeg = await import('jpeg-js');
  const decodeFn = jpeg as unknown as { decode?: typeof import('jpeg-js').decode; default?: { decode: typeof import('jpeg-js').decode } };
  const decode = decodeFn.decode ?? decodeFn.default!.decode;
  let raw: { width: number; height: number; data: Uint8Array };
  try {
    raw = decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6 });
  } catch (e) {
    throw new ImageDecodeError(`corrupt JPEG: ${messageWithCauses(e)}`);
  }
  const img: DecodedImage = { width: raw.width, height: raw.height, channels: 4, data: raw.data as Uint8Array, bitDepth: 8 };
  return applyOrientation(img, jpegOrientation(bytes));
}
