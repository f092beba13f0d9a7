import { Explain } from '../components/Explain';
import { confusionIntervals, formatInterval, smallSample, SMALL_SAMPLE_PER_CLASS, type ProportionInterval } from '../../core/intervals';
import { useEffect, useMemo, useState } from 'react';
import { ConfusionTable } from '../components/ConfusionTable';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { parseModelMetadata, type ModelMetadata } from '../../core/metadata';
import { fmt, readMetrics, type MetricsView } from '../lib/metricsView';
import { readAudit, type AuditView } from '../lib/auditView';
import { readShift, type ShiftView } from '../lib/shiftView';
import { ACK_KEY } from '../components/Disclaimer';
import { OperatingPointExplorer, type StoredOperatingPoint } from '../components/OperatingPointExplorer';
import { OPERATING_POINT_CLASS } from '../../core/operating-point';
import { finetuneCaveats, formatDate } from '../../core/model-card';
import { useClassifier } from '../hooks/useClassifier';

type Load<T> = { state: 'loading' } | { state: 'ok'; value: T } | { state: 'missing'; reason: string };

async function fetchJson(path: string): Promise<unknown> {
  const res = await fetch(new URL(path, document.baseURI));
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const text = await res.text();
  if (text.trimStart().startsWith('<')) throw new Error('not deployed (the server returned an HTML page)');
  return JSON.parse(text);
}

