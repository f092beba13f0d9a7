// The "?" button next to a figure or chart heading: opens a short plain-language explanation from
// the glossary (src/ui/lib/glossary.ts) in a small non-modal popover. Keyboard: Enter/Space opens
// and moves focus into it, Escape or the close button closes it and returns focus to the button;
// clicking elsewhere closes it too. The popover is fixed to the viewport and clamped inside it, so
// it never widens the page on a phone.
import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { GLOSSARY, type GlossaryTerm } from '../lib/glossary';

export function Explain({ term, extra }: { term: GlossaryTerm /** A sentence about this particular figure, after the general text. */; extra?: string }) {
  const entry = GLOSSARY[term];
  const [open, setOpen] = useState(false);
  const [pos, setPos] = useState<{ top: number; left: number; width: number } | null>(null);
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const id = useId();

  const place = () => {
    const b = button.current;
    if (!b) return;
    const r = b.getBoundingClientRect();
    const vw = document.documentElement.clientWidth;
    const width = Math.min(352, vw - 16);
    const left = Math.max(8, Math.min(r.left, vw - width - 8));
    const below = r.bottom + 6;
    const height = panel.current?.offsetHeight ?? 160;
    const top = below + height > window.innerHeight - 8 && r.top - 6 - height > 8 ? r.top - 6 - height : below;
    setPos({ top, left, width });
  };

  useLayoutEffect(() => {
    if (!open) return;
    place();
    panel.current?.focus({ preventScroll: true });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: PointerEvent) => {
      const t = e.target as Node;
      if (!panel.current?.contains(t) && !button.current?.contains(t)) setOpen(false);
    };
    const onMove = () => place();
    document.addEventListener('pointerdown', onDown);
    window.addEventListener('scroll', onMove, true);
    window.addEventListener('resize', onMove);
    return () => {
      document.removeEventListener('pointerdown', onDown);
      window.removeEventListener('scroll', onMove, true);
      window.removeEventListener('resize', onMove);
    };
  }, [open]);

  const close = () => {
    setOpen(false);
    button.current?.focus();
  };

  return (
    <>
      <button
        ref={button}
        type="button"
        className="explain"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        aria-label={/\?$/.test(entry.term) || entry.term.startsWith('Why') ? `Explain: ${entry.term}` : `What is ${entry.term}?`}
        data-testid="explain"
        data-term={term}
        onClick={() => (open ? setOpen(false) : setOpen(true))}
      >
        <span aria-hidden="true">?</span>
      </button>
      {open &&
        createPortal(
          <div
            ref={panel}
            id={id}
            role="dialog"
            aria-modal="false"
            aria-labelledby={`${id}-t`}
            tabIndex={-1}
            className="explain-pop"
            data-testid="explain-popover"
            data-term={term}
            style={pos ? { top: pos.top, left: pos.left, width: pos.width } : { top: 0, left: 0 }}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                e.stopPropagation();
                close();
              }
            }}
            onBlur={(e) => {
              const next = e.relatedTarget as Node | null;
              if (next && !panel.current?.contains(next) && next !== button.current) setOpen(false);
            }}
          >
            <p className="explain-pop__term" id={`${id}-t`}>
              {entry.term}
            </p>
            <p className="explain-pop__text">{entry.text}</p>
            {extra && <p className="explain-pop__text">{extra}</p>}
            <button type="button" className="explain-pop__close" onClick={close}>
              Close
            </button>
          </div>,
          document.body,
        )}
    </>
  );
}
