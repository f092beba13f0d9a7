import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CXR_CLASSES, cxrClassIndex, isCxrClass } from '../../src/core/labels';
import { ManifestError, manifestHash, manifestPathProblem, parseCsv, parseCsvRecords, parseManifest, sha256Hex, utf8Encode } from '../../src/core/manifest';

/** Runs fn, expecting a ManifestError, and returns it. */
function catchManifestError(fn: () => unknown): ManifestError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return error as ManifestError;
  }
  throw new Error('expected a ManifestError');
}

describe('labels', () => {
  it('lists the classes in model output order', () => {
    expect(CXR_CLASSES).toEqual(['covid', 'normal', 'pneumonia']);
    expect(isCxrClass('normal')).toBe(true);
    expect(isCxrClass('Normal')).toBe(false);
    expect(isCxrClass(3)).toBe(false);
    expect(cxrClassIndex('pneumonia')).toBe(2);
    expect(cxrClassIndex('x')).toBe(-1);
  });
});

describe('parseCsv', () => {
  it('handles quoted commas, doubled quotes and quoted newlines', () => {
    expect(parseCsv('a,"b,c","say ""hi""","multi\nline"\n')).toEqual([['a', 'b,c', 'say "hi"', 'multi\nline']]);
  });

  it('handles CRLF, lone CR, BOM and the presence or absence of a trailing newline', () => {
    expect(parseCsv('\uFEFFx,y\r\n1,2\r\n')).toEqual([
      ['x', 'y'],
      ['1', '2'],
    ]);
    expect(parseCsv('x,y\r1,2')).toEqual([
      ['x', 'y'],
      ['1', '2'],
    ]);
    expect(parseCsv('x,y\n1,2')).toEqual([
      ['x', 'y'],
      ['1', '2'],
    ]);
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv('\n')).toEqual([['']]);
  });

  it('keeps empty fields, including trailing and quoted-empty ones', () => {
    expect(parseCsv('a,,c\n,\n"",x\na,')).toEqual([
      ['a', '', 'c'],
      ['', ''],
      ['', 'x'],
      ['a', ''],
    ]);
  });

  it('reports the starting line of records spanning several lines', () => {
    const records = parseCsvRecords('h1,h2\n"a\r\nb",c\n\nd,e\n');
    expect(records.map((r) => r.line)).toEqual([1, 2, 4, 5]);
    expect(records[1].fields).toEqual(['a\r\nb', 'c']);
  });

  it('rejects malformed quoting with the line number', () => {
    expect(catchManifestError(() => parseCsvRecords('a,b\n"open,c\nd', 'x.csv')).message).toBe('x.csv line 2: unterminated quoted field');
    expect(catchManifestError(() => parseCsv('a,b\n"q"x,c')).line).toBe(2);
    expect(catchManifestError(() => parseCsv('a\nb\nab"c')).message).toMatch(/line 3: unexpected quote/);
  });
});

