// Model-input thumbnails for the results table as <img> elements: an 8-bit gray image becomes an
// uncompressed palette BMP behind a blob: URL (a straight copy, no encoding work), which the browser
// decodes off the main thread. A table row that scrolls into view then costs an <img>, not a canvas
// to create and fill. URLs are cached per pixel array (newest CACHE_SIZE) and revoked when evicted;
// an <img> that already shows one keeps its picture.
const CACHE_SIZE = 400;
const cache = new Map<Uint8Array, string>();

/** An 8-bit palette BMP (256 grays, top-down rows) of a size×size gray image. */
export function grayBmp(gray: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  if (gray.length < size * size) throw new RangeError(`grayBmp: ${gray.length} pixels for ${size}×${size}`);
  const rowBytes = Math.ceil(size / 4) * 4;
  const offset = 14 + 40 + 256 * 4;
  const out = new Uint8Array(offset + rowBytes * size);
  const v = new DataView(out.buffer);
  out[0] = 0x42; // 'B'
  out[1] = 0x4d; // 'M'
  v.setUint32(2, out.length, true);
  v.setUint32(10, offset, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, size, true);
  v.setInt32(22, -size, true); // negative height: rows stored top-down
  v.setUint16(26, 1, true);
  v.setUint16(28, 8, true);
  v.setUint32(34, rowBytes * size, true);
  v.setUint32(46, 256, true);
  for (let i = 0; i < 256; i++) out.fill(i, 54 + i * 4, 54 + i * 4 + 3);
  for (let y = 0; y < size; y++) out.set(gray.subarray(y * size, (y + 1) * size), offset + y * rowBytes);
  return out;
}

export function thumbnailUrl(gray: Uint8Array, size: number): string {
  let url = cache.get(gray);
  if (url) {
    cache.delete(gray);
  } else {
    url = URL.createObjectURL(new Blob([grayBmp(gray, size)], { type: 'image/bmp' }));
  }
  cache.set(gray, url);
  while (cache.size > CACHE_SIZE) {
    const [oldest, old] = cache.entries().next().value as [Uint8Array, string];
    cache.delete(oldest);
    URL.revokeObjectURL(old);
  }
  return url;
}
