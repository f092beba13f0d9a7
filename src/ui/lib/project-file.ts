// A `.cxrlab` project file: the entries of src/core/project.ts in one zip. Images and the model are
// already compressed, so they are stored; project.json and the prepared data are deflated.
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { ProjectFormatError, readProjectFiles, type RestoredProject } from '../../core/project';

export function packProject(files: Record<string, Uint8Array>): Uint8Array {
  const z: Zippable = {};
  for (const [name, bytes] of Object.entries(files))
    z[name] = [bytes, { level: name.startsWith('images/') || (name.endsWith('.bin') && name.startsWith('model/')) ? 0 : 6 }];
  return zipSync(z);
}

/** Reads a project file; ProjectFormatError with a clear message when it is not one or is damaged. */
export function unpackProject(bytes: Uint8Array): RestoredProject {
  if (bytes.length < 22 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) throw new ProjectFormatError('not a CXR Lab project: the file is not a .cxrlab (zip) file');
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new ProjectFormatError(`the file is damaged or incomplete (the zip cannot be read: ${(e as Error).message})`);
  }
  return readProjectFiles(files);
}
