// Tiny files whose headers declare huge images (decompression-bomb style), for the decoder limit tests
// in Node (tests/unit/decode-limits.test.ts) and in the page (tests/browser/decode-limits.test.ts).
import { encode } from 'fast-png';
import { makeGif } from './gif-writer';

/** A 333-byte baseline JPEG header declaring width × height (SOI, DQT, SOF0, DHT, SOS, a few bytes of scan, EOI). */
export function craftedJpeg(width: number, height: number, totalBytes = 333): Uint8Array {
  const b: number[] = [0xff, 0xd8];
  b.push(0xff, 0xdb, 0, 67, 0, ...new Array(64).fill(1)); // DQT
  b.push(0xff, 0xc0, 0, 11, 8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0); // SOF0, 1 component
  // DHT: DC table 0 with one 1-bit code (category 0), AC table 0 with one 1-bit code (EOB).
  b.push(0xff, 0xc4, 0, 20, 0x00, 1, ...new Array(15).fill(0), 0);
  b.push(0xff, 0xc4, 0, 20, 0x10, 1, ...new Array(15).fill(0), 0);
  b.push(0xff, 0xda, 0, 8, 1, 1, 0x00, 0, 63, 0); // SOS
  while (b.length < totalBytes - 2) b.push(0);
  b.push(0xff, 0xd9);
  return Uint8Array.from(b);
}

/** A tiny PNG whose IHDR declares width × height but whose IDAT holds almost nothing. */
export function craftedPng(width: number, height: number): Uint8Array {
  const real = encode({ width: 2, height: 2, data: new Uint8Array(4), channels: 1, depth: 8 });
  const out = Uint8Array.from(real);
  const dv = new DataView(out.buffer);
  dv.setUint32(16, width);
  dv.setUint32(20, height);
  return out;
}

export function craftedGif(width: number, height: number): Uint8Array {
  return makeGif(
    { width, height },
    [
      [0, 0, 0],
      [255, 255, 255],
    ],
    [{ width: 1, height: 1, indices: Uint8Array.of(1) }],
  );
}

export function craftedBmp(width: number, height: number): Uint8Array {
  const b = new Uint8Array(64);
  const dv = new DataView(b.buffer);
  b[0] = 0x42;
  b[1] = 0x4d;
  dv.setUint32(2, b.length, true);
  dv.setUint32(10, 54, true);
  dv.setUint32(14, 40, true);
  dv.setInt32(18, width, true);
  dv.setInt32(22, height, true);
  dv.setUint16(26, 1, true);
  dv.setUint16(28, 24, true);
  dv.setUint32(30, 0, true);
  return b;
}
