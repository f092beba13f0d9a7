// The Train page's project format (pure: no DOM, no package). A `.cxrlab` file is a zip whose entries
// are the record built here (src/ui/lib/project-file.ts zips and unzips it):
//
//   project.json              the manifest below (format, version, classes, images, split, settings, run)
//   images/0001/<name>        each original image file, as dropped
//   prepared/0001.bin         optional: what the image's one decode gave under one base network
//                             (embedding, model crop, augmentation base), so a restore skips decoding
//   model/<file>              the trained model: the same files as the model download
//
// readProjectFiles checks everything before anything is used: a bad or partial file gives one clear
// ProjectFormatError and nothing else happens.
import { utf8Encode } from './manifest';
import { IMAGE_FEATURE_NAMES, type ImageFeatures } from './ood';

export const PROJECT_FORMAT = 'cxr-lab-project';
/** Bumped when a reader of the previous version would misread the file. */
export const PROJECT_VERSION = 1;
export const PROJECT_MANIFEST = 'project.json';
export const PROJECT_EXTENSION = '.cxrlab';

export class ProjectFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectFormatError';
  }
}

export type ImageSplit = 'train' | 'val' | null;

export interface ProjectEpoch {
  epoch: number;
  stage: 'head' | 'block';
  trainLoss: number;
  trainAcc: number;
  valLoss: number | null;
  valAcc: number | null;
  seconds: number;
}

/** What an image's one decode kept, under the base network `ProjectManifest.prepared.base`. */
export interface PreparedImage {
  embedding: Float32Array;
  crop: Uint8Array | Float32Array;
  features: ImageFeatures;
  base: { pixels: Uint8Array; size: number };
  /** 64×64 gray thumbnail of the model input. */
  thumb: Uint8Array;
  /** The copies check's hashes (file bytes, model crop); absent in projects saved before it. */
  fileHash?: string;
  phash?: string;
}

export interface ProjectImageEntry {
  path: string;
  classIndex: number;
  /** Zip entry of the original file. */
  file: string;
  status: 'ready' | 'error' | 'queued';
  error?: string;
  /** The side of the split the saved settings put it on (null: not prepared, not in a run). */
  split: ImageSplit;
  /** Layout of prepared/<n>.bin when there is one. */
  prepared?: {
    file: string;
    crop: 'u8' | 'f32';
    cropLength: number;
    baseSize: number;
    thumbLength: number;
    features: ImageFeatures;
    fileHash?: string;
    phash?: string;
  };
}

export interface ProjectRun {
  history: ProjectEpoch[];
  keptEpoch: number;
  stopReason: 'completed' | 'early-stopped' | 'stopped';
  plannedEpochs: number;
  classNames: string[];
  trainCount: number;
  /** Validation images of the run, as indices into `images` (-1: removed from the data set since). */
  valImages: number[];
  valLabels: number[];
  /** Kept model's validation probabilities, row-major [valImages × classNames]. */
  valProbs: number[] | null;
  probsEpoch: number | null;
  durationMs: number;
  /** The worker's TrainResult without valProbs/valIds (JSON as it was). */
  result: Record<string, unknown>;
}

export interface ProjectManifest {
  format: typeof PROJECT_FORMAT;
  version: number;
  savedAt: string;
  name: string;
  classes: string[];
  images: ProjectImageEntry[];
  split: { seed: number; valFraction: number };
  /** The Train page's settings (its reader fills what an older file lacks with defaults). */
  settings: Record<string, unknown>;
  /** Base network the prepared data belongs to, and the embedding size. */
  prepared: { base: string; dim: number } | null;
  run: ProjectRun | null;
  /** Zip entries of the trained model (under model/). */
  model: { files: string[] } | null;
}

export interface ProjectImageInput {
  path: string;
  classIndex: number;
  bytes: Uint8Array;
  status: 'ready' | 'error' | 'queued';
  error?: string;
  split: ImageSplit;
  prepared?: PreparedImage;
}

export interface ProjectInput {
  name: string;
  savedAt: string;
  classes: string[];
  images: ProjectImageInput[];
  split: { seed: number; valFraction: number };
  settings: Record<string, unknown>;
  prepared: { base: string; dim: number } | null;
  run: (Omit<ProjectRun, 'valProbs'> & { valProbs: Float32Array | null }) | null;
  model: Record<string, Uint8Array> | null;
}

export interface RestoredProject {
  manifest: ProjectManifest;
  images: (ProjectImageInput & { name: string })[];
  model: Record<string, Uint8Array> | null;
  valProbs: Float32Array | null;
}

