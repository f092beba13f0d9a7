// A minimal DICOM Part 10 writer for test fixtures: 128-byte preamble, "DICM", an explicit-VR
// little-endian file meta group, then the data set in explicit VR little endian (default), implicit
// VR little endian, explicit VR big endian or deflated explicit VR little endian; pixel data native
// or encapsulated (compressed frames as fragments, optionally with a basic offset table); LUT
// sequences; header fields a PACS export carries (identifying ones included, to test that they are
// never read). Only what the tests need; not a general-purpose encoder.
import { deflateSync } from 'fflate';

export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflatedLE: '1.2.840.10008.1.2.1.99',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  bigEndian: '1.2.840.10008.1.2.2',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegLossless14: '1.2.840.10008.1.2.4.57',
  jpegLossless: '1.2.840.10008.1.2.4.70',
  jpegLs: '1.2.840.10008.1.2.4.80',
  jpegLsNear: '1.2.840.10008.1.2.4.81',
  jpeg2000: '1.2.840.10008.1.2.4.90',
  jpeg2000Lossy: '1.2.840.10008.1.2.4.91',
  htj2k: '1.2.840.10008.1.2.4.201',
  rle: '1.2.840.10008.1.2.5',
  mpeg2: '1.2.840.10008.1.2.4.100',
} as const;

/** A LUT Sequence item: descriptor [entries, first mapped, bits] and 16-bit data. */
export interface LutSpec {
  first: number;
  bits: number;
  data: ArrayLike<number>;
}

export interface DicomImageSpec {
  rows: number;
  columns: number;
  /** Stored values, interleaved for colour (or planar when planarConfiguration = 1). Written as bitsAllocated-bit words. */
  pixels?: ArrayLike<number>;
  /** Compressed frames for an encapsulated transfer syntax (instead of `pixels`). */
  frames?: Uint8Array[];
  transferSyntax?: string;
  photometric?: string;
  samplesPerPixel?: 1 | 3;
  planarConfiguration?: 0 | 1;
  bitsAllocated?: 8 | 16 | 32;
  bitsStored?: number;
  highBit?: number;
  pixelRepresentation?: 0 | 1;
  /** DS values; a string may carry several values ("40\\400"). */
  windowCenter?: number | string;
  windowWidth?: number | string;
  voiLutFunction?: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
  rescaleSlope?: number;
  rescaleIntercept?: number;
  pixelPaddingValue?: number;
  modality?: string;
  numberOfFrames?: number;
  /** Basic offset table of the encapsulated frames (byte offsets of each frame's first item). */
  basicOffsetTable?: boolean;
  voiLut?: LutSpec;
  modalityLut?: LutSpec;
  viewPosition?: string;
  /** "L\F" style. */
  patientOrientation?: string;
  bodyPart?: string;
  patientAge?: string;
  patientSex?: string;
  manufacturer?: string;
  manufacturerModel?: string;
  /** Identifying fields: written so the tests can check they never come out. */
  patientName?: string;
  patientId?: string;
  birthDate?: string;
  accession?: string;
}

type Value = { vr: string; bytes: Uint8Array; undefinedLength?: boolean };

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'SQ', 'UT', 'UN', 'UC', 'UR']);

function ascii(s: string, pad: number): Uint8Array {
  const b = new Uint8Array(s.length + (s.length % 2));
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  if (s.length % 2) b[s.length] = pad;
  return b;
}
const str = (vr: string, s: string): Value => ({ vr, bytes: ascii(s, vr === 'UI' ? 0 : 0x20) });
const us = (v: number): Value => {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v, true);
  return { vr: 'US', bytes: b };
};
const ul = (v: number): Value => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return { vr: 'UL', bytes: b };
};
const ds = (v: number | string): Value => str('DS', typeof v === 'number' ? formatDS(v) : v);

/** DS is at most 16 characters. */
function formatDS(v: number): string {
  if (Number.isInteger(v)) return String(v);
  for (let p = 15; p > 0; p--) {
    const s = String(Number(v.toPrecision(p)));
    if (s.length <= 16) return s;
  }
  return String(Math.round(v));
}

