// `npm run evaluate -- --data <dir>` on what the Evaluate page accepts besides a release manifest:
// a folder with one sub-folder per class (any case, sites below them, unknown folders listed and
// ignored) and a manifest with a site column. Real images from ../shared/data/cxr, copied into a
// temporary directory; the shipped model.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationJson } from '../../src/core/evaluation';

const REPO_ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
const SHARED_CXR = path.resolve(REPO_ROOT, '../shared/data/cxr');
const MODEL = path.join(REPO_ROOT, 'public/model');
const ready = fs.existsSync(path.join(SHARED_CXR, 'manifest.csv')) && fs.existsSync(path.join(MODEL, 'model.json'));
if (!ready) console.warn('evaluate-folders.test.ts: skipped (needs ../shared/data/cxr and public/model)');

function evaluate(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['scripts/evaluate.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, CXR_WASM_THREADS: '1', FORCE_COLOR: '0' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(!ready)('evaluate CLI on class folders and site columns', () => {
  let tmp: string;
  const rows: { file: string; label: string }[] = [];

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-eval-folders-'));
    const lines = fs.readFileSync(path.join(SHARED_CXR, 'manifest.csv'), 'utf8').trim().split(/\r?\n/).slice(1);
    for (const label of ['covid', 'normal', 'pneumonia']) {
      for (const l of lines.filter((x) => x.split(',')[1] === label && x.split(',')[2] === 'test').slice(0, 2)) rows.push({ file: l.split(',')[0], label });
    }
    const films = path.join(tmp, 'films');
    const put = (dir: string, file: string) => {
      fs.mkdirSync(path.join(films, dir), { recursive: true });
      fs.copyFileSync(path.join(SHARED_CXR, file), path.join(films, dir, path.basename(file)));
    };
    put('Covid', rows[0].file);
    put('Covid', rows[1].file);
    put('normal/ward-1', rows[2].file);
    put('normal/ward-2', rows[3].file);
    put('PNEUMONIA', rows[4].file);
    put('PNEUMONIA', rows[5].file);
    put('other', rows[0].file);
    fs.writeFileSync(path.join(films, 'PNEUMONIA', 'corrupt.jpg'), 'not a jpeg');
    fs.writeFileSync(path.join(films, 'index.html'), '<p>');
  });

  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('class folders: every image of a known class evaluated, sites from the sub-folders, the unknown folder and stray files listed', async () => {
    const r = await evaluate(['--data', path.join(tmp, 'films'), '--json', '--bootstrap', '50']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as EvaluationJson;
    expect(json.meta.data).toMatchObject({ layout: 'class-folders', partial: false, rowsInSelection: 7, evaluated: 6, skipped: 1 });
    expect(json.meta.split).toBe('all');
    expect(json.perClass.covid.support + json.perClass.normal.support + json.perClass.pneumonia.support).toBe(6);
    expect([json.perClass.covid.support, json.perClass.normal.support, json.perClass.pneumonia.support]).toEqual([2, 2, 2]);
    expect(json.groups.site.map((g) => [g.group, g.n, g.labelCounts.normal])).toEqual([
      ['ward-1', 1, 1],
      ['ward-2', 1, 1],
    ]);
    expect(json.unknownFolders).toEqual([{ folder: 'other', files: 1 }]);
    expect(json.ignored).toEqual([{ file: 'index.html', reason: 'not an image (.html file)' }]);
    expect(json.skipped).toHaveLength(1);
    expect(json.skipped[0]).toMatchObject({ file: 'PNEUMONIA/corrupt.jpg' });
    expect(json.confidenceIntervals!.perClass.covid.sensitivity.lower).not.toBeNull();
    expect(r.stderr).toMatch(/ignored folder 'other' \(1 image\(s\)\): not a class of this model/);
  });

  it('a manifest with a site column: per-site table in the report', async () => {
    const dir = path.join(tmp, 'manifest');
    fs.mkdirSync(dir, { recursive: true });
    const lines = rows.map((x, i) => {
      fs.copyFileSync(path.join(SHARED_CXR, x.file), path.join(dir, path.basename(x.file)));
      return `${path.basename(x.file)},${x.label},${i < 3 ? 'Hospital A' : 'Hospital B'}`;
    });
    fs.writeFileSync(path.join(dir, 'manifest.csv'), ['file,label,site', ...lines].join('\n') + '\n');
    const r = await evaluate(['--data', dir, '--json', '--bootstrap', '50', '--no-cache']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as EvaluationJson;
    expect(json.meta.data.layout).toBe('manifest');
    expect(json.groups.site.map((g) => [g.group, g.n]).sort()).toEqual([
      ['Hospital A', 3],
      ['Hospital B', 3],
    ]);
  });

  it('a folder with neither manifest.csv nor class folders exits 2 and says what it expected', async () => {
    const dir = path.join(tmp, 'pets');
    for (const pet of ['cats', 'dogs']) {
      fs.mkdirSync(path.join(dir, pet), { recursive: true });
      fs.copyFileSync(path.join(SHARED_CXR, rows[0].file), path.join(dir, pet, 'a.jpg'));
    }
    const r = await evaluate(['--data', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /no images in class folders: expected a manifest\.csv or one folder per class named covid, normal, pneumonia \(any case\) \(found 'cats', 'dogs'\)/,
    );
  });
});
