// DICOM (Part 10) → DecodedImage, platform-neutral (Node tools, the browser worker, tests), using the
// maintained `dicom-parser` package for the data set, maintained codecs for compressed pixel data
// (src/image/dicom-codecs.ts, loaded only when a file needs one) and our own pixel pipeline for what
// they leave to the viewer. The pipeline follows PS3.3 C.11 / C.7.6.3:
//
//   stored values (BitsAllocated 8/16/32, BitsStored ≤ BitsAllocated, HighBit, signed or unsigned)
//   → Modality LUT: the Modality LUT Sequence when present, else RescaleSlope × stored + RescaleIntercept
//   → VOI: WindowCenter/WindowWidth from the header (the first when several; LINEAR, LINEAR_EXACT or
//     SIGMOID), else the first VOI LUT Sequence item, else an automatic window (0.5–99.5 percentile
//     of the modality values, pixel padding excluded; data of ≤ 8 stored bits without rescaling is
//     shown as stored). The choice is recorded in words (DicomMeta.windowDescription).
//   → 8-bit display values; MONOCHROME1 (minimum = white) is inverted AFTER the VOI transform, so
//     that, as in every other input, bright means dense.
//
// RGB and YBR colour images pass through as 8-bit RGB. Transfer syntaxes: implicit/explicit little
// endian, explicit big endian, deflated, JPEG baseline (jpeg-js, as JPEG files), and through
// dicom-codecs JPEG Extended (8 and 12 bit), JPEG Lossless, JPEG-LS, JPEG 2000, HTJ2K and RLE. Anything
// else gets an ImageDecodeError naming the syntax. Multi-frame files give their first frame (noted).
// Identifying header fields are never read (src/core/dicom-meta.ts).
import * as dicomParserNs from 'dicom-parser';

// dicom-parser is a UMD/CommonJS bundle: Vite exposes its functions as named exports, Node's ESM
// loader (tsx, the CLIs) only as the default export. Take whichever carries parseDicom.
type DicomParserModule = typeof import('dicom-parser');
const dicomParser: DicomParserModule = (
  typeof (dicomParserNs as unknown as { parseDicom?: unknown }).parseDicom === 'function'
    ? dicomParserNs
    : (dicomParserNs as unknown as { default: DicomParserModule }).default
) as DicomParserModule;
import { inflateSync } from 'fflate';
import { ImageDecodeError, checkImageSize } from './format';
import { decodeJpeg } from './jpeg';
import { decodeCompressedFrame, hasCodec, type CodecFrame } from './dicom-codecs';
import { ageInYears, headerReasons, pediatricWarning, type DicomMeta } from '../core/dicom-meta';
import type { DecodedImage } from './preprocess';

export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

export interface DicomWindow {
  center: number;
  width: number;
  /** 'header': Window Center/Width; 'voi-lut': the VOI LUT Sequence (center/width describe its input range). */
  source: 'header' | 'voi-lut' | 'auto' | 'stored-range';
  function: VoiFunction;
  /** Which of the header's windows (0-based) and how many there were ('header' only). */
  index?: number;
  count?: number;
}

export interface DicomInfo {
  transferSyntax: string;
  transferSyntaxName: string;
  photometric: string;
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: 0 | 1;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** The VOI transform applied (in modality units), and where it came from. Absent for colour images. */
  window?: DicomWindow;
  numberOfFrames: number;
  modality?: string;
  bodyPart?: string;
  viewPosition?: string;
  /** The header facts kept for results, CSV and grouping (no identifying fields). */
  meta: DicomMeta;
}

export interface DicomDecoded {
  image: DecodedImage;
  info: DicomInfo;
}

export interface DicomDecodeOptions {
  /** 'header' (default) uses the file's window or VOI LUT when present; 'auto' always computes one. */
  window?: 'header' | 'auto';
  /** Percentiles of the automatic window (default [0.5, 99.5]). */
  autoPercentiles?: [number, number];
}

const UNCOMPRESSED: Record<string, string> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian',
};
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
const BIG_ENDIAN = '1.2.840.10008.1.2.2';

