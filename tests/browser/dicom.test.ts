// Compressed DICOM in the browser: the worker decodes every transfer syntax Node decodes, with the
// same code and the same result (bit-identical model input); the codecs are fetched from the app's
// own origin only when a file needs them (a JPEG loads none), under the CSP; the header is used on
// the page (lateral view withheld with its reason, pediatric warning, header facts) and identifying
// fields appear nowhere on it.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { decodeImageBytes } from '../../src/image/decode';
import { preprocessDecoded, toGray8 } from '../../src/image/preprocess';
import { parseModelMetadata } from '../../src/core/metadata';
import { makeDicom, TS } from '../unit/helpers/dicom-writer';
import {
  asExtendedJpeg,
  encodeHtj2k,
  encodeJ2k,
  encodeJpegExtended,
  encodeJpegLossless,
  encodeJpegLs,
  encodeRle,
  type GrayFrame,
} from '../unit/helpers/dicom-encoders';
import {
  addFiles,
  hasData,
  openApp,
  readTable,
  skipReason,
  startPreview,
  testImages,
  useAppHarness,
  waitForModel,
  waitForRows,
  waitForServiceWorker,
} from './helpers';

const CODEC_FILES = /openjpeg|openjph|charls|libjpegturbo|lossless-|jpeg-extended-/;

async function browserInput(page: Page, bytes: Uint8Array): Promise<{ input: number[]; format: string }> {
  return page.evaluate(async (b64) => {
    const bin = atob(b64);
    const u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    const r = await window.cxrLab!.preprocess(u8);
    return { input: Array.from(r.input), format: r.format };
  }, Buffer.from(bytes).toString('base64'));
}

if (!hasData()) console.warn(skipReason());

/** Bytes of each codec as built (its JS chunk and its wasm, raw and gzip), for the README figures. */
function codecSizes(distDir: string): { codec: string; js: number; jsGzip: number; wasm: number; wasmGzip: number }[] {
  const files = fs.readdirSync(path.join(distDir, 'assets'));
  const size = (f: string | undefined) => (f ? fs.readFileSync(path.join(distDir, 'assets', f)) : Buffer.alloc(0));
  const codecs: [string, RegExp, RegExp | null][] = [
    ['@cornerstonejs/codec-openjpeg (JPEG 2000)', /^openjpegwasm_decode-.*\.js$/, /^openjpegwasm_decode-.*\.wasm$/],
    ['@cornerstonejs/codec-openjph (HTJ2K)', /^openjphjs-.*\.js$/, /^openjphjs-.*\.wasm$/],
    ['@cornerstonejs/codec-charls (JPEG-LS)', /^charlswasm_decode-.*\.js$/, /^charlswasm_decode-.*\.wasm$/],
    ['@cornerstonejs/codec-libjpeg-turbo-8bit (JPEG Extended)', /^libjpegturbowasm_decode-.*\.js$/, /^libjpegturbowasm_decode-.*\.wasm$/],
    ['@cornerstonejs/jpeg-lossless-decoder-js (JPEG Lossless)', /^lossless-.*\.js$/, null],
    ['src/image/jpeg-extended.ts (12-bit JPEG Extended)', /^jpeg-extended-.*\.js$/, null],
  ];
  return codecs.map(([codec, js, wasm]) => {
    const j = size(files.find((f) => js.test(f)));
    const w = size(wasm ? files.find((f) => wasm.test(f)) : undefined);
    return { codec, js: j.length, jsGzip: zlib.gzipSync(j).length, wasm: w.length, wasmGzip: w.length ? zlib.gzipSync(w).length : 0 };
  });
}

