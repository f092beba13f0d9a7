// Dataset manifests: CSV files listing `file,label[,split,...]`. Pure TypeScript so that the
// Node scripts and the browser parse (and hash) a manifest identically.

import { CXR_CLASSES } from './labels';

/** Any problem with a manifest; the message names the source and the 1-based line number. */
export class ManifestError extends Error {
  /** 1-based physical line number of the offending record, when there is one. */
  readonly line: number | undefined;

  constructor(message: string, line?: number) {
    super(message);
    this.name = 'ManifestError';
    this.line = line;
  }
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180, slightly lenient about line endings)
// ---------------------------------------------------------------------------------------------

export interface CsvRecord {
  fields: string[];
  /** 1-based line on which the record starts (quoted fields may span several lines). */
  line: number;
}

/**
 * Parses CSV text into records. Supports quoted fields containing commas, newlines and doubled
 * quotes (""), CRLF / LF / lone CR line endings, a leading UTF-8 BOM and a trailing newline.
 * A blank line yields a record with a single empty field (callers decide whether to skip it).
 * Throws ManifestError for an unterminated quote or text after a closing quote.
 */
export function parseCsvRecords(text: string, source = 'csv'): CsvRecord[] {
  const input = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  // True once the current record has any content (so a trailing newline adds no empty record).
  let recordStarted = false;

  const endRecord = (): void => {
    fields.push(field);
    records.push({ fields, line: recordLine });
    fields = [];
    field = '';
    recordStarted = false;
  };

  while (i < input.length) {
    const ch = input[i];
    if (ch === '"' && field === '') {
      // Quoted field: read up to the closing quote; "" is an escaped quote. (A closed quoted
      // field is always followed by a delimiter, so `field === ''` means "at a field start".)
      const quoteLine = line;
      recordStarted = true;
      i++;
      let closed = false;
      while (i < input.length) {
        const c = input[i];
        if (c === '"') {
          if (input[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        if (c === '\r' || c === '\n') {
          // Newlines inside quotes are data, but still advance the line counter.
          const isCrLf = c === '\r' && input[i + 1] === '\n';
          field += isCrLf ? '\r\n' : c;
          i += isCrLf ? 2 : 1;
          line++;
          continue;
        }
        field += c;
        i++;
      }
      if (!closed) throw new ManifestError(`${source} line ${quoteLine}: unterminated quoted field`, quoteLine);
      const next = input[i];
      if (next !== undefined && next !== ',' && next !== '\r' && next !== '\n') {
        throw new ManifestError(`${source} line ${line}: unexpected character '${next}' after closing quote`, line);
      }
      continue;
    }
    if (ch === ',') {
      fields.push(field);
      field = '';
      recordStarted = true;
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      i += ch === '\r' && input[i + 1] === '\n' ? 2 : 1;
      endRecord();
      line++;
      recordLine = line;
      continue;
    }
    if (ch === '"') {
      // RFC 4180 only allows quotes around a whole field.
      throw new ManifestError(`${source} line ${line}: unexpected quote inside an unquoted field`, line);
    }
    field += ch;
    recordStarted = true;
    i++;
  }
  if (recordStarted) endRecord();
  return records;
}

/** Parses CSV text into rows of fields (see parseCsvRecords). */
export function parseCsv(text: string): string[][] {
  return parseCsvRecords(text).map((record) => record.fields);
}
// ---------------------------------------------------------------------------------------------
// Manifest
// ---------------------------------------------------------------------------------------------

export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export interface ManifestEntry {
  /** 1-based line of the row in the manifest file (for error messages further down the line). */
  line: number;
  /** Image path as written in the manifest (trimmed). */
  file: string;
  /** Canonical label spelling (as in the `labels` list when one is used). */
  label: string;
  /** Index of `label` in `Manifest.labels`. */
  labelIndex: number;
  /** Absent when there is no split column or the cell is empty. */
  split?: Split;
  /** Value of a `source_repo` column, when present and non-empty. */
  sourceRepo?: string;
  /** All other columns, keyed by header name (file/label/split/source_repo are not repeated). */
  extra: Record<string, string>;
}

export interface Manifest {
  /** Header names in file order (trimmed). */
  columns: string[];
  /** The label list: the `labels` option, or the labels found, sorted, when checking is off. */
  labels: readonly string[];
  entries: ManifestEntry[];
}

export interface ParseManifestOptions {
  /**
   * Allowed labels (matched case-insensitively, reported in this spelling). Defaults to
   * CXR_CLASSES so a typo such as 'covd' fails loudly; pass null to accept any non-empty label.
   */
  labels?: readonly string[] | null;
  /** Name used in error messages (default 'manifest.csv'). */
  source?: string;
  /** Allow the same file path twice (default false: duplicates usually mean split leakage). */
  allowDuplicates?: boolean;
}

/**
 * Why a manifest's image path is not acceptable, or null when it is: paths are relative to the folder
 * holding the manifest and must stay inside it (checked on the text, so Node and the browser agree;
 * `/` and `\` both separate). Absolute paths, drive letters and `..` that climb out of the folder are
 * refused — a manifest must not make a tool read `../../../../etc/passwd` or another data set.
 */
export function manifestPathProblem(file: string): string | null {
  if (file.includes('\0')) return `path '${file.replace(/\0/g, '\\0')}' contains a NUL character`;
  if (/^[\\/]/.test(file) || /^[A-Za-z]:/.test(file)) return `absolute path '${file}' (paths are relative to the folder holding the manifest)`;
  let depth = 0;
  for (const segment of file.split(/[\\/]/)) {
    if (segment === '' || segment === '.') continue;
    depth += segment === '..' ? -1 : 1;
    if (depth < 0) return `path '${file}' is outside the data folder (paths must stay inside the folder holding the manifest)`;
  }
  if (depth === 0) return `path '${file}' names the data folder itself, not a file`;
  return null;
}

const REQUIRED_COLUMNS = ['file', 'label'] as const;
// Columns with a dedicated field in ManifestEntry (matched case-insensitively).
const KNOWN_COLUMNS = new Set(['file', 'label', 'split', 'source_repo']);

function isBlankRecord(fields: readonly string[]): boolean {
  return fields.length === 1 && fields[0].trim() === '';
}

/**
 * Parses a manifest CSV whose header has at least `file` and `label` (any order, any case),
 * optionally `split` (train/val/test) and `source_repo`, plus any extra columns. Blank lines are
 * skipped. Throws ManifestError naming the line for any malformed row.
 */
export function parseManifest(text: string, options: ParseManifestOptions = {}): Manifest {
  const source = options.source ?? 'manifest.csv';
  const allowedLabels = options.labels === undefined ? CXR_CLASSES : options.labels;
  const fail = (line: number, message: string): never => {
    throw new ManifestError(`${source} line ${line}: ${message}`, line);
  };

  const records = parseCsvRecords(text, source).filter((r) => !isBlankRecord(r.fields));
  if (records.length === 0) {
    throw new ManifestError(`${source}: empty file (expected a header with at least 'file,label')`);
  }

  const header = records[0];
  const columns = header.fields.map((name) => name.trim());
  const columnIndex = new Map<string, number>();
  columns.forEach((name, index) => {
    if (name === '') fail(header.line, `empty column name in header (column ${index + 1})`);
    const key = KNOWN_COLUMNS.has(name.toLowerCase()) ? name.toLowerCase() : name;
    if (columnIndex.has(key)) fail(header.line, `duplicate column '${name}' in header`);
    columnIndex.set(key, index);
  });
  for (const required of REQUIRED_COLUMNS) {
    if (!columnIndex.has(required)) {
      fail(header.line, `missing required column '${required}' (header has: ${columns.join(', ')})`);
    }
  }
  const fileColumn = columnIndex.get('file')!;
  const labelColumn = columnIndex.get('label')!;
  const splitColumn = columnIndex.get('split');
  const sourceRepoColumn = columnIndex.get('source_repo');
  const extraColumns = columns.map((name, index) => ({ name, index })).filter(({ name }) => !KNOWN_COLUMNS.has(name.toLowerCase()));

  // Case-insensitive lookup table to the canonical label spelling.
  const canonicalLabel = new Map<string, string>();
  if (allowedLabels) for (const label of allowedLabels) canonicalLabel.set(label.toLowerCase(), label);

  const entries: ManifestEntry[] = [];
  const firstLineOfFile = new Map<string, number>();
  for (const { fields, line } of records.slice(1)) {
    if (fields.length !== columns.length) fail(line, `expected ${columns.length} fields, got ${fields.length}`);

    const file = fields[fileColumn].trim();
    if (file === '') fail(line, 'empty file path');
    const pathProblem = manifestPathProblem(file);
    if (pathProblem) fail(line, pathProblem);
    const seenOn = firstLineOfFile.get(file);
    if (seenOn !== undefined && !options.allowDuplicates) fail(line, `duplicate file '${file}' (first listed on line ${seenOn})`);
    if (seenOn === undefined) firstLineOfFile.set(file, line);

    const rawLabel = fields[labelColumn].trim();
    if (rawLabel === '') fail(line, 'empty label');
    let label = rawLabel;
    if (allowedLabels) {
      const canonical = canonicalLabel.get(rawLabel.toLowerCase());
      if (canonical === undefined) fail(line, `unknown label '${rawLabel}' (expected ${allowedLabels.join(', ')})`);
      label = canonical!;
    }

    let split: Split | undefined;
    if (splitColumn !== undefined) {
      const rawSplit = fields[splitColumn].trim();
      if (rawSplit !== '') {
        const normalized = rawSplit.toLowerCase();
        if (!(SPLITS as readonly string[]).includes(normalized)) {
          fail(line, `unknown split '${rawSplit}' (expected ${SPLITS.join(', ')})`);
        }
        split = normalized as Split;
      }
    }

    const extra: Record<string, string> = {};
    for (const { name, index } of extraColumns) extra[name] = fields[index];

    const entry: ManifestEntry = { line, file, label, labelIndex: -1, extra };
    if (split !== undefined) entry.split = split;
    if (sourceRepoColumn !== undefined) {
      const sourceRepo = fields[sourceRepoColumn].trim();
      if (sourceRepo !== '') entry.sourceRepo = sourceRepo;
    }
    entries.push(entry);
  }

  const labels: readonly string[] = allowedLabels ?? [...new Set(entries.map((e) => e.label))].sort();
  const labelIndex = new Map(labels.map((label, index) => [label, index]));
  for (const entry of entries) entry.labelIndex = labelIndex.get(entry.label)!;
  return { columns, labels, entries };
}

// ---------------------------------------------------------------------------------------------
// Hashing (SHA-256 in pure TS: the browser's SubtleCrypto is async and absent from plain Node
// type environments, and both sides must produce the same id for the same manifest)
// ---------------------------------------------------------------------------------------------

/** UTF-8 encoding without TextEncoder (lone surrogates become U+FFFD, as TextEncoder does). */
export function utf8Encode(text: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const low = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (low >= 0xdc00 && low <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
      } else {
        code = 0xfffd;
      }
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      code = 0xfffd;
    }
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 0x3f));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
    else {
      bytes.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 0x3f), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
    }
  }
  return Uint8Array.from(bytes);
}

