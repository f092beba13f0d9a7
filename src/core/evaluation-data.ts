// What an external-validation folder holds, decided the same way by `npm run evaluate -- --data`
// (scripts/lib/folder-dataset.ts walks the disk) and by the Evaluate page (files from a folder
// picker, a drop or a .zip): pure TypeScript over '/'-separated relative paths, no I/O.
//
// Two layouts:
// - manifest: a manifest.csv at the root (file,label[,split][,site][,...]), parsed by
//   src/core/manifest.ts (same parser, same error messages), with the CLI's split rule;
// - class folders: one folder per class of the model (matched case-insensitively); folders below a
//   class folder name the site ('normal/hospital-a/x.png' → site 'hospital-a'); folders that are not
//   a class are listed and ignored, never merged into a class.
// Either way the images come out in one order (code-unit order of their paths, or manifest order),
// because the bootstrap intervals depend on the order, and the CLI and the page must agree exactly.
import { cxrAgeGroup } from './report';
import { manifestHash, parseManifest, type Manifest, type ManifestEntry } from './manifest';

export type EvaluationLayout = 'manifest' | 'class-folders';

export interface IgnoredFile {
  file: string;
  reason: string;
}

export interface UnknownFolder {
  /** Folder name as found (first level below the data root). */
  folder: string;
  /** Image files in it (all ignored). */
  files: number;
}

export interface EvaluationData {
  layout: EvaluationLayout;
  /** Leading folders shared by every input path that were removed ('' or e.g. 'my-films/'). */
  root: string;
  /** The images to evaluate, in evaluation order. `file` is relative to the data root. */
  entries: ManifestEntry[];
  /** The manifest (the real one, or for class folders the equivalent 'file,label,site' text). */
  manifestText: string;
  manifestHash: string;
  /** Split evaluated ('all' when every row is). */
  split: string;
  /** A line worth showing, e.g. that a manifest has no split values. */
  note: string | null;
  /** Files not evaluated because of their place or name (junk like .DS_Store is dropped silently). */
  ignored: IgnoredFile[];
  /** First-level folders that are not a class of the model. */
  unknownFolders: UnknownFolder[];
}

/** Thrown for input that cannot be evaluated at all (the message says what to change). */
export class EvaluationDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationDataError';
  }
}

// Extensions the decoders read (src/image/decode.ts: PNG, JPEG, WebP, BMP, GIF, DICOM); files without
// an extension are given to the decoder too (DICOM files often have none).
const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'jpe', 'jfif', 'webp', 'bmp', 'gif', 'dcm', 'dicom']);

function extensionOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/** OS clutter skipped without a word (Finder, Explorer and zip tools add it). */
export function isClutterPath(path: string): boolean {
  const parts = path.split('/');
  const base = parts[parts.length - 1];
  return parts.some((p) => p === '__MACOSX' || (p.startsWith('.') && p.length > 1)) || base === 'Thumbs.db' || base === 'desktop.ini';
}

/** Why a file is not an image to evaluate from its name, or null when the decoder should try it. */
export function notAnImage(path: string): string | null {
  const ext = extensionOf(path);
  if (ext === '' || IMAGE_EXTENSIONS.has(ext)) return null;
  return `not an image (.${ext} file)`;
}

/** Code-unit order: the same in Node and every browser (localeCompare is not). */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function splitPath(path: string): string[] {
  return path
    .replace(/\\/g, '/')
    .split('/')
    .filter((p) => p !== '' && p !== '.');
}

/** The value of a `site` column (any case), trimmed; undefined when absent or empty. */
export function siteOf(entry: Pick<ManifestEntry, 'extra'>): string | undefined {
  for (const [k, v] of Object.entries(entry.extra)) if (k.trim().toLowerCase() === 'site' && v.trim() !== '') return v.trim();
  return undefined;
}

/**
 * Groupings of the report: source_repo and age_group (as `npm run evaluate` always had), and site
 * (a manifest `site` column, or the folders below the class folders). A grouping is present only
 * when at least one image has a value.
 */
export function evaluationGroups(entries: readonly Pick<ManifestEntry, 'label' | 'sourceRepo' | 'extra'>[]): Record<string, (string | null)[]> {
  const groups: Record<string, (string | null)[]> = {};
  if (entries.some((e) => e.sourceRepo)) groups.source_repo = entries.map((e) => e.sourceRepo ?? null);
  const ages = entries.map((e) => cxrAgeGroup(e.sourceRepo, e.label, e.extra.age_group));
  if (ages.some((a) => a !== 'unknown')) groups.age_group = ages;
  const sites = entries.map((e) => siteOf(e) ?? null);
  if (sites.some((s) => s !== null)) groups.site = sites;
  return groups;
}

