import { useRef } from 'react';
import type { InputFile } from '../state/batch';
import { intakeFromFileList, type Rejected } from '../lib/files';
import { DropTarget } from './DropTarget';

/** What the file picker offers: every format the worker decodes (src/image/decode-browser.ts), DICOM included. */
export const ACCEPT = 'image/png,image/jpeg,image/webp,image/bmp,image/gif,application/dicom,.png,.jpg,.jpeg,.webp,.bmp,.gif,.dcm,.dicom';

/**
 * Drop target for files and folders; also a keyboard-operable button that opens the file picker,
 * plus a separate folder picker. Paste is handled by the page (anywhere on it).
 */
export function DropZone({ onFiles, disabled }: { onFiles: (files: InputFile[], unreadable: Rejected[]) => void; disabled?: boolean }) {
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const named = (files: { path: string; file: Blob }[]): InputFile[] => files.map((f) => ({ name: f.path, file: f.file }));
  const folderAttrs = { webkitdirectory: '', directory: '' } as Record<string, string>;

  return (
    <div className="dropzone-wrap">
      <DropTarget
        className="dropzone"
        overClassName="dropzone--over"
        disabledClassName="dropzone--disabled"
        disabled={disabled}
        describedBy="dropzone-help"
        testId="dropzone"
        onActivate={() => fileInput.current?.click()}
        onFiles={({ files, rejected }) => onFiles(named(files), rejected)}
      >
        <span className="dropzone__title">Drop chest X-rays or folders here</span>
        <span id="dropzone-help" className="dropzone__help">
          or press to choose files, or paste an image. PNG (8/16-bit), JPEG, WebP, BMP, GIF, DICOM (.dcm). Images stay on this device.
        </span>
      </DropTarget>
      <div className="dropzone__buttons">
        <button type="button" onClick={() => fileInput.current?.click()} disabled={disabled}>
          Choose files…
        </button>
        <button type="button" onClick={() => folderInput.current?.click()} disabled={disabled}>
          Choose a folder…
        </button>
      </div>
      <input
        ref={fileInput}
        type="file"
        multiple
        accept={ACCEPT}
        hidden
        data-testid="file-input"
        onChange={(e) => {
          onFiles(named(intakeFromFileList(e.currentTarget.files)), []);
          e.currentTarget.value = '';
        }}
      />
      <input
        ref={folderInput}
        type="file"
        multiple
        hidden
        {...folderAttrs}
        data-testid="folder-input"
        onChange={(e) => {
          onFiles(named(intakeFromFileList(e.currentTarget.files)), []);
          e.currentTarget.value = '';
        }}
      />
    </div>
  );
}
