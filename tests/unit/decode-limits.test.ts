// Decoder hardening: declared sizes are checked before any pixel memory is allocated (in the shared
// decoders, src/image/decode.ts, and the browser path, src/image/decode-browser.ts, which runs here for every
// format it decodes without a canvas), GIF decodes the same way in Node and in the page, and corrupt
// files get a message that says what is wrong.
import { describe, expect, it } from 'vitest';
import { encode } from 'fast-png';
import { ImageSizeError, MAX_IMAGE_PIXELS, checkDeclaredImage, decodeGif, decodeImageBytes, decodePng, sniffFormat } from '../../src/image/decode';
import { decodeImageFile } from '../../src/image/decode-browser';
import { toGray8 } from '../../src/image/preprocess';
import { makeGif } from './helpers/gif-writer';
import { craftedBmp, craftedGif, craftedJpeg, craftedPng } from './helpers/crafted-images';

describe('declared image size is checked before decoding', () => {
  it('a 333-byte JPEG declaring 8000×7000 is refused at once, in Node and in the browser path', async () => {
    const jpeg = craftedJpeg(8000, 7000);
    expect(jpeg.length).toBe(333);
    expect(sniffFormat(jpeg)).toBe('jpeg');
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    await expect(decodeImageBytes(jpeg)).rejects.toThrow(ImageSizeError);
    await expect(decodeImageFile(jpeg)).rejects.toThrow(ImageSizeError);
    // Refused from the header: no 224 MB RGBA buffer, no seconds of decoding zeros.
    expect(performance.now() - t0).toBeLessThan(500);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(20e6);
    await expect(decodeImageBytes(jpeg)).rejects.toThrow(/8000×7000/);
  });

  it('the same holds for a small declared size that the file is far too short for (not only above the limit)', async () => {
    // 4000×4000 is within the limits, but 333 bytes cannot hold 16 MP of Huffman-coded blocks.
    expect(4000 * 4000).toBeLessThan(MAX_IMAGE_PIXELS);
    await expect(decodeImageBytes(craftedJpeg(4000, 4000))).rejects.toThrow(/more than a 333-byte JPEG file can hold/);
  });

  it('PNG, GIF and BMP headers declaring huge images are refused the same way (browser path too)', async () => {
    for (const [name, bytes] of [
      ['png', craftedPng(8000, 7000)],
      ['gif', craftedGif(8000, 7000)],
      ['bmp', craftedBmp(8000, 7000)],
    ] as const) {
      await expect(decodeImageFile(bytes), name).rejects.toThrow(ImageSizeError);
      expect(() => checkDeclaredImage(bytes, name), name).toThrow(/8000×7000/);
    }
    await expect(decodeImageBytes(craftedPng(8000, 7000))).rejects.toThrow(ImageSizeError);
    await expect(decodeImageBytes(craftedGif(8000, 7000))).rejects.toThrow(ImageSizeError);
    // A small screen whose frame declares a huge size: the frame is checked too.
    const frameBomb = craftedGif(10, 10);
    expect(frameBomb[19]).toBe(0x2c); // image descriptor after the 13-byte header and a 2-colour table
    new DataView(frameBomb.buffer).setUint16(24, 7000, true);
    new DataView(frameBomb.buffer).setUint16(26, 7000, true);
    await expect(decodeImageBytes(frameBomb)).rejects.toThrow(/GIF frame declares 7000×7000 pixels/);
    // Above the shared pixel limit whatever the file size.
    await expect(decodeImageFile(craftedGif(9000, 9000))).rejects.toThrow(/image too large: 9000×9000/);
  });

  it('real images of ordinary size still decode', async () => {
    const w = 300;
    const h = 200;
    const gray = Uint8Array.from({ length: w * h }, (_, i) => (i * 13) & 255);
    const png = encode({ width: w, height: h, data: gray, channels: 1, depth: 8 });
    const img = await decodeImageBytes(png);
    expect([img.width, img.height]).toEqual([w, h]);
  });
});

