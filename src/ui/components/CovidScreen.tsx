// The covid operating-point decision of a result (src/core/operating-point.ts), as a sentence on the
// result card and as a short cell in the batch table. Tolerant of results without it.
import { describeScreen, type OperatingPointDecision } from '../../core/operating-point';

function validation(d: OperatingPointDecision): string {
  const parts: string[] = [];
  if (d.targetSensitivity !== null) parts.push(`chosen on the validation split for sensitivity ${d.targetSensitivity.toFixed(2)}`);
  if (d.valSensitivity !== null && d.valSpecificity !== null) parts.push(`there: sensitivity ${d.valSensitivity.toFixed(3)}, specificity ${d.valSpecificity.toFixed(3)}`);
  return parts.join('; ');
}

export function CovidScreenLine({ decision, withheld = false }: { decision: OperatingPointDecision | null | undefined; withheld?: boolean }) {
  if (!decision) {
    return (
      <p className="muted" data-testid="covid-screen" data-state="none">
        No covid operating point: this model's metadata has no trust.covidThreshold.
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
  const v = validation(decision);
  return (
    <p className="screen" data-testid="covid-screen" data-state={decision.positive ? 'positive' : 'negative'} data-probability={decision.probability} data-threshold={decision.threshold}>
      <span className={`badge ${decision.positive ? 'badge--positive' : 'badge--negative'}`}>{describeScreen(decision)}</span>
      <span className="muted screen__note">
        {' '}
        Operating point: calibrated {decision.className} probability at or above the threshold{v ? ` (${v})` : ''}. A screening flag, not a diagnosis.
      </span>
    </p>
  );
}

/** Table cell text: "positive" / "negative" / "withheld" / "—". */
export function CovidScreenCell({ decision, withheld = false }: { decision: OperatingPointDecision | null | undefined; withheld?: boolean }) {
  if (!decision) return <span className="muted">—</span>;
  if (withheld) return <span className="muted" title={`${decision.className} screen not applied: the input may not be a chest X-ray`}>withheld</span>;
  return (
    <span className={decision.positive ? 'screen-cell screen-cell--positive' : 'screen-cell'} title={describeScreen(decision)} data-positive={decision.positive}>
      {decision.positive ? 'positive' : 'negative'}
    </span>
  );
}