function csvCell(v: string): string {
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The longest run of leading folders every path shares, stopping before a folder named like a class. */
function commonRoot(dirs: string[][], classNames: readonly string[]): string[] {
  if (dirs.length === 0) return [];
  const classes = new Set(classNames.map((c) => c.toLowerCase()));
  let common = dirs[0].slice();
  for (const d of dirs) {
    let k = 0;
    while (k < common.length && k < d.length && common[k] === d[k]) k++;
    common = common.slice(0, k);
  }
  const stop = common.findIndex((p) => classes.has(p.trim().toLowerCase()));
  return stop >= 0 ? common.slice(0, stop) : common;
}

/** Where manifest.csv sits, if it is the data root: the shallowest one above every other file. */
function findManifest(paths: string[][]): string[] | null {
  let best: string[] | null = null;
  for (const p of paths) if (p[p.length - 1].toLowerCase() === 'manifest.csv' && (!best || p.length < best.length)) best = p;
  if (!best) return null;
  const dir = best.slice(0, -1);
  const inside = paths.every((p) => dir.every((d, i) => p[i] === d));
  return inside ? best : null;
}

/**
 * Rows of a manifest for one split, as `npm run evaluate` picks them: `split` 'all', or a manifest
 * without split values, takes every row (with a note when a split was asked for); a split with no
 * rows is an error listing the splits present.
 */
export function selectManifestRows(
  manifest: Manifest,
  split: string,
  source = 'manifest.csv',
): { entries: ManifestEntry[]; name: string; note: string | null } {
  const hasSplits = manifest.entries.some((e) => e.split !== undefined);
  if (split === 'all' || !hasSplits) {
    const note = split !== 'all' ? `note: ${source} has no split values; evaluating all ${manifest.entries.length} rows` : null;
    return { entries: manifest.entries, name: 'all', note };
  }
  const entries = manifest.entries.filter((e) => e.split === split);
  if (entries.length === 0) {
    const present = [...new Set(manifest.entries.map((e) => e.split).filter(Boolean))].join(', ');
    throw new EvaluationDataError(`no rows with split '${split}' in ${source} (splits present: ${present}; or pass --split all)`);
  }
  return { entries, name: split, note: null };
}

/**
 * Decides the layout of a set of files and lists what to evaluate. `paths` are '/'-separated
 * relative paths (a folder picker's webkitRelativePath, zip entry names, or paths under --data).
 * `readManifest(path)` returns the text of the manifest file found among them (the caller reads
 * it). Throws ManifestError for a malformed manifest and EvaluationDataError when nothing fits.
 */
export async function describeEvaluationData(
  paths: readonly string[],
  classNames: readonly string[],
  opts: { split?: string; readManifest: (path: string) => Promise<string> | string; manifestSource?: string },
): Promise<EvaluationData> {
  const files = paths.map((p) => ({ original: p, parts: splitPath(p) })).filter((f) => f.parts.length > 0 && !isClutterPath(f.parts.join('/')));
  if (files.length === 0)
    throw new EvaluationDataError('no files found (choose a folder with one sub-folder per class, a .zip of it, or a folder with manifest.csv)');
  const manifestPath = findManifest(files.map((f) => f.parts));
  if (manifestPath) {
    const root = manifestPath.slice(0, -1);
    const original = files.find((f) => f.parts.join('/') === manifestPath.join('/'))!.original;
    const text = await opts.readManifest(original);
    const source = opts.manifestSource ?? 'manifest.csv';
    const manifest = parseManifest(text, { labels: classNames, source });
    const selection = selectManifestRows(manifest, opts.split ?? 'test', source);
    return {
      layout: 'manifest',
      root: root.length ? root.join('/') + '/' : '',
      entries: selection.entries,
      manifestText: text,
      manifestHash: manifestHash(text),
      split: selection.name,
      note: selection.note,
      ignored: [],
      unknownFolders: [],
    };
  }

  const root = commonRoot(
    files.map((f) => f.parts.slice(0, -1)),
    classNames,
  );
  const canonical = new Map(classNames.map((c) => [c.toLowerCase(), c]));
  const ignored: IgnoredFile[] = [];
  const unknown = new Map<string, number>();
  const found: { file: string; label: string; site?: string }[] = [];
  for (const f of files) {
    const rest = f.parts.slice(root.length);
    const file = rest.join('/');
    const problem = notAnImage(file);
    if (rest.length < 2) {
      if (!problem) ignored.push({ file, reason: `not inside a class folder (put each class in a folder named ${classNames.join(', ')})` });
      else ignored.push({ file, reason: problem });
      continue;
    }
    const label = canonical.get(rest[0].trim().toLowerCase());
    if (label === undefined) {
      if (!problem) unknown.set(rest[0], (unknown.get(rest[0]) ?? 0) + 1);
      continue;
    }
    if (problem) {
      ignored.push({ file, reason: problem });
      continue;
    }
    const site = rest.slice(1, -1).join('/');
    found.push({ file, label, site: site === '' ? undefined : site });
  }
  ignored.sort((a, b) => comparePaths(a.file, b.file));
  const unknownFolders = [...unknown].map(([folder, n]) => ({ folder, files: n })).sort((a, b) => comparePaths(a.folder, b.folder));
  if (found.length === 0) {
    const seen = unknownFolders.length ? ` (found ${unknownFolders.map((u) => `'${u.folder}'`).join(', ')})` : '';
    throw new EvaluationDataError(
      `no images in class folders: expected a manifest.csv or one folder per class named ${classNames.join(', ')} (any case)${seen}`,
    );
  }
  found.sort((a, b) => comparePaths(a.file, b.file));
  // The equivalent manifest: its hash identifies the data set in the report, like a real one's.
  const withSites = found.some((f) => f.site !== undefined);
  const header = withSites ? 'file,label,site' : 'file,label';
  const manifestText = [header, ...found.map((f) => [f.file, f.label, ...(withSites ? [f.site ?? ''] : [])].map(csvCell).join(','))].join('\n') + '\n';
  const labelIndex = new Map(classNames.map((c, i) => [c, i]));
  const entries: ManifestEntry[] = found.map((f, i) => ({
    line: i + 2,
    file: f.file,
    label: f.label,
    labelIndex: labelIndex.get(f.label)!,
    extra: (withSites ? { site: f.site ?? '' } : {}) as Record<string, string>,
  }));
  return {
    layout: 'class-folders',
    root: root.length ? root.join('/') + '/' : '',
    entries,
    manifestText,
    manifestHash: manifestHash(manifestText),
    split: 'all',
    note: null,
    ignored,
    unknownFolders,
  };
}
