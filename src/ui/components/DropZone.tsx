import { useRef, useState, type DragEvent, type KeyboardEvent } from 'react';
import type { InputFile } from '../hooks/useBatch';
import { filesFromDataTransfer, filesFromInput } from '../lib/files';

/** What the file picker offers: every format the worker decodes (src/image/decode-browser.ts), DICOM included. */
export const ACCEPT = 'image/png,image/jpeg,image/webp,image/bmp,image/gif,application/dicom,.png,.jpg,.jpeg,.webp,.bmp,.gif,.dcm,.dicom';

/**
 * Drop target for files and folders; also a keyboard-operable button that opens the file picker,
 * plus a separate folder picker. Paste is handled by the page (anywhere on it).
 */
export function DropZone({ onFiles, disabled }: { onFiles: (files: InputFile[]) => void; disabled?: boolean }) {
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (disabled) return;
    void filesFromDataTransfer(e.dataTransfer).then(onFiles);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      fileInput.current?.click();
    }
  };
  const folderAttrs = { webkitdirectory: '', directory: '' } as Record<string, string>;

  return (
    <div className="dropzone-wrap">
      <div
        className={`dropzone${over ? ' dropzone--over' : ''}${disabled ? ' dropzone--disabled' : ''}`}
        role="button"
        tabIndex={disabled ? -1 : 0}
        aria-disabled={disabled}
        aria-describedby="dropzone-help"
        data-testid="dropzone"
        onClick={() => !disabled && fileInput.current?.click()}
        onKeyDown={onKey}
        onDragEnter={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
        }}
        onDragLeave={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(false);
        }}
        onDrop={onDrop}
      >
        <span className="dropzone__title">Drop chest X-rays or folders here</span>
        <span id="dropzone-help" className="dropzone__help">
          or press to choose files, or paste an image. PNG (8/16-bit), JPEG, WebP, BMP, GIF, DICOM (.dcm). Images stay on this device.
        </span>
      </div>
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
          onFiles(filesFromInput(e.currentTarget.files));
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
          onFiles(filesFromInput(e.currentTarget.files));
          e.currentTarget.value = '';
        }}
      />
    </div>
  );
}