/** Names of the compressed transfer syntaxes, for the error message. */
export const COMPRESSED_TRANSFER_SYNTAXES: Record<string, string> = {
  [JPEG_BASELINE]: 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless, Non-Hierarchical (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Image Compression (Lossless Only)',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000 Image Compression',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component Image Compression',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile / Main Level',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 High Profile / Level 4.1',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
  '1.2.840.10008.1.2.4.112': 'JPEG XL',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};

export function transferSyntaxName(uid: string): string {
  return UNCOMPRESSED[uid] ?? COMPRESSED_TRANSFER_SYNTAXES[uid] ?? `unknown transfer syntax ${uid}`;
}

function inflater(arr: Uint8Array, position: number): Uint8Array {
  const inflated = inflateSync(arr.subarray(position));
  const full = new Uint8Array(position + inflated.length);
  full.set(arr.subarray(0, position), 0);
  full.set(inflated, position);
  return full;
}

function parse(bytes: Uint8Array): dicomParserNs.DataSet {
  const options = {
    // Deflated syntax: fflate (already a dependency) instead of Node's zlib or a global pako.
    inflater: inflater as unknown as (arr: Uint8Array, position: number) => void,
  };
  try {
    return dicomParser.parseDicom(bytes, options);
  } catch (e) {
    // dicom-parser throws { exception, dataSet } when it got part of the way: a file cut short
    // inside the pixel data still has its image header, so say which part is missing.
    const partial = (e as { exception?: unknown; dataSet?: dicomParserNs.DataSet }).dataSet;
    const cause = (e as { exception?: unknown }).exception ?? e;
    const msg = (cause instanceof Error ? cause.message : String(cause)).replace(/^dicomParser\.\w+: ?/, '');
    if (partial?.elements.x00280010 && partial.elements.x7fe00010) {
      throw new ImageDecodeError(`DICOM pixel data is truncated: the file ends inside it (${msg})`);
    }
    throw new ImageDecodeError(`corrupt DICOM file: ${msg}`);
  }
}

/** An unsigned short (US) element, e.g. Rows; works for implicit VR too (no VR in the file). */
function us(ds: dicomParserNs.DataSet, tag: string, fallback: number): number {
  const el = ds.elements[tag];
  if (!el || el.length < 2) return fallback;
  const v = ds.uint16(tag);
  return v !== undefined && Number.isFinite(v) ? v : fallback;
}

/** A decimal or integer string (DS / IS) element, e.g. RescaleSlope; first value when multi-valued. */
function decimal(ds: dicomParserNs.DataSet, tag: string, fallback: number): number {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return fallback;
  const v = ds.floatString(tag, 0);
  return v !== undefined && Number.isFinite(v) ? v : fallback;
}

function str(ds: dicomParserNs.DataSet, tag: string): string | undefined {
  const v = ds.string(tag);
  return v && v.trim() ? v.trim().toUpperCase() : undefined;
}

/** A text element as written (trimmed, case kept), e.g. the manufacturer's name. */
function text(ds: dicomParserNs.DataSet, tag: string): string | undefined {
  const v = ds.string(tag);
  return v && v.trim() ? v.trim() : undefined;
}

/** The header facts CXR Lab keeps. Only the tags named here are read (no name, ID, birth date, accession). */
function headerMeta(ds: dicomParserNs.DataSet, info: Omit<DicomInfo, 'meta'>): DicomMeta {
  const orientation = ds.string('x00200020');
  const patientAge = text(ds, 'x00101010');
  const meta: DicomMeta = {
    modality: str(ds, 'x00080060'),
    viewPosition: str(ds, 'x00185101'),
    patientOrientation: orientation && orientation.trim() ? orientation.trim().toUpperCase().split('\\') : undefined,
    bodyPart: str(ds, 'x00180015'),
    patientAge,
    ageYears: ageInYears(patientAge),
    patientSex: str(ds, 'x00100040'),
    manufacturer: text(ds, 'x00080070'),
    manufacturerModel: text(ds, 'x00081090'),
    transferSyntax: info.transferSyntax,
    transferSyntaxName: info.transferSyntaxName,
    photometric: info.photometric,
    bitsStored: info.bitsStored,
    numberOfFrames: info.numberOfFrames,
    notes: [],
    headerReasons: [],
  };
  for (const k of Object.keys(meta) as (keyof DicomMeta)[]) if (meta[k] === undefined) delete meta[k];
  meta.headerReasons = headerReasons(meta);
  const pediatric = pediatricWarning(meta);
  if (pediatric) meta.notes.push(pediatric);
  return meta;
}

const COLOUR_PHOTOMETRICS = new Set(['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_PARTIAL_420', 'YBR_ICT', 'YBR_RCT']);

/** Decodes a DICOM Part 10 file (first frame) to an 8-bit gray or RGB DecodedImage. */
export async function decodeDicom(bytes: Uint8Array, options: DicomDecodeOptions = {}): Promise<DicomDecoded> {
  const ds = parse(bytes);
  const ts = ds.string('x00020010')?.trim() ?? '1.2.840.10008.1.2';
  const rows = us(ds, 'x00280010', 0);
  const columns = us(ds, 'x00280011', 0);
  const pixel = ds.elements.x7fe00010;
  if (!pixel) throw new ImageDecodeError('DICOM file has no pixel data (it may be a report, a structured document or a presentation state)');
  if (!rows || !columns) throw new ImageDecodeError('DICOM file has pixel data but no Rows/Columns');
  // Before anything is allocated for the pixels.
  checkImageSize(columns, rows);
  const samplesPerPixel = us(ds, 'x00280002', 1);
  const photometric = str(ds, 'x00280004') ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2');
  const bitsAllocated = us(ds, 'x00280100', 8);
  const bitsStored = us(ds, 'x00280101', bitsAllocated);
  const highBit = us(ds, 'x00280102', bitsStored - 1);
  const pixelRepresentation = (us(ds, 'x00280103', 0) === 1 ? 1 : 0) as 0 | 1;
  const slope = decimal(ds, 'x00281053', 1) || 1;
  const intercept = decimal(ds, 'x00281052', 0);
  const numberOfFrames = Math.max(1, Math.round(decimal(ds, 'x00280008', 1)));
  const base: Omit<DicomInfo, 'meta'> = {
    transferSyntax: ts,
    transferSyntaxName: transferSyntaxName(ts),
    photometric,
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation,
    rescaleSlope: slope,
    rescaleIntercept: intercept,
    numberOfFrames,
    modality: str(ds, 'x00080060'),
    bodyPart: str(ds, 'x00180015'),
    viewPosition: str(ds, 'x00185101'),
  };
  const info: DicomInfo = { ...base, meta: headerMeta(ds, base) };
  const meta = info.meta;
  if (numberOfFrames > 1) meta.notes.push(`multi-frame file (${numberOfFrames} frames): only the first frame was read`);
  const n = rows * columns;

  const native = ts in UNCOMPRESSED;
  if (!native && ts !== JPEG_BASELINE && !hasCodec(ts)) {
    const name = COMPRESSED_TRANSFER_SYNTAXES[ts];
    throw new ImageDecodeError(
      name
        ? `DICOM compressed with ${name} (transfer syntax ${ts}) cannot be decoded here: no decoder for it is included; export it uncompressed (e.g. \`dcmdjpeg\`/\`gdcmconv --raw\`) or as PNG`
        : `DICOM transfer syntax ${ts} is not supported; export it as uncompressed DICOM or PNG`,
    );
  }
  if (![1, 3].includes(samplesPerPixel)) throw new ImageDecodeError(`DICOM with ${samplesPerPixel} samples per pixel is not supported`);
  const colour = samplesPerPixel === 3;
  if (!colour && photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2') {
    throw new ImageDecodeError(`DICOM photometric interpretation ${photometric} is not supported (only MONOCHROME1, MONOCHROME2, RGB and YBR)`);
  }
  if (colour && !COLOUR_PHOTOMETRICS.has(photometric))
    throw new ImageDecodeError(`DICOM photometric interpretation ${photometric} is not supported for colour (only RGB and YBR)`);

  // ---- Stored values of the first frame.
  let stored: Float64Array | Int32Array;
  let rgb: Uint8Array | null = null;
  if (ts === JPEG_BASELINE) {
    const frame = firstFrame(ds, pixel, numberOfFrames, ts, meta);
    const jpg = await decodeJpeg(frame);
    if (jpg.width !== columns || jpg.height !== rows)
      throw new ImageDecodeError(`DICOM JPEG frame is ${jpg.width}×${jpg.height} but the header says ${columns}×${rows}`);
    if (colour) {
      rgb = new Uint8Array(n * 3);
      for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = jpg.data[i * 4 + c];
      stored = new Int32Array(0);
    } else {
      stored = new Int32Array(n);
      for (let i = 0; i < n; i++) stored[i] = jpg.data[i * 4];
    }
  } else if (!native) {
    const frame = firstFrame(ds, pixel, numberOfFrames, ts, meta);
    let decoded = await decodeCompressedFrame(ts, frame, { rows, columns, samplesPerPixel, bitsAllocated, pixelRepresentation });
    if (decoded.width !== columns || decoded.height !== rows) {
      throw new ImageDecodeError(`DICOM ${transferSyntaxName(ts)} frame is ${decoded.width}×${decoded.height} but the header says ${columns}×${rows}`);
    }
    if (ts === '1.2.840.10008.1.2.4.51' && samplesPerPixel === 1 && decoded.components === 3) {
      // A grey picture saved as a 3-component JPEG: use the first channel, as the baseline path does.
      const grey = new Uint8Array(n);
      for (let i = 0; i < n; i++) grey[i] = decoded.data[i * 3];
      decoded = { ...decoded, components: 1, data: grey };
      meta.notes.push('the JPEG frame has 3 components but the header says 1 sample per pixel: the first was used');
    }
    if (decoded.components !== samplesPerPixel) {
      throw new ImageDecodeError(
        `DICOM ${transferSyntaxName(ts)} frame has ${decoded.components} components but the header says ${samplesPerPixel} samples per pixel`,
      );
    }
    if (colour) {
      rgb = codecToRgb(decoded);
      // RLE keeps the samples as stored; the JPEG-family codecs return RGB already.
      if (ts === '1.2.840.10008.1.2.5' && photometric === 'YBR_FULL') ybrFullToRgb(rgb, n);
      stored = new Int32Array(0);
    } else {
      stored = codecToStored(decoded, bitsStored, pixelRepresentation);
    }
  } else {
    if (pixel.encapsulatedPixelData) throw new ImageDecodeError(`DICOM pixel data is encapsulated but the transfer syntax ${ts} is not compressed`);
    if (![8, 16, 32].includes(bitsAllocated)) throw new ImageDecodeError(`DICOM BitsAllocated ${bitsAllocated} is not supported (8, 16 or 32)`);
    if (!(bitsStored >= 1 && bitsStored <= bitsAllocated && highBit >= bitsStored - 1 && highBit < bitsAllocated)) {
      throw new ImageDecodeError(`DICOM bit layout is inconsistent: BitsAllocated ${bitsAllocated}, BitsStored ${bitsStored}, HighBit ${highBit}`);
    }
    const bytesPer = bitsAllocated / 8;
    const frameBytes = n * samplesPerPixel * bytesPer;
    const start = pixel.dataOffset;
    const available = Math.min(pixel.length, ds.byteArray.length - start);
    if (available < frameBytes) throw new ImageDecodeError(`DICOM pixel data is truncated: ${available} bytes, one frame needs ${frameBytes}`);
    const src = (ds.byteArray as Uint8Array).subarray(start, start + frameBytes);
    const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
    const little = ts !== BIG_ENDIAN;
    if (colour) {
      if (photometric !== 'RGB' && photometric !== 'YBR_FULL') {
        throw new ImageDecodeError(`DICOM photometric interpretation ${photometric} is not supported uncompressed (only RGB and YBR_FULL colour)`);
      }
      const planar = us(ds, 'x00280006', 0) === 1;
      rgb = new Uint8Array(n * 3);
      const shift = bitsStored > 8 ? bitsStored - 8 : 0;
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < 3; c++) {
          const idx = planar ? c * n + i : i * 3 + c;
          const raw = bytesPer === 1 ? src[idx] : bytesPer === 2 ? dv.getUint16(idx * 2, little) : dv.getUint32(idx * 4, little);
          rgb[i * 3 + c] = Math.min(255, raw >>> shift);
        }
      }
      if (photometric === 'YBR_FULL') ybrFullToRgb(rgb, n);
      stored = new Int32Array(0);
    } else {
      stored = new Float64Array(n);
      const lowBit = highBit - bitsStored + 1;
      const mask = bitsStored >= 32 ? 0xffffffff : 2 ** bitsStored - 1;
      const signBit = 2 ** (bitsStored - 1);
      for (let i = 0; i < n; i++) {
        const raw = bytesPer === 1 ? src[i] : bytesPer === 2 ? dv.getUint16(i * 2, little) : dv.getUint32(i * 4, little);
        // Bits outside [lowBit, highBit] may hold overlays or garbage: mask them away.
        let v = Math.floor(raw / 2 ** lowBit) % (mask + 1);
        if (pixelRepresentation === 1 && v >= signBit) v -= 2 * signBit;
        stored[i] = v;
      }
    }
  }

  if (rgb) {
    return { image: { width: columns, height: rows, channels: 3, data: rgb, bitDepth: 8, dicom: meta }, info };
  }

  // ---- Modality LUT (sequence, else rescale) → VOI (window, else VOI LUT, else automatic) → 8 bit.
  const values = new Float64Array(n);
  const modalityLut = readLut(ds, 'x00283000', pixelRepresentation);
  if (modalityLut) {
    for (let i = 0; i < n; i++) values[i] = modalityLut.map(stored[i]);
    meta.notes.push('modality LUT sequence applied (instead of rescale slope/intercept)');
  } else {
    for (let i = 0; i < n; i++) values[i] = stored[i] * slope + intercept;
  }
  const out = new Uint8Array(n);
  const voiLut = options.window === 'auto' ? null : readLut(ds, 'x00283010', modalityLut || slope !== 1 || intercept !== 0 ? 1 : pixelRepresentation);
  const window = chooseWindow(ds, values, stored, info, options, voiLut);
  info.window = window;
  if (window.source === 'voi-lut' && voiLut) {
    const top = 2 ** voiLut.bits - 1;
    for (let i = 0; i < n; i++) out[i] = clamp255((voiLut.map(values[i]) / top) * 255);
  } else {
    applyWindow(values, window, out);
  }
  meta.windowDescription = describeWindow(window, voiLut !== null, photometric);
  if (window.count !== undefined && window.count > 1) meta.notes.push(`the header offers ${window.count} windows; the first was used`);
  // After the VOI transform (PS3.3 C.7.6.3.1.2): MONOCHROME1's minimum is white.
  if (photometric === 'MONOCHROME1') for (let i = 0; i < n; i++) out[i] = 255 - out[i];
  return { image: { width: columns, height: rows, channels: 1, data: out, bitDepth: 8, dicom: meta }, info };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function describeWindow(w: DicomWindow, hasVoiLut: boolean, photometric: string): string {
  const inv = photometric === 'MONOCHROME1' ? '; MONOCHROME1 inverted after it' : '';
  switch (w.source) {
    case 'header': {
      const which = w.count && w.count > 1 ? `, first of ${w.count}` : '';
      const lut = hasVoiLut ? ' (a VOI LUT is also in the header)' : '';
      const fn = w.function === 'LINEAR' ? '' : ` ${w.function}`;
      return `window C ${fmt(w.center)} W ${fmt(w.width)}${fn} from the header${which}${lut}${inv}`;
    }
    case 'voi-lut':
      return `VOI LUT from the header (first item, inputs ${fmt(w.center - w.width / 2)}–${fmt(w.center + w.width / 2)})${inv}`;
    case 'stored-range':
      return `stored 8-bit values as they are (no window in the header)${inv}`;
    default:
      return `automatic window C ${fmt(w.center)} W ${fmt(w.width)} (0.5–99.5 percentile; none in the header)${inv}`;
  }
}

