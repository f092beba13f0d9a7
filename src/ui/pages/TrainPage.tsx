// PLACEHOLDER — the Train page is owned by another engineer and will replace this file.
// It only exists so that the app shell's lazy import resolves.
export default function TrainPage() {
  return (
    <section className="panel" data-testid="train-placeholder">
      <h2 className="panel__title">Train</h2>
      <p className="muted">Fine-tuning in the browser is coming soon.</p>
    </section>
  );
}
