// Misclassified images of an Evaluate run: the model input of each, its true and predicted class;
// opening one asks the worker for a fresh result (the worker keeps only recent ones) and shows the
// Classify page's Grad-CAM view of it, on the predicted class first.
import { useEffect, useState } from 'react';
import type { ClassifyResult } from '../../../worker/protocol';
import type { EvaluationData } from '../../../core/evaluation-data';
import { siteOf } from '../../../core/evaluation-data';
import { GALLERY_MAX, reclassify } from '../../state/evaluation';
import { useGradCamPrefs } from '../../hooks/useGradCam';
import { GradCamOverlay } from '../GradCamOverlay';
import { Thumbnail } from '../Thumbnail';

export function EvaluateGallery({
  items,
  data,
  classNames,
  totalWrong,
}: {
  items: { index: number; result: ClassifyResult }[];
  data: EvaluationData;
  classNames: string[];
  totalWrong: number;
}) {
  const [open, setOpen] = useState<number | null>(null);
  const [fresh, setFresh] = useState<{ index: number; result: ClassifyResult } | { index: number; error: string } | null>(null);
  const [, setPrefs] = useGradCamPrefs();
  useEffect(() => {
    if (open === null) return;
    let alive = true;
    setFresh(null);
    reclassify(open).then(
      (result) => alive && setFresh({ index: open, result }),
      (e: Error) => alive && setFresh({ index: open, error: e.message }),
    );
    return () => {
      alive = false;
    };
  }, [open]);
  if (items.length === 0) return <p className="muted">No misclassified images.</p>;
  const entry = open !== null ? data.entries[open] : null;
  return (
    <div data-testid="evaluate-gallery" data-count={totalWrong}>
      <p className="muted">
        {totalWrong} misclassified image{totalWrong === 1 ? '' : 's'}
        {totalWrong > items.length ? ` (the first ${GALLERY_MAX} shown)` : ''}. Open one to see where the network looked.
      </p>
      <ul className="ev-gallery">
        {items.map(({ index, result }) => {
          const e = data.entries[index];
          return (
            <li key={index}>
              <button
                type="button"
                className="ev-gallery__item"
                aria-pressed={open === index}
                onClick={() => {
                  setPrefs({ enabled: true });
                  setOpen(index);
                }}
                data-testid="evaluate-gallery-item"
                data-file={e.file}
              >
                <Thumbnail
                  gray={result.thumbnail.gray}
                  size={result.thumbnail.size}
                  display={96}
                  label={`${e.file}: true ${e.label}, called ${result.prediction.label}`}
                />
                <span className="ev-gallery__caption">
                  true <strong>{e.label}</strong>, called <strong>{result.prediction.label}</strong>
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {entry && open !== null && (
        <div className="ev-gallery__detail" data-testid="evaluate-gallery-detail">
          <p>
            <strong>{entry.file}</strong>
            {siteOf(entry) ? ` (site ${siteOf(entry)})` : ''}: true class {entry.label}.
          </p>
          {fresh && 'error' in fresh && (
            <p role="alert" className="error-text">
              {fresh.error}
            </p>
          )}
          {fresh && 'result' in fresh && fresh.index === open && (
            <GradCamOverlay result={fresh.result} name={entry.file} classNames={classNames} withheld={fresh.result.prediction.ood?.flagged === true} />
          )}
          {!fresh && <p className="muted">Preparing…</p>}
        </div>
      )}
    </div>
  );
}
