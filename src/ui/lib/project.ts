// The Train page's projects: save the whole state (images, labels, split, settings, trained model,
// curves) to one .cxrlab file or into this browser, restore it, and warn before a reload or close
// would lose work that was not saved since. Format: src/core/project.ts; zip: project-file.ts;
// browser storage: project-store.ts. The images' prepared data (embedding, crop, augmentation base)
// is saved with the base network's identity: restoring under the same network decodes nothing.
import { buildProjectFiles, PROJECT_EXTENSION, type PreparedImage, type ProjectImageInput, type RestoredProject } from '../../core/project';
import type { TrainItem, TrainResult } from '../../worker/train-protocol';
import {
  allocateIds,
  DEFAULT_SETTINGS,
  ensureBase,
  planSplit,
  replaceProject,
  trainerClient,
  trainerStore,
  type ImageEntry,
  type RunState,
  type TrainerState,
  type TrainSettings,
} from '../state/trainer';
import { packProject, unpackProject } from './project-file';
import { deleteStoredProject, listStoredProjects, readStoredProject, saveStoredProject, type StoredProjectSummary } from './project-store';
import { Store } from './store';

export interface ProjectState {
  busy: 'saving' | 'restoring' | null;
  /** Set while a restore waits for images to be prepared again (no saved data under this network). */
  restoring: { name: string; total: number; reused: number } | null;
  saved: StoredProjectSummary[];
  /** Unsaved work: images or a trained model not in the last saved/downloaded/opened project. */
  dirty: boolean;
  lastSaved: { name: string; where: 'file' | 'browser'; at: string } | null;
  message: { kind: 'ok' | 'error'; text: string } | null;
  /** Wall-clock ms of the last restore until every image was ready (for the page and the tests). */
  lastRestoreMs: number | null;
}

export const projectStore = new Store<ProjectState>({
  busy: null,
  restoring: null,
  saved: [],
  dirty: false,
  lastSaved: null,
  message: null,
  lastRestoreMs: null,
});
const setP = (f: (s: ProjectState) => ProjectState) => projectStore.set(f);

// ---------------------------------------------------------------------------------------------
// Unsaved work and the beforeunload warning
// ---------------------------------------------------------------------------------------------

/** What a saved project captures; equal keys mean nothing new to lose. */
function workKey(s: TrainerState): string {
  return [
    s.classes.map((c) => `${c.key}:${c.name}`).join('|'),
    s.images.map((im) => `${im.id}:${im.classKey}`).join(','),
    `${s.run.runId}:${s.run.status}`,
    JSON.stringify(s.settings),
  ].join('#');
}

const hasWork = (s: TrainerState) => s.images.length > 0 || s.run.result !== null || s.run.status === 'training';

let savedKey: string | null = null;

function onBeforeUnload(e: BeforeUnloadEvent): void {
  e.preventDefault();
  e.returnValue = '';
}

let listening = false;
function updateDirty(): void {
  const s = trainerStore.get();
  const dirty = hasWork(s) && workKey(s) !== savedKey;
  if (dirty !== listening && typeof window !== 'undefined') {
    if (dirty) window.addEventListener('beforeunload', onBeforeUnload);
    else window.removeEventListener('beforeunload', onBeforeUnload);
    listening = dirty;
  }
  if (projectStore.get().dirty !== dirty) setP((p) => ({ ...p, dirty }));
}

trainerStore.subscribe(updateDirty);

function markSaved(key: string): void {
  savedKey = key;
  updateDirty();
}

// ---------------------------------------------------------------------------------------------
// Saving
// ---------------------------------------------------------------------------------------------

export function defaultProjectName(s: TrainerState = trainerStore.get()): string {
  const names = s.classes.map((c) => c.name.trim()).filter(Boolean);
  return `${names.join(' vs ') || 'Project'} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`;
}

