import { memo, type ReactNode } from 'react';
import type { Row } from '../hooks/useBatch';
import { LabelBadge } from './LabelBadge';
import { ProbabilityBars } from './ProbabilityBars';
import { Thumbnail } from './Thumbnail';

/**
 * One result in detail: the model input, the probabilities, the label and timings. `children` is a
 * slot for per-result extras (Grad-CAM overlay, out-of-distribution flag…), `thumbnailOverlay` sits
 * on top of the model-input thumbnail.
 */
export const ResultCard = memo(function ResultCard({
  row,
  classNames,
  uncertainBelow,
  children,
  thumbnailOverlay,
}: {
  row: Row;
  classNames: string[];
  uncertainBelow?: number;
  children?: ReactNode;
  thumbnailOverlay?: ReactNode;
}) {
  const r = row.result;
  return (
    <article className="panel result-card" aria-labelledby={`result-title-${row.key}`} data-testid="result-card" data-file={row.name} data-status={row.status}>
      <h3 id={`result-title-${row.key}`} className="result-card__title">
        {row.name}
      </h3>
      {row.status === 'error' && (
        <p className="error-text" data-testid="row-error">
          {row.error}
        </p>
      )}
      {r && (
        <div className="result-card__body">
          <figure className="result-card__figure">
            <div className="thumb-stack">
              <Thumbnail gray={r.thumbnail.gray} size={r.thumbnail.size} display={192} label={`What the model saw: ${row.name}, ${r.thumbnail.size}×${r.thumbnail.size} pixels after preprocessing`} />
              {thumbnailOverlay}
            </div>
            <figcaption className="muted">
              Model input ({r.thumbnail.size}×{r.thumbnail.size})
            </figcaption>
          </figure>
          <div className="result-card__main">
            <p className="result-card__label">
              Prediction: <LabelBadge prediction={r.prediction} threshold={uncertainBelow} />
            </p>
            {r.prediction.uncertain && uncertainBelow !== undefined && (
              <p className="muted">The top probability is below {Math.round(uncertainBelow * 100)}%: treat this result as uncertain.</p>
            )}
            <ProbabilityBars prediction={r.prediction} classNames={classNames} />
            <dl className="facts facts--small">
              <dt>Inference</dt>
              <dd data-testid="inference-ms">{r.timings.inferenceMs.toFixed(1)} ms</dd>
              <dt>Decode + preprocess</dt>
              <dd>{(r.timings.decodeMs + r.timings.preprocessMs).toFixed(1)} ms</dd>
              <dt>Image</dt>
              <dd>
                {r.format.toUpperCase()} {r.width}×{r.height}
                {r.bitDepth === 16 ? ', 16-bit' : ''}
              </dd>
              <dt>Backend</dt>
              <dd>{r.backend}</dd>
            </dl>
            {children}
          </div>
        </div>
      )}
    </article>
  );
});
