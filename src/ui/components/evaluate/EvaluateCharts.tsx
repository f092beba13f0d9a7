// The Evaluate page's figures: one-vs-rest ROC curves with their AUCs, and the reliability diagram
// (accuracy against confidence per bin) with the expected calibration error. Both drawn from the
// report (src/core/report.ts), never recomputed here.
import { Bar, CartesianGrid, ComposedChart, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { MetricsReport } from '../../../core/report';
import { fmt } from '../../lib/metricsView';

const COLORS = ['#0b5cad', '#c62828', '#2e7d32', '#8a4b00', '#5e35b1', '#00838f', '#ad1457', '#455a64', '#6d4c41', '#1565c0'];

export function RocCurves({ report }: { report: MetricsReport }) {
  const classes = report.classNames.filter((c) => (report.roc[c]?.length ?? 0) > 1);
  if (classes.length === 0) return <p className="muted">No ROC curve: every class needs images of its own and of the others.</p>;
  return (
    <figure
      className="chart"
      data-testid="evaluate-roc"
      aria-label="ROC curves, each class against the rest; the AUC values are in the legend and in the per-class table"
    >
      <ResponsiveContainer width="100%" height={300}>
        <LineChart margin={{ top: 10, right: 20, bottom: 20, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis
            dataKey="fpr"
            type="number"
            domain={[0, 1]}
            label={{ value: '1 − specificity (false positive rate)', position: 'insideBottom', offset: -10 }}
          />
          <YAxis dataKey="tpr" type="number" domain={[0, 1]} label={{ value: 'sensitivity', angle: -90, position: 'insideLeft' }} />
          <Tooltip />
          <Legend verticalAlign="top" />
          <Line
            data={[
              { fpr: 0, tpr: 0 },
              { fpr: 1, tpr: 1 },
            ]}
            dataKey="tpr"
            name="chance"
            stroke="#999"
            strokeDasharray="4 4"
            dot={false}
            isAnimationActive={false}
          />
          {classes.map((c) => (
            <Line
              key={c}
              data={report.roc[c]}
              dataKey="tpr"
              name={`${c} vs rest (AUC ${fmt(report.perClass[c].auc)})`}
              stroke={COLORS[report.classNames.indexOf(c) % COLORS.length]}
              dot={false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

export function ReliabilityDiagram({ report }: { report: MetricsReport }) {
  const bins = report.calibration.reliabilityAfter.filter((b) => b.count > 0);
  if (bins.length === 0) return null;
  const data = bins.map((b) => ({ confidence: ((b.lower + b.upper) / 2).toFixed(2), accuracy: b.accuracy, meanConfidence: b.meanConfidence, count: b.count }));
  return (
    <figure
      className="chart"
      data-testid="evaluate-reliability"
      data-ece={report.calibration.eceAfter ?? ''}
      aria-label={`Reliability diagram: accuracy against the model's confidence in ${report.calibration.bins} bins; expected calibration error ${fmt(report.calibration.eceAfter)}`}
    >
      <ResponsiveContainer width="100%" height={260}>
        <ComposedChart data={data} margin={{ top: 10, right: 20, bottom: 20, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="confidence" label={{ value: 'confidence (top probability, bin centre)', position: 'insideBottom', offset: -10 }} />
          <YAxis domain={[0, 1]} />
          <Tooltip />
          <Legend verticalAlign="top" />
          <Bar dataKey="accuracy" name="accuracy in the bin" fill="#0b5cad" isAnimationActive={false} />
          <Line dataKey="meanConfidence" name="mean confidence (perfect calibration)" stroke="#c62828" isAnimationActive={false} />
        </ComposedChart>
      </ResponsiveContainer>
      <figcaption className="muted">
        Bars below the line: the model is more confident than it is right. Expected calibration error {fmt(report.calibration.eceAfter)} with the model's
        temperature ({fmt(report.calibration.temperature, 3)}); {fmt(report.calibration.eceBefore)} without it.
      </figcaption>
    </figure>
  );
}