describe.skipIf(!hasData())('DICOM in the browser', () => {
  const app = useAppHarness();

  /** A dataset image as 12-bit stored values, and as the compressed DICOMs of every syntax. */
  async function fixtures(): Promise<{ name: string; bytes: Uint8Array }[]> {
    const jpeg = new Uint8Array(fs.readFileSync(testImages('normal', 1)[0]));
    const gray = toGray8(await decodeImageBytes(jpeg));
    const { width: W, height: H } = gray;
    const s12 = Array.from(gray.data, (v) => v * 16);
    const f12: GrayFrame = { width: W, height: H, bitsPerSample: 12, pixels: s12 };
    const win = { rows: H, columns: W, bitsAllocated: 16 as const, bitsStored: 12, windowCenter: 2040.5, windowWidth: 4081 };
    return [
      { name: 'j2k.dcm', bytes: makeDicom({ ...win, transferSyntax: TS.jpeg2000, frames: [await encodeJ2k(f12)] }) },
      { name: 'htj2k.dcm', bytes: makeDicom({ ...win, transferSyntax: TS.htj2k, frames: [await encodeHtj2k(f12)] }) },
      { name: 'jls.dcm', bytes: makeDicom({ ...win, transferSyntax: TS.jpegLsNear, frames: [await encodeJpegLs(f12, 3)] }) },
      { name: 'lossless.dcm', bytes: makeDicom({ ...win, transferSyntax: TS.jpegLossless, frames: [encodeJpegLossless(f12, 1)] }) },
      { name: 'extended.dcm', bytes: makeDicom({ rows: H, columns: W, transferSyntax: TS.jpegExtended, frames: [asExtendedJpeg(jpeg)] }) },
      { name: 'extended12.dcm', bytes: makeDicom({ ...win, transferSyntax: TS.jpegExtended, frames: [encodeJpegExtended(f12, 2, 16)] }) },
      { name: 'rle.dcm', bytes: makeDicom({ ...win, transferSyntax: TS.rle, frames: [encodeRle(s12, W, H, 16)] }) },
      { name: 'bigendian.dcm', bytes: makeDicom({ ...win, transferSyntax: TS.bigEndian, pixels: s12, photometric: 'MONOCHROME1', windowCenter: 2040.5 }) },
    ];
  }

  it('every compressed syntax gives the same model input in the worker as in Node (bit-identical); codecs only from this origin', async () => {
    const { page, log, problems } = await openApp(app.browser, app.server.url);
    const spec = parseModelMetadata(JSON.parse(fs.readFileSync(path.join(app.build.modelDir, 'metadata.json'), 'utf8'))).preprocessing;
    for (const f of await fixtures()) {
      const node = preprocessDecoded(await decodeImageBytes(f.bytes), spec);
      const web = await browserInput(page, f.bytes);
      expect(web.format, f.name).toBe('dicom');
      let diff = 0;
      for (let i = 0; i < node.length; i++) diff = Math.max(diff, Math.abs(node[i] - web.input[i]));
      expect(diff, f.name).toBe(0);
    }
    const codecRequests = log.entries
      .filter((e) => CODEC_FILES.test(e.url) && !e.fromServiceWorker)
      .map((e) => new URL(e.url).pathname.replace(/-[\w-]{8}\./, '.'));
    for (const file of ['openjpegwasm_decode.wasm', 'openjphjs.wasm', 'charlswasm_decode.wasm', 'libjpegturbowasm_decode.wasm'])
      expect(
        codecRequests.some((p) => p.endsWith(file)),
        file,
      ).toBe(true);
    expect(log.foreign()).toEqual([]);
    expect(problems).toEqual([]);
    const sizes = codecSizes(app.build.distDir);
    console.log(
      `codec sizes as built (bytes, raw / gzip; each JS chunk is loaded only by a file that needs it):\n${sizes.map((c) => `  ${c.codec}: JS ${c.js} / ${c.jsGzip}${c.wasm ? `, wasm ${c.wasm} / ${c.wasmGzip}` : ''}`).join('\n')}`,
    );
    for (const c of sizes) expect(c.js, c.codec).toBeGreaterThan(0);
    // Precached for offline use: the service worker's manifest lists every codec file.
    const sw = fs.readFileSync(path.join(app.build.distDir, 'sw.js'), 'utf8');
    for (const stem of ['openjpegwasm_decode', 'openjphjs', 'charlswasm_decode', 'libjpegturbowasm_decode']) {
      expect(sw, stem).toMatch(new RegExp(`assets/${stem}-[\\w-]+\\.wasm`));
      expect(sw, stem).toMatch(new RegExp(`assets/${stem}-[\\w-]+\\.js`));
    }
    expect(sw).toMatch(/assets\/lossless-[\w-]+\.js/);
  });

  it('a JPEG loads no codec; a truncated DICOM gets its reason and the batch goes on; a lateral pediatric DICOM is withheld with its reason, its header facts shown, nothing identifying on the page', async () => {
    const { page, log, problems } = await openApp(app.browser, app.server.url);
    await addFiles(page, testImages('covid', 1));
    await waitForRows(page, 1);
    // The page and its worker load no codec for a JPEG (the service worker may precache them for offline use).
    expect(log.entries.filter((e) => CODEC_FILES.test(e.url) && !e.fromServiceWorker)).toEqual([]);

    const gray = toGray8(await decodeImageBytes(new Uint8Array(fs.readFileSync(testImages('normal', 1)[0]))));
    const s12 = Array.from(gray.data, (v) => v * 16);
    const identifying = { patientName: 'DOE^JANE', patientId: 'MRN-0042-77', birthDate: '19610503', accession: 'ACC-99881' };
    const dcm = makeDicom({
      rows: gray.height,
      columns: gray.width,
      bitsAllocated: 16,
      bitsStored: 12,
      transferSyntax: TS.jpeg2000,
      frames: [await encodeJ2k({ width: gray.width, height: gray.height, bitsPerSample: 12, pixels: s12 })],
      windowCenter: '2040.5\\600',
      windowWidth: '4081\\400',
      viewPosition: 'LL',
      bodyPart: 'CHEST',
      patientAge: '005Y',
      patientSex: 'F',
      modality: 'DX',
      manufacturer: 'Acme Imaging',
      ...identifying,
    });
    // A truncated file first: its row gets the specific reason, and the batch goes on.
    const truncated = Buffer.from(dcm.subarray(0, dcm.length - 2000));
    await addFiles(page, [
      { name: 'IM000001', buffer: truncated, mimeType: 'application/dicom' },
      { name: 'IM000002', buffer: Buffer.from(dcm), mimeType: 'application/dicom' },
    ]);
    await waitForRows(page, 3);
    const rows = await readTable(page);
    expect(rows.map((r) => r.status)).toEqual(['done', 'error', 'done']);
    expect(rows[1].error).toMatch(/DICOM pixel data is truncated/);
    const card = page.locator('[data-testid="result-card"][data-file="IM000002"]');
    await card.waitFor();
    expect(await card.getAttribute('data-withheld')).toBe('true');
    expect(await card.getByTestId('ood-alert').innerText()).toMatch(
      /^Not a chest X-ray\? Lateral view \(DICOM View Position LL\); the model reads frontal films only\./,
    );
    expect(await card.getByTestId('dicom-notes').innerText()).toMatch(/pediatric patient \(age 5 years/);
    expect(await card.getByTestId('dicom-notes').innerText()).toMatch(/the header offers 2 windows; the first was used/);
    expect(await card.getByTestId('dicom-grey-levels').innerText()).toBe('window C 2040.5 W 4081 from the header, first of 2');
    expect(await card.getByTestId('dicom-manufacturer').innerText()).toBe('Acme Imaging');
    const body = await page.locator('body').innerText();
    for (const value of Object.values(identifying)) expect(body).not.toContain(value);
    expect(problems).toEqual([]);
  });

  it('offline after one visit: a JPEG 2000 and a JPEG-LS DICOM still decode (codecs precached), with the server gone', async () => {
    const own = await startPreview();
    const { page, context, problems } = await openApp(app.browser, own.url);
    await waitForServiceWorker(page);
    await own.close();
    await context.setOffline(true);
    await page.reload();
    await waitForModel(page);
    const all = await fixtures();
    const files = all
      .filter((f) => f.name === 'j2k.dcm' || f.name === 'jls.dcm')
      .map((f) => ({ name: f.name, buffer: Buffer.from(f.bytes), mimeType: 'application/dicom' }));
    await addFiles(page, files);
    await waitForRows(page, 2);
    const rows = await readTable(page);
    expect(rows.map((r) => r.status)).toEqual(['done', 'done']);
    await context.setOffline(false);
    expect(problems).toEqual([]);
  });
});