/** The current state as .cxrlab bytes, and the work key it captures. */
export async function buildProject(name: string): Promise<{ bytes: Uint8Array; summary: StoredProjectSummary; key: string }> {
  const s = trainerStore.get();
  if (s.run.status === 'training' || s.run.status === 'stopping') throw new Error('wait until training has finished');
  if (!hasWork(s)) throw new Error('nothing to save yet: add images first');
  const key = workKey(s);
  const client = trainerClient();
  const items = s.images.length ? await client.projectData(s.images.map((im) => im.id)) : [];
  const byId = new Map(items.map((it) => [it.id, it]));
  const classIndex = new Map(s.classes.map((c, i) => [c.key, i]));
  const plan = planSplit(s);
  const inTrain = new Set(plan.train.ids);
  const inVal = new Set(plan.val.ids);
  const info = s.base.info;
  const images: ProjectImageInput[] = [];
  for (const im of s.images) {
    const it = byId.get(im.id);
    if (!it) throw new Error(`${im.path} is no longer loaded`);
    const prepared: PreparedImage | undefined = it.prepared && im.thumb && info ? { ...it.prepared, thumb: im.thumb } : undefined;
    images.push({
      path: im.path,
      classIndex: classIndex.get(im.classKey) ?? 0,
      bytes: new Uint8Array(await it.file.arrayBuffer()),
      status: im.status,
      error: im.error,
      split: inTrain.has(im.id) ? 'train' : inVal.has(im.id) ? 'val' : null,
      prepared,
    });
  }
  const { run } = s;
  const trained = run.status === 'done' && run.result !== null;
  const model = trained ? await client.exportFiles() : null;
  const indexOf = new Map(s.images.map((im, i) => [im.id, i]));
  let projectRun = null;
  if (trained && run.result) {
    const { valProbs: _p, valIds: _v, ...result } = run.result;
    projectRun = {
      history: run.history,
      keptEpoch: run.result.keptEpoch,
      stopReason: run.result.stopReason,
      plannedEpochs: run.plannedEpochs,
      classNames: run.classNames,
      trainCount: run.trainCount,
      valImages: run.valIds.map((id) => indexOf.get(id) ?? -1),
      valLabels: run.valLabels,
      valProbs: run.valProbs,
      probsEpoch: run.probsEpoch,
      durationMs: run.startedAt !== null && run.finishedAt !== null ? run.finishedAt - run.startedAt : 0,
      // Through JSON now, so what is saved is what a restore reads (NaN → null).
      result: JSON.parse(JSON.stringify(result)) as Record<string, unknown>,
    };
  }
  const files = buildProjectFiles({
    name,
    savedAt: new Date().toISOString(),
    classes: s.classes.map((c) => c.name.trim()),
    images,
    split: { seed: s.settings.seed, valFraction: s.settings.valFraction },
    settings: JSON.parse(JSON.stringify(s.settings)) as Record<string, unknown>,
    prepared: info && images.some((im) => im.prepared) ? { base: info.identity, dim: info.embeddingDim } : null,
    run: projectRun,
    model,
  });
  const bytes = packProject(files);
  const summary: StoredProjectSummary = {
    name,
    savedAt: new Date().toISOString(),
    classes: s.classes.map((c) => c.name.trim()),
    images: s.images.length,
    trained,
    bytes: bytes.length,
  };
  return { bytes, summary, key };
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'project'
  );
}

async function busy<T>(kind: 'saving' | 'restoring', f: () => Promise<T>): Promise<T | undefined> {
  if (projectStore.get().busy) return undefined;
  setP((p) => ({ ...p, busy: kind, message: null }));
  try {
    return await f();
  } catch (e) {
    setP((p) => ({
      ...p,
      message: { kind: 'error', text: `${kind === 'saving' ? 'Not saved' : 'Not opened'}: ${(e as Error).message}. Your current work is unchanged.` },
    }));
    return undefined;
  } finally {
    setP((p) => ({ ...p, busy: null }));
  }
}

