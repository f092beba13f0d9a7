// Validation results of the current model: confusion matrix (counts and row-normalised, coloured),
// per-class precision / recall (sensitivity) / specificity / F1 / AUC, and one ROC curve per class.
import { useState } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CLASS_COLOURS, num, pct, type Evaluation } from './evaluation';
import { confusionIntervals, formatInterval, smallSample, SMALL_SAMPLE_PER_CLASS, type ProportionInterval } from '../../../core/intervals';
import { Explain } from '../Explain';
import { ConfusionTable } from '../ConfusionTable';

/** "81–100" under a rate in a table cell (the 95 % Wilson interval). */
function Ci({ iv }: { iv: ProportionInterval }) {
  return iv.lower === null ? null : (
    <span className="ci tr-ci" data-testid="ci" data-lower={iv.lower} data-upper={iv.upper}>
      {' '}
      <span className="sr-only">95 % interval </span>
      {formatInterval(iv)}
    </span>
  );
}

export function ConfusionMatrix({ evaluation }: { evaluation: Evaluation }) {
  const [mode, setMode] = useState<'counts' | 'row'>('counts');
  const { confusion, classNames } = evaluation;
  const total = confusion.flat().reduce((a, b) => a + b, 0);
  return (
    <div className="tr-confusion-wrap">
      <div className="tr-toggle" role="radiogroup" aria-label="Confusion matrix values">
        {(['counts', 'row'] as const).map((m) => (
          <label key={m} className={`tr-toggle__item${mode === m ? ' is-on' : ''}`}>
            <input type="radio" name="cm-mode" value={m} checked={mode === m} onChange={() => setMode(m)} />
            {m === 'counts' ? 'Counts' : 'Row % (recall)'}
          </label>
        ))}
      </div>
      <ConfusionTable
        classNames={classNames}
        matrix={confusion}
        mode={mode}
        caption={`Confusion matrix on ${total} validation images. Rows: true class; columns: predicted class. Colour: share of the row.`}
        answerWord="predicted"
        testId="confusion-matrix"
        cellTestId="cm-cell"
        secondary
      />
    </div>
  );
}

