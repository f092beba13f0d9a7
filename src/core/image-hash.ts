// Image fingerprints, pure arithmetic (no tfjs, no DOM, no Node): a 64-bit DCT perceptual hash
// (pHash) that survives re-encoding and resizing, the Hamming distance between two such hashes, a
// compact packing of many hashes (base64 of 8 bytes each), and an exact 64-bit FNV-1a content hash of
// file bytes. The pixels to hash come from the one preprocessing (src/image/image-hash.ts: the model's
// centred crop, area-downscaled to HASH_SIDE²), so Node and the browser hash the same way.

/** Side of the gray square the perceptual hash is computed on. */
export const HASH_SIDE = 32;
/** Low-frequency block kept from the DCT (rows/columns 1..8: the DC row and column are skipped). */
const BLOCK = 8;
export const HASH_ALGORITHM = 'dct-phash-64';

const HEX = /^[0-9a-f]{16}$/;

let cosTable: Float64Array | null = null;

/** cos((2x+1)·k·π / 2N) for k = 1..BLOCK, x = 0..N-1 (row k-1). */
function cosines(): Float64Array {
  if (!cosTable) {
    cosTable = new Float64Array(BLOCK * HASH_SIDE);
    for (let k = 1; k <= BLOCK; k++) {
      for (let x = 0; x < HASH_SIDE; x++) cosTable[(k - 1) * HASH_SIDE + x] = Math.cos(((2 * x + 1) * k * Math.PI) / (2 * HASH_SIDE));
    }
  }
  return cosTable;
}

/**
 * The 64-bit perceptual hash of a HASH_SIDE × HASH_SIDE gray image (row-major, any value scale):
 * 2-D DCT-II, the 8×8 low-frequency coefficients without the DC row and column (as the original pHash
 * does), one bit per coefficient set when it is above their median. Returned as 16 lowercase hex digits,
 * the first coefficient in the most significant bit.
 */
export function dctHash(pixels: ArrayLike<number>): string {
  if (pixels.length !== HASH_SIDE * HASH_SIDE)
    throw new Error(`dctHash needs ${HASH_SIDE}×${HASH_SIDE} = ${HASH_SIDE * HASH_SIDE} pixels, got ${pixels.length}`);
  const c = cosines();
  const N = HASH_SIDE;
  // Rows first: for each image row y, coefficients u = 1..8 along x.
  const rowPass = new Float64Array(N * BLOCK);
  for (let y = 0; y < N; y++) {
    for (let u = 0; u < BLOCK; u++) {
      let acc = 0;
      for (let x = 0; x < N; x++) acc += pixels[y * N + x] * c[u * N + x];
      rowPass[y * BLOCK + u] = acc;
    }
  }
  const coef = new Float64Array(BLOCK * BLOCK);
  for (let v = 0; v < BLOCK; v++) {
    for (let u = 0; u < BLOCK; u++) {
      let acc = 0;
      for (let y = 0; y < N; y++) acc += rowPass[y * BLOCK + u] * c[v * N + y];
      coef[v * BLOCK + u] = acc;
    }
  }
  const sorted = Array.from(coef).sort((a, b) => a - b);
  const median = (sorted[31] + sorted[32]) / 2;
  let hex = '';
  for (let nib = 0; nib < 16; nib++) {
    let d = 0;
    for (let b = 0; b < 4; b++) d = (d << 1) | (coef[nib * 4 + b] > median ? 1 : 0);
    hex += d.toString(16);
  }
  return hex;
}

export function isImageHash(h: unknown): h is string {
  return typeof h === 'string' && HEX.test(h);
}

function checkHash(h: string): void {
  if (!isImageHash(h)) throw new Error(`not a 64-bit image hash (16 hex digits): '${String(h).slice(0, 40)}'`);
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Number of differing bits between two 16-hex-digit hashes (0..64). */
export function hammingDistance(a: string, b: string): number {
  checkHash(a);
  checkHash(b);
  return (
    popcount32((parseInt(a.slice(0, 8), 16) ^ parseInt(b.slice(0, 8), 16)) >>> 0) + popcount32((parseInt(a.slice(8), 16) ^ parseInt(b.slice(8), 16)) >>> 0)
  );
}

/** A hash as two unsigned 32-bit halves [high, low]. */
export function hashWords(h: string): [number, number] {
  checkHash(h);
  return [parseInt(h.slice(0, 8), 16) >>> 0, parseInt(h.slice(8), 16) >>> 0];
}

/** Hamming distance between two hashes given as 32-bit halves. */
export function wordsDistance(ah: number, al: number, bh: number, bl: number): number {
  return popcount32((ah ^ bh) >>> 0) + popcount32((al ^ bl) >>> 0);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function base64Encode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return out;
}

export function base64Decode(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error('not valid base64');
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  for (let i = 0, o = 0; i < text.length; i += 4) {
    const n =
      (B64.indexOf(text[i]) << 18) |
      (B64.indexOf(text[i + 1]) << 12) |
      ((text[i + 2] === '=' ? 0 : B64.indexOf(text[i + 2])) << 6) |
      (text[i + 3] === '=' ? 0 : B64.indexOf(text[i + 3]));
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

/** Hashes → one base64 string of 8 big-endian bytes each, sorted and without duplicates. */
export function packHashes(hashes: readonly string[]): string {
  for (const h of hashes) checkHash(h);
  const unique = [...new Set(hashes)].sort();
  const bytes = new Uint8Array(unique.length * 8);
  unique.forEach((h, i) => {
    for (let j = 0; j < 8; j++) bytes[i * 8 + j] = parseInt(h.slice(j * 2, j * 2 + 2), 16);
  });
  return base64Encode(bytes);
}

/** The inverse of packHashes (sorted hex hashes). */
export function unpackHashes(packed: string): string[] {
  const bytes = base64Decode(packed);
  if (bytes.length % 8 !== 0) throw new Error(`packed hashes are ${bytes.length} bytes, not a multiple of 8`);
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += 8) {
    let h = '';
    for (let j = 0; j < 8; j++) h += bytes[i + j].toString(16).padStart(2, '0');
    out.push(h);
  }
  return out;
}

/** Exact content hash of file bytes: 64-bit FNV-1a, 16 hex digits (not cryptographic). */
export function fnv1a64Hex(bytes: Uint8Array): string {
  // 64-bit state in four 16-bit limbs; the prime is 2^40 + 0x1b3.
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < bytes.length; i++) {
    h0 ^= bytes[i];
    const t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3 + (h0 << 8);
    const t3 = h3 * 0x1b3 + (h1 << 8);
    t1 += t0 >>> 16;
    h0 = t0 & 0xffff;
    t2 += t1 >>> 16;
    h1 = t1 & 0xffff;
    h3 = (t3 + (t2 >>> 16)) & 0xffff;
    h2 = t2 & 0xffff;
  }
  return [h3, h2, h1, h0].map((x) => x.toString(16).padStart(4, '0')).join('');
}
