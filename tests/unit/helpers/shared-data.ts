// Paths to the shared data (never copied into the repo) and the model for unit tests that need them.
// Tests skip with a clear message when the data or the model is absent.
import fs from 'node:fs';
import path from 'node:path';
import { parseManifest, type ManifestEntry } from '../../../src/core/manifest';

export const REPO_ROOT = path.resolve(new URL('../../..', import.meta.url).pathname);
export const CXR_DIR = path.resolve(REPO_ROOT, '../shared/data/cxr');
export const OOD_DIR = path.resolve(REPO_ROOT, '../shared/data/ood');
export const PUBLIC_MODEL = path.join(REPO_ROOT, 'public/model');

export const hasCxr = () => fs.existsSync(path.join(CXR_DIR, 'manifest.csv'));
export const hasOod = () => fs.existsSync(path.join(OOD_DIR, 'manifest.csv'));
export const hasPublicModel = () => fs.existsSync(path.join(PUBLIC_MODEL, 'model.json')) && fs.existsSync(path.join(PUBLIC_MODEL, 'metadata.json'));

export function skipMessage(what: string, dir: string): string {
  return `${what} not found at ${dir}: tests that need it are skipped`;
}

/** Entries of the cxr manifest (optionally one split), in manifest order. */
export function cxrEntries(split?: string): ManifestEntry[] {
  const text = fs.readFileSync(path.join(CXR_DIR, 'manifest.csv'), 'utf8');
  return parseManifest(text, { labels: null, source: 'manifest.csv' }).entries.filter((e) => !split || e.split === split);
}
