import { useEffect, useRef, useState } from 'react';

export const ACK_KEY = 'cxr-lab.notice-acknowledged.v1';

function acknowledged(): boolean {
  try {
    return localStorage.getItem(ACK_KEY) === 'yes';
  } catch {
    return false;
  }
}

/** "Not for clinical use" notice, acknowledged once before first use and remembered on this device. */
export function Disclaimer() {
  const [open, setOpen] = useState(() => !acknowledged());
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (open && d && !d.open) d.showModal();
  }, [open]);
  if (!open) return null;
  const accept = () => {
    try {
      localStorage.setItem(ACK_KEY, 'yes');
    } catch {
      /* private mode: ask again next time */
    }
    ref.current?.close();
    setOpen(false);
  };
  return (
    <dialog
      ref={ref}
      className="notice"
      aria-labelledby="notice-title"
      aria-describedby="notice-body"
      data-testid="notice"
      onCancel={(e) => e.preventDefault()}
    >
      <h2 id="notice-title">Not for clinical use</h2>
      <div id="notice-body">
        <p>
          CXR Lab is a <strong>research and education</strong> tool. Its predictions have not been validated clinically and must not be used to diagnose, treat
          or triage anyone.
        </p>
        <p>Images are processed on this device only; nothing is uploaded.</p>
      </div>
      <button type="button" className="primary" onClick={accept} autoFocus data-testid="notice-accept">
        I understand
      </button>
    </dialog>
  );
}