export function downloadProject(name: string = defaultProjectName()): Promise<void> {
  return busy('saving', async () => {
    const { bytes, key } = await buildProject(name);
    const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${slug(name)}${PROJECT_EXTENSION}`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    markSaved(key);
    setP((p) => ({
      ...p,
      lastSaved: { name, where: 'file', at: new Date().toISOString() },
      message: { kind: 'ok', text: `Project downloaded as ${a.download} (${(bytes.length / 1e6).toFixed(1)} MB).` },
    }));
  });
}

export async function refreshProjects(): Promise<void> {
  try {
    const saved = await listStoredProjects();
    setP((p) => ({ ...p, saved }));
  } catch (e) {
    setP((p) => ({ ...p, message: { kind: 'error', text: (e as Error).message } }));
  }
}

export function saveProjectInBrowser(name: string): Promise<void> {
  return busy('saving', async () => {
    const n = name.trim();
    if (!n) throw new Error('give the project a name');
    if (n.length > 80) throw new Error('use at most 80 characters for the name');
    const { bytes, summary, key } = await buildProject(n);
    await saveStoredProject(summary, bytes);
    markSaved(key);
    setP((p) => ({
      ...p,
      lastSaved: { name: n, where: 'browser', at: summary.savedAt },
      message: { kind: 'ok', text: `Project saved in this browser as "${n}" (${(bytes.length / 1e6).toFixed(1)} MB).` },
    }));
    await refreshProjects();
  });
}

export async function deleteProject(name: string): Promise<void> {
  try {
    await deleteStoredProject(name);
  } catch (e) {
    setP((p) => ({ ...p, message: { kind: 'error', text: (e as Error).message } }));
  }
  await refreshProjects();
}

// ---------------------------------------------------------------------------------------------
// Restoring
// ---------------------------------------------------------------------------------------------

/** The saved settings over the defaults, keeping only values of the right type. */
function settingsFrom(saved: Record<string, unknown>): TrainSettings {
  const merge = <T extends object>(def: T, raw: unknown): T => {
    const out = { ...def } as Record<string, unknown>;
    if (raw && typeof raw === 'object')
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) if (k in out && typeof v === typeof out[k] && v !== null) out[k] = v;
    return out as T;
  };
  const top = merge(DEFAULT_SETTINGS, saved);
  return { ...top, head: merge(DEFAULT_SETTINGS.head, saved.head), block: merge(DEFAULT_SETTINGS.block, saved.block) };
}

async function restore(p: RestoredProject, label: string): Promise<void> {
  const t0 = performance.now();
  const s = trainerStore.get();
  if (s.run.status === 'training' || s.run.status === 'stopping') throw new Error('stop training first');
  const info = await ensureBase();
  const m = p.manifest;
  const reuse = m.prepared !== null && m.prepared.base === info.identity && m.prepared.dim === info.embeddingDim;
  const { imageIds, classKeys } = allocateIds(p.images.length, m.classes.length);
  const classes = m.classes.map((name, i) => ({ key: classKeys[i], name }));
  const images: ImageEntry[] = p.images.map((im, i) => ({ id: imageIds[i], classKey: classKeys[im.classIndex], path: im.path, status: 'queued' }));
  const items: TrainItem[] = p.images.map((im, i) => {
    const file = new Blob([im.bytes as Uint8Array<ArrayBuffer>]);
    const pr = reuse ? im.prepared : undefined;
    return { id: imageIds[i], file, prepared: pr };
  });
  let run: RunState | null = null;
  if (m.run && p.model) {
    const r = m.run;
    // Ids of images no longer in the data set when it was saved: fresh ones that match nothing.
    const valIds = r.valImages.map((i) => (i >= 0 ? imageIds[i] : allocateIds(1, 0).imageIds[0]));
    const result = { ...(r.result as unknown as Omit<TrainResult, 'valProbs' | 'valIds'>), valProbs: p.valProbs, valIds } as TrainResult;
    // The model first: if it does not load, nothing has changed.
    await trainerClient().restoreModel(p.model, result);
    const now = performance.now();
    run = {
      runId: s.run.runId + 1,
      status: 'done',
      stage: null,
      stageDetail: null,
      history: r.history,
      classNames: r.classNames,
      trainCount: r.trainCount,
      valIds,
      valLabels: r.valLabels,
      valProbs: p.valProbs,
      probsEpoch: r.probsEpoch,
      plannedEpochs: r.plannedEpochs,
      result,
      error: null,
      startedAt: now - r.durationMs,
      finishedAt: now,
      memory: result.memory ?? null,
    };
  }
  const reused = items.filter((it) => it.prepared).length;
  replaceProject({ classes, images, items, settings: settingsFrom(m.settings), run });
  markSaved(workKey(trainerStore.get()));
  setP((ps) => ({
    ...ps,
    restoring: { name: m.name, total: items.length, reused },
    lastSaved: { name: m.name, where: label === 'file' ? 'file' : 'browser', at: m.savedAt },
    message: {
      kind: 'ok',
      text: `Opened "${m.name}": ${items.length} images in ${classes.length} classes${run ? ', the trained model and its curves' : ''}.${
        reused === items.length
          ? ''
          : ` ${items.length - reused} images are prepared again${m.prepared && !reuse ? ' (saved with a different base network)' : ''}.`
      }`,
    },
  }));
  await waitPrepared();
  setP((ps) => ({ ...ps, restoring: null, lastRestoreMs: performance.now() - t0 }));
}

function waitPrepared(): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const s = trainerStore.get();
      // The worker failed (its message says why): stop waiting.
      const failed = s.message?.kind === 'error' && s.message.text.startsWith('Images could not be prepared');
      if (!failed && s.images.some((im) => im.status === 'queued')) return false;
      resolve();
      return true;
    };
    if (check()) return;
    const off = trainerStore.subscribe(() => {
      if (check()) off();
    });
  });
}

export function openProjectFile(file: Blob): Promise<void> {
  return busy('restoring', async () => {
    const p = unpackProject(new Uint8Array(await file.arrayBuffer()));
    await restore(p, 'file');
  });
}

export function openStoredProject(name: string): Promise<void> {
  return busy('restoring', async () => {
    const p = unpackProject(await readStoredProject(name));
    await restore(p, 'browser');
  });
}

export function dismissProjectMessage(): void {
  setP((p) => ({ ...p, message: null }));
}

declare global {
  interface Window {
    cxrLabProject?: { state: () => ProjectState };
  }
}

if (typeof window !== 'undefined') window.cxrLabProject = { state: projectStore.get };