describe('parseManifest', () => {
  it('parses file, label, split, source_repo and extra columns', () => {
    const text = 'file,label,split,source_repo,age\nimg/a.png,covid,train,repoA,54\nimg/b.png,normal,test,,\n';
    const manifest = parseManifest(text);
    expect(manifest.columns).toEqual(['file', 'label', 'split', 'source_repo', 'age']);
    expect(manifest.labels).toEqual(CXR_CLASSES);
    expect(manifest.entries).toEqual([
      { line: 2, file: 'img/a.png', label: 'covid', labelIndex: 0, split: 'train', sourceRepo: 'repoA', extra: { age: '54' } },
      { line: 3, file: 'img/b.png', label: 'normal', labelIndex: 1, split: 'test', extra: { age: '' } },
    ]);
  });

  it('accepts columns in any order and case, and no split column', () => {
    const manifest = parseManifest('Label,File\npneumonia,x.png\n');
    expect(manifest.entries[0]).toEqual({ line: 2, file: 'x.png', label: 'pneumonia', labelIndex: 2, extra: {} });
  });

  it('handles quoted commas, CRLF and a BOM', () => {
    const text = '\uFEFFfile,label,note\r\n"dir/a,b.png",covid,"hello, ""world"""\r\nc.png,NORMAL,x\r\n';
    const manifest = parseManifest(text);
    expect(manifest.entries.map((e) => e.file)).toEqual(['dir/a,b.png', 'c.png']);
    expect(manifest.entries[0].extra.note).toBe('hello, "world"');
    // Labels match case-insensitively but come back in canonical spelling.
    expect(manifest.entries[1].label).toBe('normal');
  });

  it('skips blank lines without shifting line numbers', () => {
    const manifest = parseManifest('file,label\n\na.png,covid\n\n\nb.png,normal\n');
    expect(manifest.entries.map((e) => e.line)).toEqual([3, 6]);
  });

  it('names the line of an unknown label', () => {
    const rows = Array.from({ length: 15 }, (_, i) => `img${i}.png,normal`);
    const text = ['file,label', ...rows, 'bad.png,covd'].join('\n');
    const error = catchManifestError(() => parseManifest(text));
    expect(error.message).toBe("manifest.csv line 17: unknown label 'covd' (expected covid, normal, pneumonia)");
    expect(error.line).toBe(17);
  });

  it('counts lines inside quoted newlines', () => {
    const text = 'file,label,note\na.png,covid,"two\nlines"\nb.png,covd,x\n';
    expect(catchManifestError(() => parseManifest(text)).line).toBe(4);
  });

  it('reports a wrong field count', () => {
    const header = Array.from({ length: 13 }, (_, i) => (i === 0 ? 'file' : i === 1 ? 'label' : `c${i}`)).join(',');
    const good = ['a.png', 'covid', ...Array.from({ length: 11 }, () => 'v')].join(',');
    const bad = ['b.png', 'covid', ...Array.from({ length: 10 }, () => 'v')].join(',');
    const error = catchManifestError(() => parseManifest([header, good, bad].join('\n'), { source: 'data.csv' }));
    expect(error.message).toBe('data.csv line 3: expected 13 fields, got 12');
  });

  it('reports missing required columns', () => {
    expect(catchManifestError(() => parseManifest('file,split\na.png,train\n')).message).toMatch(
      /line 1: missing required column 'label' \(header has: file, split\)/,
    );
    expect(catchManifestError(() => parseManifest('path,label\na.png,covid\n')).message).toMatch(/missing required column 'file'/);
  });

  it('reports duplicate or empty header names', () => {
    expect(catchManifestError(() => parseManifest('file,label,File\n')).message).toMatch(/duplicate column 'File'/);
    expect(catchManifestError(() => parseManifest('file,label,\n')).message).toMatch(/empty column name/);
  });

  it('reports empty file paths, empty labels and unknown splits', () => {
    expect(catchManifestError(() => parseManifest('file,label\n  ,covid\n')).message).toBe('manifest.csv line 2: empty file path');
    expect(catchManifestError(() => parseManifest('file,label\na.png,\n')).message).toMatch(/line 2: empty label/);
    expect(catchManifestError(() => parseManifest('file,label,split\na.png,covid,tran\n')).message).toBe(
      "manifest.csv line 2: unknown split 'tran' (expected train, val, test)",
    );
  });

  it('allows an empty split cell and normalises split case', () => {
    const manifest = parseManifest('file,label,split\na.png,covid,\nb.png,covid,VAL\n');
    expect(manifest.entries[0].split).toBeUndefined();
    expect(manifest.entries[1].split).toBe('val');
  });

  it('rejects duplicate files unless allowed', () => {
    const text = 'file,label\na.png,covid\nb.png,normal\na.png,normal\n';
    expect(catchManifestError(() => parseManifest(text)).message).toBe("manifest.csv line 4: duplicate file 'a.png' (first listed on line 2)");
    expect(parseManifest(text, { allowDuplicates: true }).entries).toHaveLength(3);
  });

  it('supports a custom label list or none', () => {
    const custom = parseManifest('file,label\na.png,tb\nb.png,Healthy\n', { labels: ['healthy', 'tb'] });
    expect(custom.labels).toEqual(['healthy', 'tb']);
    expect(custom.entries.map((e) => [e.label, e.labelIndex])).toEqual([
      ['tb', 1],
      ['healthy', 0],
    ]);
    const open = parseManifest('file,label\na.png,zeta\nb.png,alpha\nc.png,zeta\n', { labels: null });
    expect(open.labels).toEqual(['alpha', 'zeta']);
    expect(open.entries.map((e) => e.labelIndex)).toEqual([1, 0, 1]);
  });

  it('rejects an empty file but accepts a header with no rows', () => {
    expect(catchManifestError(() => parseManifest('')).message).toMatch(/empty file/);
    expect(catchManifestError(() => parseManifest('\uFEFF\r\n\r\n')).message).toMatch(/empty file/);
    expect(parseManifest('file,label\n').entries).toEqual([]);
  });
});

describe('manifest paths stay inside the data folder', () => {
  it('refuses paths that climb out, absolute paths and drive letters, naming the line', () => {
    for (const bad of [
      '../ok/x.jpg',
      '../../../../etc/passwd',
      'images/../../x.png',
      '..\\x.png',
      '/etc/passwd',
      '\\\\server\\share\\x.png',
      'C:\\x.png',
      'c:x.png',
      '.',
      'images/..',
    ]) {
      const text = `file,label\nimages/a.jpg,covid\n${bad.includes(',') ? `"${bad}"` : bad},normal\n`;
      const err = catchManifestError(() => parseManifest(text));
      expect(err.line, bad).toBe(3);
      expect(err.message, bad).toMatch(/^manifest\.csv line 3: /);
      expect(err.message, bad).toMatch(/outside the data folder|absolute path|the data folder itself/);
    }
  });

  it('accepts relative paths that stay inside, whatever the separator', () => {
    for (const ok of ['x.jpg', './x.jpg', 'images/covid/x.jpg', 'images/../other/x.jpg', 'images\\covid\\x.jpg', 'a//b.png', '..x.png', 'x..png']) {
      expect(manifestPathProblem(ok), ok).toBeNull();
    }
    expect(parseManifest('file,label\nimages/../other/x.jpg,covid\n').entries[0].file).toBe('images/../other/x.jpg');
  });
});

describe('sha256Hex / manifestHash', () => {
  it('matches the FIPS 180-2 test vectors', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    expect(sha256Hex('a'.repeat(1_000_000))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('agrees with node:crypto across padding boundaries and non-ASCII text', () => {
    const samples = ['é', '日本語', 'emoji 🫁 lungs', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(63), 'x'.repeat(64), 'x'.repeat(119)];
    for (const text of samples) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
      expect(Array.from(utf8Encode(text))).toEqual(Array.from(Buffer.from(text, 'utf8')));
    }
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff);
    expect(sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('manifestHash is stable across line endings and BOM, and sensitive to content', () => {
    const lf = 'file,label\na.png,covid\n';
    expect(manifestHash(lf)).toBe(sha256Hex(lf));
    expect(manifestHash('\uFEFFfile,label\r\na.png,covid\r\n')).toBe(manifestHash(lf));
    expect(manifestHash('file,label\na.png,normal\n')).not.toBe(manifestHash(lf));
    expect(manifestHash(lf)).toMatch(/^[0-9a-f]{64}$/);
  });
});