/** Byte-swaps the words of binary values (US/UL/SS/OW) for big endian. */
function swapped(value: Value): Uint8Array {
  const size = value.vr === 'US' || value.vr === 'SS' || value.vr === 'OW' ? 2 : value.vr === 'UL' || value.vr === 'SL' ? 4 : 1;
  if (size === 1) return value.bytes;
  const b = value.bytes.slice();
  for (let i = 0; i + size <= b.length; i += size) b.subarray(i, i + size).reverse();
  return b;
}

function element(tag: number, value: Value, explicit: boolean, little = true): Uint8Array {
  const group = tag >>> 16;
  const elem = tag & 0xffff;
  const len = value.undefinedLength ? 0xffffffff : value.bytes.length;
  const long = LONG_VRS.has(value.vr);
  const headerLen = explicit ? (long ? 12 : 8) : 8;
  const out = new Uint8Array(headerLen + value.bytes.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, group, little);
  dv.setUint16(2, elem, little);
  if (explicit) {
    out[4] = value.vr.charCodeAt(0);
    out[5] = value.vr.charCodeAt(1);
    if (long) dv.setUint32(8, len, little);
    else dv.setUint16(6, len, little);
  } else {
    dv.setUint32(4, len, little);
  }
  out.set(little ? value.bytes : swapped(value), headerLen);
  return out;
}

/** A sequence (SQ) of one item holding the given elements (explicit lengths). */
function sequence(items: [number, Value][][], explicit: boolean, little: boolean): Value {
  const parts: Uint8Array[] = [];
  for (const els of items) {
    const body = concat(els.sort((a, b) => a[0] - b[0]).map(([t, v]) => element(t, v, explicit, little)));
    const head = new Uint8Array(8);
    const dv = new DataView(head.buffer);
    dv.setUint16(0, 0xfffe, little);
    dv.setUint16(2, 0xe000, little);
    dv.setUint32(4, body.length, little);
    parts.push(head, body);
  }
  return { vr: 'SQ', bytes: concat(parts) };
}

function lutItem(lut: LutSpec): [number, Value][] {
  const desc = new Uint8Array(6);
  const dv = new DataView(desc.buffer);
  dv.setUint16(0, lut.data.length === 65536 ? 0 : lut.data.length, true);
  dv.setUint16(2, lut.first & 0xffff, true);
  dv.setUint16(4, lut.bits, true);
  const data = new Uint8Array(lut.data.length * 2);
  const dd = new DataView(data.buffer);
  for (let i = 0; i < lut.data.length; i++) dd.setUint16(i * 2, lut.data[i], true);
  return [
    [0x00283002, { vr: 'US', bytes: desc }],
    [0x00283006, { vr: 'OW', bytes: data }],
  ];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function item(tag: number, data: Uint8Array): Uint8Array {
  const padded = data.length % 2 ? concat([data, new Uint8Array(1)]) : data;
  const out = new Uint8Array(8 + padded.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, 0xfffe, true);
  dv.setUint16(2, tag, true);
  dv.setUint32(4, padded.length, true);
  out.set(padded, 8);
  return out;
}

function nativePixels(spec: DicomImageSpec): Value {
  const bits = spec.bitsAllocated ?? 8;
  const px = spec.pixels!;
  const bytes = new Uint8Array(px.length * (bits / 8) + ((px.length * (bits / 8)) % 2));
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < px.length; i++) {
    const v = px[i];
    if (bits === 8) bytes[i] = v & 0xff;
    else if (bits === 16) dv.setUint16(i * 2, v & 0xffff, true);
    else dv.setUint32(i * 4, v >>> 0, true);
  }
  return { vr: bits === 16 ? 'OW' : 'OB', bytes };
}

