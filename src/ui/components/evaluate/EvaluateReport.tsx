// The Evaluate page's report: every figure of `npm run evaluate` on the user's films, each with a
// one-line explanation, read from the EvaluationJson (src/core/evaluation.ts) the page also
// downloads. The threshold explorer is the Model card's (OperatingPointExplorer) on this data.
import { useState } from 'react';
import { ConfusionTable } from '../ConfusionTable';
import type { EvaluationJson } from '../../../core/evaluation';
import type { Interval, MetricsReport } from '../../../core/report';
import { OPERATING_POINT_CLASS } from '../../../core/operating-point';
import { fmt } from '../../lib/metricsView';
import { OperatingPointExplorer } from '../OperatingPointExplorer';
import { ReliabilityDiagram, RocCurves } from './EvaluateCharts';
import { Explain } from '../Explain';
import { smallSample, SMALL_SAMPLE_PER_CLASS } from '../../../core/intervals';

/** One plain-language line per metric (shown under each figure and as table-cell titles). */
export const EXPLAIN = {
  accuracy: 'Accuracy: the share of images whose top class is the true class.',
  balancedAccuracy: 'Balanced accuracy: the mean of the per-class sensitivities, so a large class cannot hide a neglected small one.',
  majority: 'Majority-class baseline: the accuracy of always answering the most frequent class; a useful model must beat it clearly.',
  interval: '95 % interval: the range the figure would likely fall in on another sample of films like these (1,000 bootstrap resamples, stratified by class).',
  sensitivity: 'Sensitivity (recall): of the images that truly are this class, the share the model calls this class.',
  specificity: 'Specificity: of the images that are not this class, the share the model does not call this class.',
  ppv: 'PPV (precision): of the images the model calls this class, the share that truly are; it falls when the class is rare.',
  npv: 'NPV: of the images the model does not call this class, the share that truly are not.',
  f1: 'F1: the harmonic mean of sensitivity and PPV (1 is perfect, 0 is useless).',
  auc: 'AUC: the chance that a random image of this class gets a higher score for it than a random image of another class (0.5 is guessing).',
  confusion: 'Confusion matrix: rows are the true class, columns the model’s answer; the diagonal is right.',
  roc: 'ROC curve: sensitivity against false-positive rate as the threshold for one class moves; the closer to the top-left corner, the better.',
  ece: 'Expected calibration error: how far the stated confidence is from the observed accuracy, averaged over images (0 is perfectly calibrated).',
  operatingPoint:
    'Operating point: the covid threshold the app uses for its covid screen; on new films its sensitivity and PPV can differ a lot from validation.',
  refused: 'Refused: images the app withholds as “Not a chest X-ray?” (unlike the training films); their class is never shown to a user.',
  sites: 'Per site: the same model may work at one hospital and fail at another; large gaps mean it depends on where a film comes from.',
};

function ci(iv: Interval | undefined | null) {
  return iv && iv.lower !== null && iv.upper !== null ? (
    <span className="muted ev-ci">
      {' '}
      ({fmt(iv.lower)}–{fmt(iv.upper)})
    </span>
  ) : null;
}