describe('GIF (first frame), the same decoder for the CLIs and the page', () => {
  const palette = Array.from({ length: 256 }, (_, i) => [i, i, i]);

  it('decodes LZW with growing code widths and table resets exactly', async () => {
    const w = 173;
    const h = 131;
    // Smooth areas (long strings, full tables) and noise (short strings).
    const indices = Uint8Array.from({ length: w * h }, (_, i) => (i % w < 90 ? ((i / w) | 0) & 0xf0 : (i * 2654435761) >>> 24));
    const gif = makeGif({ width: w, height: h }, palette, [{ width: w, height: h, indices }]);
    const img = await decodeImageBytes(gif);
    expect([img.width, img.height, img.channels]).toEqual([w, h, 4]);
    for (let i = 0; i < w * h; i++) {
      if (img.data[i * 4] !== indices[i] || img.data[i * 4 + 3] !== 255) throw new Error(`pixel ${i}: ${img.data[i * 4]} vs ${indices[i]}`);
    }
  });

  it('interlaced rows, a frame offset on a larger screen and a transparent index are placed as browsers show them', async () => {
    const indices = Uint8Array.from({ length: 10 * 12 }, (_, i) => 10 + ((i / 10) | 0));
    indices[0] = 7; // transparent
    const gif = makeGif({ width: 16, height: 20 }, palette, [{ width: 10, height: 12, left: 3, top: 5, interlaced: true, transparentIndex: 7, indices }]);
    const img = await decodeGif(gif);
    const at = (x: number, y: number) => [img.data[(y * 16 + x) * 4], img.data[(y * 16 + x) * 4 + 3]];
    expect(at(0, 0)).toEqual([0, 0]); // outside the frame: transparent
    expect(at(3, 5)).toEqual([0, 0]); // the transparent index
    expect(at(4, 5)).toEqual([10, 255]);
    expect(at(3, 6)).toEqual([11, 255]);
    expect(at(12, 16)).toEqual([21, 255]);
  });

  it('a GIF and a PNG of the same pixels give the same gray image; two frames: the first is used', async () => {
    const w = 64;
    const h = 48;
    const gray = Uint8Array.from({ length: w * h }, (_, i) => (i * 7) & 255);
    const inverted = gray.map((v) => 255 - v);
    const gif = makeGif({ width: w, height: h }, palette, [
      { width: w, height: h, indices: gray },
      { width: w, height: h, indices: inverted },
    ]);
    const fromGif = toGray8(await decodeImageBytes(gif));
    const fromPng = toGray8(await decodePng(encode({ width: w, height: h, data: gray, channels: 1, depth: 8 })));
    expect(Array.from(fromGif.data)).toEqual(Array.from(fromPng.data));
    // The browser path uses the same decoder.
    const browser = await decodeImageFile(gif);
    expect(browser.format).toBe('gif');
    expect(Array.from(toGray8(browser.image).data)).toEqual(Array.from(fromPng.data));
  });
});

describe('corrupt files say what is wrong', () => {
  it('a PNG cut off inside its image data says it is truncated and where (was "…decompressing the data:")', async () => {
    const w = 96;
    const noise = Uint8Array.from({ length: w * w }, (_, i) => (i * 2654435761) >>> 24);
    const png = encode({ width: w, height: w, data: noise, channels: 1, depth: 8 });
    // A copy (own buffer), as a file read from disk would be: cut in the middle of the IDAT chunk.
    const cut = png.slice(0, Math.floor(png.length / 2));
    const err = await decodePng(cut).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(
      new RegExp(`^truncated PNG: the file ends inside its IDAT chunk \\(${cut.length} bytes; that chunk needs ${png.length - 12}\\)$`),
    );
    // The same message through the browser path.
    await expect(decodeImageFile(cut)).rejects.toThrow(/^truncated PNG: the file ends inside its IDAT chunk/);
  });

  it('a PNG with damaged compressed data names the cause instead of ending in a bare colon', async () => {
    const w = 64;
    const png = Uint8Array.from(encode({ width: w, height: w, data: Uint8Array.from({ length: w * w }, (_, i) => i & 255), channels: 1, depth: 8 }));
    // Damage the zlib stream inside IDAT and fix the chunk CRC, so only the inflater can notice.
    const dv = new DataView(png.buffer);
    let p = 8;
    while (String.fromCharCode(...png.subarray(p + 4, p + 8)) !== 'IDAT') p += 12 + dv.getUint32(p);
    const len = dv.getUint32(p);
    png[p + 8] = 0x78;
    png[p + 9] = 0x9c;
    png[p + 10] = 0xff; // invalid deflate block type (3)
    png[p + 11] = 0xff;
    let crc = ~0;
    for (let i = p + 4; i < p + 8 + len; i++) {
      crc ^= png[i];
      for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
    }
    dv.setUint32(p + 8 + len, ~crc >>> 0);
    const err = await decodePng(png).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).not.toBeNull();
    expect(err!.message).toMatch(/^corrupt PNG: /);
    expect(err!.message.trim()).not.toMatch(/:$/);
    expect(err!.message).toMatch(/decompressing the data: \S/);
  });
});
