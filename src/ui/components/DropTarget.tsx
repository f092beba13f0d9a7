// The one drop target: a region that takes dropped files and folders (read through the one folder
// walker, src/ui/lib/files.ts), shows that something is being dragged over it, and — when it has an
// `onActivate` — is also a keyboard-operable button (Enter/Space, click) that opens a picker.
import { useState, type DragEvent, type KeyboardEvent, type ReactNode } from 'react';
import { intakeFromDataTransfer, type Intake } from '../lib/files';

export interface DropTargetProps {
  /** Gets every drop: the readable files and, by name with why, the ones that could not be read. */
  onFiles: (intake: Intake) => void;
  /** Click / Enter / Space (usually opens a file picker); without it the region is not a button. */
  onActivate?: () => void;
  disabled?: boolean;
  className: string;
  /** Added while files are dragged over it, and when disabled. */
  overClassName: string;
  disabledClassName?: string;
  testId: string;
  /** Accessible name of the button region (with `onActivate`), and the id of its help text. */
  label?: string;
  describedBy?: string;
  children: ReactNode;
}

export function DropTarget({
  onFiles,
  onActivate,
  disabled,
  className,
  overClassName,
  disabledClassName,
  testId,
  label,
  describedBy,
  children,
}: DropTargetProps) {
  const [over, setOver] = useState(false);
  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (disabled) return;
    // Started synchronously (the browser empties the DataTransfer after the handler).
    void intakeFromDataTransfer(e.dataTransfer).then(onFiles);
  };
  const key = (e: KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      if (!disabled) onActivate?.();
    }
  };
  const button = onActivate
    ? { role: 'button', 'aria-label': label, tabIndex: disabled ? -1 : 0, 'aria-disabled': disabled, onClick: () => !disabled && onActivate(), onKeyDown: key }
    : {};
  return (
    <div
      className={`${className}${over ? ` ${overClassName}` : ''}${disabled && disabledClassName ? ` ${disabledClassName}` : ''}`}
      {...button}
      aria-describedby={describedBy}
      data-testid={testId}
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
      onDrop={drop}
    >
      {children}
    </div>
  );
}
