// The one image pipeline: a decoded image → everything its callers need, computed once per image
// with the steps of ./preprocess.ts: the 8-bit gray image, the crop geometry, the crop (0..255, before
// contrast normalisation), the model input, the out-of-distribution image features (./features.ts;
// colour is measured here, before the conversion to grey), and on request a gray preview, the
// shortcut-audit mask and the augmentation base. The Classify worker, the Train page's workers, Node
// training, evaluation, the audit, the OOD fit and `npm run predict` all call prepareImage; the model
// input is bit-identical to preprocessDecoded(img, spec) (tests/unit/pipeline.test.ts).
import type { PreprocessingSpec } from '../core/metadata';
import type { DicomMeta } from '../core/dicom-meta';
import type { ImageFeatures } from '../core/ood';
import { CENTRE_FRACTION, applyAuditMask, type AuditMode } from '../core/audit';
import { cropRegion, downscaleGray, inputToGray8, normalizeInput, resizeRegionArea, toGray8, type DecodedImage, type GrayImage } from './preprocess';
import { imageFeaturesFrom } from './features';
import { makeAugmentBase } from './augment';

export interface PipelineOptions {
  /** trust.ood.layoutTemplate of the model (without it features.layout is NaN). */
  layoutTemplate?: ArrayLike<number>;
  /** A shortcut-audit mask (src/core/audit.ts) applied to the crop before normalisation. */
  auditMask?: Exclude<AuditMode, 'full'>;
  /** Also a gray preview of the whole image, long side at most this many pixels. */
  previewSide?: number;
  /** Also the augmentation base (augment.ts makeAugmentBase) at this side. */
  augmentBaseSize?: number;
}

export interface PreparedImage {
  width: number;
  height: number;
  bitDepth: 8 | 16;
  /** The whole image as 8-bit gray (toGray8). */
  gray: GrayImage;
  /** The centred square the model sees, in source pixels (cropRegion). */
  region: { x: number; y: number; size: number };
  /** The region area-resized to inputSize², 0..255, before the audit mask and normalisation. */
  crop: Float32Array;
  /** The model input (inputSize² floats in spec.range): normalizeInput(crop, masked when asked). */
  input: Float32Array;
  /** OOD image statistics (imageFeaturesFrom: colour and aspect of the decoded image, the rest of the crop). */
  features: ImageFeatures;
  /** DICOM header facts (DecodedImage.dicom), for the OOD verdict's header checks. */
  dicom?: DicomMeta;
  preview?: GrayImage;
  augmentBase?: { pixels: Uint8Array; size: number };
}

/** Decoded image → model input, crop geometry, features and the rest: each step once. */
export function prepareImage(img: DecodedImage, spec: PreprocessingSpec, opts: PipelineOptions = {}): PreparedImage {
  const gray = toGray8(img);
  const region = cropRegion(gray.width, gray.height, spec.cropFraction);
  const crop = resizeRegionArea(gray, region, spec.inputSize);
  const features = imageFeaturesFrom(img, crop, spec.inputSize, opts.layoutTemplate);
  const masked = opts.auditMask ? applyAuditMask(crop, spec.inputSize, opts.auditMask, 0, CENTRE_FRACTION) : crop;
  return {
    width: img.width,
    height: img.height,
    bitDepth: img.bitDepth,
    gray,
    region,
    crop,
    input: normalizeInput(masked, spec),
    features,
    ...(img.dicom ? { dicom: img.dicom } : {}),
    ...(opts.previewSide ? { preview: downscaleGray(gray, opts.previewSide) } : {}),
    ...(opts.augmentBaseSize ? { augmentBase: makeAugmentBase(gray, spec, opts.augmentBaseSize) } : {}),
  };
}

/** The model input as a small gray thumbnail (side × side): what the model saw, downscaled. */
export function inputThumbnail(input: Float32Array, spec: PreprocessingSpec, side: number): Uint8Array {
  const s = spec.inputSize;
  return downscaleGray({ width: s, height: s, data: inputToGray8(input, spec) }, side).data;
}
