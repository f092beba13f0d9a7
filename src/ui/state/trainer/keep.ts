import { zipSync } from 'fflate';
import type { GradCamReply } from '../../../worker/train-protocol';
import { expandZips, type Rejected } from '../../../ml/dataset-browser';
import { deleteStoredModel, listStoredModels, onStoredModelsChanged } from '../../../ml/model-store';
import { trainerStore, set } from './store';
import { nextIds } from './store';
import { getClient, ensureBase } from './worker';

export async function previewFiles(files: { name: string; file: Blob }[], unreadable: readonly Rejected[] = []): Promise<void> {
  const classNames = trainerStore.get().run.result?.metadata.classNames;
  // Files of the drop that could not be read get their own preview entry with the reason.
  for (const u of unreadable) {
    const key = nextIds.nextPreviewKey++;
    set((s) => ({ ...s, previews: [{ key, name: u.path, status: 'error' as const, error: u.reason }, ...s.previews].slice(0, 12) }));
  }
  for (const f of files) {
    const key = nextIds.nextPreviewKey++;
    set((s) => ({ ...s, previews: [{ key, name: f.name, status: 'running' as const }, ...s.previews].slice(0, 12) }));
    try {
      const { probabilities, thumb, withheld } = await getClient().predict(f.file);
      set((s) => ({
        ...s,
        previews: s.previews.map((p) => (p.key === key ? { ...p, status: 'done' as const, probabilities, thumb, classNames, withheld } : p)),
      }));
    } catch (e) {
      set((s) => ({ ...s, previews: s.previews.map((p) => (p.key === key ? { ...p, status: 'error' as const, error: (e as Error).message } : p)) }));
    }
  }
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'model'
  );
}

function triggerDownload(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Downloads the trained model: one .zip (model.json, weights.bin, metadata.json, metrics.json, model-card.md) or the files one by one. */
export async function downloadModel(kind: 'zip' | 'files' = 'zip'): Promise<void> {
  try {
    const files = await getClient().exportFiles();
    const name = slug(trainerStore.get().run.result?.metadata.classNames.join('-') ?? 'model');
    if (kind === 'zip') {
      triggerDownload(new Blob([zipSync(files, { level: 6 }) as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), `cxr-lab-${name}.zip`);
    } else {
      for (const [path, bytes] of Object.entries(files)) {
        triggerDownload(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: path.endsWith('.json') ? 'application/json' : 'application/octet-stream' }), path);
      }
    }
    set((s) => ({ ...s, message: { kind: 'ok', text: `Model downloaded (${Object.keys(files).join(', ')}).` } }));
  } catch (e) {
    set((s) => ({ ...s, message: { kind: 'error', text: `Download failed: ${(e as Error).message}` } }));
  }
}

export async function refreshSaved(): Promise<void> {
  try {
    const saved = await listStoredModels();
    set((s) => ({ ...s, saved }));
  } catch (e) {
    set((s) => ({ ...s, message: { kind: 'error', text: (e as Error).message } }));
  }
}

let savedSubscribed = false;
export function subscribeSaved(): void {
  if (savedSubscribed) return;
  savedSubscribed = true;
  onStoredModelsChanged(() => void refreshSaved());
  void refreshSaved();
}

export async function saveModel(name: string, overwrite = false): Promise<boolean> {
  try {
    const summary = await getClient().save(name, overwrite);
    set((s) => ({
      ...s,
      message: { kind: 'ok', text: `Saved in this browser as "${summary.name}". Pick it on the Classify page; the Model card page then shows its card.` },
    }));
    await refreshSaved();
    return true;
  } catch (e) {
    set((s) => ({ ...s, message: { kind: 'error', text: `Not saved: ${(e as Error).message}` } }));
    return false;
  }
}

/**
 * Imports a downloaded model: its .zip, or model.json + weight file(s) + metadata.json. The worker
 * loads it once to check it, then it is saved under `name`.
 */
export async function importModel(files: File[], name: string, overwrite = false): Promise<boolean> {
  try {
    const out: Record<string, Uint8Array> = {};
    const { files: expanded } = await expandZips(files.map((file) => ({ path: file.name, file })));
    for (const f of expanded) out[f.path.slice(f.path.lastIndexOf('/') + 1)] = new Uint8Array(await f.file.arrayBuffer());
    await ensureBase();
    const summary = await getClient().importModel(name, out, overwrite);
    set((s) => ({ ...s, message: { kind: 'ok', text: `Imported "${summary.name}" (${summary.classNames.join(', ')}).` } }));
    await refreshSaved();
    return true;
  } catch (e) {
    set((s) => ({ ...s, message: { kind: 'error', text: `Import failed: ${(e as Error).message}` } }));
    return false;
  }
}

export async function deleteSaved(name: string): Promise<void> {
  try {
    await deleteStoredModel(name);
    await refreshSaved();
  } catch (e) {
    set((s) => ({ ...s, message: { kind: 'error', text: (e as Error).message } }));
  }
}

/** The model input of an added image at full size (for the detail view of the gallery). */
export function imageInput(imageId: number): Promise<{ gray: Uint8Array; size: number }> {
  return getClient().image(imageId);
}

/** Grad-CAM of the trained model for an added image: `classIndex` or, by default, the predicted class. */
export function imageGradCam(imageId: number, classIndex?: number): Promise<GradCamReply> {
  return getClient().gradcam(imageId, classIndex);
}
