// DICOM (Part 10) → DecodedImage, platform-neutral (Node tools, the browser worker, tests), using the
// maintained `dicom-parser` package for the data set and our own pixel pipeline for what it leaves to
// the viewer. The pipeline follows PS3.3 C.11 / C.7.6.3:
//
//   stored values (BitsAllocated 8/16/32, BitsStored ≤ BitsAllocated, HighBit, signed or unsigned)
//   → Modality LUT: RescaleSlope × stored + RescaleIntercept
//   → VOI: WindowCenter/WindowWidth from the header (first value when multi-valued; LINEAR,
//     LINEAR_EXACT or SIGMOID) or else an automatic window (0.5–99.5 percentile of the modality
//     values, pixel padding excluded; data of ≤ 8 stored bits without rescaling is shown as stored)
//   → 8-bit display values; MONOCHROME1 (minimum = white) is inverted so that, as in every other
//     input, bright means dense.
//
// RGB and YBR_FULL colour images pass through as 8-bit RGB. Uncompressed (implicit/explicit little
// endian, explicit big endian), deflated and JPEG baseline (8-bit, via jpeg-js) transfer syntaxes are
// decoded; other compressed syntaxes get an ImageDecodeError naming the syntax. Multi-frame files
// give their first frame.
import * as dicomParserNs from 'dicom-parser';

// dicom-parser is a UMD/CommonJS bundle: Vite exposes its functions as named exports, Node's ESM
// loader (tsx, the CLIs) only as the default export. Take whichever carries parseDicom.
type DicomParserModule = typeof import('dicom-parser');
const dicomParser: DicomParserModule = (
  typeof (dicomParserNs as unknown as { parseDicom?: unknown }).parseDicom === 'function' ? dicomParserNs : (dicomParserNs as unknown as { default: DicomParserModule }).default
) as DicomParserModule;
import { inflateSync } from 'fflate';
import { ImageDecodeError, checkImageSize, decodeJpeg } from './decode';
import type { DecodedImage } from './preprocess';

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
  /** The VOI window applied (in modality units), and where it came from. Absent for colour images. */
  window?: { center: number; width: number; source: 'header' | 'auto' | 'stored-range'; function: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' };
  numberOfFrames: number;
  modality?: string;
  bodyPart?: string;
  viewPosition?: string;
}

export interface DicomDecoded {
  image: DecodedImage;
  info: DicomInfo;
}

