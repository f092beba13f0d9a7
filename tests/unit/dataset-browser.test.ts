// Intake helpers of the Train page (src/ml/dataset-browser.ts): labels from folders, zip reading,
// the seeded stratified split and the data-set checks.
import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { checkDataset, expandZips, labelByFolder, readZip, stratifiedSplit, type IntakeFile } from '../../src/ml/dataset-browser';

const blob = (text = 'x') => new Blob([text]);
const files = (...paths: string[]): IntakeFile[] => paths.map((path) => ({ path, file: blob(path) }));

describe('labelByFolder', () => {
  it('uses the folder below the common root as the class', () => {
    const { items, rejected } = labelByFolder(files('dataset/covid/a.jpg', 'dataset/covid/b.png', 'dataset/normal/c.jpeg', 'dataset/normal/sub/d.jpg'));
    expect(items.map((i) => [i.className, i.path])).toEqual([
      ['covid', 'dataset/covid/a.jpg'],
      ['covid', 'dataset/covid/b.png'],
      ['normal', 'dataset/normal/c.jpeg'],
      ['normal', 'dataset/normal/sub/d.jpg'],
    ]);
    expect(rejected).toEqual([]);
  });

  it('class folders dropped without a parent, and a single class folder', () => {
    expect(labelByFolder(files('covid/a.jpg', 'normal/b.jpg')).items.map((i) => i.className)).toEqual(['covid', 'normal']);
    expect(labelByFolder(files('covid/a.jpg', 'covid/b.jpg')).items.map((i) => i.className)).toEqual(['covid', 'covid']);
  });

  it('merges train/val/test folders above the class folders', () => {
    const { items } = labelByFolder(files('chest_xray/train/NORMAL/a.jpg', 'chest_xray/test/NORMAL/b.jpg', 'chest_xray/val/PNEUMONIA/c.jpg'));
    expect(items.map((i) => i.className)).toEqual(['NORMAL', 'NORMAL', 'PNEUMONIA']);
  });

  it('rejects non-images and loose files with a reason, and skips OS clutter silently', () => {
    const { items, rejected } = labelByFolder(
      files('d/covid/a.jpg', 'd/normal/b.jpg', 'd/readme.txt', 'd/loose.jpg', 'd/.DS_Store', '__MACOSX/d/covid/._a.jpg', 'd/covid/scan.dcm'),
    );
    expect(items).toHaveLength(2);
    expect(rejected).toEqual([
      { path: 'd/readme.txt', reason: 'not an image (a text file)' },
      { path: 'd/covid/scan.dcm', reason: 'DICOM files are not supported yet' },
      { path: 'd/loose.jpg', reason: 'not inside a class folder (put each class in its own folder)' },
    ]);
  });
});

describe('readZip', () => {
  it('extracts the entries of a zip (stored and deflated) and labels them', async () => {
    const zip = zipSync({
      'dataset/covid/a.jpg': [new Uint8Array([1, 2, 3]), { level: 0 }],
      'dataset/normal/b.jpg': new Uint8Array(5000).fill(7),
      'dataset/notes.csv': new TextEncoder().encode('a,b'),
      '__MACOSX/dataset/._x': new Uint8Array([0]),
    });
    const { files: out, rejected } = await readZip(new Blob([zip]), 'dataset.zip');
    expect(out.map((f) => f.path)).toEqual(['dataset/covid/a.jpg', 'dataset/normal/b.jpg', 'dataset/notes.csv']);
    expect(rejected).toEqual([]);
    expect(new Uint8Array(await out[1].file.arrayBuffer())).toEqual(new Uint8Array(5000).fill(7));
    const labelled = labelByFolder(out);
    expect(labelled.items.map((i) => i.className)).toEqual(['covid', 'normal']);
    expect(labelled.rejected.map((r) => r.path)).toEqual(['dataset/notes.csv']);
  });

  it('a file that is not a zip is reported, not thrown, by expandZips', async () => {
    const { files: out, rejected } = await expandZips([
      { path: 'bad.zip', file: blob('not a zip at all') },
      { path: 'x/a.jpg', file: blob() },
    ]);
    expect(out.map((f) => f.path)).toEqual(['x/a.jpg']);
    expect(rejected).toHaveLength(1);
    expect(rejected[0].path).toBe('bad.zip');
    expect(rejected[0].reason).toMatch(/zip/);
  });
});

describe('stratifiedSplit', () => {
  const labels = [...Array(30).fill(0), ...Array(10).fill(1), 2, 2];
  const keys = labels.map((l, i) => `${l}/${String(i).padStart(3, '0')}`);

  it('keeps the class proportions, at least one validation image per class', () => {
    const { train, val } = stratifiedSplit(labels, keys, 0.2, 1);
    const count = (idx: number[], c: number) => idx.filter((i) => labels[i] === c).length;
    expect([count(val, 0), count(val, 1), count(val, 2)]).toEqual([6, 2, 1]);
    expect(train.length + val.length).toBe(labels.length);
    expect(new Set([...train, ...val]).size).toBe(labels.length);
  });

  it('is seeded and independent of the arrival order', () => {
    const a = stratifiedSplit(labels, keys, 0.25, 7);
    expect(stratifiedSplit(labels, keys, 0.25, 7)).toEqual(a);
    expect(stratifiedSplit(labels, keys, 0.25, 8).val).not.toEqual(a.val);
    // Same items in reverse order: the same items (by key) go to validation.
    const rev = labels.map((_, i) => labels.length - 1 - i);
    const b = stratifiedSplit(
      rev.map((i) => labels[i]),
      rev.map((i) => keys[i]),
      0.25,
      7,
    );
    expect(b.val.map((i) => keys[rev[i]]).sort()).toEqual(a.val.map((i) => keys[i]).sort());
  });

  it('fraction 0 puts everything in training', () => {
    expect(stratifiedSplit(labels, keys, 0, 1).val).toEqual([]);
  });
});

describe('checkDataset', () => {
  it('errors block training, warnings do not', () => {
    expect(checkDataset([{ name: 'a', count: 20 }]).errors[0]).toMatch(/at least 2 classes/);
    expect(
      checkDataset([
        { name: 'a', count: 20 },
        { name: 'A', count: 20 },
      ]).errors[0],
    ).toMatch(/must differ/);
    expect(
      checkDataset([
        { name: 'a', count: 1 },
        { name: 'b', count: 20 },
      ]).errors[0],
    ).toMatch(/at least 2 images/);
    const ok = checkDataset([
      { name: 'a', count: 5 },
      { name: 'b', count: 40 },
    ]);
    expect(ok.errors).toEqual([]);
    expect(ok.warnings).toHaveLength(2);
    expect(ok.warnings[0]).toMatch(/only 5 images/);
    expect(ok.warnings[1]).toMatch(/imbalance/);
    expect(checkDataset(Array.from({ length: 11 }, (_, i) => ({ name: `c${i}`, count: 20 }))).errors[0]).toMatch(/At most 10/);
  });
});
