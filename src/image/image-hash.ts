// Decoded image → perceptual hash (src/core/image-hash.ts), through the one pipeline: the 8-bit gray
// image and the centred crop region that prepareImage (./pipeline.ts) gives the model, area-downscaled
// to HASH_SIDE² (resizeRegionArea). Node (scripts/hashes.ts, npm run train, tests) and the browser
// hash the same way.
import { dctHash, HASH_SIDE } from '../core/image-hash';
import type { PreprocessingSpec } from '../core/metadata';
import type { PreparedImage } from './pipeline';
import { cropRegion, DEFAULT_PREPROCESSING, resizeRegionArea, toGray8, type DecodedImage, type GrayImage } from './preprocess';

/** Perceptual hash of a crop region of a gray image. */
export function regionHash(gray: GrayImage, region: PreparedImage['region']): string {
  return dctHash(resizeRegionArea(gray, region, HASH_SIDE));
}

/** Perceptual hash of an image prepareImage has already prepared (its gray image and crop). */
export function preparedImageHash(prepared: Pick<PreparedImage, 'gray' | 'region'>): string {
  return regionHash(prepared.gray, prepared.region);
}

/** Perceptual hash of a gray image's model crop (the spec's cropFraction, as prepareImage crops). */
export function grayImageHash(gray: GrayImage, spec: Pick<PreprocessingSpec, 'cropFraction'> = DEFAULT_PREPROCESSING): string {
  return regionHash(gray, cropRegion(gray.width, gray.height, spec.cropFraction));
}

/** Perceptual hash of a decoded image (any depth/channels). */
export function decodedImageHash(img: DecodedImage, spec: Pick<PreprocessingSpec, 'cropFraction'> = DEFAULT_PREPROCESSING): string {
  return grayImageHash(toGray8(img), spec);
}