function ybrFullToRgb(rgb: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const y = rgb[i * 3];
    const cb = rgb[i * 3 + 1] - 128;
    const cr = rgb[i * 3 + 2] - 128;
    rgb[i * 3] = clamp255(y + 1.402 * cr);
    rgb[i * 3 + 1] = clamp255(y - 0.344136 * cb - 0.714136 * cr);
    rgb[i * 3 + 2] = clamp255(y + 1.772 * cb);
  }
}

/** A codec's grey samples as stored values: masked to BitsStored and sign-extended when the header says signed. */
function codecToStored(f: CodecFrame, bitsStored: number, pixelRepresentation: 0 | 1): Float64Array {
  const n = f.width * f.height;
  const out = new Float64Array(n);
  if (f.signed) {
    for (let i = 0; i < n; i++) out[i] = f.data[i];
    return out;
  }
  const bits = Math.min(Math.max(1, bitsStored), f.bitsPerSample > 0 ? f.bitsPerSample : bitsStored);
  const mask = 2 ** bits - 1;
  const signBit = 2 ** (bits - 1);
  for (let i = 0; i < n; i++) {
    let v = f.data[i] & mask;
    if (pixelRepresentation === 1 && v >= signBit) v -= 2 * signBit;
    out[i] = v;
  }
  return out;
}

