// Image → model input → embedding pieces shared by the training worker and its embedding helpers.
// Each dropped image is decoded ONCE, by the same decoder as the Classify page (decodeImageFile:
// jpeg-js for JPEG), and put through the one pipeline (src/image/pipeline.ts); what later stages need
// (the crop for the exact model input, the OOD statistics for the trust fit, the augmentation base
// for last-block tuning) is kept per image (KeptImage), so training, calibration, the misclassified
// gallery and Grad-CAM never decode it again.
import { decodeImageFile } from '../image/decode-browser';
import { ImageDecodeError } from '../image/decode';
import { normalizeInput } from '../image/preprocess';
import { BASE_MARGIN } from '../image/augment';
import { inputThumbnail, prepareImage } from '../image/pipeline';
import { preparedImageHash } from '../image/image-hash';
import { MAX_FILE_BYTES } from '../image/format';
import { fnv1a64Hex } from '../core/image-hash';
import type { ImageFeatures } from '../core/ood';
import type { ModelMetadata, PreprocessingSpec } from '../core/metadata';
import { THUMB_SIZE } from './train-protocol';

export { decodesSoFar } from '../image/decode-browser';

export function errorReason(e: unknown): string {
  if (e instanceof ImageDecodeError) return e.reason;
  return (e as Error)?.message ?? String(e);
}

/** What the Train page keeps of an image after its one decode (about 12 + 19 KiB at 112 px). */
export interface KeptImage {
  /**
   * The model's crop (0..255, inputSize²) before normalisation: rounded to 8 bit under histogram
   * equalisation, which rounds it the same way first (so the input is bit-identical), else as floats.
   */
  crop: Uint8Array | Float32Array;
  /** OOD image statistics under the base model's layout template (for the fine-tuned gate). */
  features: ImageFeatures;
  /** The augmentation base (augment.ts makeAugmentBase) for last-block tuning. */
  base: { pixels: Uint8Array; size: number };
  /** Exact content hash of the file's bytes (fnv1a64Hex): the same file dropped twice. */
  fileHash: string;
  /** Perceptual hash of the model crop (preparedImageHash): the same X-ray re-encoded or resized. */
  phash: string;
}

export interface PreparedTrainImage {
  input: Float32Array;
  kept: KeptImage;
}

/** Decodes (once) and prepares a training image: its exact model input and what later stages keep. */
export async function prepareTrainImage(file: Blob, metadata: ModelMetadata): Promise<PreparedTrainImage> {
  const spec = metadata.preprocessing;
  // Read once: the bytes give the exact hash and go to the decoder (an oversized file is refused there unread).
  const bytes = file.size > MAX_FILE_BYTES ? null : new Uint8Array(await file.arrayBuffer());
  const { image } = await decodeImageFile(bytes ?? file);
  const p = prepareImage(image, spec, { layoutTemplate: metadata.trust?.ood?.layoutTemplate, augmentBaseSize: Math.round(spec.inputSize * BASE_MARGIN) });
  let crop: Uint8Array | Float32Array = p.crop;
  if (spec.equalize === 'histogram') {
    crop = new Uint8Array(p.crop.length);
    for (let i = 0; i < p.crop.length; i++) crop[i] = Math.round(p.crop[i]);
  }
  return { input: p.input, kept: { crop, features: p.features, base: p.augmentBase!, fileHash: fnv1a64Hex(bytes!), phash: preparedImageHash(p) } };
}

/** The exact model input of a kept image (= its input at decode time). */
export function inputOfKept(kept: KeptImage, spec: PreprocessingSpec): Float32Array {
  return normalizeInput(kept.crop instanceof Float32Array ? kept.crop : Float32Array.from(kept.crop), spec);
}

/** The 64 px thumbnail of a model input. */
export function thumbnailOf(input: Float32Array, metadata: ModelMetadata): Uint8Array {
  return inputThumbnail(input, metadata.preprocessing, THUMB_SIZE);
}

/** What an embedding helper answers for one image (an unreadable one: `error`, no embedding). */
export interface HelperEmbedded {
  embedding?: Float32Array;
  thumb?: Uint8Array;
  kept?: KeptImage;
  error?: string;
  decodeMs: number;
  embedMs: number;
  /** The helper's decodesSoFar() after this image. */
  decodes?: number;
}

/** The embedding helper workers' protocol (embed.worker.ts; a src/worker/rpc.ts request map). */
export type EmbedRpc = {
  /** Loads the backbone from its files on the backend; answers the embedding size (an error if it failed). */
  init: { request: { files: Record<string, Uint8Array>; backend: 'wasm' | 'cpu' | 'webgl' }; reply: { dim: number } };
  embed: { request: { file: Blob }; reply: HelperEmbedded };
};
