// Accessible progress bar: determinate when `value` is a number in 0..1, indeterminate when null.
export function ProgressBar({ value, label, testId }: { value: number | null; label: string; testId?: string }) {
  const pct = value === null ? undefined : Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div
      className={`progress${pct === undefined ? ' progress--indeterminate' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct}
      data-testid={testId}
    >
      <div className="progress__fill" style={{ width: pct === undefined ? undefined : `${pct}%` }} />
    </div>
  );
}
