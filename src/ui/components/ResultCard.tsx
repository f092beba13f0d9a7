import { Explain } from './Explain';
import { memo, type ReactNode } from 'react';
import type { Row } from '../state/batch';
import { oodDetails, oodOf } from '../lib/ood';
import { verdictOf } from '../lib/verdict';
import { DicomFacts } from './DicomFacts';
import { CovidScreenLine } from './CovidScreen';
import { GradCamOverlay } from './GradCamOverlay';
import { LabelBadge } from './LabelBadge';
import { ProbabilityBars, formatPct } from './ProbabilityBars';

/**
 * One result in detail. First its verdict, one sentence (lib/verdict: class, uncertainty, covid
 * screen and input check reconciled), with what the covid screen's threshold means; then the model
 * input (with its Grad-CAM heatmap on request), the probabilities and timings. When the input is
 * flagged as out of distribution no class is presented: the plain reason comes first, and the
 * detector's numbers and the model's raw outputs only behind a disclosure — no bars, no class.
 * `children` is a slot for per-result extras, `thumbnailOverlay` sits on top of the model-input
 * thumbnail.
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
  const verdict = r ? verdictOf(r) : null;
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
      {r && verdict && withheld && ood && (
        <div className="ood-alert" data-testid="ood-alert" data-kind="withheld">
          <p className="ood-alert__title" data-testid="verdict-headline">
            {verdict.headline}
          </p>
          <p>
            This classifier only knows frontal chest X-rays, so it gives no class and no covid screen for this input. <Explain term="ood" />
          </p>
          <details className="ood-alert__details" data-testid="ood-details">
            <summary>What the input check measured</summary>
            <ul>
              {oodDetails(ood).map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
            <p className="muted" data-testid="withheld-outputs">
              The model's outputs, meaningless for such an input: {classNames.map((c, i) => `${c} ${formatPct(r.prediction.probabilities[i])}`).join(', ')}.
            </p>
          </details>
        </div>
      )}
      {r && verdict && !withheld && (
        <div className={`verdict verdict--${verdict.kind}`} data-testid="verdict" data-kind={verdict.kind}>
          <p className="verdict__headline" data-testid="verdict-headline">
            {verdict.headline}
          </p>
          <CovidScreenLine decision={r.covidScreen} />
        </div>
      )}
      {r && (
        <div className="result-card__body">
          <GradCamOverlay
            result={r}
            name={row.name}
            classNames={classNames}
            withheld={withheld}
            unavailable={row.restored ? 'No heatmap: this result was restored after a reload, and the image itself is not kept.' : undefined}
          >
            {thumbnailOverlay}
          </GradCamOverlay>
          <div className="result-card__main">
            <p className="result-card__label">
              {withheld ? 'Class: ' : 'Most likely class: '}
              <LabelBadge prediction={r.prediction} threshold={uncertainBelow} withheld={withheld} />
              {!withheld && <Explain term="probabilities" />}
            </p>
            {!withheld && r.prediction.uncertain && uncertainBelow !== undefined && (
              <p className="muted">
                The top probability is below {Math.round(uncertainBelow * 100)}%: treat this result as uncertain. <Explain term="uncertain" />
              </p>
            )}
            {withheld && <CovidScreenLine decision={r.covidScreen} withheld />}
            {ood && !withheld && (
              <p className="muted" data-testid="ood-ok">
                Input check: looks like the chest X-rays the model was trained on. <Explain term="ood" />
              </p>
            )}
            <DicomFacts result={r} />
            {!withheld && <ProbabilityBars prediction={r.prediction} classNames={classNames} />}
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
              {row.restored && (
                <>
                  <dt>Kept from</dt>
                  <dd data-testid="restored-note">an earlier visit (restored after a reload)</dd>
                </>
              )}
            </dl>
            {children}
          </div>
        </div>
      )}
    </article>
  );
});
