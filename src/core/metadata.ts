// Schema of public/model/metadata.json: everything the app, the CLIs and the fine-tuning page need to
// know about a model beyond its weights. Pure TS so the worker, the UI and Node scripts share it.
import { oodStatsProblem, type OodStats } from './ood';

/** How an image becomes the model's input tensor. Shared verbatim by training, evaluation and the browser. */
export interface PreprocessingSpec {
  /** Bumped whenever the pixel pipeline changes meaning. */
  version: 1;
  /** Side of the square model input, in pixels. */
  inputSize: number;
  /** 1 = grayscale. */
  channels: 1;
  /** Fraction of the centred square (side = shorter image side) that is kept before resizing. */
  cropFraction: number;
  /** Contrast normalisation applied after resizing. */
  equalize: 'none' | 'histogram';
  /** Final value range of the input tensor. */
  range: [number, number];
  /**
   * Fixed circular field of view, as a fraction of the input side: pixels farther than `radius`
   * from the centre fade to the range minimum over `feather`. Burned-in text, rulers and hospital
   * markers sit at the film edges; the model never sees them. Absent = no mask.
   */
  mask?: { radius: number; feather: number };
}

export interface TrustSpec {
  /** Softmax temperature fitted on the validation split (1 = uncalibrated). */
  temperature: number;
  /** Operating point for the "covid" class chosen on validation. */
  covidThreshold?: {
    threshold: number;
    targetSensitivity: number;
    valSensitivity: number;
    valSpecificity: number;
    /** Validation images the threshold was chosen on, and how many of them are of the class. */
    valImages?: number;
    valPositives?: number;
  };
  /** How the temperature was fitted (absent in older metadata). */
  temperatureFit?: { valImages: number; nllBefore: number; nllAfter: number /** Lower bound of the fit, when one was set. */; minTemperature?: number };
  /**
   * Out-of-distribution detector (schema and scoring: src/core/ood.ts), written by scripts/fit-ood.ts:
   * embedding class means + shared shrunk precision + threshold, and image checks. Absent = no OOD flag.
   */
  ood?: OodStats;
}

export interface ModelMetadata {
  name: string;
  version: string;
  task: string;
  classNames: string[];
  input: { shape: number[]; dtype: 'float32'; layout: 'NHWC' };
  preprocessing: PreprocessingSpec;
  layers: { embedding: string; lastConv: string; logits: string };
  /** Probability below which the UI shows "uncertain". */
  uncertainBelow: number;
  trust?: TrustSpec;
  training?: {
    manifestHash?: string;
    /** Content key of the train and val images (scripts/lib/dataset.ts), so cached runs notice changed images. */
    dataContentKey?: string;
    gitCommit?: string;
    date?: string;
    seed?: number;
    hyperparameters?: Record<string, unknown>;
    trainingSeconds?: number;
    epochs?: number;
    bestEpoch?: number;
    backend?: string;
    data?: string;
    /** The data set's release ("release 3"), read from its README. */
    dataRelease?: string | null;
    /** One line naming the training recipe. */
    recipe?: string;
    /** Summary of `npm run evaluate:shift` for this model (leave-source-out, source probe, acquisition shift). */
    shift?: Record<string, unknown>;
    history?: Array<Record<string, number>>;
    /** Images per class in each split (fine-tuned models; the shipped model's split is the data set's). */
    split?: { classNames: string[]; train: number[]; val: number[] };
    /** Headline figures on the validation split of the kept model (fine-tuned models; the full report is metrics.json). */
    validation?: { images: number; accuracy: number | null; balancedAccuracy: number | null; macroAuc: number | null };
  };
  notes?: string[];
}

export class MetadataError extends Error {}

function fail(msg: string): never {
  throw new MetadataError(`metadata.json: ${msg}`);
}

/** Validates parsed JSON and returns it typed; throws MetadataError with a readable message. */
export function parseModelMetadata(json: unknown): ModelMetadata {
  if (typeof json !== 'object' || json === null) fail('not a JSON object');
  const m = json as Partial<ModelMetadata>;
  if (!Array.isArray(m.classNames) || m.classNames.length < 2 || !m.classNames.every((c) => typeof c === 'string' && c.length > 0)) {
    fail('classNames must list at least 2 non-empty class names');
  }
  if (new Set(m.classNames).size !== m.classNames.length) fail('classNames must be unique');
  const p = m.preprocessing;
  if (!p || typeof p !== 'object') fail('missing preprocessing');
  if (p.version !== 1) fail(`unsupported preprocessing version ${String(p.version)}`);
  if (!Number.isInteger(p.inputSize) || p.inputSize < 8 || p.inputSize > 1024) fail('preprocessing.inputSize must be an integer in 8..1024');
  if (p.channels !== 1) fail('preprocessing.channels must be 1');
  if (!(p.cropFraction > 0 && p.cropFraction <= 1)) fail('preprocessing.cropFraction must be in (0, 1]');
  if (p.equalize !== 'none' && p.equalize !== 'histogram') fail("preprocessing.equalize must be 'none' or 'histogram'");
  if (!Array.isArray(p.range) || p.range.length !== 2) fail('preprocessing.range must be [min, max]');
  if (p.mask !== undefined && !(p.mask.radius > 0 && p.mask.feather >= 0)) fail('preprocessing.mask needs radius > 0 and feather >= 0');
  if (!m.layers || typeof m.layers.embedding !== 'string' || typeof m.layers.lastConv !== 'string' || typeof m.layers.logits !== 'string') {
    fail('layers must name embedding, lastConv and logits');
  }
  if (m.trust !== undefined && (typeof m.trust !== 'object' || m.trust === null)) fail('trust must be an object');
  if (m.trust?.ood !== undefined) {
    const problem = oodStatsProblem(m.trust.ood, m.classNames.length);
    if (problem) fail(`trust.ood: ${problem}`);
  }
  const uncertainBelow = typeof m.uncertainBelow === 'number' ? m.uncertainBelow : 0.6;
  return {
    name: typeof m.name === 'string' ? m.name : 'unnamed model',
    version: typeof m.version === 'string' ? m.version : '0',
    task: typeof m.task === 'string' ? m.task : 'image classification',
    classNames: m.classNames,
    input: m.input ?? { shape: [1, p.inputSize, p.inputSize, 1], dtype: 'float32', layout: 'NHWC' },
    preprocessing: p,
    layers: m.layers,
    uncertainBelow,
    trust: m.trust,
    training: m.training,
    notes: m.notes,
  } as ModelMetadata;
}
