// Image → model input → embedding pieces shared by the training worker and its embedding helpers.
import { decodeImageFile, jpegComponents } from '../image/decode-browser';
import { ImageDecodeError, jpegSize, sniffFormat } from '../image/decode';
import { inputToGray8, preprocessDecoded, resizeRegionArea, type DecodedImage } from '../image/preprocess';
import type { ModelMetadata } from '../core/metadata';
import { THUMB_SIZE } from './train-protocol';

export function errorReason(e: unknown): string {
  if (e instanceof ImageDecodeError) return e.reason;
  return (e as Error)?.message ?? String(e);
}

/** The exact model input, through the same decoder as the Classify page (jpeg-js for JPEG). */
export async function inputOf(file: Blob, metadata: ModelMetadata): Promise<Float32Array> {
  const { image } = await decodeImageFile(file);
  return preprocessDecoded(image, metadata.preprocessing);
}

let canvas: OffscreenCanvas | null = null;

/**
 * Fast decode for training-side statistics: JPEGs through the browser's own decoder
 * (createImageBitmap decodes off the worker's thread, so the next images decode while this one is
 * embedded; several times faster than jpeg-js). Its pixels differ from jpeg-js by ±1 on a few
 * percent of pixels, which does not matter for training or for fitting statistics; classification
 * (preview, Classify page, Node) keeps the exact jpeg-js path. Anything else, and any failure, goes
 * through decodeImageFile (which gives the user-facing reasons).
 */
export async function fastDecodedOf(file: Blob): Promise<DecodedImage> {
  if (typeof createImageBitmap === 'function' && typeof OffscreenCanvas === 'function' && file.size > 0) {
    const head = new Uint8Array(await file.slice(0, 64 * 1024).arrayBuffer());
    const size = sniffFormat(head) === 'jpeg' && jpegComponents(head) !== 4 ? jpegSize(head) : null;
    if (size && size.width * size.height <= 40_000_000) {
      let bitmap: ImageBitmap | null = null;
      try {
        bitmap = await createImageBitmap(file.type === 'image/jpeg' ? file : new Blob([file], { type: 'image/jpeg' }), {
          imageOrientation: 'from-image',
          premultiplyAlpha: 'none',
          colorSpaceConversion: 'none',
        });
        canvas ??= new OffscreenCanvas(1, 1);
        if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
          canvas.width = bitmap.width;
          canvas.height = bitmap.height;
        }
        const ctx = canvas.getContext('2d', { willReadFrequently: true });
        if (ctx) {
          ctx.drawImage(bitmap, 0, 0);
          const { data, width, height } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
          return { width, height, channels: 4, data, bitDepth: 8 };
        }
      } catch {
        /* fall back to the exact decoder, which explains failures */
      } finally {
        bitmap?.close();
      }
    }
  }
  return (await decodeImageFile(file)).image;
}

/** The model input through the fast decoder (fastDecodedOf): for embedding training images. */
export async function fastInputOf(file: Blob, metadata: ModelMetadata): Promise<Float32Array> {
  return preprocessDecoded(await fastDecodedOf(file), metadata.preprocessing);
}

/** The 64 px thumbnail of a model input. */
export function thumbnailOf(input: Float32Array, metadata: ModelMetadata): Uint8Array {
  const s = metadata.preprocessing.inputSize;
  const gray = { width: s, height: s, data: inputToGray8(input, metadata.preprocessing) };
  const small = resizeRegionArea(gray, { x: 0, y: 0, size: s }, THUMB_SIZE);
  const out = new Uint8Array(small.length);
  for (let i = 0; i < small.length; i++) out[i] = Math.round(small[i]);
  return out;
}

/** Messages of the embedding helper workers (see embed.worker.ts). */
export type HelperRequest =
  | { type: 'init'; files: Record<string, Uint8Array>; backend: 'wasm' | 'cpu' | 'webgl' }
  | { type: 'embed'; seq: number; file: Blob };

export type HelperReply =
  | { type: 'ready'; dim: number }
  | { type: 'failed'; message: string }
  | { type: 'embedded'; seq: number; embedding?: Float32Array; thumb?: Uint8Array; error?: string; decodeMs: number; embedMs: number };