function useJson<T>(path: string | null, parse: (json: unknown) => T): Load<T> {
  const [v, setV] = useState<Load<T>>({ state: 'loading' });
  useEffect(() => {
    if (path === null) return;
    let alive = true;
    setV({ state: 'loading' });
    fetchJson(path).then(
      (j) => {
        if (!alive) return;
        try {
          setV({ state: 'ok', value: parse(j) });
        } catch (e) {
          setV({ state: 'missing', reason: (e as Error).message });
        }
      },
      (e: Error) => alive && setV({ state: 'missing', reason: e.message }),
    );
    return () => {
      alive = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [path]);
  return v;
}

/** The model the card describes: the one in use on the Classify page (the shipped one until another is picked). */
type CardSource = { kind: 'shipped' } | { kind: 'saved'; name: string; files: Record<string, Uint8Array> };

function useCardSource(): CardSource {
  const { source } = useClassifier();
  const files = source?.kind === 'artifacts' ? source.files : null;
  const label = source?.kind === 'artifacts' ? source.label : '';
  return useMemo<CardSource>(() => (files ? { kind: 'saved', name: label.replace(/^saved: /, ''), files } : { kind: 'shipped' }), [files, label]);
}

/**
 * One JSON file of the model in use: fetched from public/model for the shipped model, read from the
 * saved files for a model saved in this browser. `savedReason`: why a file a saved model does not
 * carry is absent (null: say it is not part of the model's files).
 */
function useModelJson<T>(src: CardSource, file: string, parse: (json: unknown) => T, savedReason: string | null = null): Load<T> {
  const fetched = useJson(src.kind === 'shipped' ? `model/${file}` : null, parse);
  const fromFiles = useMemo<Load<T> | null>(() => {
    if (src.kind !== 'saved') return null;
    const bytes = src.files[file];
    if (!bytes) return { state: 'missing', reason: savedReason ?? `not part of this model's files` };
    try {
      return { state: 'ok', value: parse(JSON.parse(new TextDecoder().decode(bytes))) };
    } catch (e) {
      return { state: 'missing', reason: (e as Error).message };
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [src, file]);
  return fromFiles ?? fetched;
}

/** Text from metadata with `code` spans shown as code, never as raw backticks. */
function RichText({ text }: { text: string }) {
  const parts = text.split('`');
  return <>{parts.map((p, i) => (i % 2 === 1 && i < parts.length - 1 ? <code key={i}>{p}</code> : p.replace(/`/g, '')))}</>;
}

/** The training data in words: a folder path (the shipped model's record) becomes the data set's name. */
function dataInWords(t: NonNullable<ModelMetadata['training']>): string | null {
  if (!t.data) return null;
  const looksLikePath = !/\s/.test(t.data) && /[/\\]/.test(t.data);
  if (!looksLikePath) return t.data;
  return `The train split of the CXR Lab chest X-ray data set${t.dataRelease ? ` (${t.dataRelease})` : ''}; the validation split chose the epoch, the temperature and the operating point.`;
}

function ConfusionMatrix({ view }: { view: MetricsView }) {
  return (
    <ConfusionTable
      classNames={view.classNames}
      matrix={view.confusion!}
      mode="counts"
      caption="Confusion matrix (rows: true class, columns: predicted class)"
      answerWord="predicted"
      testId="confusion-matrix"
    />
  );
}

function ci(iv: { lower: number | null; upper: number | null } | null | undefined) {
  return iv && iv.lower !== null && iv.upper !== null ? (
    <span className="muted">
      {' '}
      (95% CI {fmt(iv.lower)}–{fmt(iv.upper)})
    </span>
  ) : null;
}

const COLORS = ['#0b5cad', '#c62828', '#2e7d32', '#8a4b00', '#5e35b1', '#00838f'];

/** A chart's visible title (every chart on the card has one), first in its figure. */
function ChartTitle({ children }: { children: React.ReactNode }) {
  return <figcaption className="chart__title">{children}</figcaption>;
}

/** A rate's 95 % Wilson interval from its counts, under the figure in a table cell. */
function WilsonCi({ iv }: { iv: ProportionInterval | undefined }) {
  return iv && iv.lower !== null ? (
    <span className="ci" data-testid="mc-ci">
      {' '}
      <span className="sr-only">95 % interval </span>
      {formatInterval(iv)}
    </span>
  ) : null;
}

function RocChart({ view }: { view: MetricsView }) {
  const roc = view.roc;
  if (!roc || !view.classNames.some((c) => roc[c]?.length)) return null;
  return (
    <figure className="chart" data-testid="mc-chart-roc" aria-label="ROC curves, one class against the rest (AUC values are in the table)">
      <ChartTitle>
        ROC curves on the {view.split ?? 'evaluation'} split: each class against the rest <Explain term="roc" />
        {view.summary && smallSample(view.summary.perClass.map((m) => m.support)).small && (
          <span className="badge badge--warn" data-testid="mc-roc-small">
            tiny split <Explain term="rocSmall" />
          </span>
        )}
      </ChartTitle>
      <ResponsiveContainer width="100%" height={280}>
        <LineChart margin={{ top: 5, right: 20, bottom: 20, left: 10 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis
            dataKey="fpr"
            type="number"
            domain={[0, 1]}
            name="false positive rate"
            label={{ value: 'false positive rate (1 − specificity)', position: 'insideBottom', offset: -10 }}
          />
          <YAxis dataKey="tpr" type="number" domain={[0, 1]} name="sensitivity" label={{ value: 'sensitivity', angle: -90, position: 'insideLeft' }} />
          <Tooltip />
          <Legend verticalAlign="top" />
          {view.classNames.map((c, i) =>
            roc[c]?.length ? (
              <Line key={c} data={roc[c]} dataKey="tpr" name={`${c} vs rest`} stroke={COLORS[i % COLORS.length]} dot={false} isAnimationActive={false} />
            ) : null,
          )}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

function Groups({ view }: { view: MetricsView }) {
  const groups = view.groups;
  if (!groups || Object.keys(groups).length === 0) return null;
  return (
    <>
      <h3>Performance by subgroup</h3>
      <p className="muted">
        How accuracy varies with where an image comes from. Large gaps mean the model's behaviour depends on the source, not only on the disease.
      </p>
      {Object.entries(groups).map(([name, rows]) => (
        <div className="table-scroll" key={name} tabIndex={0}>
          <table data-testid={`group-${name}`}>
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
                {view.classNames.map((c) => (
                  <th key={c} scope="col" className="num">
                    true {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.slice(0, 15).map((g) => (
                <tr key={g.group}>
                  <th scope="row">{g.group}</th>
                  <td className="num">{g.n}</td>
                  <td className="num">{fmt(g.accuracy)}</td>
                  {view.classNames.map((c) => (
                    <td key={c} className="num">
                      {g.labelCounts?.[c] ?? 0}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </>
  );
}

function Calibration({ view }: { view: MetricsView }) {
  const c = view.calibration;
  const op = view.operatingPoint;
  if (!c && !op) return null;
  return (
    <>
      {c && (
        <p>
          Calibration: softmax temperature {fmt(c.temperature, 2)}; expected calibration error {fmt(c.eceBefore)} before and {fmt(c.eceAfter)} after temperature
          scaling ({c.bins} bins). <Explain term="calibration" />
        </p>
      )}
      {op && (
        <p data-testid="operating-point">
          Operating point for "{op.className}": threshold {fmt(op.threshold)}
          {op.targetSensitivity !== null ? ` (chosen on validation for sensitivity ${fmt(op.targetSensitivity, 2)})` : ''}; on this split sensitivity{' '}
          {fmt(op.sensitivity)}, specificity {fmt(op.specificity)}, PPV {fmt(op.ppv)}, NPV {fmt(op.npv)}. <Explain term="covidScreen" />
        </p>
      )}
    </>
  );
}

/** The operating point the app uses: metrics.json's (evaluated with it), else metadata.trust.covidThreshold. */
function storedOperatingPoint(view: MetricsView, meta: ModelMetadata | null): StoredOperatingPoint | null {
  const op = view.operatingPoint;
  if (op && op.className === OPERATING_POINT_CLASS && Number.isFinite(op.threshold)) {
    return { threshold: op.threshold, targetSensitivity: op.targetSensitivity, source: 'metrics.json' };
  }
  const t = meta?.trust?.covidThreshold;
  if (t && Number.isFinite(t.threshold))
    return { threshold: t.threshold, targetSensitivity: Number.isFinite(t.targetSensitivity) ? t.targetSensitivity : null, source: 'metadata.json' };
  return null;
}

function Metrics({ view, meta }: { view: MetricsView; meta: ModelMetadata | null }) {
  const s = view.summary;
  const wilson = view.confusion ? confusionIntervals(view.confusion) : null;
  const small = s ? smallSample(s.perClass.map((m) => m.support)) : null;
  const chartData = s
    ? view.classNames.map((c, i) => ({
        name: c,
        sensitivity: s.perClass[i].sensitivity ?? 0,
        specificity: s.perClass[i].specificity ?? 0,
        ppv: s.perClass[i].ppv ?? 0,
      }))
    : [];
  return (
    <>
      {s && (
        <>
          <p data-testid="metrics-summary">
            {view.split ? `${view.split} split` : 'Evaluation'}: <strong>{s.n}</strong> images, accuracy{' '}
            <strong data-testid="accuracy">{fmt(s.accuracy)}</strong>
            {view.intervals?.accuracy
              ? ci(view.intervals.accuracy)
              : wilson && (
                  <span className="muted" data-testid="accuracy-ci">
                    {' '}
                    (95% CI {formatInterval(wilson.accuracy, 1)})
                  </span>
                )}
            <Explain term="accuracy" />
            {view.balancedAccuracy !== null && (
              <>
                , balanced accuracy <strong>{fmt(view.balancedAccuracy)}</strong>
              </>
            )}
            , macro F1 <strong>{fmt(s.macro.f1)}</strong>
            {view.macroAuc !== null && (
              <>
                , macro AUC <strong>{fmt(view.macroAuc)}</strong>
                {ci(view.intervals?.macroAuc)}
              </>
            )}
            .
            {view.majorityClass && (
              <>
                {' '}
                Always answering "{view.majorityClass.className}" would score {fmt(view.majorityClass.rate)}.
              </>
            )}
            {small?.small && wilson && (
              <span className="small-sample" role="note" data-testid="mc-small-sample" style={{ display: 'block' }}>
                <strong>Small sample:</strong> only {small.smallestClass} image{small.smallestClass === 1 ? '' : 's'} of{' '}
                {small.classes.map((i) => view.classNames[i]).join(', ')} (under {SMALL_SAMPLE_PER_CLASS} per class): the accuracy could be anywhere in{' '}
                {formatInterval(wilson.accuracy)}. <Explain term="smallSample" />
              </span>
            )}
            {view.evaluatedModel && (
              <span className="muted">
                {' '}
                Evaluated model: {view.evaluatedModel}
                {view.date ? `, ${formatDate(view.date)}` : ''}.
              </span>
            )}
          </p>
          <div className="table-scroll" tabIndex={0}>
            <table data-testid="per-class-metrics">
              <caption>
                Per-class metrics (one class against the rest{wilson ? '; 95 % intervals under each rate' : ''}) <Explain term="interval" />
              </caption>
              <thead>
                <tr>
                  <th scope="col">class</th>
                  <th scope="col" className="num">
                    support <Explain term="support" />
                  </th>
                  <th scope="col" className="num">
                    sensitivity <Explain term="sensitivity" />
                  </th>
                  <th scope="col" className="num">
                    specificity <Explain term="specificity" />
                  </th>
                  <th scope="col" className="num">
                    PPV <Explain term="ppv" />
                  </th>
                  <th scope="col" className="num">
                    NPV <Explain term="npv" />
                  </th>
                  <th scope="col" className="num">
                    F1 <Explain term="f1" />
                  </th>
                  {view.auc && (
                    <th scope="col" className="num">
                      AUC <Explain term="auc" />
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {view.classNames.map((c, i) => (
                  <tr key={c}>
                    <th scope="row">{c}</th>
                    <td className="num">{s.perClass[i].support}</td>
                    <td className="num">
                      {fmt(s.perClass[i].sensitivity)}
                      <WilsonCi iv={wilson?.perClass[i]?.sensitivity} />
                    </td>
                    <td className="num">
                      {fmt(s.perClass[i].specificity)}
                      <WilsonCi iv={wilson?.perClass[i]?.specificity} />
                    </td>
                    <td className="num">
                      {fmt(s.perClass[i].ppv)}
                      <WilsonCi iv={wilson?.perClass[i]?.ppv} />
                    </td>
                    <td className="num">
                      {fmt(s.perClass[i].npv)}
                      <WilsonCi iv={wilson?.perClass[i]?.npv} />
                    </td>
                    <td className="num">{fmt(s.perClass[i].f1)}</td>
                    {view.auc && <td className="num">{fmt(view.auc[i])}</td>}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <ConfusionMatrix view={view} />
          <Calibration view={view} />
          {view.samples && view.classNames.includes(OPERATING_POINT_CLASS) ? (
            <OperatingPointExplorer
              key={storedOperatingPoint(view, meta)?.threshold ?? 'none'}
              samples={view.samples}
              classNames={view.classNames}
              split={view.split}
              stored={storedOperatingPoint(view, meta)}
            />
          ) : (
            view.classNames.includes(OPERATING_POINT_CLASS) && (
              <p className="muted" data-testid="op-no-samples">
                metrics.json has no per-image samples, so the threshold explorer is not available (npm run evaluate writes them).
              </p>
            )
          )}
          <RocChart view={view} />
          <Groups view={view} />
          <figure
            className="chart"
            data-testid="mc-chart-per-class"
            aria-label="Bar chart of sensitivity, specificity and PPV per class (same numbers as the table)"
          >
            <ChartTitle>
              Sensitivity, specificity and PPV per class ({view.split ?? 'evaluation'} split) <Explain term="sensitivity" /> <Explain term="specificity" />{' '}
              <Explain term="ppv" />
            </ChartTitle>
            <ResponsiveContainer width="100%" height={240}>
              <BarChart data={chartData}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="name" />
                <YAxis domain={[0, 1]} />
                <Tooltip />
                <Legend />
                <Bar dataKey="sensitivity" fill="#0b5cad" isAnimationActive={false} />
                <Bar dataKey="specificity" fill="#2e7d32" isAnimationActive={false} />
                <Bar dataKey="ppv" name="PPV" fill="#8a4b00" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </figure>
        </>
      )}
      {!s && <p>metrics.json has no confusion matrix; its numbers are listed below.</p>}
      {view.scalars.length > 0 && !view.summary && (
        <details>
          <summary>All summary values in metrics.json</summary>
          <table>
            <tbody>
              {view.scalars.map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td className="num">{typeof v === 'number' ? fmt(v, 4) : v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </>
  );
}

/** Words for the per-epoch fields of metadata.training.history (never the raw field names). */
const HISTORY_WORDS: Record<string, string> = {
  trainLoss: 'training loss',
  valLoss: 'validation loss',
  trainAcc: 'training accuracy',
  valAcc: 'validation accuracy',
  valMacroAuc: 'validation macro AUC',
};

function HistoryChart({
  title,
  testId,
  data,
  keys,
  axis,
  domain,
  explain,
}: {
  title: string;
  testId: string;
  data: Record<string, number>[];
  keys: string[];
  axis: string;
  domain?: [number, number];
  explain: React.ReactNode;
}) {
  if (!keys.length) return null;
  const colors = ['#0b5cad', '#c62828', '#2e7d32', '#8a4b00'];
  return (
    <figure className="chart" data-testid={testId} aria-label={`${title}: ${keys.map((k) => HISTORY_WORDS[k]).join(', ')} per epoch`}>
      <ChartTitle>
        {title} {explain}
      </ChartTitle>
      <ResponsiveContainer width="100%" height={220}>
        <LineChart data={data} margin={{ top: 5, right: 20, bottom: 20, left: 10 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="epoch" label={{ value: 'epoch', position: 'insideBottom', offset: -10 }} />
          <YAxis domain={domain ?? ['auto', 'auto']} label={{ value: axis, angle: -90, position: 'insideLeft' }} />
          <Tooltip />
          <Legend verticalAlign="top" />
          {keys.map((k, i) => (
            <Line key={k} dataKey={k} name={HISTORY_WORDS[k]} stroke={colors[i % colors.length]} dot={false} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

/** Training curves from metadata.json: loss and accuracy on separate charts (different scales). */
function History({ meta }: { meta: ModelMetadata }) {
  const h = meta.training?.history;
  if (!h || h.length < 2) return null;
  const present = (k: string) => h.some((row) => typeof row[k] === 'number' && Number.isFinite(row[k]));
  const data = h.map((row, i) => ({ ...row, epoch: row.epoch ?? i + 1 }));
  return (
    <>
      <h3>
        Training curves <Explain term="trainVsVal" /> <Explain term="epoch" />
      </h3>
      <HistoryChart
        title="Loss per epoch"
        testId="mc-chart-loss"
        data={data}
        keys={['trainLoss', 'valLoss'].filter(present)}
        axis="loss (cross-entropy)"
        explain={
          <>
            <Explain term="loss" /> <Explain term="overfitting" />
          </>
        }
      />
      <HistoryChart
        title="Accuracy per epoch"
        testId="mc-chart-accuracy"
        data={data}
        keys={['trainAcc', 'valAcc', 'valMacroAuc'].filter(present)}
        axis={present('valMacroAuc') ? 'accuracy, AUC (0–1)' : 'accuracy (0–1)'}
        domain={[0, 1]}
        explain={
          <>
            <Explain term="lossVsAccuracy" /> <Explain term="valBeatsTrain" />
          </>
        }
      />
    </>
  );
}

/** The shortcut audit (npm run audit): does the model read lungs, or film borders, text and markers? */
function ShortcutAudit({ audit, auditHref }: { audit: AuditView; auditHref: string | null }) {
  return (
    <>
      <p>
        The {audit.split ?? 'test'} split{audit.n !== null ? ` (${audit.n} images)` : ''} evaluated three ways. A model that reads the lungs keeps its accuracy
        with only the centre visible and falls towards the majority-class rate
        {audit.majority ? ` (${fmt(audit.majority.rate, 3)}, always answering "${audit.majority.className}")` : ''} with only the borders visible.
      </p>
      <div className="table-scroll" tabIndex={0}>
        <table data-testid="shortcut-audit">
          <thead>
            <tr>
              <th scope="col">What the model sees</th>
              <th scope="col" className="num">
                accuracy <Explain term="accuracy" />
              </th>
              <th scope="col" className="num">
                balanced accuracy <Explain term="balancedAccuracy" />
              </th>
              <th scope="col" className="num">
                macro AUC <Explain term="auc" />
              </th>
            </tr>
          </thead>
          <tbody>
            {audit.modes.map((m) => (
              <tr key={m.mode}>
                <th scope="row" title={m.description}>
                  {m.mode}
                  {m.description ? <span className="muted"> — {m.description}</span> : null}
                </th>
                <td className="num">{m.accuracy === null ? '—' : fmt(m.accuracy, 3)}</td>
                <td className="num">{m.balancedAccuracy === null ? '—' : fmt(m.balancedAccuracy, 3)}</td>
                <td className="num">{m.macroAuc === null ? '—' : fmt(m.macroAuc, 3)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {audit.check && (
        <p data-testid="shortcut-audit-check" data-passed={audit.check.passed}>
          Border-only accuracy {audit.check.borderOnlyAccuracy === null ? '—' : fmt(audit.check.borderOnlyAccuracy, 3)}:{' '}
          {audit.check.passed ? 'within' : 'above'} the {fmt(audit.check.borderOnlyMaxAccuracy, 2)} limit that CI enforces
          {audit.check.passed ? ' (passed)' : ' (failed)'}.
        </p>
      )}
      {audit.centre && (
        <p data-testid="shortcut-audit-centre" data-passed={audit.centre.passed}>
          Centre-only accuracy {fmt(audit.centre.centreOnlyAccuracy, 3)}: {fmt(Math.abs(audit.centre.drop) * 100, 1)} points{' '}
          {audit.centre.drop >= 0 ? 'below' : 'above'} full accuracy ({fmt(audit.centre.fullAccuracy, 3)}), {audit.centre.passed ? 'within' : 'outside'} the
          target of at most {fmt(audit.centre.maxDrop * 100, 0)} points
          {audit.centre.passed ? ' (passed)' : ` (missed by ${fmt((audit.centre.drop - audit.centre.maxDrop) * 100, 1)} points)`}.
        </p>
      )}
      {auditHref && (
        <p>
          Per-source results: <a href={auditHref}>audit.json</a>.
        </p>
      )}
    </>
  );
}

interface ShiftRow {
  key: string;
  /** Row header (first column). */
  head: React.ReactNode;
  title?: string;
  cells: { value: React.ReactNode; num?: boolean }[];
}

/** One table of the Source shift section: a row-header column, then plain or numeric cells. */
function ShiftTable({ testId, columns, rows }: { testId: string; columns: { label: string; num?: boolean }[]; rows: ShiftRow[] }) {
  return (
    <div className="table-scroll" tabIndex={0}>
      <table data-testid={testId}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.label} scope="col" className={c.num ? 'num' : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              <th scope="row" title={r.title}>
                {r.head}
              </th>
              {r.cells.map((c, i) => (
                <td key={i} className={c.num ? 'num' : undefined}>
                  {c.value}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Source shift (npm run evaluate:shift): the same films re-acquired, and sources never seen in training. */
function SourceShift({ shift }: { shift: ShiftView }) {
  const pct = (v: number | null) => (v === null ? '—' : `${(100 * v).toFixed(1)} %`);
  const num = (value: React.ReactNode) => ({ value, num: true });
  const acquisitionRows: ShiftRow[] = [
    ...(shift.untouched
      ? [{ key: 'untouched', head: 'untouched', cells: [num(pct(shift.untouched.accuracy)), num(''), num(''), num(pct(shift.untouched.oodRate))] }]
      : []),
    ...shift.variants.map((v) => ({
      key: v.id,
      title: v.description,
      head: (
        <>
          {v.id}
          {v.description ? <span className="muted"> — {v.description}</span> : null}
        </>
      ),
      cells: [
        num(pct(v.accuracy)),
        num(v.deltaPoints === null ? '—' : `${v.deltaPoints >= 0 ? '+' : ''}${v.deltaPoints.toFixed(1)}`),
        num(pct(v.covidSensitivity)),
        num(pct(v.oodRate)),
      ],
    })),
  ];
  return (
    <>
      {shift.variants.length > 0 && (
        <>
          <h3>Acquisition shift</h3>
          <p>
            The test split{shift.testImages !== null ? ` (${shift.testImages} images)` : ''} re-acquired as other scanners and export paths would deliver it. A
            model that reads the lungs keeps its accuracy; one that reads the hospital's export style loses it. &ldquo;Refused&rdquo; is the share the
            &ldquo;Not a chest X-ray?&rdquo; check withholds.
          </p>
          <ShiftTable
            testId="shift-acquisition"
            columns={[
              { label: 'Variant' },
              { label: 'accuracy', num: true },
              { label: 'change (points)', num: true },
              { label: 'covid sensitivity', num: true },
              { label: 'refused', num: true },
            ]}
            rows={acquisitionRows}
          />
        </>
      )}
      {shift.lso && shift.lso.rows.length > 0 && (
        <>
          <h3>Leave-source-out</h3>
          <p>
            The recipe ({shift.lso.recipe}, shortened{shift.lso.epochs !== null ? ` to ${shift.lso.epochs} epochs` : ''}) trained without one source group, then
            asked about that group&rsquo;s films. This is the closest the data allows to &ldquo;a hospital the model has never seen&rdquo;.
          </p>
          <ShiftTable
            testId="shift-lso"
            columns={[
              { label: 'Held-out group' },
              { label: 'label' },
              { label: 'films', num: true },
              { label: 'sensitivity', num: true },
              { label: 'called as' },
            ]}
            rows={shift.lso.rows.map((r) => ({
              key: `${r.group}-${r.label}`,
              title: r.description,
              head: r.group,
              cells: [{ value: r.label }, num(r.n ?? '—'), num(pct(r.sensitivity)), { value: r.calledAs }],
            }))}
          />
        </>
      )}
      {shift.probe.length > 0 && (
        <>
          <h3>Source probe</h3>
          <p>
            How well a linear classifier on the model&rsquo;s embedding tells the source repository apart among films of one class and age group (test split).
            Near chance means the embedding carries little hospital information; far above chance means it does.
          </p>
          <ShiftTable
            testId="shift-probe"
            columns={[{ label: 'Class (age group)' }, { label: 'sources' }, { label: 'balanced accuracy', num: true }, { label: 'chance', num: true }]}
            rows={shift.probe.map((p) => ({ key: p.label, head: p.label, cells: [{ value: p.sources }, num(pct(p.balancedAccuracy)), num(pct(p.chance))] }))}
          />
        </>
      )}
    </>
  );
}

/** The trust numbers of the model, in words: calibration, operating point, "Not a chest X-ray?" check. */
function TrustFacts({ meta, finetuned }: { meta: ModelMetadata; finetuned: boolean }) {
  const t = meta.trust;
  const op = t?.covidThreshold;
  const ood = t?.ood;
  const f = ood?.fit ?? {};
  const widened = Array.isArray(f.widened) ? (f.widened as string[]) : [];
  const n = (v: unknown) => (typeof v === 'number' ? v : '—');
  // The shipped model's record predates the per-fit sizes: its validation split size is in the hyperparameters.
  const hpVal = meta.training?.hyperparameters?.valImages;
  const valImages = t?.temperatureFit?.valImages ?? (typeof hpVal === 'number' ? hpVal : undefined);
  const opImages = op?.valImages ?? valImages;
  return (
    <>
      <dt>
        Calibration <Explain term="calibration" />
      </dt>
      <dd data-testid="mc-temperature">
        {t ? `softmax temperature ${fmt(t.temperature, 2)}` : 'none (temperature 1)'}
        {t && valImages !== undefined ? `, fitted on ${valImages} validation images` : ''}
        {t?.temperatureFit?.minTemperature !== undefined
          ? ` (not below ${t.temperatureFit.minTemperature}: a fine-tuned model is never made more confident than its head)`
          : ''}
      </dd>
      <dt>
        Covid operating point <Explain term="covidScreen" />
      </dt>
      <dd data-testid="mc-operating-point" data-threshold={op?.threshold}>
        {op
          ? `threshold ${fmt(op.threshold, 4)} on the calibrated covid probability, chosen for sensitivity ${fmt(op.targetSensitivity, 2)} on the validation split${opImages !== undefined ? ` (${opImages} images${op.valPositives !== undefined ? `, ${op.valPositives} covid` : ''})` : ''}: there sensitivity ${fmt(op.valSensitivity)}, specificity ${fmt(op.valSpecificity)}`
          : meta.classNames.includes(OPERATING_POINT_CLASS)
            ? 'none (the validation split had no covid image)'
            : 'none (this model has no covid class)'}
      </dd>
      <dt>
        &ldquo;Not a chest X-ray?&rdquo; check <Explain term="ood" />
      </dt>
      <dd data-testid="mc-ood" data-present={!!ood}>
        {!ood
          ? 'none: this model cannot tell when an image is not a chest X-ray'
          : finetuned
            ? `the shipped network's check, refitted on the ${n(f.trainImages)} training and ${n(f.valImages)} validation images (their class means; ${widened.length ? `limits widened for ${widened.length} check${widened.length === 1 ? '' : 's'} so that they pass` : 'no limit needed widening'}). Unchanged, it would have withheld ${n(f.flaggedBeforeRefit)} of them; now ${n(f.flaggedAfterRefit)}.`
            : `fitted on ${n(f.trainImages)} training and ${n(f.valImages)} validation films (image checks, a pixel-space check and the network's features)${typeof f.valFlagged?.any === 'number' ? `; it withholds ${fmt(100 * f.valFlagged.any, 1)} % of validation films` : ''}.`}
      </dd>
    </>
  );
}

/** Images per class in the fine-tuning split (metadata.training.split). */
function SplitTable({ split }: { split: NonNullable<NonNullable<ModelMetadata['training']>['split']> }) {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return (
    <div className="table-scroll" tabIndex={0}>
      <table data-testid="mc-split" data-train={sum(split.train)} data-val={sum(split.val)}>
        <caption>Images per class and split</caption>
        <thead>
          <tr>
            <th scope="col">class</th>
            <th scope="col" className="num">
              training
            </th>
            <th scope="col" className="num">
              validation
            </th>
          </tr>
        </thead>
        <tbody>
          {split.classNames.map((c, i) => (
            <tr key={c}>
              <th scope="row">{c}</th>
              <td className="num">{split.train[i]}</td>
              <td className="num">{split.val[i]}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export default function ModelCardPage() {
  const src = useCardSource();
  const finetuned = src.kind === 'saved';
  const notRun = 'not run for models fine-tuned in the browser';
  const meta = useModelJson(src, 'metadata.json', parseModelMetadata);
  const classNames = meta.state === 'ok' ? meta.value.classNames : [];
  const metrics = useModelJson(src, 'metrics.json', (j) => j);
  const view = metrics.state === 'ok' ? readMetrics(metrics.value, classNames) : null;
  const auditJson = useModelJson(src, 'audit.json', (j) => j, notRun);
  const audit = auditJson.state === 'ok' ? readAudit(auditJson.value) : null;
  const shiftJson = useModelJson(src, 'shift.json', (j) => j, notRun);
  const shift = shiftJson.state === 'ok' ? readShift(shiftJson.value) : null;
  const [ack] = useState(() => {
    try {
      return localStorage.getItem(ACK_KEY) === 'yes';
    } catch {
      return false;
    }
  });
  const split = view?.split ?? (finetuned ? 'val' : 'test');
  const splitWord = split === 'val' ? 'Validation' : split === 'test' ? 'Test' : split;

  return (
    <article className="model-card" data-testid="model-card" data-source={src.kind}>
      <section className="panel notice-inline" aria-labelledby="mc-notice">
        <h2 id="mc-notice" className="panel__title">
          Not for clinical use
        </h2>
        <p>
          This model is for research and education. It has not been validated clinically, was trained on public images of uneven quality and provenance, and its
          outputs must not inform the care of any patient. {ack ? 'You acknowledged this notice on this device.' : ''}
        </p>
      </section>

      <section className="panel" aria-labelledby="mc-what">
        <h2 id="mc-what" className="panel__title">
          What the model is
        </h2>
        <p data-testid="mc-in-use" data-kind={src.kind}>
          {finetuned ? (
            <>
              This card describes the model in use on the Classify page: <strong>{src.name}</strong>, fine-tuned in this browser. Pick the shipped model on the
              Classify page to see its card.
            </>
          ) : (
            'This card describes the shipped model, the one in use on the Classify page.'
          )}
        </p>
        {meta.state === 'loading' && <p className="muted">Loading metadata.json…</p>}
        {meta.state === 'missing' && (
          <p role="alert" className="error-text">
            metadata.json could not be read: {meta.reason}
          </p>
        )}
        {meta.state === 'ok' && (
          <dl className="facts">
            <dt>Name</dt>
            <dd data-testid="mc-name">{meta.value.name}</dd>
            <dt>Version</dt>
            <dd>{meta.value.version}</dd>
            <dt>Task</dt>
            <dd>{meta.value.task}</dd>
            <dt>Classes</dt>
            <dd>{meta.value.classNames.join(', ')}</dd>
            <dt>Input</dt>
            <dd>
              {meta.value.preprocessing.inputSize}×{meta.value.preprocessing.inputSize} grayscale, centre crop{' '}
              {Math.round(meta.value.preprocessing.cropFraction * 100)}%,{' '}
              {meta.value.preprocessing.equalize === 'histogram' ? 'histogram equalisation' : 'no equalisation'}
              {meta.value.preprocessing.mask ? `, circular field-of-view mask (radius ${meta.value.preprocessing.mask.radius})` : ''}
            </dd>
            <dt>
              "Uncertain" below <Explain term="uncertain" />
            </dt>
            <dd>{Math.round(meta.value.uncertainBelow * 100)}% top probability</dd>
            <TrustFacts meta={meta.value} finetuned={finetuned} />
            {meta.value.training?.date && (
              <>
                <dt>Trained</dt>
                <dd data-testid="mc-trained">
                  {formatDate(meta.value.training.date)}
                  {meta.value.training.epochs ? `, ${meta.value.training.epochs} epochs` : ''}
                  {meta.value.training.bestEpoch ? ` (kept: epoch ${meta.value.training.bestEpoch})` : ''}
                  {meta.value.training.backend ? ` on ${meta.value.training.backend}` : ''}
                </dd>
              </>
            )}
            {meta.value.training?.dataRelease && (
              <>
                <dt>Data</dt>
                <dd data-testid="model-data-release">
                  {meta.value.training.dataRelease}
                  {meta.value.training.manifestHash ? ` (manifest ${meta.value.training.manifestHash.slice(0, 12)})` : ''}
                </dd>
              </>
            )}
            {meta.value.training?.recipe && (
              <>
                <dt>Recipe</dt>
                <dd data-testid="model-recipe">{meta.value.training.recipe}</dd>
              </>
            )}
            {meta.value.training?.gitCommit && (
              <>
                <dt>Code</dt>
                <dd>commit {meta.value.training.gitCommit.slice(0, 12)}</dd>
              </>
            )}
          </dl>
        )}
      </section>

      <section className="panel" aria-labelledby="mc-data">
        <h2 id="mc-data" className="panel__title">
          Training data and its biases
        </h2>
        {meta.state === 'ok' && meta.value.training && dataInWords(meta.value.training) && <p data-testid="mc-data-text">{dataInWords(meta.value.training)}</p>}
        {meta.state === 'ok' && meta.value.training?.split && <SplitTable split={meta.value.training.split} />}
        {meta.state === 'ok' && meta.value.notes && meta.value.notes.length > 0 && (
          <ul>
            {meta.value.notes.map((n, i) => (
              <li key={i}>
                <RichText text={n} />
              </li>
            ))}
          </ul>
        )}
        {finetuned && meta.state === 'ok' && (
          <>
            <h3>Caveats of this fine-tuned model</h3>
            <ul data-testid="mc-caveats">
              {finetuneCaveats(meta.value).map((c) => (
                <li key={c}>{c}</li>
              ))}
            </ul>
          </>
        )}
        <p>Known limitations of public COVID-19 chest X-ray collections, which apply to any model trained on them:</p>
        <ul>
          <li>Labels come from source metadata or folder names, not from a clinical review; some are wrong.</li>
          <li>
            Classes come from different hospitals, scanners and age groups (many pneumonia and normal images are pediatric), so a model can learn the source
            instead of the disease. High test scores do not prove it sees the disease.
          </li>
          <li>COVID-19 images are mostly severe, hospitalised cases photographed from publications; mild cases are under-represented.</li>
          <li>Only frontal (PA/AP) chest radiographs are in scope; other images give meaningless outputs.</li>
        </ul>
      </section>

      <section className="panel" aria-labelledby="mc-metrics">
        <h2 id="mc-metrics" className="panel__title" data-split={split}>
          {splitWord}-split metrics
        </h2>
        <p className="mc-evaluate-link">
          These figures come from the data this model was built on; films from another hospital can score very differently.{' '}
          <a href="#/evaluate" data-testid="mc-evaluate-link">
            Check it on your own films
          </a>{' '}
          (labelled folders, evaluated in this browser).
        </p>
        {metrics.state === 'loading' && <p className="muted">Loading metrics.json…</p>}
        {metrics.state === 'missing' && (
          <p data-testid="metrics-missing">
            No evaluation results are published with this model yet (metrics.json: {metrics.reason}).{' '}
            {finetuned ? (
              'Train it again on the Train page to get its validation results.'
            ) : (
              <>
                Run <code>npm run evaluate</code> to produce them.
              </>
            )}
          </p>
        )}
        {view && <Metrics view={view} meta={meta.state === 'ok' ? meta.value : null} />}
        {meta.state === 'ok' && <History meta={meta.value} />}
      </section>

      <section className="panel" aria-labelledby="mc-audit">
        <h2 id="mc-audit" className="panel__title">
          Shortcut audit
        </h2>
        {auditJson.state === 'loading' && <p className="muted">Loading audit.json…</p>}
        {auditJson.state !== 'loading' && !audit && (
          <p data-testid="audit-missing">
            No shortcut audit is published with this model{auditJson.state === 'missing' ? ` (audit.json: ${auditJson.reason})` : ''}.{' '}
            {finetuned ? (
              'The audit of the shipped model is on its card.'
            ) : (
              <>
                Run <code>npm run audit</code> to produce it.
              </>
            )}
          </p>
        )}
        {audit && <ShortcutAudit audit={audit} auditHref={src.kind === 'shipped' ? 'model/audit.json' : null} />}
      </section>

      <section className="panel" aria-labelledby="mc-shift">
        <h2 id="mc-shift" className="panel__title">
          Source shift
        </h2>
        {shiftJson.state === 'loading' && <p className="muted">Loading shift.json…</p>}
        {shiftJson.state !== 'loading' && !shift && (
          <p data-testid="shift-missing">
            No source-shift evaluation is published with this model{shiftJson.state === 'missing' ? ` (shift.json: ${shiftJson.reason})` : ''}.{' '}
            {finetuned ? (
              'The source-shift evaluation of the shipped model is on its card.'
            ) : (
              <>
                Run <code>npm run evaluate:shift -- --parts acquisition,probe,lso</code> to produce it.
              </>
            )}
          </p>
        )}
        {shift && <SourceShift shift={shift} />}
      </section>

      <section className="panel" aria-labelledby="mc-use">
        <h2 id="mc-use" className="panel__title">
          Intended use
        </h2>
        <ul>
          <li>Intended: teaching how image classifiers behave, exploring their failure modes, research on dataset bias and calibration.</li>
          <li>Not intended: diagnosis, screening, triage or any decision about a person. Not a medical device.</li>
          <li>All computation happens in your browser; no image or result is sent anywhere.</li>
        </ul>
      </section>
    </article>
  );
}
