// Byte-level image decoding shared by Node and (for formats canvas cannot keep exact, such as 16-bit
// PNG) the browser: decodeImageBytes is the one dispatcher (PNG with fast-png, JPEG with jpeg-js in
// ./jpeg, GIF here, DICOM in ./dicom); formats, limits and errors are ./format (re-exported here).
import type { DecodedImage } from './preprocess';
import { GIF_MAX_PIXELS_PER_BYTE, ImageDecodeError, ImageSizeError, checkDeclaredImage, checkImageSize, messageWithCauses, sniffFormat, u16le } from './format';
import { decodeJpeg } from './jpeg';

export {
  MAX_FILE_BYTES,
  MAX_IMAGE_PIXELS,
  MAX_IMAGE_SIDE,
  ImageDecodeError,
  ImageSizeError,
  checkDeclaredImage,
  checkImageSize,
  headerSize,
  jpegFrameHeader,
  jpegSize,
  pngSize,
  sniffFormat,
  type ImageFormat,
  type JpegFrameHeader,
} from './format';
export { applyOrientation, decodeJpeg, jpegOrientation } from './jpeg';

/**
 * Where a PNG that failed to decode was cut off, or null when its chunks are complete: a cut inside a
 * chunk is what a partial download or copy leaves, and fast-png reports it only as a decompression or
 * DataView error.
 */
function pngTruncation(bytes: Uint8Array): string | null {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8;
  while (p + 8 <= bytes.length) {
    const length = dv.getUint32(p);
    const type = String.fromCharCode(bytes[p + 4], bytes[p + 5], bytes[p + 6], bytes[p + 7]);
    const end = p + 12 + length;
    if (end > bytes.length) return `truncated PNG: the file ends inside its ${type} chunk (${bytes.length} bytes; that chunk needs ${end})`;
    if (type === 'IEND') return null;
    p = end;
  }
  return p < bytes.length
    ? `truncated PNG: the file ends inside a chunk header (${bytes.length} bytes)`
    : `truncated PNG: the file ends after ${bytes.length} bytes, before its IEND chunk`;
}

/** Decodes a PNG of any bit depth, palette or alpha with fast-png. */
export async function decodePng(bytes: Uint8Array): Promise<DecodedImage> {
  checkDeclaredImage(bytes, 'png');
  const { decode } = await import('fast-png');
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch (e) {
    throw new ImageDecodeError(pngTruncation(bytes) ?? `corrupt PNG: ${messageWithCauses(e)}`);
  }
  let channels = png.channels as 1 | 2 | 3 | 4;
  let data = png.data as Uint8Array | Uint16Array;
  let depth = png.depth;
  if (png.palette) {
    // Expand palette indices to RGB(A).
    const pal = png.palette;
    const hasA = pal.some((e) => e.length === 4);
    const n = png.width * png.height;
    const out = new Uint8Array(n * (hasA ? 4 : 3));
    const idx = unpackIndices(data as Uint8Array, png.width, png.height, depth);
    for (let i = 0; i < n; i++) {
      const e = pal[idx[i]] ?? [0, 0, 0, 255];
      out[i * (hasA ? 4 : 3)] = e[0];
      out[i * (hasA ? 4 : 3) + 1] = e[1];
      out[i * (hasA ? 4 : 3) + 2] = e[2];
      if (hasA) out[i * 4 + 3] = e.length === 4 ? e[3] : 255;
    }
    data = out;
    channels = hasA ? 4 : 3;
    depth = 8;
  } else if (depth < 8) {
    // 1/2/4-bit gray: unpack and scale to 8 bit.
    const idx = unpackIndices(data as Uint8Array, png.width, png.height * channels, depth);
    const scale = 255 / ((1 << depth) - 1);
    data = Uint8Array.from(idx, (v) => Math.round(v * scale));
    depth = 8;
  }
  return { width: png.width, height: png.height, channels, data, bitDepth: depth === 16 ? 16 : 8 };
}

