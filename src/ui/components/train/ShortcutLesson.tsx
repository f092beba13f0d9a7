// The shortcut lesson: the normal run next to the same run on border-only images (the lungs blacked
// out by the shortcut audit's mask), with both validation accuracies and their 95 % intervals, the
// two runs' curves overlaid, and a plain verdict. The border-only model is thrown away.
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CENTRE_FRACTION } from '../../../core/audit';
import { shortcutVerdict } from '../../../core/shortcut-verdict';
import { wilsonInterval, type ProportionInterval } from '../../../core/intervals';
import type { EpochLog } from '../../../ml/finetune-config';
import { ProgressBar } from '../ProgressBar';
import { Explain } from '../Explain';
import { GrayThumb } from './GrayThumb';
import type { TrainerState } from '../../state/trainer';
import { useLessons } from '../../hooks/useLessons';
import { runShortcutLesson, shortcutBusy, stopShortcutLesson } from '../../state/lessons';

const NORMAL = '#0072B2';
const BORDER = '#D55E00';
const TICK = { fontSize: 16, fill: '#1b1f24' };

function correctOf(probs: Float32Array, labels: number[], k: number): number {
  let correct = 0;
  labels.forEach((label, i) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + best]) best = c;
    if (best === label) correct++;
  });
  return correct;
}