export function MetricsTable({ evaluation }: { evaluation: Evaluation }) {
  const { summary, classNames, auc } = evaluation;
  const iv = confusionIntervals(evaluation.confusion);
  const small = smallSample(iv.perClass.map((c) => c.support));
  return (
    <div className="table-scroll">
      <table className="tr-metrics" data-testid="metrics-table">
        <caption>
          Per class, one class against the rest (validation images; 95 % intervals under each rate)
          <Explain term="interval" />
        </caption>
        <thead>
          <tr>
            <th scope="col">class</th>
            <th scope="col" className="num">
              images
              <Explain term="support" />
            </th>
            <th scope="col" className="num">
              precision
              <Explain term="ppv" />
            </th>
            <th scope="col" className="num">
              recall (sensitivity)
              <Explain term="sensitivity" />
            </th>
            <th scope="col" className="num">
              specificity
              <Explain term="specificity" />
            </th>
            <th scope="col" className="num">
              F1
              <Explain term="f1" />
            </th>
            <th scope="col" className="num">
              ROC AUC
              <Explain term="auc" />
            </th>
          </tr>
        </thead>
        <tbody>
          {summary.perClass.map((m, c) => (
            <tr key={classNames[c]} data-testid="metrics-row" data-class={classNames[c]}>
              <th scope="row">
                <span className="tr-swatch" data-colour={c} aria-hidden="true" /> {classNames[c]}
              </th>
              <td className="num">{m.support}</td>
              <td className="num">
                {pct(m.ppv, 1)}
                <Ci iv={iv.perClass[c].ppv} />
              </td>
              <td className="num">
                {pct(m.sensitivity, 1)}
                <Ci iv={iv.perClass[c].sensitivity} />
              </td>
              <td className="num">
                {pct(m.specificity, 1)}
                <Ci iv={iv.perClass[c].specificity} />
              </td>
              <td className="num">{num(m.f1, 3)}</td>
              <td className="num">{num(auc[c], 3)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">all (macro mean)</th>
            <td className="num">{summary.n}</td>
            <td className="num">{pct(summary.macro.ppv, 1)}</td>
            <td className="num">{pct(summary.macro.sensitivity, 1)}</td>
            <td className="num">{pct(summary.macro.specificity, 1)}</td>
            <td className="num">{num(summary.macro.f1, 3)}</td>
            <td className="num">{num(evaluation.macroAuc, 3)}</td>
          </tr>
        </tfoot>
      </table>
      <p className="tr-accuracy" data-testid="val-accuracy-line" data-small={small.small}>
        Accuracy
        <Explain term="accuracy" />: <strong data-testid="val-accuracy">{pct(summary.accuracy, 0)}</strong>{' '}
        <span data-testid="val-accuracy-ci" data-lower={iv.accuracy.lower ?? ''} data-upper={iv.accuracy.upper ?? ''}>
          (95 % CI {formatInterval(iv.accuracy)})
        </span>{' '}
        of {summary.n} validation images{small.small ? ' — small sample' : ''}.
      </p>
      {small.small && (
        <p className="small-sample" role="note" data-testid="small-sample-warning">
          <strong>Small sample:</strong> the validation split has only {small.smallestClass} image{small.smallestClass === 1 ? '' : 's'} of{' '}
          {small.classes.map((c) => classNames[c]).join(', ')} (under {SMALL_SAMPLE_PER_CLASS} per class). The accuracy could well be anywhere from{' '}
          {formatInterval(iv.accuracy)}; one image more or less right moves it by {pct(1 / Math.max(1, summary.n), 0)}. Add images before trusting or comparing
          these figures.
          <Explain term="smallSample" />
        </p>
      )}
    </div>
  );
}

export function RocChart({ evaluation }: { evaluation: Evaluation }) {
  const { roc, classNames, auc } = evaluation;
  const tiny = smallSample(evaluation.confusion.map((r) => r.reduce((a, b) => a + b, 0)));
  return (
    <figure className="tr-chart" data-testid="roc-chart" aria-label="ROC curve of each class against the rest">
      <figcaption className="tr-chart__title">
        ROC curves (each class against the rest)
        <Explain term="roc" />
        {tiny.small && (
          <span className="badge badge--warn" data-testid="roc-small">
            tiny split: {tiny.smallestClass} images of the smallest class
            <Explain term="rocSmall" />
          </span>
        )}
      </figcaption>
      <ul className="tr-legend">
        {classNames.map((c, i) => (
          <li key={c}>
            <span className="tr-swatch" data-colour={i % CLASS_COLOURS.length} aria-hidden="true" /> {c} <span className="muted">AUC {num(auc[i], 2)}</span>
          </li>
        ))}
      </ul>
      <ResponsiveContainer width="100%" height={340}>
        <LineChart margin={{ top: 8, right: 24, bottom: 24, left: 8 }}>
          <CartesianGrid stroke="#d5dbe3" />
          <XAxis
            type="number"
            dataKey="fpr"
            domain={[0, 1]}
            ticks={[0, 0.25, 0.5, 0.75, 1]}
            tick={{ fontSize: 15 }}
            label={{ value: 'false-positive rate (1 − specificity)', position: 'insideBottom', offset: -14, fontSize: 15 }}
          />
          <YAxis
            type="number"
            domain={[0, 1]}
            ticks={[0, 0.25, 0.5, 0.75, 1]}
            tick={{ fontSize: 15 }}
            width={56}
            label={{ value: 'sensitivity', angle: -90, position: 'insideLeft', fontSize: 15 }}
          />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(2) : String(v))} labelFormatter={(l) => `FPR ${Number(l).toFixed(2)}`} />
          <Line
            data={[
              { fpr: 0, tpr: 0 },
              { fpr: 1, tpr: 1 },
            ]}
            dataKey="tpr"
            name="chance"
            stroke="#8d99a6"
            strokeDasharray="4 4"
            dot={false}
            isAnimationActive={false}
            legendType="none"
          />
          {roc.map((points, c) =>
            points.length ? (
              <Line
                key={classNames[c]}
                data={points.map((p) => ({ fpr: p.fpr, tpr: p.tpr }))}
                dataKey="tpr"
                name={`${classNames[c]} (AUC ${num(auc[c], 2)})`}
                stroke={CLASS_COLOURS[c % CLASS_COLOURS.length]}
                strokeWidth={3}
                type="linear"
                dot={false}
                isAnimationActive={false}
              />
            ) : null,
          )}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}