export interface DicomDecodeOptions {
  /** 'header' (default) uses the file's window when present; 'auto' always computes one. */
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

function parse(bytes: Uint8Array): dicomParserNs.DataSet {
  try {
    return dicomParser.parseDicom(bytes, {
      // Deflated syntax: fflate (already a dependency) instead of Node's zlib or a global pako.
      inflater: ((arr: Uint8Array, position: number) => {
        const inflated = inflateSync(arr.subarray(position));
        const full = new Uint8Array(position + inflated.length);
        full.set(arr.subarray(0, position), 0);
        full.set(inflated, position);
        return full;
      }) as unknown as (arr: Uint8Array, position: number) => void,
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new ImageDecodeError(`corrupt DICOM file: ${msg.replace(/^dicomParser\.\w+: ?/, '')}`);
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

/** Decodes a DICOM Part 10 file (first frame) to an 8-bit gray or RGB DecodedImage. */
export async function decodeDicom(bytes: Uint8Array, options: DicomDecodeOptions = {}): Promise<DicomDecoded> {
  const ds = parse(bytes);
  const ts = ds.string('x00020010')?.trim() ?? '1.2.840.10008.1.2';
  const rows = us(ds, 'x00280010', 0);
  const columns = us(ds, 'x00280011', 0);
  const pixel = ds.elements.x7fe00010;
  if (!pixel) throw new ImageDecodeError('DICOM file has no pixel data (it may be a report, a structured document or a presentation state)');
  if (!rows || !columns) throw new ImageDecodeError('DICOM file has pixel data but no Rows/Columns');
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
  const info: DicomInfo = {
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
  const n = rows * columns;

  if (ts !== JPEG_BASELINE && !(ts in UNCOMPRESSED)) {
    const name = COMPRESSED_TRANSFER_SYNTAXES[ts];
    throw new ImageDecodeError(
      name
        ? `DICOM compressed with ${name} (transfer syntax ${ts}) cannot be decoded here; export it uncompressed (e.g. \`dcmdjpeg\`/\`gdcmconv --raw\`) or as PNG`
        : `DICOM transfer syntax ${ts} is not supported; export it as uncompressed DICOM or PNG`,
    );
  }
  if (![1, 3].includes(samplesPerPixel)) throw new ImageDecodeError(`DICOM with ${samplesPerPixel} samples per pixel is not supported`);
  const colour = samplesPerPixel === 3;
  if (!colour && photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2') {
    throw new ImageDecodeError(`DICOM photometric interpretation ${photometric} is not supported (only MONOCHROME1, MONOCHROME2, RGB and YBR_FULL)`);
  }

  // ---- Stored values of the first frame.
  let stored: Float64Array | Int32Array;
  let rgb: Uint8Array | null = null;
  if (ts === JPEG_BASELINE) {
    if (!pixel.encapsulatedPixelData) throw new ImageDecodeError('DICOM says JPEG Baseline but its pixel data is not encapsulated');
    let frame: Uint8Array;
    try {
      frame = dicomParser.readEncapsulatedImageFrame(ds, pixel, 0, pixel.basicOffsetTable?.length ? undefined : dicomParser.createJPEGBasicOffsetTable(ds, pixel)) as Uint8Array;
    } catch (e) {
      throw new ImageDecodeError(`corrupt DICOM JPEG pixel data: ${e instanceof Error ? e.message : String(e)}`);
    }
    const jpg = await decodeJpeg(frame);
    if (jpg.width !== columns || jpg.height !== rows) throw new ImageDecodeError(`DICOM JPEG frame is ${jpg.width}×${jpg.height} but the header says ${columns}×${rows}`);
    if (colour) {
      rgb = new Uint8Array(n * 3);
      for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = jpg.data[i * 4 + c];
      stored = new Int32Array(0);
    } else {
      stored = new Int32Array(n);
      for (let i = 0; i < n; i++) stored[i] = jpg.data[i * 4];
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
    const little = ts !== '1.2.840.10008.1.2.2';
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
      if (photometric === 'YBR_FULL') {
        for (let i = 0; i < n; i++) {
          const y = rgb[i * 3];
          const cb = rgb[i * 3 + 1] - 128;
          const cr = rgb[i * 3 + 2] - 128;
          rgb[i * 3] = clamp255(y + 1.402 * cr);
          rgb[i * 3 + 1] = clamp255(y - 0.344136 * cb - 0.714136 * cr);
          rgb[i * 3 + 2] = clamp255(y + 1.772 * cb);
        }
      }
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
    return { image: { width: columns, height: rows, channels: 3, data: rgb, bitDepth: 8 }, info };
  }

  // ---- Modality LUT (rescale) → VOI window → 8 bit.
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = stored[i] * slope + intercept;
  const window = chooseWindow(ds, values, stored, info, options);
  info.window = window;
  const out = new Uint8Array(n);
  applyWindow(values, window, out);
  if (photometric === 'MONOCHROME1') for (let i = 0; i < n; i++) out[i] = 255 - out[i];
  return { image: { width: columns, height: rows, channels: 1, data: out, bitDepth: 8 }, info };
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
): NonNullable<DicomInfo['window']> {
  const fnRaw = str(ds, 'x00281056');
  const fn: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' = fnRaw === 'SIGMOID' || fnRaw === 'LINEAR_EXACT' ? fnRaw : 'LINEAR';
  if (options.window !== 'auto') {
    // Multi-valued DS ("c1\c2"): dicom-parser's floatString(tag, 0) reads the first value.
    const center = ds.floatString('x00281050', 0);
    const width = ds.floatString('x00281051', 0);
    if (center !== undefined && width !== undefined && Number.isFinite(center) && Number.isFinite(width) && width > 0) {
      if (!(fn === 'LINEAR' && width < 1)) return { center, width, source: 'header', function: fn };
    }
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
export function applyWindow(values: ArrayLike<number>, window: { center: number; width: number; function: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' }, out: Uint8Array): void {
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
