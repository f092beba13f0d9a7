// The shortcut audit's definitions, shared by `npm run audit` (scripts/audit.ts) and the Evaluate
// page's shortcut check (the inference worker): the same masks (applyAuditMask, applied to the
// cropped and resized 0..255 pixels before normalizeInput), the same centre fraction, the same
// wording. Pure pixel arithmetic, no tfjs.

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

/**
 * The shortcut audit's masks on the cropped, resized 0..255 pixels (before contrast normalisation):
 * 'border-only' blacks out the central `centre` fraction of width and height, 'centre-only' blacks
 * out everything outside it.
 */
export function applyAuditMask(input: Float32Array, size: number, mode: 'border-only' | 'centre-only', fillValue = 0, centre = CENTRE_FRACTION): Float32Array {
  const out = input.slice();
  const lo = Math.round((size * (1 - centre)) / 2);
  const hi = size - lo;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inCentre = x >= lo && x < hi && y >= lo && y < hi;
      if ((mode === 'border-only' && inCentre) || (mode === 'centre-only' && !inCentre)) out[y * size + x] = fillValue;
    }
  }
  return out;
}
