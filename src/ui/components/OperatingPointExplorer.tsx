// Model card: the covid ROC curve on the evaluation split (from metrics.json's per-image samples),
// the stored operating point (chosen on validation for a target sensitivity) marked on it, and a
// threshold slider showing sensitivity, specificity, PPV, NPV and the counts on that split, live.
// Every figure is recomputed from the samples with src/core/report.ts, so it matches `npm run
// evaluate` and the Classify page's "covid screen" (positive when p >= threshold).
import { Explain } from './Explain';
import { useId, useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceDot, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { rocCurve } from '../../core/metrics';
import { downsampleRoc, operatingPointFromSamples, type OperatingPointReport, type ReportSamples } from '../../core/report';
import { OPERATING_POINT_CLASS } from '../../core/operating-point';
import { fmt } from '../lib/metricsView';

export interface StoredOperatingPoint {
  threshold: number;
  targetSensitivity: number | null;
  /** Where it comes from, for the text (metrics.json or metadata.json). */
  source: string;
}

const STEP = 0.001;

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}

function Stat({ id, label, value, digits = 3 }: { id: string; label: string; value: number | null; digits?: number }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd data-testid={`op-${id}`} data-value={value ?? ''}>
        {digits === 0 ? (value ?? '—') : fmt(value, digits)}
      </dd>
    </div>
  );
}