/** Builds a DICOM file (Secondary Capture / DX) holding one image. */
export function makeDicom(spec: DicomImageSpec): Uint8Array {
  const ts = spec.transferSyntax ?? TS.explicitLE;
  const explicit = ts !== TS.implicitLE;
  const little = ts !== TS.bigEndian;
  const spp = spec.samplesPerPixel ?? 1;
  const bits = spec.bitsAllocated ?? 8;
  const stored = spec.bitsStored ?? bits;
  const sopClass = '1.2.840.10008.5.1.4.1.1.7'; // Secondary Capture Image Storage
  const sopInstance = '1.2.826.0.1.3680043.9.7777.1.1';

  const meta = concat([
    element(0x00020001, { vr: 'OB', bytes: new Uint8Array([0, 1]) }, true),
    element(0x00020002, str('UI', sopClass), true),
    element(0x00020003, str('UI', sopInstance), true),
    element(0x00020010, str('UI', ts), true),
    element(0x00020012, str('UI', '1.2.826.0.1.3680043.9.7777.99'), true),
  ]);
  const metaGroup = concat([element(0x00020000, ul(meta.length), true), meta]);

  const els: [number, Value][] = [
    [0x00080016, str('UI', sopClass)],
    [0x00080018, str('UI', sopInstance)],
    [0x00080060, str('CS', spec.modality ?? 'DX')],
    [0x00280002, us(spp)],
    [0x00280004, str('CS', spec.photometric ?? (spp === 3 ? 'RGB' : 'MONOCHROME2'))],
    [0x00280010, us(spec.rows)],
    [0x00280011, us(spec.columns)],
    [0x00280100, us(bits)],
    [0x00280101, us(stored)],
    [0x00280102, us(spec.highBit ?? stored - 1)],
    [0x00280103, us(spec.pixelRepresentation ?? 0)],
  ];
  if (spp === 3) els.push([0x00280006, us(spec.planarConfiguration ?? 0)]);
  if (spec.numberOfFrames !== undefined) els.push([0x00280008, str('IS', String(spec.numberOfFrames))]);
  if (spec.pixelPaddingValue !== undefined) els.push([0x00280120, us(spec.pixelPaddingValue & 0xffff)]);
  if (spec.windowCenter !== undefined) els.push([0x00281050, ds(spec.windowCenter)]);
  if (spec.windowWidth !== undefined) els.push([0x00281051, ds(spec.windowWidth)]);
  if (spec.rescaleIntercept !== undefined) els.push([0x00281052, ds(spec.rescaleIntercept)]);
  if (spec.rescaleSlope !== undefined) els.push([0x00281053, ds(spec.rescaleSlope)]);
  if (spec.voiLutFunction !== undefined) els.push([0x00281056, str('CS', spec.voiLutFunction)]);
  if (spec.modalityLut) els.push([0x00283000, sequence([lutItem(spec.modalityLut)], explicit, little)]);
  if (spec.voiLut) els.push([0x00283010, sequence([lutItem(spec.voiLut)], explicit, little)]);
  const text: [number, string, string | undefined][] = [
    [0x00080050, 'SH', spec.accession],
    [0x00080070, 'LO', spec.manufacturer],
    [0x00081090, 'LO', spec.manufacturerModel],
    [0x00100010, 'PN', spec.patientName],
    [0x00100020, 'LO', spec.patientId],
    [0x00100030, 'DA', spec.birthDate],
    [0x00100040, 'CS', spec.patientSex],
    [0x00101010, 'AS', spec.patientAge],
    [0x00180015, 'CS', spec.bodyPart],
    [0x00185101, 'CS', spec.viewPosition],
    [0x00200020, 'CS', spec.patientOrientation],
  ];
  for (const [tag, vr, v] of text) if (v !== undefined) els.push([tag, str(vr, v)]);
  els.sort((a, b) => a[0] - b[0]);

  const parts = els.map(([tag, v]) => element(tag, v, explicit, little));
  if (spec.frames) {
    let bot = new Uint8Array(0);
    if (spec.basicOffsetTable) {
      bot = new Uint8Array(4 * spec.frames.length);
      let off = 0;
      spec.frames.forEach((f, i) => {
        new DataView(bot.buffer).setUint32(i * 4, off, true);
        off += 8 + f.length + (f.length % 2);
      });
    }
    const fragments = concat([item(0xe000, bot), ...spec.frames.map((f) => item(0xe000, f)), item(0xe0dd, new Uint8Array(0))]);
    // Encapsulated pixel data: OB, undefined length, items then a sequence delimiter.
    const head = element(0x7fe00010, { vr: 'OB', bytes: new Uint8Array(0), undefinedLength: true }, true);
    parts.push(concat([head, fragments]));
  } else {
    parts.push(element(0x7fe00010, nativePixels(spec), explicit, little));
  }
  let dataSet = concat(parts);
  if (ts === TS.deflatedLE) dataSet = deflateSync(dataSet);

  const preamble = new Uint8Array(132);
  preamble.set([0x44, 0x49, 0x43, 0x4d], 128);
  return concat([preamble, metaGroup, dataSet]);
}
