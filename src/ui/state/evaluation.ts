// The Evaluate page's run: a labelled folder (class folders, a .zip of them, or a manifest.csv)
// classified image by image in the inference worker with the model in use, then turned into the
// report of `npm run evaluate` (src/core/evaluation.ts, built in the report worker). State lives
// outside React, so a run survives switching pages; files are read only when sent to the worker.
import { describeEvaluationData, type EvaluationData } from '../../core/evaluation-data';
import type { EvaluationJson, SkippedImage } from '../../core/evaluation';
import type { MetricsReport } from '../../core/report';
import { AUDIT_MODES, type AuditMask, type AuditMode } from '../../core/audit';
import { parseManifest } from '../../core/manifest';
import { expandZips, type IntakeFile, type Rejected } from '../../ml/dataset-browser';
import type { ClassifyOptions, ClassifyResult, ModelInfo } from '../../worker/protocol';
import { buildEvaluationInWorker, buildMetricsInWorker } from '../../worker/report-client';
import { Store } from '../lib/store';
import { WorkerError, classifyFile, classifyFiles, ensureModel, modelStore } from '../state/classifier';

/** Batches handed to the worker at once: one computing, one waiting (as the Classify page does with files). */
const IN_FLIGHT = 2;
/** Images per worker request: one model run for the lot (the CLI predicts 32 at a time). */
const BATCH = 8;
/** Misclassified images kept with their model input for the gallery (the rest are only counted). */
export const GALLERY_MAX = 200;
/** The CLI's defaults (scripts/evaluate.ts), so the page's report equals `npm run evaluate`'s. */
export const BOOTSTRAP = { iterations: 1000, seed: 0 };

export interface ImageOutcome {
  probabilities: number[];
  logits: number[];
  predicted: number;
  /** prediction.ood.flagged; null when the model has no OOD detector. */
  refused: boolean | null;
  refusedReasons: string[];
  /** Covid screen at the stored operating point; null when the model has none. */
  covidPositive: boolean | null;
  decodeMs: number;
  computeMs: number;
}

export interface ShortcutMode {
  mode: AuditMode;
  accuracy: number | null;
  balancedAccuracy: number | null;
  macroAuc: number | null;
  recall: Record<string, number | null>;
}

export interface ShortcutState {
  status: 'idle' | 'running' | 'done' | 'cancelled' | 'error';
  done: number;
  total: number;
  modes: ShortcutMode[];
  error: string | null;
}

export type EvalPhase = 'idle' | 'reading' | 'running' | 'reporting' | 'done' | 'error';

export interface EvaluationState {
  phase: EvalPhase;
  /** Folder or zip name. */
  source: string;
  data: EvaluationData | null;
  /** Split values of a manifest (empty without a split column). */
  splits: string[];
  /** Files the intake could not use (unreadable zip entries). */
  rejected: Rejected[];
  error: string | null;
  total: number;
  done: number;
  startedAt: number | null;
  finishedAt: number | null;
  etaSeconds: number | null;
  /** Per entry of data.entries; null until classified (or when skipped). */
  outcomes: (ImageOutcome | null)[];
  skipped: SkippedImage[];
  /** Cancelled before every image was classified. */
  partial: boolean;
  report: EvaluationJson | null;
  /** Model the report is about (name@version) and its class names. */
  model: ModelInfo | null;
  /** Misclassified images (index into data.entries) with the worker's result, for the gallery. */
  misclassified: { index: number; result: ClassifyResult }[];
  shortcut: ShortcutState;
  announcement: string;
}

const idleShortcut: ShortcutState = { status: 'idle', done: 0, total: 0, modes: [], error: null };

const initial: EvaluationState = {
  phase: 'idle',
  source: '',
  data: null,
  splits: [],
  rejected: [],
  error: null,
  total: 0,
  done: 0,
  startedAt: null,
  finishedAt: null,
  etaSeconds: null,
  outcomes: [],
  skipped: [],
  partial: false,
  report: null,
  model: null,
  misclassified: [],
  shortcut: idleShortcut,
  announcement: '',
};

export const evaluationStore = new Store<EvaluationState>(initial);

/** The files of the current data set by path relative to the data root. */
let files = new Map<string, Blob>();
let intake: { files: IntakeFile[]; source: string; unreadable: readonly Rejected[] } | null = null;
let runId = 0;
let cancelRequested = false;

function normalisePath(p: string): string {
  return p
    .replace(/\\/g, '/')
    .split('/')
    .filter((x) => x !== '' && x !== '.')
    .join('/');
}

function messageOf(e: unknown): string {
  if (e instanceof WorkerError && e.kind !== 'image') return `${e.kind === 'model' ? 'model not available' : 'error'}: ${e.message}`;
  return (e as Error)?.message ?? String(e);
}