function baseName(path: string): string {
  const n = path.slice(path.lastIndexOf('/') + 1).replace(/[^\w.\- ]+/g, '_');
  return n || 'image';
}

const pad = (i: number) => String(i + 1).padStart(4, '0');

function encodePrepared(p: PreparedImage, dim: number): Uint8Array {
  if (p.embedding.length !== dim) throw new ProjectFormatError(`an embedding has ${p.embedding.length} numbers, expected ${dim}`);
  const cropBytes = p.crop instanceof Float32Array ? p.crop.length * 4 : p.crop.length;
  const out = new Uint8Array(dim * 4 + cropBytes + p.base.pixels.length + p.thumb.length);
  let o = 0;
  out.set(new Uint8Array(p.embedding.buffer, p.embedding.byteOffset, dim * 4), o);
  o += dim * 4;
  out.set(new Uint8Array(p.crop.buffer, p.crop.byteOffset, cropBytes), o);
  o += cropBytes;
  out.set(p.base.pixels, o);
  o += p.base.pixels.length;
  out.set(p.thumb, o);
  return out;
}

/** The project's entries (project.json included), ready to be zipped. */
export function buildProjectFiles(p: ProjectInput): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const images: ProjectImageEntry[] = p.images.map((im, i) => {
    const file = `images/${pad(i)}/${baseName(im.path)}`;
    files[file] = im.bytes;
    const entry: ProjectImageEntry = { path: im.path, classIndex: im.classIndex, file, status: im.status, split: im.split };
    if (im.error) entry.error = im.error;
    if (im.prepared && p.prepared) {
      const pf = `prepared/${pad(i)}.bin`;
      files[pf] = encodePrepared(im.prepared, p.prepared.dim);
      entry.prepared = {
        file: pf,
        crop: im.prepared.crop instanceof Float32Array ? 'f32' : 'u8',
        cropLength: im.prepared.crop.length,
        baseSize: im.prepared.base.size,
        thumbLength: im.prepared.thumb.length,
        features: im.prepared.features,
        ...(im.prepared.fileHash ? { fileHash: im.prepared.fileHash } : {}),
        ...(im.prepared.phash ? { phash: im.prepared.phash } : {}),
      };
    }
    return entry;
  });
  let model: ProjectManifest['model'] = null;
  if (p.model) {
    model = { files: [] };
    for (const [name, bytes] of Object.entries(p.model)) {
      files[`model/${name}`] = bytes;
      model.files.push(`model/${name}`);
    }
  }
  const run: ProjectRun | null = p.run ? { ...p.run, valProbs: p.run.valProbs ? Array.from(p.run.valProbs) : null } : null;
  const manifest: ProjectManifest = {
    format: PROJECT_FORMAT,
    version: PROJECT_VERSION,
    savedAt: p.savedAt,
    name: p.name,
    classes: p.classes,
    images,
    split: p.split,
    settings: p.settings,
    prepared: p.prepared,
    run,
    model,
  };
  files[PROJECT_MANIFEST] = utf8Encode(`${JSON.stringify(manifest)}\n`);
  return files;
}

// ---------------------------------------------------------------------------------------------
// Reading: every check before anything is used
// ---------------------------------------------------------------------------------------------

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);

function fail(message: string): never {
  throw new ProjectFormatError(message);
}

function need(cond: unknown, message: string): asserts cond {
  if (!cond) fail(message);
}

/** JSON has no NaN (a feature without a template is NaN): null stands for it. */
const isFeature = (v: unknown) => v === null || isNum(v);