export function OperatingPointExplorer({
  samples,
  classNames,
  split,
  stored,
  className = OPERATING_POINT_CLASS,
}: {
  samples: ReportSamples;
  classNames: string[];
  split: string | null;
  stored: StoredOperatingPoint | null;
  className?: string;
}) {
  const id = useId();
  const initial = stored ? stored.threshold : 0.5;
  const [threshold, setThreshold] = useState(initial);
  const [text, setText] = useState(String(initial));
  const c = classNames.indexOf(className);
  const scores = samples.scores[className];
  const positives = useMemo(() => samples.label.map((y) => y === c), [samples, c]);
  const nPos = positives.filter(Boolean).length;
  const n = positives.length;
  const roc = useMemo(() => (scores && nPos > 0 && nPos < n ? downsampleRoc(rocCurve(scores, positives), 400) : []), [scores, positives, nPos, n]);
  const at = useMemo<OperatingPointReport | null>(
    () => (c >= 0 && scores ? operatingPointFromSamples(samples, classNames, className, threshold) : null),
    [samples, classNames, className, threshold, c, scores],
  );
  const storedAt = useMemo<OperatingPointReport | null>(
    () => (c >= 0 && scores && stored ? operatingPointFromSamples(samples, classNames, className, stored.threshold) : null),
    [samples, classNames, className, stored, c, scores],
  );
  if (c < 0 || !scores || !at) return null;

  const set = (v: number) => {
    const t = clamp01(v);
    setThreshold(t);
    setText(String(t));
  };
  const splitName = split ?? 'evaluation';
  const point = (r: OperatingPointReport | null) => (r && r.sensitivity !== null && r.specificity !== null ? { x: 1 - r.specificity, y: r.sensitivity } : null);
  const current = point(at);
  const storedPoint = point(storedAt);
  const calledPositive = at.tp + at.fp;
  const summary = `threshold ${threshold.toFixed(3)}: sensitivity ${fmt(at.sensitivity)}, specificity ${fmt(at.specificity)}`;

  return (
    <section className="op-explorer" aria-labelledby={`${id}-title`} data-testid="op-explorer" data-threshold={threshold}>
      <h3 id={`${id}-title`}>
        Covid operating point <Explain term="covidScreen" />
      </h3>
      <p>
        A result is a positive <strong>{className} screen</strong> when its calibrated {className} probability is at or above the threshold.
        {stored ? (
          <>
            {' '}
            The stored operating point is <strong data-testid="op-stored">{fmt(stored.threshold, 4)}</strong>
            {stored.targetSensitivity !== null ? `, chosen on the validation split for sensitivity ${fmt(stored.targetSensitivity, 2)}` : ''} ({stored.source});
            the Classify page uses it.
          </>
        ) : (
          ' This model has no stored operating point.'
        )}{' '}
        Move the threshold to see the trade-off on the {splitName} split ({n} images, {nPos} {className}).
      </p>
      {roc.length > 0 && (
        <figure
          className="chart"
          data-testid="op-explorer-chart"
          aria-label={`ROC curve for ${className} against the rest on the ${splitName} split, with the stored operating point and the threshold chosen below`}
        >
          <p className="chart__title">
            ROC curve: {className} against the rest ({splitName} split) <Explain term="roc" />
          </p>
          <ResponsiveContainer width="100%" height={300}>
            <LineChart margin={{ top: 10, right: 20, bottom: 20, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis
                dataKey="fpr"
                type="number"
                domain={[0, 1]}
                name="1 − specificity"
                label={{ value: '1 − specificity (false positive rate)', position: 'insideBottom', offset: -10 }}
              />
              <YAxis dataKey="tpr" type="number" domain={[0, 1]} name="sensitivity" label={{ value: 'sensitivity', angle: -90, position: 'insideLeft' }} />
              <Tooltip />
              <Legend verticalAlign="top" />
              <Line data={roc} dataKey="tpr" name={`${className} vs rest`} stroke="#c62828" dot={false} isAnimationActive={false} />
              {storedPoint && (
                <ReferenceDot
                  x={storedPoint.x}
                  y={storedPoint.y}
                  r={7}
                  fill="#fff"
                  stroke="#0b3d6e"
                  strokeWidth={3}
                  label={{ value: 'stored', position: 'right' }}
                />
              )}
              {current && (
                <ReferenceDot
                  x={current.x}
                  y={current.y}
                  r={5}
                  fill="#f59e0b"
                  stroke="#1b1f24"
                  label={storedPoint && storedPoint.x === current.x && storedPoint.y === current.y ? undefined : { value: 'slider', position: 'left' }}
                />
              )}
            </LineChart>
          </ResponsiveContainer>
          <figcaption className="muted">
            Ring: stored operating point{storedAt ? ` (sensitivity ${fmt(storedAt.sensitivity)}, specificity ${fmt(storedAt.specificity)} on this split)` : ''}.
            Dot: the threshold set below.
          </figcaption>
        </figure>
      )}
      <div className="op-explorer__controls">
        <label htmlFor={`${id}-range`}>Threshold</label>
        <input
          id={`${id}-range`}
          type="range"
          min={0}
          max={1}
          step={STEP}
          value={threshold}
          aria-valuetext={summary}
          onChange={(e) => set(Number(e.currentTarget.value))}
          data-testid="op-slider"
        />
        <span>
          <label htmlFor={`${id}-value`} className="sr-only">
            Threshold value
          </label>
          <input
            id={`${id}-value`}
            type="number"
            min={0}
            max={1}
            step="any"
            value={text}
            onChange={(e) => {
              const raw = e.currentTarget.value;
              setText(raw);
              const v = Number(raw);
              if (raw.trim() !== '' && Number.isFinite(v) && v >= 0 && v <= 1) setThreshold(v);
            }}
            data-testid="op-threshold-input"
          />
        </span>
      </div>
      <div className="toolbar__actions">
        {stored && (
          <button type="button" onClick={() => set(stored.threshold)} disabled={threshold === stored.threshold} data-testid="op-reset">
            Reset to the stored operating point
          </button>
        )}
      </div>
      <div className="op-explorer__out">
        <dl className="op-explorer__stats" data-testid="op-stats" data-threshold={threshold}>
          <Stat id="sensitivity" label="Sensitivity" value={at.sensitivity} />
          <Stat id="specificity" label="Specificity" value={at.specificity} />
          <Stat id="ppv" label="PPV" value={at.ppv} />
          <Stat id="npv" label="NPV" value={at.npv} />
          <Stat id="tp" label="True positives" value={at.tp} digits={0} />
          <Stat id="fp" label="False positives" value={at.fp} digits={0} />
          <Stat id="fn" label="False negatives" value={at.fn} digits={0} />
          <Stat id="tn" label="True negatives" value={at.tn} digits={0} />
        </dl>
        <span className="muted">
          At threshold {threshold.toFixed(4)}, {calledPositive} of {n} {splitName} images are called {className} positive.
        </span>
      </div>
    </section>
  );
}
