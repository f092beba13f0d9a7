// JPEG sequential DCT with Huffman coding (ITU T.81 processes 1, 2 and 4) for grey images of 8 or
// 12 bits: what DICOM's JPEG Extended transfer syntax (.51) holds when the data is 12-bit. No
// maintained npm codec decodes 12-bit JPEG in both Node and a browser worker (libjpeg-turbo's wasm
// build is 8-bit only; Cornerstone's 12-bit decoder is internal to its image loader), so this is ours:
// one component, any sampling factor, restart intervals, 8- or 16-bit quantisation tables, and an
// exact (floating-point) inverse DCT. 8-bit .51 files go to libjpeg-turbo (src/image/dicom-codecs.ts).
import { ImageDecodeError, checkImageSize } from './format';

const ZIGZAG = Int32Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22,
  15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

/** cos((2x + 1) u π / 16) · C(u) / 2, for the separable inverse DCT. */
const IDCT = (() => {
  const t = new Float64Array(64);
  for (let x = 0; x < 8; x++) for (let u = 0; u < 8; u++) t[x * 8 + u] = ((u === 0 ? Math.SQRT1_2 : 1) * Math.cos(((2 * x + 1) * u * Math.PI) / 16)) / 2;
  return t;
})();

interface Huffman {
  /** Per code length 1..16: the largest code, the first code, and where its symbols start. */
  maxCode: Int32Array;
  minCode: Int32Array;
  valPtr: Int32Array;
  values: Uint8Array;
}

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxCode = new Int32Array(18).fill(-1);
  const minCode = new Int32Array(17);
  const valPtr = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    valPtr[len] = k;
    minCode[len] = code;
    code += counts[len - 1];
    k += counts[len - 1];
    maxCode[len] = counts[len - 1] ? code - 1 : -1;
    code <<= 1;
  }
  maxCode[17] = 0x7fffffff;
  return { maxCode, minCode, valPtr, values };
}

export interface Jpeg12Frame {
  width: number;
  height: number;
  precision: number;
  /** Samples 0 … 2^precision − 1, row-major. */
  data: Uint16Array;
}

/** Decodes a one-component sequential-DCT Huffman JPEG (SOF0 / SOF1) of 8 or 12 bits. */
export function decodeJpegExtended(bytes: Uint8Array): Jpeg12Frame {
  const fail = (why: string): never => {
    throw new ImageDecodeError(`corrupt DICOM JPEG Extended pixel data: ${why}`);
  };
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) fail('no JPEG start-of-image marker');
  const qt: Int32Array[] = [];
  const dc: Huffman[] = [];
  const ac: Huffman[] = [];
  let frame: { precision: number; width: number; height: number; h: number; v: number; tq: number } | null = null;
  let restartInterval = 0;
  let out: Uint16Array | null = null;
  let scanned = false;
  let pos = 2;
  const u16 = (o: number) => (bytes[o] << 8) | bytes[o + 1];

  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) fail(`expected a marker at byte ${pos}`);
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos++;
      continue;
    }
    if (marker === 0xd9) break; // EOI
    const len = u16(pos + 2);
    const seg = pos + 4;
    const end = pos + 2 + len;
    if (end > bytes.length) fail('a segment runs past the end of the data');
    switch (marker) {
      case 0xdb: {
        for (let o = seg; o < end; ) {
          const pq = bytes[o] >> 4;
          const tq = bytes[o] & 15;
          const t = new Int32Array(64);
          for (let i = 0; i < 64; i++) t[ZIGZAG[i]] = pq ? u16(o + 1 + 2 * i) : bytes[o + 1 + i];
          qt[tq] = t;
          o += 1 + 64 * (pq ? 2 : 1);
        }
        break;
      }
      case 0xc4: {
        for (let o = seg; o < end; ) {
          const tc = bytes[o] >> 4;
          const th = bytes[o] & 15;
          const counts = bytes.subarray(o + 1, o + 17);
          const n = counts.reduce((s, c) => s + c, 0);
          const table = buildHuffman(counts, bytes.slice(o + 17, o + 17 + n));
          (tc === 0 ? dc : ac)[th] = table;
          o += 17 + n;
        }
        break;
      }
      case 0xc0:
      case 0xc1: {
        const precision = bytes[seg];
        const height = u16(seg + 1);
        const width = u16(seg + 3);
        const comps = bytes[seg + 5];
        if (precision !== 8 && precision !== 12) fail(`${precision}-bit samples (sequential DCT allows 8 or 12)`);
        if (comps !== 1) throw new ImageDecodeError(`DICOM JPEG Extended with ${comps} components of ${precision} bits is not supported (grey only)`);
        if (!height) fail('the frame has no height (DNL marker) — not supported');
        checkImageSize(width, height);
        frame = { precision, width, height, h: bytes[seg + 7] >> 4, v: bytes[seg + 7] & 15, tq: bytes[seg + 8] };
        out = new Uint16Array(width * height);
        break;
      }
      case 0xc2:
      case 0xc3:
      case 0xc5:
      case 0xc6:
      case 0xc7:
      case 0xc9:
      case 0xca:
      case 0xcb:
      case 0xcd:
      case 0xce:
      case 0xcf:
        fail(`frame type SOF${marker - 0xc0} is not sequential Huffman DCT`);
        break;
      case 0xdd:
        restartInterval = u16(seg);
        break;
      case 0xda: {
        if (!frame || !out) fail('scan before the frame header');
        const td = bytes[seg + 2] >> 4;
        const ta = bytes[seg + 2] & 15;
        if (!qt[frame!.tq] || !dc[td] || !ac[ta]) fail('a table the scan needs is missing');
        pos = decodeScan(bytes, end, frame!, qt[frame!.tq], dc[td], ac[ta], restartInterval, out!, fail);
        scanned = true;
        continue;
      }
      default:
        break; // APPn, COM, DNL…: skipped
    }
    pos = end;
  }
  if (!frame || !out || !scanned) fail('no image data (frame header or scan missing)');
  return { width: frame!.width, height: frame!.height, precision: frame!.precision, data: out! };
}