/** Checks a parsed project.json against the entries present; returns it typed. */
export function validateProjectManifest(raw: unknown, entries: ReadonlySet<string>): ProjectManifest {
  need(isObj(raw), 'project.json is not an object');
  need(raw.format === PROJECT_FORMAT, `not a CXR Lab project: project.json has no "format": "${PROJECT_FORMAT}"`);
  need(isInt(raw.version) && (raw.version as number) >= 1, 'project.json has no valid "version"');
  const version = raw.version as number;
  if (version > PROJECT_VERSION)
    fail(`this project was saved by a newer CXR Lab (format version ${version}; this app reads version ${PROJECT_VERSION}). Update the app to open it.`);
  need(typeof raw.name === 'string', 'project.json: "name" is missing');
  need(typeof raw.savedAt === 'string', 'project.json: "savedAt" is missing');
  const classes = raw.classes;
  need(Array.isArray(classes) && classes.every((c) => typeof c === 'string' && c.trim() !== ''), 'project.json: "classes" must be a list of names');
  const lower = classes.map((c: string) => c.trim().toLowerCase());
  need(new Set(lower).size === lower.length, 'project.json: two classes share a name');
  const k = classes.length;
  need(isObj(raw.split) && isInt(raw.split.seed) && isNum(raw.split.valFraction), 'project.json: "split" needs a seed and a validation fraction');
  need(isObj(raw.settings), 'project.json: "settings" is missing');
  const prepared = raw.prepared;
  need(
    prepared === null || (isObj(prepared) && typeof prepared.base === 'string' && isInt(prepared.dim) && (prepared.dim as number) > 0),
    'project.json: "prepared" is invalid',
  );

  need(Array.isArray(raw.images), 'project.json: "images" is missing');
  const images = raw.images as unknown[];
  images.forEach((im, i) => {
    const where = `image ${i + 1}`;
    need(isObj(im), `project.json: ${where} is not an object`);
    need(typeof im.path === 'string' && im.path !== '', `project.json: ${where} has no path`);
    need(isInt(im.classIndex) && (im.classIndex as number) >= 0 && (im.classIndex as number) < k, `project.json: ${where} (${im.path}) has no valid class`);
    need(typeof im.file === 'string', `project.json: ${where} names no file`);
    if (!entries.has(im.file as string)) fail(`the file is incomplete: ${im.file} (${im.path}) is missing`);
    need(im.status === 'ready' || im.status === 'error' || im.status === 'queued', `project.json: ${where} has an unknown status`);
    need(im.split === null || im.split === 'train' || im.split === 'val', `project.json: ${where} has an unknown split`);
    if (im.prepared !== undefined) {
      const pr = im.prepared;
      need(prepared, `project.json: ${where} is prepared but the project names no base network`);
      need(
        isObj(pr) &&
          typeof pr.file === 'string' &&
          (pr.crop === 'u8' || pr.crop === 'f32') &&
          isInt(pr.cropLength) &&
          isInt(pr.baseSize) &&
          isInt(pr.thumbLength) &&
          isObj(pr.features) &&
          (pr.fileHash === undefined || (typeof pr.fileHash === 'string' && /^[0-9a-f]{16}$/.test(pr.fileHash))) &&
          (pr.phash === undefined || (typeof pr.phash === 'string' && /^[0-9a-f]{16}$/.test(pr.phash))) &&
          IMAGE_FEATURE_NAMES.every((f) => isFeature((pr.features as Record<string, unknown>)[f])),
        `project.json: ${where} has invalid prepared data`,
      );
      if (!entries.has(pr.file as string)) fail(`the file is incomplete: ${pr.file} is missing`);
    }
  });

  const run = raw.run;
  if (run !== null) {
    need(isObj(run), 'project.json: "run" is invalid');
    need(
      Array.isArray(run.history) && run.history.every((h) => isObj(h) && isInt(h.epoch) && isNum(h.trainLoss)),
      'project.json: the training curves are invalid',
    );
    need(isInt(run.keptEpoch) && isInt(run.plannedEpochs) && isInt(run.trainCount), 'project.json: the run facts are invalid');
    need(run.stopReason === 'completed' || run.stopReason === 'early-stopped' || run.stopReason === 'stopped', 'project.json: unknown stop reason');
    need(Array.isArray(run.classNames) && run.classNames.every((c) => typeof c === 'string'), 'project.json: the run has no class names');
    const rk = run.classNames.length;
    need(
      Array.isArray(run.valImages) && run.valImages.every((v) => isInt(v) && v >= -1 && v < images.length),
      'project.json: the validation images are invalid',
    );
    need(
      Array.isArray(run.valLabels) && run.valLabels.length === run.valImages.length && run.valLabels.every((l) => isInt(l) && l >= 0 && l < rk),
      'project.json: the validation labels are invalid',
    );
    need(
      run.valProbs === null || (Array.isArray(run.valProbs) && run.valProbs.length === run.valImages.length * rk && run.valProbs.every(isNum)),
      'project.json: the validation probabilities do not match the validation images',
    );
    need(run.probsEpoch === null || isInt(run.probsEpoch), 'project.json: "probsEpoch" is invalid');
    need(isNum(run.durationMs) && isObj(run.result), 'project.json: the run result is missing');
  }

  const model = raw.model;
  if (model !== null) {
    need(
      isObj(model) && Array.isArray(model.files) && model.files.every((f) => typeof f === 'string' && f.startsWith('model/')),
      'project.json: "model" is invalid',
    );
    for (const f of ['model/model.json', 'model/metadata.json']) need(model.files.includes(f), `project.json: the model has no ${f.slice(6)}`);
    for (const f of model.files as string[]) if (!entries.has(f)) fail(`the file is incomplete: ${f} is missing`);
  }
  need(model === null || run !== null, 'project.json: a model without its training run');
  return raw as unknown as ProjectManifest;
}

