// The evaluation report as `npm run evaluate -- --out` writes it and the Evaluate page downloads
// it: the metrics report of ./report (one implementation for both) plus run metadata, skipped and
// ignored files, the out-of-distribution ("not a chest X-ray") refusals, and the same metrics
// without the refused images. Pure TypeScript: scripts/evaluate.ts and the browser's report worker
// both call buildEvaluationJson with per-image probabilities, logits and OOD flags.
import type { ModelMetadata } from './metadata';
import type { ManifestEntry } from './manifest';
import { buildMetricsReport, CXR_AGE_GROUP_RULE, type MetricsReport, type OperatingPointInput } from './report';
import { evaluationGroups, type EvaluationLayout, type IgnoredFile, type UnknownFolder } from './evaluation-data';
import { COVID_CLASS } from './labels';

export interface SkippedImage {
  file: string;
  /** Manifest line (for class folders: the line in the equivalent manifest, see evaluation-data.ts). */
  line: number;
  reason: string;
}

export interface EvaluationMeta {
  tool: string;
  command: string;
  date: string;
  gitCommit: string | null;
  split: string;
  data: {
    dir: string;
    manifestHash: string;
    rowsInSelection: number;
    evaluated: number;
    skipped: number;
    limit: number | null;
    /** How labels were given: a manifest.csv, or one folder per class. */
    layout: EvaluationLayout;
    /** True when the run was cancelled before every image was classified (the Evaluate page's Cancel). */
    partial: boolean;
  };
  model: {
    dir: string;
    name: string;
    version: string;
    temperature: number;
    covidThreshold: number | null;
    trainedOnManifestHash: string | null;
    trainedAt: string | null;
    gitCommit: string | null;
  };
  backend: string;
  threads: number;
  ageGroupRule: string | null;
}

export interface EvaluationThroughput {
  images: number;
  seconds: number;
  imagesPerSecond: number | null;
  batchSize: number;
  decodeSeconds: number;
  measures: string;
}

export interface EvaluationJson extends MetricsReport {
  meta: EvaluationMeta;
  throughput: EvaluationThroughput;
  skipped: SkippedImage[];
  /** Files not evaluated because of their place or name (non-images, loose files next to class folders). */
  ignored: IgnoredFile[];
  /** First-level folders that are not a class of the model (their images are not evaluated). */
  unknownFolders: UnknownFolder[];
  /**
   * Out-of-distribution refusals (prediction.ood, metadata.trust.ood): the app withholds the class of
   * these images ("Not a chest X-ray?"). null when the model has no OOD detector. The metrics above
   * count every image, refused or not.
   */
  ood: { flagged: number; n: number; rate: number | null; files: string[] } | null;
  /** The same metrics over the images that were not refused; null when none was refused. */
  withoutRefused: MetricsReport | null;
}

/** The stored covid operating point of a model (metadata.trust.covidThreshold) for the report. */
export function operatingPointFrom(metadata: ModelMetadata): OperatingPointInput | null {
  const op = metadata.trust?.covidThreshold;
  if (!op || !metadata.classNames.includes(COVID_CLASS) || !Number.isFinite(op.threshold)) return null;
  const finite = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return {
    className: COVID_CLASS,
    threshold: op.threshold,
    source: 'metadata.trust.covidThreshold',
    targetSensitivity: finite(op.targetSensitivity),
    valSensitivity: finite(op.valSensitivity),
    valSpecificity: finite(op.valSpecificity),
  };
}