const SHA256_K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74,
  0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d,
  0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e,
  0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
  0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 of a string (UTF-8) or bytes, as 64 lowercase hex characters. */
export function sha256Hex(input: string | Uint8Array): string {
  const data = typeof input === 'string' ? utf8Encode(input) : input;
  // Padding: 0x80, zeros, then the bit length as a 64-bit big-endian integer.
  const paddedLength = Math.ceil((data.length + 9) / 64) * 64;
  const padded = new Uint8Array(paddedLength);
  padded.set(data);
  padded[data.length] = 0x80;
  const bitLength = data.length * 8;
  const view = new DataView(padded.buffer);
  view.setUint32(paddedLength - 8, Math.floor(bitLength / 0x100000000));
  view.setUint32(paddedLength - 4, bitLength >>> 0);

  const hash = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));
  for (let offset = 0; offset < paddedLength; offset += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(offset + t * 4);
    for (let t = 16; t < 64; t++) {
      const s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
      const s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, h] = hash;
    for (let t = 0; t < 64; t++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const temp1 = (h + S1 + ch + SHA256_K[t] + w[t]) | 0;
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const temp2 = (S0 + maj) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + temp1) | 0;
      d = c;
      c = b;
      b = a;
      a = (temp1 + temp2) | 0;
    }
    hash[0] += a;
    hash[1] += b;
    hash[2] += c;
    hash[3] += d;
    hash[4] += e;
    hash[5] += f;
    hash[6] += g;
    hash[7] += h;
  }
  let hex = '';
  for (const word of hash) hex += word.toString(16).padStart(8, '0');
  return hex;
}

/**
 * Stable id of a manifest: SHA-256 (hex) of its text with a leading BOM removed and CRLF / CR
 * line endings turned into LF, so a git checkout with autocrlf does not change the id.
 * (Plain ASCII text without CR or BOM hashes exactly like sha256Hex.)
 */
export function manifestHash(text: string): string {
  const withoutBom = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return sha256Hex(withoutBom.replace(/\r\n?/g, '\n'));
}
