// `npm run evaluate -- --data <dir>` on a folder without manifest.csv: one sub-folder per class of
// the model (any case), folders below a class folder naming the site. The layout rules are
// src/core/evaluation-data.ts (shared with the Evaluate page); this file only walks the disk and
// decodes, like ./dataset.ts does for manifests (no cache: such folders are small and change).
import fs from 'node:fs';
import path from 'node:path';
import { comparePaths, describeEvaluationData, type EvaluationData } from '../../src/core/evaluation-data';
import { decodeImageBytes } from '../../src/image/decode';
import { toGray8 } from '../../src/image/preprocess';
import type { DecodedImage } from '../../src/image/preprocess';
import type { PreparedImage } from '../../src/image/pipeline';
import { datasetContentKey, type LoadedDataset, type LoadedImage } from './dataset';
import { logErr, readImageFileSync } from './node-io';

/** Every file below `dir`, as '/'-separated relative paths (symbolic links to folders are not followed). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const names = fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => comparePaths(a.name, b.name));
    for (const d of names) {
      const child = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(child);
      else if (d.isFile()) out.push(child);
      else if (d.isSymbolicLink()) {
        // A link to a file is read like the file; links to folders are not followed (loops).
        let target: fs.Stats | null = null;
        try {
          target = fs.statSync(path.join(dir, child));
        } catch {
          /* dangling: listed so that it is reported as not found */
        }
        if (!target || target.isFile()) out.push(child);
      }
    }
  };
  walk('');
  return out;
}

export interface FolderImage extends LoadedImage {
  /** The pipeline's output for the decoded image (model input, OOD statistics with colour, DICOM facts), when asked for. */
  prepared?: PreparedImage;
}

export interface FolderDataset extends LoadedDataset {
  images: FolderImage[];
  layout: EvaluationData;
}

/**
 * Describes and decodes a class-folder data set (EvaluationDataError when nothing fits). With
 * `prepare` (prepareImage), each decoded image goes through the pipeline before it is turned grey,
 * as in the browser's worker (a colour photo is then flagged as such, on both sides).
 */
export async function loadClassFolders(
  dir: string,
  classNames: readonly string[],
  opts: { quiet?: boolean; prepare?: (image: DecodedImage) => PreparedImage } = {},
): Promise<FolderDataset> {
  const layout = await describeEvaluationData(listFiles(dir), classNames, { readManifest: (p) => fs.readFileSync(path.join(dir, p), 'utf8') });
  const images: FolderImage[] = [];
  const failures: LoadedDataset['failures'] = [];
  for (const entry of layout.entries) {
    const file = path.join(dir, layout.root, entry.file);
    try {
      const decoded = await decodeImageBytes(readImageFileSync(file));
      const prepared = opts.prepare?.(decoded);
      images.push({ entry, path: file, gray: prepared?.gray ?? toGray8(decoded), prepared });
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
      failures.push({ file: entry.file, line: entry.line, reason });
    }
  }
  if (!opts.quiet) {
    for (const f of failures) logErr(`skipped ${f.file}: ${f.reason}`);
    for (const u of layout.unknownFolders) logErr(`ignored folder '${u.folder}' (${u.files} image(s)): not a class of this model (${classNames.join(', ')})`);
    for (const f of layout.ignored) logErr(`ignored ${f.file}: ${f.reason}`);
  }
  const contentKey = datasetContentKey(path.join(dir, layout.root), layout.manifestText, undefined, layout.entries);
  return { dir, manifestText: layout.manifestText, manifestHash: layout.manifestHash, labels: classNames, images, failures, layout, contentKey };
}