function Summary({ report }: { report: EvaluationJson }) {
  const iv = report.confidenceIntervals;
  return (
    <>
      <dl className="ev-summary" data-testid="evaluate-summary">
        <div title={EXPLAIN.accuracy}>
          <dt>
            Accuracy <Explain term="accuracy" />
          </dt>
          <dd data-testid="evaluate-accuracy" data-value={report.accuracy ?? ''}>
            {fmt(report.accuracy)}
            {ci(iv?.accuracy)}
          </dd>
        </div>
        <div title={EXPLAIN.balancedAccuracy}>
          <dt>
            Balanced accuracy <Explain term="balancedAccuracy" />
          </dt>
          <dd data-testid="evaluate-balanced-accuracy" data-value={report.balancedAccuracy ?? ''}>
            {fmt(report.balancedAccuracy)}
            {ci(iv?.balancedAccuracy)}
          </dd>
        </div>
        <div title={EXPLAIN.majority}>
          <dt>
            Majority-class baseline <Explain term="majority" />
          </dt>
          <dd data-testid="evaluate-majority">
            {fmt(report.majorityClass?.rate ?? null)} <span className="muted">(always “{report.majorityClass?.className ?? '—'}”)</span>
          </dd>
        </div>
        <div title={EXPLAIN.auc}>
          <dt>
            Macro AUC <Explain term="auc" />
          </dt>
          <dd>
            {fmt(report.macro.auc)}
            {ci(iv?.macroAuc)}
          </dd>
        </div>
      </dl>
      <ul className="ev-explain muted">
        <li>{EXPLAIN.accuracy}</li>
        <li>{EXPLAIN.balancedAccuracy}</li>
        <li>{EXPLAIN.majority}</li>
        <li>{EXPLAIN.interval}</li>
      </ul>
    </>
  );
}

