import { type BlockConfig, type HeadConfig } from '../../../ml/finetune-config';
import { expandZips, isZipFile, labelByFolder, nameProblem, type IntakeFile, type LabelledFile, type Rejected } from '../../../ml/dataset-browser';
import { TrainSettings, DEFAULT_SETTINGS, trainerStore, set } from './store';
import { nextIds } from './store';
import { client, loadTrainHashes, getClient, ensureBase } from './worker';

const DEFAULT_NAME = /^Class \d+$/;

export function sendImages(entries: { id: number; file: Blob }[]): void {
  if (!entries.length) return;
  loadTrainHashes();
  set((s) => ({
    ...s,
    embed: { ...s.embed, startedAt: s.embed.doneAt !== null || s.embed.startedAt === null ? performance.now() : s.embed.startedAt, doneAt: null },
  }));
  void ensureBase()
    .then(() => getClient().add(entries))
    .catch((e: Error) => set((s) => ({ ...s, message: { kind: 'error', text: `Images could not be prepared: ${e.message}` } })));
}

/** Adds labelled files: classes are matched by name (case-insensitive) or created. */
export function addLabelled(unordered: LabelledFile[], rejected: Rejected[] = []): void {
  // Classes and images in a fixed order whatever order the browser listed the files in: class
  // indices (and so the trained model) must not depend on it.
  const cmp = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });
  const items = [...unordered].sort((a, b) => cmp(a.className, b.className) || cmp(a.path, b.path));
  const toSend: { id: number; file: Blob }[] = [];
  set((s) => {
    let classes = s.classes;
    const incoming = new Set(items.map((i) => i.className.toLowerCase()));
    // Folder intake brings its own classes: drop the untouched default cards.
    if (incoming.size) {
      const used = new Set(s.images.map((im) => im.classKey));
      classes = classes.filter((c) => used.has(c.key) || !DEFAULT_NAME.test(c.name) || incoming.has(c.name.toLowerCase()));
    }
    classes = [...classes];
    const keyOf = new Map(classes.map((c) => [c.name.toLowerCase(), c.key]));
    const images = [...s.images];
    for (const it of items) {
      let key = keyOf.get(it.className.toLowerCase());
      if (key === undefined) {
        key = nextIds.nextClassKey++;
        classes.push({ key, name: it.className });
        keyOf.set(it.className.toLowerCase(), key);
      }
      const id = nextIds.nextImageId++;
      images.push({ id, classKey: key, path: it.path, status: 'queued' });
      toSend.push({ id, file: it.file });
    }
    return { ...s, classes, images, rejected: [...s.rejected, ...rejected] };
  });
  sendImages(toSend);
}

async function withIntake<T>(message: string, f: (progress: (x: number) => void) => Promise<T>): Promise<T | undefined> {
  set((s) => ({ ...s, intake: { busy: true, fraction: null, message }, message: null }));
  try {
    return await f((x) => set((s) => ({ ...s, intake: { ...s.intake, fraction: x } })));
  } catch (e) {
    set((s) => ({ ...s, message: { kind: 'error', text: (e as Error).message } }));
    return undefined;
  } finally {
    set((s) => ({ ...s, intake: { busy: false, fraction: null, message: null } }));
  }
}

/** A whole data set (folders and/or zips): labels come from the folder names. */
export async function addDataset(files: IntakeFile[], extraRejected: Rejected[] = []): Promise<void> {
  await withIntake(files.some((f) => isZipFile(f)) ? 'Reading the zip archive…' : 'Reading the folder…', async (progress) => {
    const expanded = await expandZips(files, progress);
    const labelled = labelByFolder(expanded.files);
    addLabelled(labelled.items, [...extraRejected, ...expanded.rejected, ...labelled.rejected]);
    if (!labelled.items.length) throw new Error('No images in class folders were found. Drop a folder that holds one sub-folder per class, or a .zip of it.');
  });
}

/** Files (or zips) dropped on a class card: they all belong to that class. */
export async function addToClass(classKey: number, files: IntakeFile[], unreadable: readonly Rejected[] = []): Promise<void> {
  await withIntake('Reading files…', async (progress) => {
    const expanded = await expandZips(files, progress);
    const rejected = [...unreadable, ...expanded.rejected];
    const cls = trainerStore.get().classes.find((c) => c.key === classKey);
    if (!cls) return;
    const items: LabelledFile[] = [];
    for (const f of expanded.files) {
      const problem = nameProblem(f.path);
      if (problem) rejected.push({ path: f.path, reason: problem });
      else items.push({ className: cls.name, path: f.path, file: f.file });
    }
    // By key, not by name: two cards may briefly share a name while the user types.
    const toSend: { id: number; file: Blob }[] = [];
    set((s) => {
      const images = [...s.images];
      for (const it of items) {
        const id = nextIds.nextImageId++;
        images.push({ id, classKey, path: it.path, status: 'queued' });
        toSend.push({ id, file: it.file });
      }
      return { ...s, images, rejected: [...s.rejected, ...rejected] };
    });
    sendImages(toSend);
  });
}

export function addClass(): void {
  set((s) => {
    const names = new Set(s.classes.map((c) => c.name));
    let n = s.classes.length + 1;
    while (names.has(`Class ${n}`)) n++;
    return { ...s, classes: [...s.classes, { key: nextIds.nextClassKey++, name: `Class ${n}` }] };
  });
}

export function renameClass(key: number, name: string): void {
  set((s) => ({ ...s, classes: s.classes.map((c) => (c.key === key ? { ...c, name } : c)) }));
}

export function removeClass(key: number): void {
  const ids = trainerStore
    .get()
    .images.filter((im) => im.classKey === key)
    .map((im) => im.id);
  set((s) => ({ ...s, classes: s.classes.filter((c) => c.key !== key), images: s.images.filter((im) => im.classKey !== key) }));
  if (ids.length && client) void client.remove(ids);
}

export function removeImages(ids: number[]): void {
  const gone = new Set(ids);
  set((s) => ({ ...s, images: s.images.filter((im) => !gone.has(im.id)) }));
  if (ids.length && client) void client.remove(ids);
}

export function clearSkipped(): void {
  const ids = trainerStore
    .get()
    .images.filter((im) => im.status === 'error')
    .map((im) => im.id);
  set((s) => ({ ...s, rejected: [] }));
  removeImages(ids);
}

export function clearDataset(): void {
  const ids = trainerStore.get().images.map((im) => im.id);
  set((s) => ({
    ...s,
    classes: [
      { key: nextIds.nextClassKey++, name: 'Class 1' },
      { key: nextIds.nextClassKey++, name: 'Class 2' },
    ],
    images: [],
    rejected: [],
    embed: { stats: s.embed.stats, startedAt: null, doneAt: null },
  }));
  if (ids.length && client) void client.remove(ids);
}

export function updateSettings(patch: Partial<Omit<TrainSettings, 'head' | 'block'>> & { head?: Partial<HeadConfig>; block?: Partial<BlockConfig> }): void {
  set((s) => ({
    ...s,
    settings: {
      ...s.settings,
      ...patch,
      head: { ...s.settings.head, ...(patch.head ?? {}) },
      block: { ...s.settings.block, ...(patch.block ?? {}) },
    },
  }));
}

export function resetSettings(): void {
  set((s) => ({ ...s, settings: { ...DEFAULT_SETTINGS, head: { ...DEFAULT_SETTINGS.head }, block: { ...DEFAULT_SETTINGS.block } } }));
}
