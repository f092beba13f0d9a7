import type { Prediction } from '../../ml/classifier';

/**
 * The predicted label, or "uncertain" (with the most likely class) when the top probability is low.
 * `withheld`: the input was flagged as out of distribution, so no class is presented ("withheld",
 * greyed, never a struck-through class; the model's top class stays in data-label for tools).
 */
export function LabelBadge({ prediction, threshold, withheld = false }: { prediction: Prediction; threshold?: number; withheld?: boolean }) {
  if (withheld) {
    return (
      <span className="label-cell">
        <span
          className="badge badge--withheld"
          data-testid="label"
          data-label={prediction.label}
          data-uncertain={prediction.uncertain}
          data-withheld="true"
          title="withheld: the input may not be a chest X-ray"
        >
          withheld
        </span>
      </span>
    );
  }
  return (
    <span className="label-cell">
      <span
        className={`badge badge--${prediction.uncertain ? 'uncertain' : 'label'}`}
        data-testid="label"
        data-label={prediction.label}
        data-uncertain={prediction.uncertain}
      >
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
