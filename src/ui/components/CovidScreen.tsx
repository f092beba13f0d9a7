// The covid operating-point decision of a result (src/core/operating-point.ts), as a line on the
// result card (the comparison, then what the threshold means in one plain sentence) and as a short
// cell in the batch table. Tolerant of results without it.
import { Explain } from './Explain';
import { describeScreen, type OperatingPointDecision } from '../../core/operating-point';
import { screenSentence } from '../lib/verdict';

export function CovidScreenLine({ decision, withheld = false }: { decision: OperatingPointDecision | null | undefined; withheld?: boolean }) {
  if (!decision) {
    return (
      <p className="muted" data-testid="covid-screen" data-state="none">
        No covid screen: this model has no covid operating point.
      </p>
    );
  }
  if (withheld) {
    return (
      <p className="muted" data-testid="covid-screen" data-state="withheld" data-probability={decision.probability} data-threshold={decision.threshold}>
        {decision.className} screen: not applied (the input may not be a chest X-ray).
      </p>
    );
  }
  return (
    <p
      className="screen"
      data-testid="covid-screen"
      data-state={decision.positive ? 'positive' : 'negative'}
      data-probability={decision.probability}
      data-threshold={decision.threshold}
    >
      <span className={`badge ${decision.positive ? 'badge--positive' : 'badge--negative'}`}>{describeScreen(decision)}</span>
      <span className="muted screen__note" data-testid="screen-explainer">
        {' '}
        {screenSentence(decision)} A screening flag, not a diagnosis.
      </span>
      <Explain term="covidScreen" />
    </p>
  );
}

/** Table cell text: "positive" / "negative" / "withheld" / "—". */
export function CovidScreenCell({ decision, withheld = false }: { decision: OperatingPointDecision | null | undefined; withheld?: boolean }) {
  if (!decision) return <span className="muted">—</span>;
  if (withheld)
    return (
      <span className="muted" title={`${decision.className} screen not applied: the input may not be a chest X-ray`}>
        withheld
      </span>
    );
  return (
    <span
      className={decision.positive ? 'screen-cell screen-cell--positive' : 'screen-cell'}
      title={describeScreen(decision)}
      data-positive={decision.positive}
    >
      {decision.positive ? 'positive' : 'negative'}
    </span>
  );
}
