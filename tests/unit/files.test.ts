// The one folder walker (src/ui/lib/files.ts) that every drop target reads through: a dropped folder
// with a file or a sub-folder the browser cannot read still gives every readable file, and the
// unreadable ones come back by path with a reason (before, one unreadable file rejected Classify's
// whole drop and the drop zone dropped that rejection without a word). The entries here are plain
// objects with the File System API's shape (webkitGetAsEntry's FileSystemEntry), as Chromium gives them.
import { describe, expect, it } from 'vitest';
import { intakeFromDataTransfer, intakeFromFileList } from '../../src/ui/lib/files';

type Entry = { name: string; isFile: boolean; isDirectory: boolean; file?: unknown; createReader?: unknown };

function fileEntry(name: string, body: string | Error): Entry {
  return {
    name,
    isFile: true,
    isDirectory: false,
    file: (ok: (f: File) => void, fail: (e: Error) => void) => (body instanceof Error ? fail(body) : ok(new File([body], name))),
  };
}

function dirEntry(name: string, children: Entry[] | Error, pageSize = 2): Entry {
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader: () => {
      let at = 0;
      // readEntries gives a page at a time and an empty page at the end, like Chromium's (100 per page).
      return {
        readEntries: (ok: (b: Entry[]) => void, fail: (e: Error) => void) => {
          if (children instanceof Error) return fail(children);
          const page = children.slice(at, at + pageSize);
          at += page.length;
          ok(page);
        },
      };
    },
  };
}

function drop(...entries: Entry[]): DataTransfer {
  return { items: entries.map((e) => ({ kind: 'file', webkitGetAsEntry: () => e, getAsFile: () => null })), files: [] } as unknown as DataTransfer;
}

describe('the one folder walker', () => {
  it('a folder with an unreadable file and an unreadable sub-folder: every readable file, the rest by path with why', async () => {
    const dt = drop(
      dirEntry('films', [
        fileEntry('b.png', 'b'),
        fileEntry('a.png', 'a'),
        fileEntry('locked.png', new Error('NotReadableError')),
        dirEntry('private', new Error('SecurityError')),
        dirEntry('more', [fileEntry('c10.png', 'c10'), fileEntry('c9.png', 'c9'), fileEntry('.DS_Store', 'junk')]),
        fileEntry('Thumbs.db', 'junk'),
      ]),
      fileEntry('loose.jpg', 'l'),
    );
    const { files, rejected } = await intakeFromDataTransfer(dt);
    expect(files.map((f) => f.path)).toEqual(['films/a.png', 'films/b.png', 'films/more/c9.png', 'films/more/c10.png', 'loose.jpg']);
    expect(await files[0].file.text()).toBe('a');
    expect(rejected).toEqual([
      { path: 'films/locked.png', reason: 'cannot read the file (NotReadableError)' },
      { path: 'films/private/', reason: 'cannot read the folder (SecurityError)' },
    ]);
  });

  it('plain files (no entries) and pickers keep their folder paths and skip OS clutter', async () => {
    const plain = { items: [], files: [new File(['x'], 'x.png')] } as unknown as DataTransfer;
    expect((await intakeFromDataTransfer(plain)).files.map((f) => f.path)).toEqual(['x.png']);
    const picked = [new File(['a'], 'a.png'), new File(['j'], '.DS_Store')].map((f, i) =>
      Object.defineProperty(f, 'webkitRelativePath', { value: i === 0 ? 'set/normal/a.png' : 'set/.DS_Store' }),
    );
    expect(intakeFromFileList(picked).map((f) => f.path)).toEqual(['set/normal/a.png']);
  });
});
