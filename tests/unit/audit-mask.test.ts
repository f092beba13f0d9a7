// The shortcut audit's masks (src/core/audit.ts), used by `npm run audit` and by the Evaluate page's
// worker: which pixels each mask keeps.
import { describe, expect, it } from 'vitest';
import { CENTRE_FRACTION, applyAuditMask } from '../../src/core/audit';

describe('applyAuditMask', () => {
  const size = 10;
  const ones = new Float32Array(size * size).fill(200);
  // Central 60 % of 10 px: columns and rows 2..7 (lo = round(10 * 0.4 / 2) = 2, hi = 8).
  const inCentre = (i: number) => {
    const x = i % size;
    const y = Math.floor(i / size);
    return x >= 2 && x < 8 && y >= 2 && y < 8;
  };

  it('border-only blacks out the central square, centre-only everything around it; the input is not changed', () => {
    expect(CENTRE_FRACTION).toBe(0.6);
    const border = applyAuditMask(ones, size, 'border-only');
    const centre = applyAuditMask(ones, size, 'centre-only');
    for (let i = 0; i < size * size; i++) {
      expect(border[i]).toBe(inCentre(i) ? 0 : 200);
      expect(centre[i]).toBe(inCentre(i) ? 200 : 0);
    }
    expect(border.filter((v) => v === 0)).toHaveLength(36);
    expect(ones.every((v) => v === 200)).toBe(true);
  });

  it('a fill value and another centre fraction', () => {
    const m = applyAuditMask(ones, size, 'centre-only', 7, 0.2);
    expect(m.filter((v) => v === 200)).toHaveLength(4); // rows/columns 4..5
    expect(m[0]).toBe(7);
  });
});
