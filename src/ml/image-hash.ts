// Decoded image → perceptual hash (src/core/image-hash.ts), through the one preprocessing: the same
// 8-bit gray (toGray8) and centred crop (cropRegion, spec.cropFraction) the model sees, area-downscaled
// to HASH_SIDE² (resizeRegionArea). Node (scripts/hashes.ts, tests) and the browser call this.
import { dctHash, HASH_SIDE } from '../core/image-hash';
import type { PreprocessingSpec } from '../core/metadata';
import { cropRegion, DEFAULT_PREPROCESSING, resizeRegionArea, toGray8, type DecodedImage, type GrayImage } from './preprocess';

/** Perceptual hash of a gray image's model crop (cropFraction of the spec, default the shipped one). */
export function grayImageHash(gray: GrayImage, spec: Pick<PreprocessingSpec, 'cropFraction'> = DEFAULT_PREPROCESSING): string {
  return dctHash(resizeRegionArea(gray, cropRegion(gray.width, gray.height, spec.cropFraction), HASH_SIDE));
}

/** Perceptual hash of a decoded image (any depth/channels). */
export function decodedImageHash(img: DecodedImage, spec: Pick<PreprocessingSpec, 'cropFraction'> = DEFAULT_PREPROCESSING): string {
  return grayImageHash(toGray8(img), spec);
}
