// The shortcut audit's definitions, shared by `npm run audit` (scripts/audit.ts) and the Evaluate
// page's shortcut check: the same masks (src/ml/augment.ts applyAuditMask, applied to the cropped
// and resized 0..255 pixels before normalizeInput), the same centre fraction, the same wording.

/** Side fraction of the central square that the masks keep or remove. */
export const CENTRE_FRACTION = 0.6;

export type AuditMode = 'full' | 'border-only' | 'centre-only';
export type AuditMask = Exclude<AuditMode, 'full'>;

export const AUDIT_MODES: readonly AuditMode[] = ['full', 'border-only', 'centre-only'];

export const MODE_DESCRIPTIONS: Record<AuditMode, string> = {
  full: 'the image as preprocessed for inference',
  'border-only': `central ${CENTRE_FRACTION * 100}% of width and height set to black after the crop (only edges, text, markers, outline remain)`,
  'centre-only': `everything outside the central ${CENTRE_FRACTION * 100}% of width and height set to black after the crop`,
};
