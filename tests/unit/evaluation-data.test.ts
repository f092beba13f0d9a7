// The layout rules shared by `npm run evaluate -- --data` and the Evaluate page
// (src/core/evaluation-data.ts): class folders matched case-insensitively, unknown folders listed
// and never merged, sites from sub-folders or a site column, a manifest with the CLI's split rule,
// and one evaluation order whatever order the files arrive in.
import { describe, expect, it } from 'vitest';
import { describeEvaluationData, EvaluationDataError, evaluationGroups } from '../../src/core/evaluation-data';
import { ManifestError, manifestHash } from '../../src/core/manifest';

const CLASSES = ['covid', 'normal', 'pneumonia'];
const noManifest = () => {
  throw new Error('no manifest expected');
};

describe('describeEvaluationData: class folders', () => {
  const paths = [
    'my films/Normal/site-b/2.png',
    'my films/COVID/a.jpg',
    'my films/Normal/site-a/1.png',
    'my films/pneumonia/p.dcm',
    'my films/pneumonia/scan',
    'my films/xrays/x.png',
    'my films/xrays/y.png',
    'my films/readme.txt',
    'my films/loose.png',
    'my films/covid/notes.csv',
    'my films/.DS_Store',
    'my films/__MACOSX/COVID/._a.jpg',
  ];

  it('strips the picked folder, matches class folders in any case, names sites after the sub-folders, sorts by path', async () => {
    const d = await describeEvaluationData(paths, CLASSES, { readManifest: noManifest });
    expect(d.layout).toBe('class-folders');
    expect(d.root).toBe('my films/');
    expect(d.entries.map((e) => [e.file, e.label, e.labelIndex, e.extra.site, e.line])).toEqual([
      ['COVID/a.jpg', 'covid', 0, '', 2],
      ['Normal/site-a/1.png', 'normal', 1, 'site-a', 3],
      ['Normal/site-b/2.png', 'normal', 1, 'site-b', 4],
      ['pneumonia/p.dcm', 'pneumonia', 2, '', 5],
      ['pneumonia/scan', 'pneumonia', 2, '', 6],
    ]);
    expect(d.split).toBe('all');
    // The equivalent manifest, and its hash as the data set's id.
    expect(d.manifestText).toBe(
      'file,label,site\nCOVID/a.jpg,covid,\nNormal/site-a/1.png,normal,site-a\nNormal/site-b/2.png,normal,site-b\npneumonia/p.dcm,pneumonia,\npneumonia/scan,pneumonia,\n',
    );
    expect(d.manifestHash).toBe(manifestHash(d.manifestText));
    // The same files in another order: the same result.
    const again = await describeEvaluationData([...paths].reverse(), CLASSES, { readManifest: noManifest });
    expect(again).toEqual(d);
  });

  it('lists unknown folders (never merged), stray and non-image files; OS clutter is dropped silently', async () => {
    const d = await describeEvaluationData(paths, CLASSES, { readManifest: noManifest });
    expect(d.unknownFolders).toEqual([{ folder: 'xrays', files: 2 }]);
    expect(d.ignored).toEqual([
      { file: 'covid/notes.csv', reason: 'not an image (.csv file)' },
      { file: 'loose.png', reason: 'not inside a class folder (put each class in a folder named covid, normal, pneumonia)' },
      { file: 'readme.txt', reason: 'not an image (.txt file)' },
    ]);
  });

  it('one class folder picked directly keeps its name as the class; no class folder at all is an error naming what was found', async () => {
    const d = await describeEvaluationData(['normal/a.png', 'normal/b.png'], CLASSES, { readManifest: noManifest });
    expect(d.root).toBe('');
    expect(d.entries.map((e) => e.label)).toEqual(['normal', 'normal']);
    await expect(describeEvaluationData(['films/cats/a.png', 'films/dogs/b.png'], CLASSES, { readManifest: noManifest })).rejects.toThrow(
      new EvaluationDataError(
        "no images in class folders: expected a manifest.csv or one folder per class named covid, normal, pneumonia (any case) (found 'cats', 'dogs')",
      ),
    );
    await expect(describeEvaluationData([], CLASSES, { readManifest: noManifest })).rejects.toThrow(/no files found/);
  });

  it('sites become the report grouping "site"', async () => {
    const d = await describeEvaluationData(paths, CLASSES, { readManifest: noManifest });
    expect(evaluationGroups(d.entries)).toEqual({ site: [null, 'site-a', 'site-b', null, null] });
  });
});

describe('describeEvaluationData: manifest.csv', () => {
  const text = 'file,label,split,Site\nimg/a.png,COVID,test,north\nimg/b.png,normal,train,south\nimg/c.png,pneumonia,test,\n';
  const paths = ['data/manifest.csv', 'data/img/a.png', 'data/img/b.png', 'data/img/c.png'];
  const read = (p: string) => {
    expect(p).toBe('data/manifest.csv');
    return text;
  };

  it('a manifest at the root wins over folders: the test split by default, labels in the model spelling, sites from the column', async () => {
    const d = await describeEvaluationData(paths, CLASSES, { readManifest: read });
    expect(d.layout).toBe('manifest');
    expect(d.root).toBe('data/');
    expect(d.split).toBe('test');
    expect(d.entries.map((e) => [e.file, e.label, e.line])).toEqual([
      ['img/a.png', 'covid', 2],
      ['img/c.png', 'pneumonia', 4],
    ]);
    expect(d.manifestHash).toBe(manifestHash(text));
    expect(evaluationGroups(d.entries)).toEqual({ site: ['north', null] });
    const all = await describeEvaluationData(paths, CLASSES, { readManifest: read, split: 'all' });
    expect(all.entries).toHaveLength(3);
  });

  it("the CLI's errors: a bad label names the line, a missing split lists the splits present", async () => {
    await expect(describeEvaluationData(['manifest.csv'], CLASSES, { readManifest: () => 'file,label\na.png,covd\n' })).rejects.toThrow(
      new ManifestError("manifest.csv line 2: unknown label 'covd' (expected covid, normal, pneumonia)", 2),
    );
    await expect(describeEvaluationData(paths, CLASSES, { readManifest: read, split: 'val' })).rejects.toThrow(
      "no rows with split 'val' in manifest.csv (splits present: test, train; or pass --split all)",
    );
    const noSplit = await describeEvaluationData(['manifest.csv', 'a.png'], CLASSES, { readManifest: () => 'file,label\na.png,normal\n' });
    expect([noSplit.split, noSplit.note]).toEqual(['all', 'note: manifest.csv has no split values; evaluating all 1 rows']);
  });
});
