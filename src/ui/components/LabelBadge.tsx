import type { Prediction } from '../../ml/classifier';

/** The predicted label, or "uncertain" (with the most likely class) when the top probability is low. */
export function LabelBadge({ prediction, threshold }: { prediction: Prediction; threshold?: number }) {
  return (
    <span className="label-cell">
      <span className={`badge badge--${prediction.uncertain ? 'uncertain' : 'label'}`} data-testid="label" data-label={prediction.label} data-uncertain={prediction.uncertain}>
        {prediction.label}
      </span>
      {prediction.uncertain && (
        <span className="badge badge--warn" title={threshold !== undefined ? `top probability below ${formatThreshold(threshold)}` : undefined}>
          uncertain
        </span>
      )}
    </span>
  );
}

function formatThreshold(t: number): string {
  return `${Math.round(t * 100)}%`;
}