function codecToRgb(f: CodecFrame): Uint8Array {
  const n = f.width * f.height;
  const shift = f.bitsPerSample > 8 ? f.bitsPerSample - 8 : 0;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n * 3; i++) out[i] = Math.min(255, Math.max(0, f.data[i]) >>> shift);
  return out;
}

/** The compressed bytes of the first frame (fragments joined as PS3.5 A.4 lays them out). */
function firstFrame(ds: dicomParserNs.DataSet, pixel: dicomParserNs.Element, frames: number, ts: string, meta: DicomMeta): Uint8Array {
  const name = transferSyntaxName(ts);
  if (!pixel.encapsulatedPixelData) throw new ImageDecodeError(`DICOM says ${name} but its pixel data is not encapsulated`);
  const fragments = pixel.fragments ?? [];
  if (fragments.length === 0) throw new ImageDecodeError(`DICOM ${name} pixel data is missing: the encapsulated pixel data has no fragments`);
  const end = ds.byteArray.length;
  for (const f of fragments) {
    if (f.position + f.length > end)
      throw new ImageDecodeError(`DICOM pixel data is truncated: a ${name} fragment runs ${f.position + f.length - end} bytes past the end of the file`);
  }
  try {
    if (frames <= 1) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixel, 0, fragments.length) as Uint8Array;
    if (pixel.basicOffsetTable?.length) return dicomParser.readEncapsulatedImageFrame(ds, pixel, 0) as Uint8Array;
    if (fragments.length === frames) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixel, 0, 1) as Uint8Array;
    if (ts.startsWith('1.2.840.10008.1.2.4.5') || ts.startsWith('1.2.840.10008.1.2.4.7')) {
      return dicomParser.readEncapsulatedImageFrame(ds, pixel, 0, dicomParser.createJPEGBasicOffsetTable(ds, pixel)) as Uint8Array;
    }
    meta.notes.push('no offset table for the frames: the first fragment was taken as the first frame');
    return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixel, 0, 1) as Uint8Array;
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    throw new ImageDecodeError(`corrupt DICOM ${name} pixel data: ${e instanceof Error ? e.message.replace(/^dicomParser\.\w+: ?/, '') : String(e)}`);
  }
}