export interface EvaluationInput {
  metadata: ModelMetadata;
  /** Softmax temperature the probabilities were computed with. */
  temperature: number;
  /** Whether the model has an OOD detector (ood is null without one). */
  hasOod: boolean;
  /** The evaluated images, in evaluation order. */
  entries: readonly Pick<ManifestEntry, 'file' | 'labelIndex' | 'label' | 'sourceRepo' | 'extra'>[];
  probabilities: readonly (readonly number[])[];
  logits: readonly (readonly number[])[];
  /** prediction.ood.flagged per image (null when not checked). */
  oodFlagged: readonly (boolean | null)[];
  bootstrap: { iterations: number; seed: number };
  /** Everything of meta except what follows from the images and the model (filled in here). */
  run: {
    tool: string;
    command: string;
    date: string;
    gitCommit: string | null;
    split: string;
    dir: string;
    manifestHash: string;
    rowsInSelection: number;
    limit: number | null;
    layout: EvaluationLayout;
    partial: boolean;
    modelDir: string;
    backend: string;
    threads: number;
  };
  throughput: EvaluationThroughput;
  skipped: SkippedImage[];
  ignored: IgnoredFile[];
  unknownFolders: UnknownFolder[];
}

export function buildEvaluationJson(input: EvaluationInput): EvaluationJson {
  const { metadata, entries } = input;
  const groups = evaluationGroups(entries);
  const common = {
    classNames: metadata.classNames,
    temperature: input.temperature,
    operatingPoint: operatingPointFrom(metadata),
    bootstrap: input.bootstrap,
  };
  const report = buildMetricsReport({
    ...common,
    labels: entries.map((e) => e.labelIndex),
    probabilities: input.probabilities,
    logits: input.logits,
    groups,
  });
  let ood: EvaluationJson['ood'] = null;
  let withoutRefused: MetricsReport | null = null;
  if (input.hasOod) {
    const files = entries.filter((_, i) => input.oodFlagged[i] === true).map((e) => e.file);
    ood = { flagged: files.length, n: entries.length, rate: entries.length ? files.length / entries.length : null, files };
    const keep = entries.map((_, i) => i).filter((i) => input.oodFlagged[i] !== true);
    if (files.length > 0) {
      withoutRefused = buildMetricsReport({
        ...common,
        labels: keep.map((i) => entries[i].labelIndex),
        probabilities: keep.map((i) => input.probabilities[i]),
        logits: keep.map((i) => input.logits[i]),
        groups: Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, keep.map((i) => v[i])])),
        includeSamples: false,
      });
    }
  }
  const r = input.run;
  return {
    meta: {
      tool: r.tool,
      command: r.command,
      date: r.date,
      gitCommit: r.gitCommit,
      split: r.split,
      data: {
        dir: r.dir,
        manifestHash: r.manifestHash,
        rowsInSelection: r.rowsInSelection,
        evaluated: entries.length,
        skipped: input.skipped.length,
        limit: r.limit,
        layout: r.layout,
        partial: r.partial,
      },
      model: {
        dir: r.modelDir,
        name: metadata.name,
        version: metadata.version,
        temperature: input.temperature,
        covidThreshold: metadata.trust?.covidThreshold?.threshold ?? null,
        trainedOnManifestHash: metadata.training?.manifestHash ?? null,
        trainedAt: metadata.training?.date ?? null,
        gitCommit: metadata.training?.gitCommit ?? null,
      },
      backend: r.backend,
      threads: r.threads,
      ageGroupRule: groups.age_group ? CXR_AGE_GROUP_RULE : null,
    },
    ...report,
    throughput: input.throughput,
    skipped: input.skipped,
    ignored: input.ignored,
    unknownFolders: input.unknownFolders,
    ood,
    withoutRefused,
  };
}

/**
 * JSON with two-space indentation where it helps reading, but every array or object whose compact
 * form fits in `width` characters on one line (ROC points, per-image score arrays stay dense).
 */
export function stringifyReport(value: unknown, width = 100): string {
  const walk = (v: unknown, indent: string): string => {
    const compact = JSON.stringify(v);
    if (compact === undefined) return 'null';
    if (v === null || typeof v !== 'object' || compact.length <= width) return compact;
    const inner = indent + '  ';
    if (Array.isArray(v)) {
      // Arrays of primitives (per-image scores): one line however long.
      if (v.every((x) => x === null || typeof x !== 'object')) return compact;
      return `[\n${v.map((x) => inner + walk(x, inner)).join(',\n')}\n${indent}]`;
    }
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${walk(x, inner)}`).join(',\n')}\n${indent}}`;
  };
  return walk(value, '');
}