function PerClass({ report }: { report: MetricsReport }) {
  const iv = report.confidenceIntervals?.perClass;
  const auc = report.confidenceIntervals?.auc;
  const cols = [
    ['sensitivity', 'Sensitivity'],
    ['specificity', 'Specificity'],
    ['ppv', 'PPV'],
    ['npv', 'NPV'],
    ['f1', 'F1'],
  ] as const;
  return (
    <>
      <div className="table-scroll">
        <table data-testid="evaluate-per-class">
          <caption>
            Per class (one class against the rest), 95 % intervals in brackets <Explain term="interval" />
          </caption>
          <thead>
            <tr>
              <th scope="col">class</th>
              <th scope="col" className="num">
                images
              </th>
              {cols.map(([k, label]) => (
                <th key={k} scope="col" className="num" title={EXPLAIN[k]}>
                  {label}
                  <Explain term={k} />
                </th>
              ))}
              <th scope="col" className="num" title={EXPLAIN.auc}>
                AUC
                <Explain term="auc" />
              </th>
            </tr>
          </thead>
          <tbody>
            {report.classNames.map((c) => {
              const m = report.perClass[c];
              return (
                <tr key={c} data-testid="evaluate-class-row" data-class={c}>
                  <th scope="row">{c}</th>
                  <td className="num">{m.support}</td>
                  {cols.map(([k]) => (
                    <td key={k} className="num" data-metric={k} data-value={m[k] ?? ''}>
                      {fmt(m[k])}
                      {ci(iv?.[c]?.[k])}
                    </td>
                  ))}
                  <td className="num" data-metric="auc" data-value={m.auc ?? ''}>
                    {fmt(m.auc)}
                    {ci(auc?.[c])}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <ul className="ev-explain muted">
        {cols.map(([k]) => (
          <li key={k}>{EXPLAIN[k]}</li>
        ))}
        <li>{EXPLAIN.auc}</li>
      </ul>
    </>
  );
}

function Confusion({ report }: { report: MetricsReport }) {
  const [mode, setMode] = useState<'counts' | 'row'>('counts');
  const m = report.confusionMatrix;
  return (
    <>
      <fieldset className="ev-toggle">
        <legend>Show</legend>
        <label>
          <input type="radio" name="ev-cm-mode" checked={mode === 'counts'} onChange={() => setMode('counts')} data-testid="evaluate-cm-counts" /> counts
        </label>
        <label>
          <input type="radio" name="ev-cm-mode" checked={mode === 'row'} onChange={() => setMode('row')} data-testid="evaluate-cm-row" /> row % (share of each
          true class)
        </label>
      </fieldset>
      <div className="table-scroll">
        <ConfusionTable
          classNames={report.classNames}
          matrix={m}
          mode={mode}
          caption="Confusion matrix (rows: true class, columns: the model’s answer)"
          answerWord="called"
          testId="evaluate-confusion"
        />
      </div>
      <p className="muted">{EXPLAIN.confusion}</p>
    </>
  );
}

function Refused({ report }: { report: EvaluationJson }) {
  const ood = report.ood;
  if (!ood) return <p className="muted">This model has no “Not a chest X-ray?” detector, so nothing is refused.</p>;
  const w = report.withoutRefused;
  const rows: { label: string; all: number | null; without: number | null }[] = [
    { label: 'Images', all: report.n, without: w ? w.n : report.n },
    { label: 'Accuracy', all: report.accuracy, without: w ? w.accuracy : report.accuracy },
    { label: 'Balanced accuracy', all: report.balancedAccuracy, without: w ? w.balancedAccuracy : report.balancedAccuracy },
    { label: 'Macro AUC', all: report.macro.auc, without: w ? w.macro.auc : report.macro.auc },
    ...report.classNames.map((c) => ({
      label: `${c} sensitivity`,
      all: report.perClass[c].sensitivity,
      without: w ? w.perClass[c].sensitivity : report.perClass[c].sensitivity,
    })),
  ];
  return (
    <div data-testid="evaluate-refused" data-count={ood.flagged}>
      <p>
        <strong>{ood.flagged}</strong> of {ood.n} images ({fmt(ood.rate === null ? null : 100 * ood.rate, 1)} %) were refused as possibly not a chest X-ray like
        the training films. {EXPLAIN.refused} The metrics above count every image, as <code>npm run evaluate</code> does; here they are beside the same metrics
        without the refused images.
      </p>
      <div className="table-scroll">
        <table data-testid="evaluate-refused-table">
          <thead>
            <tr>
              <th scope="col">metric</th>
              <th scope="col" className="num">
                all images
              </th>
              <th scope="col" className="num">
                without refused
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.label}>
                <th scope="row">{r.label}</th>
                <td className="num">{r.label === 'Images' ? r.all : fmt(r.all)}</td>
                <td className="num">{r.label === 'Images' ? r.without : fmt(r.without)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {ood.files.length > 0 && (
        <details>
          <summary>Refused images ({ood.files.length})</summary>
          <ul data-testid="evaluate-refused-list">
            {ood.files.map((f) => (
              <li key={f}>{f}</li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function Groups({ report }: { report: MetricsReport }) {
  const names = Object.keys(report.groups);
  if (names.length === 0) {
    return <p className="muted">No sites: put images in folders below each class folder (e.g. normal/hospital-a/), or add a site column to manifest.csv.</p>;
  }
  return (
    <>
      <p className="muted">{EXPLAIN.sites}</p>
      {names.map((name) => (
        <div className="table-scroll" key={name}>
          <table data-testid={`evaluate-group-${name}`}>
            <caption>By {name.replace(/_/g, ' ')}</caption>
            <thead>
              <tr>
                <th scope="col">{name.replace(/_/g, ' ')}</th>
                <th scope="col" className="num">
                  images
                </th>
                <th scope="col" className="num">
                  accuracy
                </th>
                {report.classNames.map((c) => (
                  <th key={c} scope="col" className="num">
                    {c} sensitivity (n)
                  </th>
                ))}
                <th scope="col">called as</th>
              </tr>
            </thead>
            <tbody>
              {report.groups[name].map((g) => (
                <tr key={g.group} data-testid="evaluate-group-row" data-group={g.group} data-n={g.n}>
                  <th scope="row">{g.group}</th>
                  <td className="num">{g.n}</td>
                  <td className="num">{fmt(g.accuracy)}</td>
                  {report.classNames.map((c) => (
                    <td key={c} className="num">
                      {g.perClass[c] ? `${fmt(g.perClass[c].recall)} (${g.perClass[c].support})` : '—'}
                    </td>
                  ))}
                  <td>
                    {Object.entries(g.predictedCounts)
                      .filter(([, n]) => n > 0)
                      .map(([c, n]) => `${c} ${n}`)
                      .join(', ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </>
  );
}

export function EvaluateReport({ report }: { report: EvaluationJson }) {
  const op = report.operatingPoint;
  const partial = report.meta.data.partial;
  const small = smallSample(report.classNames.map((c) => report.perClass[c]?.support ?? 0));
  return (
    <div className="ev-report" data-testid="evaluate-report" data-partial={partial} data-n={report.n}>
      <section className="panel" aria-labelledby="ev-overall">
        <h2 id="ev-overall" className="panel__title">
          Overall{' '}
          {partial && (
            <span className="badge badge--warn" data-testid="evaluate-partial">
              partial: cancelled after {report.n} of {report.meta.data.rowsInSelection} images
            </span>
          )}
        </h2>
        <p>
          <strong>{report.n}</strong> images evaluated with {report.meta.model.name} {report.meta.model.version}
          {report.skipped.length > 0 ? `, ${report.skipped.length} skipped` : ''}.
        </p>
        <Summary report={report} />
        {small.small && (
          <p className="small-sample" role="note" data-testid="evaluate-small-sample">
            <strong>Small sample:</strong> only {small.smallestClass} image{small.smallestClass === 1 ? '' : 's'} of{' '}
            {small.classes.map((i) => report.classNames[i]).join(', ')} (under {SMALL_SAMPLE_PER_CLASS} per class). Read the intervals in brackets, not the
            single figures
            {report.confidenceIntervals?.accuracy?.lower != null && report.confidenceIntervals.accuracy.upper != null
              ? `: the accuracy could be anywhere from ${fmt(report.confidenceIntervals.accuracy.lower)} to ${fmt(report.confidenceIntervals.accuracy.upper)}`
              : ''}
            . <Explain term="smallSample" />
          </p>
        )}
      </section>
      <section className="panel" aria-labelledby="ev-classes">
        <h2 id="ev-classes" className="panel__title">
          Per class
        </h2>
        <PerClass report={report} />
        <Confusion report={report} />
      </section>
      <section className="panel" aria-labelledby="ev-roc">
        <h2 id="ev-roc" className="panel__title">
          ROC curves and calibration <Explain term="roc" /> <Explain term="calibration" />
          {small.small && (
            <span className="badge badge--warn" data-testid="evaluate-roc-small">
              tiny set: {small.smallestClass} images of the smallest class <Explain term="rocSmall" />
            </span>
          )}
        </h2>
        <RocCurves report={report} />
        <p className="muted">{EXPLAIN.roc}</p>
        <ReliabilityDiagram report={report} />
        <p className="muted">{EXPLAIN.ece}</p>
      </section>
      {report.classNames.includes(OPERATING_POINT_CLASS) && report.samples && (
        <section className="panel" aria-labelledby="ev-op">
          <h2 id="ev-op" className="panel__title">
            Covid operating point on these films <Explain term="covidScreen" />
          </h2>
          <p className="muted">{EXPLAIN.operatingPoint}</p>
          {op && (
            <p data-testid="evaluate-operating-point">
              At the stored threshold {fmt(op.threshold, 4)}: sensitivity {fmt(op.sensitivity)}, specificity {fmt(op.specificity)}, PPV {fmt(op.ppv)}, NPV{' '}
              {fmt(op.npv)} (tp {op.tp}, fp {op.fp}, fn {op.fn}, tn {op.tn})
              {op.valSensitivity !== null ? `; on the validation split it had sensitivity ${fmt(op.valSensitivity)}` : ''}.
            </p>
          )}
          <OperatingPointExplorer
            key={`${report.meta.date}-${op?.threshold ?? 'none'}`}
            samples={report.samples}
            classNames={report.classNames}
            split="evaluated"
            stored={op ? { threshold: op.threshold, targetSensitivity: op.targetSensitivity, source: 'the model’s metadata' } : null}
          />
        </section>
      )}
      <section className="panel" aria-labelledby="ev-refused">
        <h2 id="ev-refused" className="panel__title">
          Refused as not a chest X-ray <Explain term="ood" />
        </h2>
        <Refused report={report} />
      </section>
      <section className="panel" aria-labelledby="ev-sites">
        <h2 id="ev-sites" className="panel__title">
          Per site
        </h2>
        <Groups report={report} />
      </section>
    </div>
  );
}
