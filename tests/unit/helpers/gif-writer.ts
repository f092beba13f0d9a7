// A small GIF89a writer for tests: a real LZW encoder (growing code width up to 12 bits, a clear code
// when the table is full), optional interlacing, a transparent index and a frame offset on a larger
// logical screen. Written from the GIF89a specification, independently of src/image/decode.ts.

export interface GifFrame {
  /** Palette indices, row-major, width × height. */
  indices: Uint8Array;
  width: number;
  height: number;
  left?: number;
  top?: number;
  interlaced?: boolean;
  transparentIndex?: number;
}

/** LZW-compresses palette indices the way GIF stores them (LSB-first codes). */
export function lzwEncode(indices: Uint8Array, minCodeSize: number): Uint8Array {
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  let codeSize = minCodeSize + 1;
  const emit = (code: number) => {
    acc |= code << bits;
    bits += codeSize;
    while (bits >= 8) {
      out.push(acc & 255);
      acc >>>= 8;
      bits -= 8;
    }
  };
  let table = new Map<string, number>();
  let next = end + 1;
  emit(clear);
  let current = String(indices[0]);
  for (let i = 1; i < indices.length; i++) {
    const k = indices[i];
    const joined = `${current},${k}`;
    if (table.has(joined)) {
      current = joined;
      continue;
    }
    emit(current.includes(',') ? table.get(current)! : Number(current));
    if (next < 4096) {
      table.set(joined, next++);
      // The decoder widens its codes one code later than the table grows (it adds entries a step behind).
      if (next > 1 << codeSize && codeSize < 12) codeSize++;
    } else {
      emit(clear);
      table = new Map();
      next = end + 1;
      codeSize = minCodeSize + 1;
    }
    current = String(k);
  }
  emit(current.includes(',') ? table.get(current)! : Number(current));
  emit(end);
  if (bits > 0) out.push(acc & 255);
  return Uint8Array.from(out);
}

function interlaceOrder(height: number): number[] {
  const rows: number[] = [];
  for (const [start, step] of [
    [0, 8],
    [4, 8],
    [2, 4],
    [1, 2],
  ])
    for (let y = start; y < height; y += step) rows.push(y);
  return rows;
}

/** A GIF with a global palette (RGB triples, 2..256 colours, padded to a power of two) and the given frames. */
export function makeGif(screen: { width: number; height: number }, palette: number[][], frames: GifFrame[]): Uint8Array {
  const bitsNeeded = Math.max(1, Math.ceil(Math.log2(Math.max(2, palette.length))));
  const size = 1 << bitsNeeded;
  const out: number[] = [...'GIF89a'].map((c) => c.charCodeAt(0));
  const u16 = (v: number) => out.push(v & 255, (v >> 8) & 255);
  u16(screen.width);
  u16(screen.height);
  out.push(0x80 | (bitsNeeded - 1), 0, 0);
  for (let i = 0; i < size; i++) out.push(...(palette[i] ?? [0, 0, 0]));
  for (const f of frames) {
    if (f.transparentIndex !== undefined) out.push(0x21, 0xf9, 4, 1, 0, 0, f.transparentIndex, 0);
    out.push(0x2c);
    u16(f.left ?? 0);
    u16(f.top ?? 0);
    u16(f.width);
    u16(f.height);
    out.push(f.interlaced ? 0x40 : 0);
    let stored = f.indices;
    if (f.interlaced) {
      stored = new Uint8Array(f.indices.length);
      interlaceOrder(f.height).forEach((y, r) => stored.set(f.indices.subarray(y * f.width, (y + 1) * f.width), r * f.width));
    }
    const minCodeSize = Math.max(2, bitsNeeded);
    out.push(minCodeSize);
    const data = lzwEncode(stored, minCodeSize);
    for (let i = 0; i < data.length; i += 255) {
      const chunk = data.subarray(i, i + 255);
      out.push(chunk.length, ...chunk);
    }
    out.push(0);
  }
  out.push(0x3b);
  return Uint8Array.from(out);
}