interface Lut {
  entries: number;
  first: number;
  bits: number;
  map(v: number): number;
}

/**
 * The first item of a Modality (0028,3000) or VOI (0028,3010) LUT Sequence: LUT Descriptor
 * [entries (0 = 65536), first mapped value, bits per entry] and LUT Data (16-bit words, or bytes
 * when the data is exactly `entries` bytes long). Values below/above the table take its ends.
 */
function readLut(ds: dicomParserNs.DataSet, seqTag: string, inputSigned: 0 | 1): Lut | null {
  const item = ds.elements[seqTag]?.items?.[0]?.dataSet;
  if (!item) return null;
  const desc = item.elements.x00283002;
  const data = item.elements.x00283006;
  if (!desc || desc.length < 6 || !data) return null;
  const entries = item.uint16('x00283002', 0) || 65536;
  const firstRaw = item.uint16('x00283002', 1) ?? 0;
  const first = inputSigned && firstRaw >= 32768 ? firstRaw - 65536 : firstRaw;
  const bits = Math.min(16, Math.max(1, item.uint16('x00283002', 2) ?? 16));
  const table = new Float64Array(entries);
  if (data.length === entries) for (let i = 0; i < entries; i++) table[i] = item.byteArray[data.dataOffset + i];
  else {
    if (data.length < entries * 2) throw new ImageDecodeError(`DICOM LUT data is shorter (${data.length} bytes) than its descriptor's ${entries} entries`);
    for (let i = 0; i < entries; i++) table[i] = item.uint16('x00283006', i) ?? 0;
  }
  return { entries, first, bits, map: (v) => table[Math.max(0, Math.min(entries - 1, Math.round(v) - first))] };
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

function chooseWindow(
  ds: dicomParserNs.DataSet,
  values: Float64Array,
  stored: Float64Array | Int32Array,
  info: DicomInfo,
  options: DicomDecodeOptions,
  voiLut: Lut | null,
): DicomWindow {
  const fnRaw = str(ds, 'x00281056');
  const fn: VoiFunction = fnRaw === 'SIGMOID' || fnRaw === 'LINEAR_EXACT' ? fnRaw : 'LINEAR';
  if (options.window !== 'auto') {
    // Multi-valued DS ("c1\c2"): dicom-parser's floatString(tag, 0) reads the first value.
    const center = ds.floatString('x00281050', 0);
    const width = ds.floatString('x00281051', 0);
    if (center !== undefined && width !== undefined && Number.isFinite(center) && Number.isFinite(width) && width > 0) {
      if (!(fn === 'LINEAR' && width < 1)) {
        const count = Math.max(1, (ds.string('x00281050') ?? '').split('\\').length);
        return { center, width, source: 'header', function: fn, index: 0, count };
      }
    }
    if (voiLut) return { center: voiLut.first + voiLut.entries / 2, width: voiLut.entries, source: 'voi-lut', function: 'LINEAR' };
  }
  // Display-ready 8-bit data: show as stored.
  if (options.window !== 'auto' && info.bitsStored <= 8 && info.rescaleSlope === 1 && info.rescaleIntercept === 0 && info.pixelRepresentation === 0) {
    return { center: 128, width: 256, source: 'stored-range', function: 'LINEAR' };
  }
  // Automatic: percentiles of the modality values, pixel padding excluded.
  const padding = ds.elements.x00280120 ? (info.pixelRepresentation === 1 ? ds.int16('x00280120') : ds.uint16('x00280120')) : undefined;
  const [pLo, pHi] = options.autoPercentiles ?? [0.5, 99.5];
  const n = values.length;
  const step = Math.max(1, Math.floor(n / 1_000_000));
  const sample: number[] = [];
  for (let i = 0; i < n; i += step) if (padding === undefined || stored[i] !== padding) sample.push(values[i]);
  if (sample.length === 0) for (let i = 0; i < n; i += step) sample.push(values[i]);
  const sorted = Float64Array.from(sample).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))))];
  let lo = at(pLo);
  let hi = at(pHi);
  if (!(hi > lo)) {
    lo = sorted[0];
    hi = sorted[sorted.length - 1];
  }
  if (!(hi > lo)) hi = lo + 1;
  // LINEAR_EXACT maps [c − w/2, c + w/2] onto the output range exactly.
  return { center: (lo + hi) / 2, width: hi - lo, source: 'auto', function: 'LINEAR_EXACT' };
}

/** VOI LUT functions of PS3.3 C.11.2.1.2, output 0..255. */
export function applyWindow(values: ArrayLike<number>, window: { center: number; width: number; function: VoiFunction }, out: Uint8Array): void {
  const { center: c, width: w } = window;
  const n = values.length;
  if (window.function === 'SIGMOID') {
    for (let i = 0; i < n; i++) out[i] = clamp255(255 / (1 + Math.exp((-4 * (values[i] - c)) / w)));
  } else if (window.function === 'LINEAR_EXACT') {
    const lo = c - w / 2;
    for (let i = 0; i < n; i++) out[i] = clamp255(((values[i] - lo) / w) * 255);
  } else {
    const lo = c - 0.5 - (w - 1) / 2;
    const hi = c - 0.5 + (w - 1) / 2;
    for (let i = 0; i < n; i++) {
      const x = values[i];
      out[i] = x <= lo ? 0 : x > hi ? 255 : clamp255(((x - (c - 0.5)) / (w - 1) + 0.5) * 255);
    }
  }
}
