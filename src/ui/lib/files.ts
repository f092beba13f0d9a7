// Collecting files from drops (files and whole folders), pickers and the clipboard.
import type { InputFile } from '../hooks/useBatch';

/** Names a folder commonly contains that are not images; skipped inside dropped folders only. */
function isJunk(name: string): boolean {
  return name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini';
}

function readAllEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  return new Promise((resolve, reject) => {
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, prefix: string, out: InputFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ name: prefix + file.name, file });
  } else if (entry.isDirectory) {
    const children = (await readAllEntries(entry as FileSystemDirectoryEntry))
      .filter((e) => !isJunk(e.name))
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    for (const child of children) await walk(child, `${prefix}${entry.name}/`, out);
  }
}

/**
 * Files of a drop, folders expanded recursively. Entries must be taken synchronously inside the
 * drop handler (the DataTransfer is emptied afterwards), so call this directly from onDrop.
 */
export function filesFromDataTransfer(dt: DataTransfer): Promise<InputFile[]> {
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
    const out: InputFile[] = plain.map((file) => ({ name: file.name, file }));
    for (const e of entries) await walk(e, '', out);
    return out;
  })();
}

/** Files from an <input type=file> (webkitRelativePath kept for folder pickers). */
export function filesFromInput(list: FileList | null): InputFile[] {
  return Array.from(list ?? [])
    .filter((f) => !(f.webkitRelativePath && isJunk(f.name)))
    .map((file) => ({ name: file.webkitRelativePath || file.name, file }));
}

let pasteCount = 0;

/** Image files from a paste event (screenshots arrive as an unnamed image.png). */
export function filesFromClipboard(data: DataTransfer | null): InputFile[] {
  return Array.from(data?.files ?? []).map((file) => {
    pasteCount++;
    const generic = !file.name || /^image\.\w+$/.test(file.name);
    const ext = file.type.split('/')[1]?.replace('jpeg', 'jpg') ?? 'img';
    return { name: generic ? `pasted-${pasteCount}.${ext}` : file.name, file };
  });
}
