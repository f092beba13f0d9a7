import { memo } from 'react';
import type { Prediction } from '../../ml/classifier';

export function formatPct(p: number): string {
  return `${(p * 100).toFixed(1)}%`;
}

/**
 * One bar per class; the exact probability is in data-value for tests and tools. `muted`: greyed,
 * no class highlighted (the result is withheld).
 */
export const ProbabilityBars = memo(function ProbabilityBars({
  prediction,
  classNames,
  compact = false,
  muted = false,
}: {
  prediction: Prediction;
  classNames: string[];
  compact?: boolean;
  muted?: boolean;
}) {
  return (
    <ul
      className={`bars${compact ? ' bars--compact' : ''}${muted ? ' bars--muted' : ''}`}
      aria-label={muted ? 'Class probabilities (withheld, for inspection only)' : 'Class probabilities'}
    >
      {classNames.map((c, i) => {
        const p = prediction.probabilities[i];
        const top = !muted && c === prediction.label;
        return (
          <li key={c} className={`bars__row${top ? ' bars__row--top' : ''}`} data-testid={`prob-${c}`} data-class={c} data-value={p}>
            <span className="bars__name">{c}</span>
            <span className="bars__track" aria-hidden="true">
              <span className="bars__fill" style={{ width: `${(p * 100).toFixed(2)}%` }} />
            </span>
            <span className="bars__value">{formatPct(p)}</span>
          </li>
        );
      })}
    </ul>
  );
});
