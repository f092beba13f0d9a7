// Validation results of the current model: confusion matrix (counts and row-normalised, coloured),
// per-class precision / recall (sensitivity) / specificity / F1 / AUC, and one ROC curve per class.
import { useState } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CLASS_COLOURS, num, pct, type Evaluation } from './evaluation';

export function ConfusionMatrix({ evaluation }: { evaluation: Evaluation }) {
  const [mode, setMode] = useState<'counts' | 'rows'>('counts');
  const { confusion, classNames } = evaluation;
  const total = confusion.flat().reduce((a, b) => a + b, 0);
  return (
    <div className="tr-confusion-wrap">
      <div className="tr-toggle" role="radiogroup" aria-label="Confusion matrix values">
        {(['counts', 'rows'] as const).map((m) => (
          <label key={m} className={`tr-toggle__item${mode === m ? ' is-on' : ''}`}>
            <input type="radio" name="cm-mode" value={m} checked={mode === m} onChange={() => setMode(m)} />
            {m === 'counts' ? 'Counts' : 'Row % (recall)'}
          </label>
        ))}
      </div>
      <div className="table-scroll">
        <table className="tr-confusion" data-testid="confusion-matrix" data-total={total}>
          <caption>
            Confusion matrix on {total} validation images. Rows: true class; columns: predicted class. Colour: share of the row.
          </caption>
          <thead>
            <tr>
              <td />
              {classNames.map((c) => (
                <th key={c} scope="col">
                  predicted <br />
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {confusion.map((row, t) => {
              const rowSum = row.reduce((a, b) => a + b, 0);
              return (
                <tr key={t}>
                  <th scope="row">true {classNames[t]}</th>
                  {row.map((n, p) => {
                    const share = rowSum ? n / rowSum : 0;
                    const level = Math.min(5, Math.round(share * 5));
                    return (
                      <td
                        key={p}
                        className={`tr-cm__cell${t === p ? ' tr-cm__cell--diag' : ' tr-cm__cell--off'}`}
                        data-level={level}
                        data-testid="cm-cell"
                        data-count={n}
                        aria-label={`true ${classNames[t]}, predicted ${classNames[p]}: ${n} of ${rowSum} (${pct(share)})`}
                      >
                        <span className="tr-cm__main">{mode === 'counts' ? n : pct(share)}</span>
                        <span className="tr-cm__sub">{mode === 'counts' ? pct(share) : n}</span>
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export function MetricsTable({ evaluation }: { evaluation: Evaluation }) {
  const { summary, classNames, auc } = evaluation;
  return (
    <div className="table-scroll">
      <table className="tr-metrics" data-testid="metrics-table">
        <caption>Per class, one class against the rest (validation images)</caption>
        <thead>
          <tr>
            <th scope="col">class</th>
            <th scope="col" className="num">
              images
            </th>
            <th scope="col" className="num">
              precision
            </th>
            <th scope="col" className="num">
              recall (sensitivity)
            </th>
            <th scope="col" className="num">
              specificity
            </th>
            <th scope="col" className="num">
              F1
            </th>
            <th scope="col" className="num">
              ROC AUC
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
              <td className="num">{pct(m.ppv, 1)}</td>
              <td className="num">{pct(m.sensitivity, 1)}</td>
              <td className="num">{pct(m.specificity, 1)}</td>
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
      <p className="tr-accuracy">
        Accuracy: <strong data-testid="val-accuracy">{pct(summary.accuracy, 1)}</strong> of {summary.n} validation images.
      </p>
    </div>
  );
}

export function RocChart({ evaluation }: { evaluation: Evaluation }) {
  const { roc, classNames, auc } = evaluation;
  return (
    <figure className="tr-chart" data-testid="roc-chart" aria-label="ROC curve of each class against the rest">
      <figcaption className="tr-chart__title">ROC curves (each class against the rest)</figcaption>
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
          <YAxis type="number" domain={[0, 1]} ticks={[0, 0.25, 0.5, 0.75, 1]} tick={{ fontSize: 15 }} width={56} label={{ value: 'sensitivity', angle: -90, position: 'insideLeft', fontSize: 15 }} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(2) : String(v))} labelFormatter={(l) => `FPR ${Number(l).toFixed(2)}`} />
          <Line data={[{ fpr: 0, tpr: 0 }, { fpr: 1, tpr: 1 }]} dataKey="tpr" name="chance" stroke="#8d99a6" strokeDasharray="4 4" dot={false} isAnimationActive={false} legendType="none" />
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
