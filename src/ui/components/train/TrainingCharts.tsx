// Live loss and accuracy curves (training vs validation, one point per epoch), sized and styled to be
// read from the back of a classroom: thick lines, big ticks, markers, no animation.
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { detectDivergence } from '../../../core/divergence';
import type { EpochLog } from '../../../ml/finetune-config';
import type { GlossaryTerm } from '../../lib/glossary';
import { Explain } from '../Explain';

const TRAIN = '#0072B2';
const VAL = '#D55E00';
const TICK = { fontSize: 16, fill: '#1b1f24' };

function Chart({
  title,
  history,
  trainKey,
  valKey,
  percent,
  keptEpoch,
  blockStart,
  maxEpoch,
  testId,
  explain,
  divergedEpoch,
}: {
  divergedEpoch: number | null;
  explain: GlossaryTerm[];
  title: string;
  history: EpochLog[];
  trainKey: 'trainLoss' | 'trainAcc';
  valKey: 'valLoss' | 'valAcc';
  percent: boolean;
  keptEpoch: number | null;
  blockStart: number | null;
  maxEpoch: number;
  testId: string;
}) {
  const data = history.map((h) => ({
    epoch: h.epoch,
    train: percent ? h[trainKey] * 100 : h[trainKey],
    validation: h[valKey] === null ? null : percent ? (h[valKey] as number) * 100 : h[valKey],
  }));
  const hasVal = data.some((d) => d.validation !== null);
  const latest = data[data.length - 1];
  const fmt = (v: number) => (percent ? `${v.toFixed(0)}%` : v.toFixed(2));
  return (
    <figure
      className="tr-chart"
      data-testid={testId}
      data-points={data.length}
      data-diverged={divergedEpoch ?? ''}
      aria-label={`${title} per epoch: training${hasVal ? ' and validation' : ''}`}
    >
      <figcaption className="tr-chart__title">
        {title}
        {explain.map((t) => (
          <Explain key={t} term={t} />
        ))}
        {latest && (
          <span className="tr-chart__latest">
            {' '}
            · epoch {latest.epoch}: train <strong>{fmt(latest.train)}</strong>
            {latest.validation !== null && (
              <>
                , validation <strong>{fmt(latest.validation)}</strong>
              </>
            )}
          </span>
        )}
      </figcaption>
      <ul className="tr-legend" aria-hidden="true">
        <li>
          <span className="tr-legend__line tr-legend__line--train" /> training
        </li>
        {hasVal && (
          <li>
            <span className="tr-legend__line tr-legend__line--val" /> validation
          </li>
        )}
      </ul>
      <ResponsiveContainer width="100%" height={320}>
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
          {blockStart !== null && (
            <ReferenceLine
              x={blockStart - 0.5}
              stroke="#6b7b8c"
              strokeDasharray="6 4"
              label={{ value: 'last block', fontSize: 14, position: 'insideTopLeft' }}
            />
          )}
          {divergedEpoch !== null && (
            <ReferenceLine
              x={divergedEpoch}
              stroke="#8a1c7c"
              strokeWidth={3}
              strokeDasharray="2 3"
              label={{ value: 'overfitting starts', fontSize: 14, position: 'insideBottomRight', fill: '#8a1c7c' }}
            />
          )}
          {keptEpoch !== null && keptEpoch > 0 && (
            <ReferenceLine x={keptEpoch} stroke="#1e6b2e" strokeWidth={2} label={{ value: 'kept', fontSize: 14, position: 'insideTopRight' }} />
          )}
          <Line type="monotone" dataKey="train" name="training" stroke={TRAIN} strokeWidth={3} dot={{ r: 4 }} isAnimationActive={false} />
          {hasVal && (
            <Line
              type="monotone"
              dataKey="validation"
              name="validation"
              stroke={VAL}
              strokeWidth={3}
              strokeDasharray="8 4"
              dot={{ r: 4 }}
              isAnimationActive={false}
            />
          )}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

export function TrainingCharts({ history, plannedEpochs, keptEpoch }: { history: EpochLog[]; plannedEpochs: number; keptEpoch: number | null }) {
  const firstBlock = history.find((h) => h.stage === 'block');
  const maxEpoch = Math.max(plannedEpochs, history.length ? history[history.length - 1].epoch : 1);
  // Overfitting onset, from the loss curves (history index i is epoch history[i].epoch).
  const divergence = detectDivergence(
    history.map((h) => h.trainLoss),
    history.map((h) => h.valLoss),
  );
  const divergedEpoch = divergence ? history[divergence.epoch - 1].epoch : null;
  const common = { history, keptEpoch, blockStart: firstBlock ? firstBlock.epoch : null, maxEpoch, divergedEpoch };
  return (
    <div className="tr-charts" data-testid="training-charts">
      <p className="tr-charts__terms">
        Terms: training vs validation <Explain term="trainVsVal" /> · epoch <Explain term="epoch" />
      </p>
      <Chart
        title="Loss"
        explain={['loss', 'lossVsAccuracy', 'overfitting']}
        trainKey="trainLoss"
        valKey="valLoss"
        percent={false}
        testId="chart-loss"
        {...common}
      />
      {divergedEpoch !== null && (
        <p className="tr-divergence" data-testid="divergence-note" data-epoch={divergedEpoch}>
          From epoch {divergedEpoch} validation loss rises while training loss keeps falling: the model is memorising its training images (overfitting).{' '}
          <Explain term="overfitting" />
        </p>
      )}
      <Chart
        title="Accuracy"
        explain={['accuracy', 'valBeatsTrain', 'earlyStopping']}
        trainKey="trainAcc"
        valKey="valAcc"
        percent
        testId="chart-accuracy"
        {...common}
      />
    </div>
  );
}