type Classified = { index: number; result: ClassifyResult } | { index: number; error: string };

/**
 * Classifies data.entries[indices] in batches of BATCH, IN_FLIGHT batches at a time, until done,
 * cancelled or superseded; `onBatch` gets each batch's outcomes (a missing file or one the worker
 * could not decode comes back with its error).
 */
async function classifyEntries(
  id: number,
  data: EvaluationData,
  indices: readonly number[],
  options: ClassifyOptions | undefined,
  onBatch: (items: Classified[]) => void,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (!cancelRequested && id === runId && next < indices.length) {
      const chunk = indices.slice(next, next + BATCH);
      next += chunk.length;
      const found: number[] = [];
      const out: Classified[] = [];
      for (const index of chunk) {
        if (files.has(normalisePath(data.entries[index].file))) found.push(index);
        else out.push({ index, error: 'file not found' });
      }
      if (found.length) {
        try {
          const results = await classifyFiles(
            found.map((index) => ({ name: data.entries[index].file, file: files.get(normalisePath(data.entries[index].file))! })),
            options,
          );
          results.forEach((r, k) =>
            out.push(
              r.ok
                ? { index: found[k], result: r.result }
                : { index: found[k], error: r.error.kind === 'image' ? r.error.message : messageOf(new WorkerError(r.error.kind, r.error.message)) },
            ),
          );
        } catch (e) {
          for (const index of found) out.push({ index, error: messageOf(e) });
        }
      }
      if (id === runId) onBatch(out);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}

/** Takes a folder's or a drop's files (zips expanded), decides the layout and starts the run. */
export async function evaluateFiles(input: IntakeFile[], source: string, split = 'test', unreadable: readonly Rejected[] = []): Promise<void> {
  const id = ++runId;
  cancelRequested = false;
  evaluationStore.set({ ...initial, phase: 'reading', source, announcement: `Reading ${source}` });
  try {
    const info = await ensureModel();
    const expanded = await expandZips(input);
    if (id !== runId) return;
    intake = { files: expanded.files, source, unreadable };
    const byPath = new Map(expanded.files.map((f) => [normalisePath(f.path), f.file]));
    const data = await describeEvaluationData([...byPath.keys()], info.metadata.classNames, {
      split,
      readManifest: (p) => byPath.get(normalisePath(p))!.text(),
    });
    let splits: string[] = [];
    if (data.layout === 'manifest') {
      const all = parseManifest(data.manifestText, { labels: null });
      splits = [...new Set(all.entries.map((e) => e.split).filter((s): s is NonNullable<typeof s> => s !== undefined))].sort();
    }
    files = new Map();
    for (const [p, blob] of byPath) if (p.startsWith(data.root)) files.set(p.slice(data.root.length), blob);
    if (id !== runId) return;
    evaluationStore.set((s) => ({ ...s, data, splits, rejected: [...unreadable, ...expanded.rejected] }));
    await classifyAll(id, data, info);
  } catch (e) {
    if (id !== runId) return;
    evaluationStore.set((s) => ({ ...s, phase: 'error', error: messageOf(e), announcement: `Cannot evaluate: ${messageOf(e)}` }));
  }
}

/** The same files again (another split, or after a model change). */
export function rerun(split?: string): Promise<void> {
  if (!intake) return Promise.resolve();
  return evaluateFiles(intake.files, intake.source, split ?? evaluationStore.get().data?.split ?? 'test', intake.unreadable);
}

async function classifyAll(id: number, data: EvaluationData, info: ModelInfo): Promise<void> {
  const n = data.entries.length;
  const startedAt = performance.now();
  evaluationStore.set((s) => ({
    ...s,
    phase: 'running',
    model: info,
    total: n,
    done: 0,
    startedAt,
    outcomes: new Array<ImageOutcome | null>(n).fill(null),
    announcement: `Evaluating ${n} images`,
  }));
  const outcomeOf = (result: ClassifyResult): ImageOutcome => {
    const p = result.prediction;
    return {
      probabilities: p.probabilities,
      logits: p.logits,
      // The argmax, as the report counts it (the label shown may be withheld for a refused image).
      predicted: p.probabilities.indexOf(Math.max(...p.probabilities)),
      refused: p.ood ? p.ood.flagged : null,
      refusedReasons: p.ood?.reasons ?? [],
      covidPositive: result.covidScreen ? result.covidScreen.positive : null,
      decodeMs: result.timings.readMs + result.timings.decodeMs,
      computeMs: result.timings.preprocessMs + result.timings.inferenceMs,
    };
  };
  await classifyEntries(
    id,
    data,
    data.entries.map((_, i) => i),
    undefined,
    (items) =>
      evaluationStore.set((s) => {
        const outcomes = s.outcomes.slice();
        const skipped = s.skipped.slice();
        const misclassified = s.misclassified.slice();
        for (const it of items) {
          const entry = data.entries[it.index];
          if ('error' in it) {
            skipped.push({ file: entry.file, line: entry.line, reason: it.error });
            continue;
          }
          const o = outcomeOf(it.result);
          outcomes[it.index] = o;
          if (o.predicted !== entry.labelIndex && misclassified.length < GALLERY_MAX) misclassified.push({ index: it.index, result: it.result });
        }
        const done = s.done + items.length;
        const elapsed = (performance.now() - startedAt) / 1000;
        const step = Math.max(1, Math.ceil(n / 10));
        return {
          ...s,
          outcomes,
          done,
          misclassified,
          skipped,
          etaSeconds: done > 0 ? (elapsed / done) * (n - done) : null,
          announcement: Math.floor(done / step) > Math.floor(s.done / step) ? `${done} of ${n} images evaluated` : s.announcement,
        };
      }),
  );
  if (id !== runId) return;
  // Another model loaded mid-run (the picker) would mix two models' answers in one report.
  const now = modelStore.get().info;
  if (now !== info) {
    evaluationStore.set((st) => ({
      ...st,
      phase: 'error',
      error: 'the model was changed during the evaluation, so its results mix two models; choose the folder again (or Evaluate again)',
    }));
    return;
  }
  const s = evaluationStore.get();
  const partial = s.done < n;
  // Skipped files in data-set order (the lanes finish out of order), as the CLI lists them.
  const lineOf = new Map(data.entries.map((e) => [e.file, e.line]));
  const skipped = [...s.skipped].sort((a, b) => (lineOf.get(a.file) ?? 0) - (lineOf.get(b.file) ?? 0));
  evaluationStore.set((st) => ({
    ...st,
    phase: 'reporting',
    partial,
    skipped,
    finishedAt: performance.now(),
    etaSeconds: 0,
    announcement: 'Building the report',
  }));
  try {
    const report = await buildReport(data, info, s.outcomes, skipped, partial);
    if (id !== runId) return;
    evaluationStore.set((st) => ({
      ...st,
      phase: 'done',
      report,
      announcement: `Report ready${partial ? ' (partial: cancelled)' : ''}: ${report.n} images, accuracy ${report.accuracy === null ? '—' : report.accuracy.toFixed(3)}`,
    }));
  } catch (e) {
    if (id !== runId) return;
    evaluationStore.set((st) => ({ ...st, phase: 'error', error: `the report could not be built: ${messageOf(e)}` }));
  }
}

function buildReport(
  data: EvaluationData,
  info: ModelInfo,
  outcomes: (ImageOutcome | null)[],
  skipped: SkippedImage[],
  partial: boolean,
): Promise<EvaluationJson> {
  const done = data.entries.map((e, i) => ({ e, o: outcomes[i] })).filter((x): x is { e: (typeof data.entries)[number]; o: ImageOutcome } => x.o !== null);
  const seconds = done.reduce((a, x) => a + x.o.computeMs, 0) / 1000;
  const decodeSeconds = done.reduce((a, x) => a + x.o.decodeMs, 0) / 1000;
  const meta = info.metadata;
  const temperature = meta.trust?.temperature ?? 1;
  const threadDetail = info.backend.details.map((d) => /(\d+)\s*thread/.exec(d)).find(Boolean);
  return buildEvaluationInWorker({
    metadata: meta,
    temperature,
    hasOod: done.length > 0 ? done.some((x) => x.o.refused !== null) : !!meta.trust?.ood,
    entries: done.map((x) => x.e),
    probabilities: done.map((x) => x.o.probabilities),
    logits: done.map((x) => x.o.logits),
    oodFlagged: done.map((x) => x.o.refused),
    bootstrap: BOOTSTRAP,
    run: {
      tool: 'src/ui/pages/EvaluatePage.tsx',
      command: `CXR Lab Evaluate page (in the browser): ${evaluationStore.get().source}`,
      date: new Date().toISOString(),
      gitCommit: null,
      split: data.split,
      dir: evaluationStore.get().source,
      manifestHash: data.manifestHash,
      rowsInSelection: data.entries.length,
      limit: null,
      layout: data.layout,
      partial,
      modelDir: info.sourceLabel,
      backend: info.backend.name,
      threads: threadDetail ? Number(threadDetail[1]) : 1,
    },
    throughput: {
      images: done.length,
      seconds,
      imagesPerSecond: seconds > 0 ? done.length / seconds : null,
      batchSize: BATCH,
      decodeSeconds,
      measures: 'preprocessing + OOD image statistics + inference, decoding excluded (see decodeSeconds)',
    },
    skipped,
    ignored: data.ignored,
    unknownFolders: data.unknownFolders,
  });
}

/** Stops the run (or the shortcut check) after the images already in the worker; what is done is kept. */
export function cancelEvaluation(): void {
  cancelRequested = true;
  evaluationStore.set((s) => ({ ...s, announcement: 'Cancelling: the report will cover the images evaluated so far' }));
}

/**
 * The shortcut check: the evaluated images again with the border only and with the centre only
 * (the masks of `npm run audit`), each scored like the audit does (no bootstrap).
 */
export async function runShortcutCheck(): Promise<void> {
  const s0 = evaluationStore.get();
  const data = s0.data;
  const report = s0.report;
  if (!data || !report || !s0.model) return;
  const id = runId;
  cancelRequested = false;
  const indices = s0.outcomes.map((o, i) => (o ? i : -1)).filter((i) => i >= 0);
  const masks: AuditMask[] = ['border-only', 'centre-only'];
  const total = indices.length * masks.length;
  const classNames = report.classNames;
  const full: ShortcutMode = {
    mode: 'full',
    accuracy: report.accuracy,
    balancedAccuracy: report.balancedAccuracy,
    macroAuc: report.macro.auc,
    recall: Object.fromEntries(classNames.map((c) => [c, report.perClass[c].sensitivity])),
  };
  evaluationStore.set((s) => ({ ...s, shortcut: { status: 'running', done: 0, total, modes: [full], error: null }, announcement: 'Shortcut check running' }));
  try {
    for (const mask of masks) {
      const probabilities: number[][] = new Array(indices.length);
      const position = new Map(indices.map((index, k) => [index, k]));
      let failed: string | null = null;
      await classifyEntries(id, data, indices, { auditMask: mask }, (items) => {
        for (const it of items) {
          if ('error' in it) failed ??= `${data.entries[it.index].file}: ${it.error}`;
          else probabilities[position.get(it.index)!] = it.result.prediction.probabilities;
        }
        evaluationStore.set((s) => ({ ...s, shortcut: { ...s.shortcut, done: s.shortcut.done + items.length } }));
      });
      if (failed) throw new Error(failed);
      if (id !== runId) return;
      if (cancelRequested) {
        evaluationStore.set((s) => ({ ...s, shortcut: { ...s.shortcut, status: 'cancelled' }, announcement: 'Shortcut check cancelled' }));
        return;
      }
      const m: MetricsReport = await buildMetricsInWorker({
        classNames,
        labels: indices.map((i) => data.entries[i].labelIndex),
        probabilities,
        bootstrap: false,
        includeSamples: false,
        rocMaxPoints: 2,
      });
      const mode: ShortcutMode = {
        mode: mask,
        accuracy: m.accuracy,
        balancedAccuracy: m.balancedAccuracy,
        macroAuc: m.macro.auc,
        recall: Object.fromEntries(classNames.map((c) => [c, m.perClass[c].sensitivity])),
      };
      evaluationStore.set((s) => ({ ...s, shortcut: { ...s.shortcut, modes: [...s.shortcut.modes, mode] } }));
    }
    const order = (m: ShortcutMode) => AUDIT_MODES.indexOf(m.mode);
    evaluationStore.set((s) => ({
      ...s,
      shortcut: { ...s.shortcut, status: 'done', modes: [...s.shortcut.modes].sort((a, b) => order(a) - order(b)) },
      announcement: 'Shortcut check done',
    }));
  } catch (e) {
    if (id !== runId) return;
    evaluationStore.set((s) => ({ ...s, shortcut: { ...s.shortcut, status: 'error', error: messageOf(e) } }));
  }
}

/** A fresh worker result for an entry (Grad-CAM needs one the worker still keeps). */
export function reclassify(index: number): Promise<ClassifyResult> {
  const entry = evaluationStore.get().data?.entries[index];
  const blob = entry ? files.get(normalisePath(entry.file)) : undefined;
  if (!entry || !blob) return Promise.reject(new Error('the file is no longer available; choose the folder again'));
  return classifyFile(entry.file, blob);
}

export function resetEvaluation(): void {
  runId++;
  cancelRequested = true;
  files = new Map();
  intake = null;
  evaluationStore.set(initial);
}

declare global {
  interface Window {
    cxrLabEvaluate?: { state: () => EvaluationState };
  }
}

if (typeof window !== 'undefined') window.cxrLabEvaluate = { state: evaluationStore.get };