const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 100)} %`);

function Accuracy({ title, interval, testId }: { title: string; interval: ProportionInterval; testId: string }) {
  return (
    <div className="tr-lesson__acc" data-testid={testId} data-value={interval.value ?? ''} data-lower={interval.lower ?? ''} data-upper={interval.upper ?? ''}>
      <span className="tr-lesson__acc-title">{title}</span>
      <strong className="tr-lesson__acc-value">{pct(interval.value)}</strong>
      <span className="muted">
        validation accuracy, {interval.successes} of {interval.trials} right (95 % interval {pct(interval.lower)}–{pct(interval.upper)})
      </span>
    </div>
  );
}

function Overlay({
  title,
  normal,
  border,
  valueKey,
  percent,
  maxEpoch,
  testId,
}: {
  title: string;
  normal: EpochLog[];
  border: EpochLog[];
  valueKey: 'valAcc' | 'valLoss';
  percent: boolean;
  maxEpoch: number;
  testId: string;
}) {
  const byEpoch = new Map<number, { epoch: number; whole?: number; border?: number }>();
  const put = (h: EpochLog, key: 'whole' | 'border') => {
    const v = h[valueKey];
    if (v === null) return;
    const row = byEpoch.get(h.epoch) ?? { epoch: h.epoch };
    row[key] = percent ? v * 100 : v;
    byEpoch.set(h.epoch, row);
  };
  normal.filter((h) => h.stage === 'head').forEach((h) => put(h, 'whole'));
  border.forEach((h) => put(h, 'border'));
  const data = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  const fmt = (v: number) => (percent ? `${v.toFixed(0)}%` : v.toFixed(2));
  return (
    <figure
      className="tr-chart"
      data-testid={testId}
      data-points-normal={data.filter((d) => d.whole !== undefined).length}
      data-points-border={data.filter((d) => d.border !== undefined).length}
      aria-label={`${title} per epoch: whole image and border only`}
    >
      <figcaption className="tr-chart__title">{title}</figcaption>
      <ul className="tr-legend" aria-hidden="true">
        <li>
          <span className="tr-legend__line" style={{ borderColor: NORMAL }} /> whole image
        </li>
        <li>
          <span className="tr-legend__line tr-legend__line--val" style={{ borderColor: BORDER }} /> border only
        </li>
      </ul>
      <ResponsiveContainer width="100%" height={280}>
        <LineChart data={data} margin={{ top: 8, right: 24, bottom: 24, left: 8 }}>
          <CartesianGrid stroke="#d5dbe3" />
          <XAxis
            dataKey="epoch"
            type="number"
            domain={[1, Math.max(2, maxEpoch)]}
            allowDecimals={false}
            tick={TICK}
            label={{ value: 'epoch', position: 'insideBottom', offset: -14, fontSize: 16 }}
          />
          <YAxis tick={TICK} width={64} domain={percent ? [0, 100] : [0, 'auto']} tickFormatter={(v: number) => (percent ? `${v}%` : v.toFixed(1))} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? fmt(v) : String(v))} labelFormatter={(l) => `epoch ${l}`} />
          <Line type="monotone" dataKey="whole" name="whole image" stroke={NORMAL} strokeWidth={3} dot={{ r: 4 }} isAnimationActive={false} connectNulls />
          <Line
            type="monotone"
            dataKey="border"
            name="border only"
            stroke={BORDER}
            strokeWidth={3}
            strokeDasharray="8 4"
            dot={{ r: 4 }}
            isAnimationActive={false}
            connectNulls
          />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

export function ShortcutLesson({ state }: { state: TrainerState }) {
  const { shortcut: sc } = useLessons();
  const { run } = state;
  const busy = shortcutBusy(sc);
  const normalBusy = run.status === 'training' || run.status === 'stopping';
  const preparing = state.images.some((im) => im.status === 'queued');
  const canStart = !busy && !normalBusy && !preparing && state.images.length > 0 && state.base.status === 'ready';
  // The comparison belongs to one normal run: a newer run hides it until the lesson runs again.
  const current = sc.runId !== null && sc.runId === run.runId && run.status === 'done';
  const k = run.classNames.length;
  const normalCorrect = current && run.result?.valProbs ? correctOf(run.result.valProbs, run.valLabels, k) : null;
  const r = sc.result;
  const verdict =
    current && sc.status === 'done' && r && normalCorrect !== null
      ? shortcutVerdict({ correct: normalCorrect, total: run.valLabels.length }, { correct: r.valCorrect, total: r.valTotal }, run.valLabels)
      : null;
  const showRuns = current && sc.status !== 'idle';
  const maxEpoch = Math.max(sc.plannedEpochs, ...run.history.filter((h) => h.stage === 'head').map((h) => h.epoch), 1);

  return (
    <section className="panel" aria-labelledby="tr-lesson-title" data-testid="shortcut-lesson">
      <h2 id="tr-lesson-title" className="panel__title">
        The shortcut lesson: is it learning the disease or the hospital?
      </h2>
      <p>
        One click trains the same run again (same split, settings and seed) on images with the lungs blacked out: the central {CENTRE_FRACTION * 100} % of every
        image is set to black, so only the border (text, markers, edges, framing) is left — the same mask as the Evaluate page's shortcut check and{' '}
        <code>npm run audit</code>. If this still scores well, the model is learning the hospital, not the disease. <Explain term="shortcut" />
      </p>
      <div className="tr-run">
        <button type="button" className="primary" onClick={() => void runShortcutLesson()} disabled={!canStart} data-testid="shortcut-button">
          {run.status === 'done' ? 'Train on the border only and compare' : 'Train normally and on the border only, and compare'}
        </button>
        <button
          type="button"
          onClick={stopShortcutLesson}
          disabled={!(sc.status === 'normal' || sc.status === 'embedding' || sc.status === 'training')}
          data-testid="shortcut-stop"
        >
          Stop
        </button>
      </div>
      {sc.status !== 'idle' && (
        <div className="tr-status" data-testid="shortcut-status" data-status={sc.status} aria-live="polite">
          {sc.status === 'normal' && <p>First the normal run (watch it above)…</p>}
          {sc.status === 'embedding' && (
            <>
              <p>
                Embedding the border-only images: {sc.embedded} of {sc.total}
              </p>
              <ProgressBar value={sc.total ? sc.embedded / sc.total : null} label="Border-only images embedded" />
            </>
          )}
          {sc.status === 'training' && (
            <>
              <p>
                Border-only run: epoch {sc.history.length} of up to {sc.plannedEpochs}
              </p>
              <ProgressBar value={sc.plannedEpochs ? sc.history.length / sc.plannedEpochs : null} label="Border-only training progress" />
            </>
          )}
          {sc.status === 'stopping' && <p>Stopping after the current batch…</p>}
          {sc.status === 'done' && r && (
            <p data-testid="shortcut-summary">
              Border-only run {r.stopReason === 'stopped' ? 'stopped' : 'finished'} after {r.history.length} epoch{r.history.length === 1 ? '' : 's'} in{' '}
              {(r.ms / 1000).toFixed(1)} s.{' '}
              <span data-testid="shortcut-masked" data-images={r.masked.images} data-uniform={r.masked.uniformCentre} data-area={r.masked.area}>
                {r.masked.uniformCentre} of {r.masked.images} images had their centre ({Math.round(r.masked.area * 100)} % of the image) blacked out.
              </span>{' '}
              {sc.normalHadBlock && 'The normal run also tuned the last block; the border-only run trains the head only. '}
              Its model is not kept: the normal run's model stays the one you try, download and save.
            </p>
          )}
          {sc.status === 'error' && (
            <p role="alert" className="error-text">
              The shortcut lesson failed: {sc.error}
            </p>
          )}
        </div>
      )}
      {showRuns && (
        <div className="tr-lesson" data-testid="shortcut-compare">
          <div className="tr-lesson__accs">
            {normalCorrect !== null && (
              <Accuracy title="Whole image (the normal run)" interval={wilsonInterval(normalCorrect, run.valLabels.length)} testId="shortcut-acc-normal" />
            )}
            {verdict && <Accuracy title="Border only (lungs blacked out)" interval={verdict.border} testId="shortcut-acc-border" />}
            {r?.preview && (
              <figure className="tr-lesson__input">
                <GrayThumb
                  gray={r.preview.gray}
                  size={r.preview.size}
                  display={112}
                  label="What the border-only run saw: a training image with its centre blacked out"
                  testId="shortcut-masked-input"
                />
                <figcaption className="muted">What the border-only run sees</figcaption>
              </figure>
            )}
          </div>
          {verdict && (
            <p className={`tr-lesson__verdict tr-lesson__verdict--${verdict.kind}`} data-testid="shortcut-verdict" data-kind={verdict.kind}>
              {verdict.text} <span className="muted">(Chance here, always answering the largest class: {pct(verdict.chance)}.)</span>
            </p>
          )}
          <div className="tr-charts">
            <Overlay
              title="Validation accuracy"
              normal={run.history}
              border={sc.history}
              valueKey="valAcc"
              percent
              maxEpoch={maxEpoch}
              testId="shortcut-chart-accuracy"
            />
            <Overlay
              title="Validation loss"
              normal={run.history}
              border={sc.history}
              valueKey="valLoss"
              percent={false}
              maxEpoch={maxEpoch}
              testId="shortcut-chart-loss"
            />
          </div>
        </div>
      )}
    </section>
  );
}