/** One-component scan: 8×8 blocks in raster order, each dequantised, inverse-transformed and stored. Returns the byte after the scan. */
function decodeScan(
  b: Uint8Array,
  start: number,
  f: { precision: number; width: number; height: number },
  q: Int32Array,
  dcTable: Huffman,
  acTable: Huffman,
  restartInterval: number,
  out: Uint16Array,
  fail: (why: string) => never,
): number {
  let pos = start;
  let acc = 0;
  let bits = 0;
  let hitMarker = false;
  const bit = (): number => {
    if (bits === 0) {
      if (hitMarker || pos >= b.length) {
        acc = 0xff; // past the data: ones, as decoders pad (the result is checked by the block count)
        bits = 8;
        if (pos >= b.length && !hitMarker) fail('the scan is truncated');
      } else {
        let byte = b[pos];
        if (byte === 0xff) {
          const next = b[pos + 1];
          if (next === 0x00) pos += 2;
          else {
            hitMarker = true;
            byte = 0xff;
          }
        } else pos++;
        acc = byte;
        bits = 8;
      }
    }
    bits--;
    return (acc >> bits) & 1;
  };
  const receive = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | bit();
    return v;
  };
  const extend = (v: number, n: number): number => (n === 0 ? 0 : v < 1 << (n - 1) ? v - (1 << n) + 1 : v);
  const decode = (h: Huffman): number => {
    let code = bit();
    let len = 1;
    while (len <= 16 && code > h.maxCode[len]) {
      code = (code << 1) | bit();
      len++;
    }
    if (len > 16) fail('invalid Huffman code');
    return h.values[h.valPtr[len] + code - h.minCode[len]];
  };

  const blocksX = Math.ceil(f.width / 8);
  const blocksY = Math.ceil(f.height / 8);
  const coef = new Float64Array(64);
  const tmp = new Float64Array(64);
  const shift = 1 << (f.precision - 1);
  const max = (1 << f.precision) - 1;
  let pred = 0;
  let untilRestart = restartInterval;
  for (let by = 0; by < blocksY; by++) {
    for (let bx = 0; bx < blocksX; bx++) {
      if (restartInterval && untilRestart === 0) {
        // Byte-align, then expect RSTn.
        bits = 0;
        if (hitMarker || (b[pos] === 0xff && b[pos + 1] >= 0xd0 && b[pos + 1] <= 0xd7)) {
          if (!(b[pos] === 0xff && b[pos + 1] >= 0xd0 && b[pos + 1] <= 0xd7)) fail('missing restart marker');
          pos += 2;
          hitMarker = false;
        }
        pred = 0;
        untilRestart = restartInterval;
      }
      untilRestart--;
      coef.fill(0);
      const t = decode(dcTable);
      pred += extend(receive(t), t);
      coef[0] = pred * q[0];
      for (let k = 1; k < 64; ) {
        const rs = decode(acTable);
        const r = rs >> 4;
        const s = rs & 15;
        if (s === 0) {
          if (r !== 15) break;
          k += 16;
          continue;
        }
        k += r;
        if (k > 63) fail('AC coefficients run past the block');
        coef[ZIGZAG[k]] = extend(receive(s), s) * q[ZIGZAG[k]];
        k++;
      }
      // Separable inverse DCT: rows, then columns.
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          let sum = 0;
          for (let u = 0; u < 8; u++) sum += IDCT[x * 8 + u] * coef[y * 8 + u];
          tmp[y * 8 + x] = sum;
        }
      }
      for (let x = 0; x < 8; x++) {
        const px = bx * 8 + x;
        if (px >= f.width) continue;
        for (let y = 0; y < 8; y++) {
          const py = by * 8 + y;
          if (py >= f.height) break;
          let sum = 0;
          for (let v = 0; v < 8; v++) sum += IDCT[y * 8 + v] * tmp[v * 8 + x];
          const s = Math.round(sum) + shift;
          out[py * f.width + px] = s < 0 ? 0 : s > max ? max : s;
        }
      }
    }
  }
  // Continue at the next marker.
  while (pos + 1 < b.length && !(b[pos] === 0xff && b[pos + 1] !== 0x00 && !(b[pos + 1] >= 0xd0 && b[pos + 1] <= 0xd7))) pos++;
  return pos;
}