function unpackIndices(packed: Uint8Array, width: number, rows: number, depth: number): Uint8Array {
  if (depth === 8) return packed;
  const out = new Uint8Array(width * rows);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)];
      out[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/**
 * Decodes the first frame of a GIF (87a/89a) the way browsers show it: the frame drawn at its offset
 * on a transparent logical screen, the graphic control extension's transparent index honoured,
 * interlaced rows reordered. RGBA output. One implementation for the page and the CLIs, so both
 * classify a GIF from the same pixels (as for PNG and JPEG).
 */
export async function decodeGif(bytes: Uint8Array): Promise<DecodedImage> {
  checkDeclaredImage(bytes, 'gif');
  const b = bytes;
  const fail = (why: string): never => {
    throw new ImageDecodeError(`corrupt GIF: ${why}`);
  };
  if (b.length < 13) fail('header truncated');
  const width = u16le(b, 6);
  const height = u16le(b, 8);
  const flags = b[10];
  let p = 13;
  let globalPalette: Uint8Array | null = null;
  if (flags & 0x80) {
    const n = 3 << ((flags & 7) + 1);
    if (p + n > b.length) fail('colour table truncated');
    globalPalette = b.subarray(p, p + n);
    p += n;
  }
  let transparent = -1;
  for (;;) {
    if (p >= b.length) fail('no image in the file');
    const block = b[p++];
    if (block === 0x3b) fail('no image in the file');
    if (block === 0x21) {
      const label = b[p++];
      if (label === 0xf9 && b[p] >= 4 && p + 4 < b.length) transparent = b[p + 1] & 1 ? b[p + 4] : -1;
      while (p < b.length && b[p] !== 0) p += b[p] + 1; // skip the extension's sub-blocks
      p++;
      continue;
    }
    if (block !== 0x2c) fail(`unexpected block 0x${block.toString(16)}`);
    if (p + 9 > b.length) fail('image descriptor truncated');
    const left = u16le(b, p);
    const top = u16le(b, p + 2);
    const fw = u16le(b, p + 4);
    const fh = u16le(b, p + 6);
    const fflags = b[p + 8];
    p += 9;
    let palette = globalPalette;
    if (fflags & 0x80) {
      const n = 3 << ((fflags & 7) + 1);
      if (p + n > b.length) fail('colour table truncated');
      palette = b.subarray(p, p + n);
      p += n;
    }
    if (!palette) fail('no colour table');
    // The frame's own index buffer is allocated too: the same limits as the screen.
    checkImageSize(fw, fh);
    if (fw * fh > GIF_MAX_PIXELS_PER_BYTE * b.length) {
      throw new ImageSizeError(`GIF frame declares ${fw}×${fh} pixels, more than a ${b.length}-byte GIF file can hold (truncated, or made to exhaust memory)`);
    }
    const minCodeSize = b[p++];
    if (!(minCodeSize >= 1 && minCodeSize <= 11)) fail(`LZW code size ${minCodeSize}`);
    // Gather the sub-blocks of LZW data.
    let total = 0;
    for (let q = p; q < b.length && b[q] !== 0; q += b[q] + 1) total += b[q];
    const lzw = new Uint8Array(total);
    for (let off = 0; p < b.length && b[p] !== 0; p += b[p] + 1) {
      const n = Math.min(b[p], b.length - p - 1);
      lzw.set(b.subarray(p + 1, p + 1 + n), off);
      off += n;
    }
    const indices = lzwDecode(lzw, minCodeSize, fw * fh);
    const rowOrder = fflags & 0x40 ? interlacedRows(fh) : null;
    const out = new Uint8Array(width * height * 4);
    const colours = palette!.length / 3;
    for (let r = 0; r < fh; r++) {
      const y = top + (rowOrder ? rowOrder[r] : r);
      if (y >= height) continue;
      for (let x = 0; x < fw; x++) {
        const X = left + x;
        const k = r * fw + x;
        if (X >= width || k >= indices.filled) continue;
        const idx = indices.data[k];
        if (idx === transparent || idx >= colours) continue;
        const o = (y * width + X) * 4;
        out[o] = palette![idx * 3];
        out[o + 1] = palette![idx * 3 + 1];
        out[o + 2] = palette![idx * 3 + 2];
        out[o + 3] = 255;
      }
    }
    return { width, height, channels: 4, data: out, bitDepth: 8 };
  }
}

/** Source row of each stored row of an interlaced GIF frame (passes: every 8th from 0, 8th from 4, 4th from 2, 2nd from 1). */
function interlacedRows(height: number): Int32Array {
  const rows = new Int32Array(height);
  let r = 0;
  for (const [start, step] of [
    [0, 8],
    [4, 8],
    [2, 4],
    [1, 2],
  ])
    for (let y = start; y < height; y += step) rows[r++] = y;
  return rows;
}

/** GIF's variable-width LZW (LSB-first codes, clear and end codes, the code width grows to 12 bits). */
function lzwDecode(data: Uint8Array, minCodeSize: number, pixels: number): { data: Uint8Array; filled: number } {
  const out = new Uint8Array(pixels);
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const prefix = new Int16Array(4096);
  const suffix = new Uint8Array(4096);
  const firstOf = new Uint8Array(4096);
  const lengthOf = new Uint16Array(4096);
  for (let i = 0; i < clear; i++) {
    suffix[i] = i;
    firstOf[i] = i;
    lengthOf[i] = 1;
  }
  let codeSize = minCodeSize + 1;
  let next = end + 1;
  let previous = -1;
  let filled = 0;
  let acc = 0;
  let bits = 0;
  let pos = 0;
  while (filled < pixels) {
    while (bits < codeSize && pos < data.length) {
      acc |= data[pos++] << bits;
      bits += 8;
    }
    if (bits < codeSize) break; // data ran out: the rest of the frame stays unfilled (drawn transparent, as browsers leave it)
    const code = acc & ((1 << codeSize) - 1);
    acc >>>= codeSize;
    bits -= codeSize;
    if (code === clear) {
      codeSize = minCodeSize + 1;
      next = end + 1;
      previous = -1;
      continue;
    }
    if (code === end) break;
    if (previous === -1) {
      if (code >= clear) break; // a stream must start with a literal
      out[filled++] = code;
      previous = code;
      continue;
    }
    if (code > next || (code === next && next >= 4096)) break; // a code not yet defined: corrupt data, stop here
    if (next < 4096) {
      // The new entry is the previous string plus the first pixel of this one; when this code is the
      // entry itself (the KwKwK case) its first pixel is the previous string's first pixel.
      prefix[next] = previous;
      suffix[next] = firstOf[code === next ? previous : code];
      firstOf[next] = firstOf[previous];
      lengthOf[next] = lengthOf[previous] + 1;
      next++;
      if (next === 1 << codeSize && codeSize < 12) codeSize++;
    }
    // Write the code's string backwards into place (clipped at the frame's end).
    let c = code;
    for (let k = lengthOf[code] - 1; k >= 0; k--) {
      if (filled + k < pixels) out[filled + k] = suffix[c];
      c = prefix[c];
    }
    filled = Math.min(filled + lengthOf[code], pixels);
    previous = code;
  }
  return { data: out, filled };
}

/** Decodes PNG, JPEG, GIF or DICOM bytes (the formats Node tools read); WebP and BMP get a clear reason. */
export async function decodeImageBytes(bytes: Uint8Array): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageDecodeError('empty file');
  const format = sniffFormat(bytes);
  switch (format) {
    case 'png':
      return decodePng(bytes);
    case 'jpeg':
      return decodeJpeg(bytes);
    case 'gif':
      return decodeGif(bytes);
    case 'dicom':
      return (await (await import('./dicom')).decodeDicom(bytes)).image;
    case 'unknown':
      throw new ImageDecodeError('not an image');
    default:
      throw new ImageDecodeError(`${format.toUpperCase()} is not supported by this decoder`);
  }
}
