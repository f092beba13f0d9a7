// The validation images the model gets wrong, most confident mistakes first. Click (or Enter) opens a
// detail view with the model input and every class probability. Composable: `renderDetailFigure`
// replaces the detail view's picture (the Train page puts the Grad-CAM view there), `renderDetailExtra`
// adds content beside it, `renderTileExtra` to each tile.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { GrayThumb } from './GrayThumb';
import { pct, type Misclassified } from './evaluation';
import { THUMB_SIZE } from '../../../worker/train-protocol';

export interface GalleryProps {
  items: Misclassified[];
  classNames: string[];
  thumbOf: (id: number) => Uint8Array | undefined;
  pathOf: (id: number) => string;
  /** Full-size model input of an image, for the detail view. */
  loadImage?: (id: number) => Promise<{ gray: Uint8Array; size: number }>;
  /** Replaces the default picture (the model input from loadImage); gets the small thumbnail to show meanwhile. */
  renderDetailFigure?: (item: Misclassified, thumb: { gray: Uint8Array; size: number } | undefined) => ReactNode;
  renderDetailExtra?: (item: Misclassified) => ReactNode;
  renderTileExtra?: (item: Misclassified) => ReactNode;
  /** Tiles shown before "Show more". */
  pageSize?: number;
}

export function ProbabilityList({ classNames, probabilities, trueIndex }: { classNames: string[]; probabilities: number[]; trueIndex?: number }) {
  const best = probabilities.indexOf(Math.max(...probabilities));
  return (
    <ul className="bars" data-testid="probabilities">
      {classNames.map((c, i) => (
        <li key={c} className={`bars__row${i === best ? ' bars__row--top' : ''}`} data-class={c} data-value={probabilities[i]}>
          <span className="bars__name">
            {c}
            {i === trueIndex && <span className="badge badge--label tr-true">true</span>}
          </span>
          <span className="bars__track" aria-hidden="true">
            <span className="bars__fill" style={{ width: `${Math.round(probabilities[i] * 100)}%` }} />
          </span>
          <span className="bars__value">{pct(probabilities[i], 1)}</span>
        </li>
      ))}
    </ul>
  );
}

function Detail({ item, props, onClose }: { item: Misclassified; props: GalleryProps; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [image, setImage] = useState<{ gray: Uint8Array; size: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    if (props.renderDetailFigure) return;
    let alive = true;
    props
      .loadImage?.(item.id)
      .then((im) => alive && setImage(im))
      .catch((e: Error) => alive && setError(e.message));
    return () => {
      alive = false;
    };
  }, [item.id]); // eslint-disable-line react-hooks/exhaustive-deps
  const thumb = props.thumbOf(item.id);
  const { classNames } = props;
  return (
    <dialog ref={ref} className="tr-detail" aria-labelledby="tr-detail-title" onClose={onClose} data-testid="misclassified-detail">
      <h3 id="tr-detail-title" className="tr-detail__title">
        {props.pathOf(item.id)}
      </h3>
      <p>
        True class <strong>{classNames[item.trueIndex]}</strong>, predicted <strong>{classNames[item.predictedIndex]}</strong> ({pct(item.confidence, 1)}).
      </p>
      <div className="tr-detail__body">
        {props.renderDetailFigure ? (
          props.renderDetailFigure(item, thumb ? { gray: thumb, size: THUMB_SIZE } : undefined)
        ) : (
          <figure className="tr-detail__figure">
            {image ? (
              <GrayThumb gray={image.gray} size={image.size} display={320} label={`What the model saw: ${props.pathOf(item.id)}`} />
            ) : thumb ? (
              <GrayThumb gray={thumb} size={THUMB_SIZE} display={320} label={`What the model saw (small): ${props.pathOf(item.id)}`} />
            ) : null}
            <figcaption className="muted">What the model saw (after preprocessing){error ? ` · ${error}` : ''}</figcaption>
          </figure>
        )}
        <div className="tr-detail__side">
          <ProbabilityList classNames={classNames} probabilities={item.probabilities} trueIndex={item.trueIndex} />
          {props.renderDetailExtra?.(item)}
        </div>
      </div>
      <form method="dialog">
        <button type="submit" className="primary" autoFocus>
          Close
        </button>
      </form>
    </dialog>
  );
}

export function MisclassifiedGallery(props: GalleryProps) {
  const { items, classNames, pageSize = 48 } = props;
  const [shown, setShown] = useState(pageSize);
  const [open, setOpen] = useState<Misclassified | null>(null);
  if (!items.length) {
    return (
      <p className="muted" data-testid="misclassified-none">
        No validation image is misclassified.
      </p>
    );
  }
  return (
    <div data-testid="misclassified-gallery" data-count={items.length}>
      <ul className="tr-gallery">
        {items.slice(0, shown).map((m) => {
          const thumb = props.thumbOf(m.id);
          return (
            <li key={m.id}>
              <button
                type="button"
                className="tr-tile"
                onClick={() => setOpen(m)}
                data-testid="misclassified-item"
                aria-label={`${props.pathOf(m.id)}: true ${classNames[m.trueIndex]}, predicted ${classNames[m.predictedIndex]} ${pct(m.confidence)}`}
              >
                {thumb ? <GrayThumb gray={thumb} size={THUMB_SIZE} display={96} label="" /> : <span className="tr-tile__blank" />}
                <span className="tr-tile__text">
                  <span className="tr-tile__true">{classNames[m.trueIndex]}</span>
                  <span aria-hidden="true"> → </span>
                  <span className="tr-tile__pred">
                    {classNames[m.predictedIndex]} {pct(m.confidence)}
                  </span>
                </span>
                {props.renderTileExtra?.(m)}
              </button>
            </li>
          );
        })}
      </ul>
      {items.length > shown && (
        <button type="button" onClick={() => setShown((n) => n + pageSize)}>
          Show {Math.min(pageSize, items.length - shown)} more of {items.length - shown}
        </button>
      )}
      {open && <Detail item={open} props={props} onClose={() => setOpen(null)} />}
    </div>
  );
}
