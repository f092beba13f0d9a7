import { memo, type ReactNode } from 'react';
import type { Row } from '../hooks/useBatch';
import { oodHeadline, oodOf } from '../lib/ood';
import { DicomFacts } from './DicomFacts';
import { CovidScreenLine } from './CovidScreen';
import { GradCamOverlay } from './GradCamOverlay';
import { LabelBadge } from './LabelBadge';
import { ProbabilityBars } from './ProbabilityBars';

/**
 * One result in detail: the model input (with its Grad-CAM heatmap on request), the probabilities,
 * the label, the covid operating-point decision, the out-of-distribution verdict and timings.
 * `children` is a slot for per-result extras, `thumbnailOverlay` sits on top of the model-input
 * thumbnail. When the input is flagged as out of distribution, no class is presented: the label is
 * withheld and the probabilities are greyed.
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
  const ood = oodOf(r);
  const withheld = ood?.flagged === true;
  return (
    <article
      className={`panel result-card${withheld ? ' result-card--withheld' : ''}`}
      aria-labelledby={`result-title-${row.key}`}
      data-testid="result-card"
      data-file={row.name}
      data-status={row.status}
      data-withheld={withheld}
    >
      <h3 id={`result-title-${row.key}`} className="result-card__title">
        {row.name}
      </h3>
      {row.status === 'error' && (
        <p className="error-text" data-testid="row-error">
          {row.error}
        </p>
      )}
      {r && withheld && ood && (
        <div className="ood-alert" data-testid="ood-alert">
          <p className="ood-alert__title">{oodHeadline(ood)}</p>
          <p>
            This classifier only knows frontal chest X-rays, and this input does not look like the images it was trained on, so its class is withheld. The numbers below are
            shown greyed for inspection only.
            {Number.isFinite(ood.score) && Number.isFinite(ood.threshold) ? ` Out-of-distribution score ${ood.score.toFixed(3)}, threshold ${ood.threshold.toFixed(3)}.` : ''}
          </p>
        </div>
      )}
      {r && (
        <div className="result-card__body">
          <GradCamOverlay result={r} name={row.name} classNames={classNames} withheld={withheld}>
            {thumbnailOverlay}
          </GradCamOverlay>
          <div className="result-card__main">
            <p className="result-card__label">
              Prediction: <LabelBadge prediction={r.prediction} threshold={uncertainBelow} withheld={withheld} />
            </p>
            {!withheld && r.prediction.uncertain && uncertainBelow !== undefined && (
              <p className="muted">The top probability is below {Math.round(uncertainBelow * 100)}%: treat this result as uncertain.</p>
            )}
            <CovidScreenLine decision={r.covidScreen} withheld={withheld} />
            {ood && !withheld && (
              <p className="muted" data-testid="ood-ok">
                Input check: looks like the chest X-rays the model was trained on
                {Number.isFinite(ood.score) && Number.isFinite(ood.threshold) ? ` (out-of-distribution score ${ood.score.toFixed(3)}, threshold ${ood.threshold.toFixed(3)})` : ''}.
              </p>
            )}
            <DicomFacts result={r} />
            <ProbabilityBars prediction={r.prediction} classNames={classNames} muted={withheld} />
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