function decodePrepared(bytes: Uint8Array, spec: NonNullable<ProjectImageEntry['prepared']>, dim: number, where: string): PreparedImage {
  const cropBytes = spec.crop === 'f32' ? spec.cropLength * 4 : spec.cropLength;
  const want = dim * 4 + cropBytes + spec.baseSize * spec.baseSize + spec.thumbLength;
  if (bytes.length !== want) fail(`the file is damaged: ${where} has ${bytes.length} bytes, expected ${want}`);
  // Copies: each view gets its own aligned buffer.
  const copy = (o: number, n: number) => bytes.slice(o, o + n);
  let o = 0;
  const embedding = new Float32Array(copy(o, dim * 4).buffer);
  o += dim * 4;
  const crop = spec.crop === 'f32' ? new Float32Array(copy(o, cropBytes).buffer) : copy(o, cropBytes);
  o += cropBytes;
  const pixels = copy(o, spec.baseSize * spec.baseSize);
  o += pixels.length;
  const thumb = copy(o, spec.thumbLength);
  if (!embedding.every(Number.isFinite)) fail(`the file is damaged: ${where} holds an invalid embedding`);
  return {
    embedding,
    crop,
    features: Object.fromEntries(IMAGE_FEATURE_NAMES.map((f) => [f, spec.features[f] ?? NaN])) as unknown as ImageFeatures,
    base: { pixels, size: spec.baseSize },
    thumb,
    ...(spec.fileHash ? { fileHash: spec.fileHash } : {}),
    ...(spec.phash ? { phash: spec.phash } : {}),
  };
}

/** Strict UTF-8 decoding without TextDecoder (core has no DOM); throws on malformed bytes. */
export function utf8Decode(bytes: Uint8Array): string {
  let out = '';
  let chunk: number[] = [];
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    let cp: number;
    let n: number;
    if (b < 0x80) {
      cp = b;
      n = 0;
    } else if (b >= 0xc2 && b < 0xe0) {
      cp = b & 0x1f;
      n = 1;
    } else if (b >= 0xe0 && b < 0xf0) {
      cp = b & 0x0f;
      n = 2;
    } else if (b >= 0xf0 && b < 0xf5) {
      cp = b & 0x07;
      n = 3;
    } else throw new Error('invalid UTF-8');
    for (let j = 1; j <= n; j++) {
      const c = bytes[i + j];
      if (c === undefined || (c & 0xc0) !== 0x80) throw new Error('invalid UTF-8');
      cp = (cp << 6) | (c & 0x3f);
    }
    if ((n === 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (n === 3 && (cp < 0x10000 || cp > 0x10ffff))) throw new Error('invalid UTF-8');
    chunk.push(cp);
    if (chunk.length >= 8192) {
      out += String.fromCodePoint(...chunk);
      chunk = [];
    }
    i += n + 1;
  }
  return out + String.fromCodePoint(...chunk);
}

/** The project held by unzipped entries; a ProjectFormatError says what is wrong. */
export function readProjectFiles(files: Record<string, Uint8Array>): RestoredProject {
  const text = files[PROJECT_MANIFEST];
  if (!text) fail('not a CXR Lab project: the file holds no project.json');
  let raw: unknown;
  try {
    raw = JSON.parse(utf8Decode(text));
  } catch {
    fail('the file is damaged: project.json is not valid JSON');
  }
  const manifest = validateProjectManifest(raw, new Set(Object.keys(files)));
  const dim = manifest.prepared?.dim ?? 0;
  const images = manifest.images.map((im) => ({
    path: im.path,
    name: im.file.slice(im.file.lastIndexOf('/') + 1),
    classIndex: im.classIndex,
    bytes: files[im.file],
    status: im.status,
    error: im.error,
    split: im.split,
    prepared: im.prepared ? decodePrepared(files[im.prepared.file], im.prepared, dim, im.prepared.file) : undefined,
  }));
  let model: Record<string, Uint8Array> | null = null;
  if (manifest.model) {
    model = {};
    for (const f of manifest.model.files) model[f.slice('model/'.length)] = files[f];
  }
  const valProbs = manifest.run?.valProbs ? Float32Array.from(manifest.run.valProbs) : null;
  return { manifest, images, model, valProbs };
}
