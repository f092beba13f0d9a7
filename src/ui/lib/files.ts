// The one folder walker: the files of a drop (files and whole folders, expanded recursively), of a
// file or folder picker, and of a paste. Every page's drop target reads files through it, so a file
// that cannot be read is reported by name with its reason everywhere, and never loses the rest of
// the drop. OS clutter (.DS_Store, __MACOSX, Thumbs.db…) is skipped silently.
import { isJunkPath, type IntakeFile, type Rejected } from '../../ml/dataset-browser';

export type { IntakeFile, Rejected } from '../../ml/dataset-browser';

/** What a drop or a picker gave: the readable files (with their folder paths) and the rest, with why. */
export interface Intake {
  files: IntakeFile[];
  rejected: Rejected[];
}

function readEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  return new Promise((resolve, reject) => {
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next(); // readEntries returns at most 100 entries per call
        }
      }, reject);
    next();
  });
}

function reasonOf(e: unknown, fallback: string): string {
  return (e as Error)?.message || fallback;
}

async function walkEntry(entry: FileSystemEntry, prefix: string, out: Intake): Promise<void> {
  const path = prefix + entry.name;
  if (isJunkPath(path)) return;
  if (entry.isFile) {
    try {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.files.push({ path, file });
    } catch (e) {
      out.rejected.push({ path, reason: `cannot read the file (${reasonOf(e, 'permission denied')})` });
    }
  } else if (entry.isDirectory) {
    let children: FileSystemEntry[];
    try {
      children = await readEntries(entry as FileSystemDirectoryEntry);
    } catch (e) {
      out.rejected.push({ path: `${path}/`, reason: `cannot read the folder (${reasonOf(e, 'permission denied')})` });
      return;
    }
    children.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    for (const child of children) await walkEntry(child, `${path}/`, out);
  }
}

/**
 * Files of a drop with their folder paths. Call synchronously from the drop handler (the browser
 * empties the DataTransfer afterwards); the walking itself is asynchronous and never rejects: what
 * cannot be read is in `rejected`.
 */
export function intakeFromDataTransfer(dt: DataTransfer): Promise<Intake> {
  const entries: FileSystemEntry[] = [];
  const plain: File[] = [];
  for (const item of Array.from(dt.items ?? [])) {
    if (item.kind !== 'file') continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) plain.push(f);
    }
  }
  if (entries.length === 0 && plain.length === 0) plain.push(...Array.from(dt.files ?? []));
  return (async () => {
    const out: Intake = { files: plain.map((file) => ({ path: file.webkitRelativePath || file.name, file })), rejected: [] };
    for (const e of entries) await walkEntry(e, '', out);
    return out;
  })();
}

/** Files from an <input type=file> (folder pickers give webkitRelativePath = 'dataset/covid/a.jpg'). */
export function intakeFromFileList(list: FileList | File[] | null): IntakeFile[] {
  return Array.from(list ?? [])
    .map((file) => ({ path: file.webkitRelativePath || file.name, file }))
    .filter((f) => !isJunkPath(f.path));
}

let pasteCount = 0;

/** Image files from a paste event (screenshots arrive as an unnamed image.png). */
export function filesFromClipboard(data: DataTransfer | null): IntakeFile[] {
  return Array.from(data?.files ?? []).map((file) => {
    pasteCount++;
    const generic = !file.name || /^image\.\w+$/.test(file.name);
    const ext = file.type.split('/')[1]?.replace('jpeg', 'jpg') ?? 'img';
    return { path: generic ? `pasted-${pasteCount}.${ext}` : file.name, file };
  });
}
