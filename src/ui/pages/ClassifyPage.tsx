import { useEffect, useMemo, useState } from 'react';
import { DropZone } from '../components/DropZone';
import { ModelStatus } from '../components/ModelStatus';
import { ModelPicker } from '../components/ModelPicker';
import { ProgressBar } from '../components/ProgressBar';
import { ResultCard } from '../components/ResultCard';
import { BatchTable, type TableFilter } from '../components/BatchTable';
import { useBatch } from '../hooks/useBatch';
import { useClassifier } from '../hooks/useClassifier';
import { filesFromClipboard } from '../lib/files';
import { downloadText, rowsToCsv, timestampedName } from '../lib/csv';
import { markFirstResultShown } from '../lib/debug';

export default function ClassifyPage() {
  const model = useClassifier();
  const batch = useBatch();
  const [selected, setSelected] = useState<number | null>(null);
  const [filter, setFilter] = useState<TableFilter>({ text: '', show: 'all' });

  // Load the model as soon as the page opens, so it is warm when the first image arrives.
  useEffect(() => {
    void model.ensure().catch(() => {});
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Paste anywhere on the page.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const files = filesFromClipboard(e.clipboardData);
      if (files.length) {
        e.preventDefault();
        batch.addFiles(files);
      }
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [batch.addFiles]);

  const finished = batch.rows.filter((r) => r.status === 'done' || r.status === 'error');
  const latest = finished.length ? finished[finished.length - 1] : null;
  const shown = batch.rows.find((r) => r.key === selected) ?? latest;

  useEffect(() => {
    if (batch.rows.some((r) => r.status === 'done')) markFirstResultShown();
  }, [batch.rows]);

  const meta = model.info?.metadata;
  const classNames = useMemo(() => meta?.classNames ?? [], [meta]);
  const progress = batch.runTotal ? batch.runDone / batch.runTotal : 0;
  const exportCsv = () => {
    if (!model.info) return;
    const csv = rowsToCsv(batch.rows, {
      classNames,
      backend: model.info.backend.name,
      modelVersion: `${model.info.metadata.name}@${model.info.metadata.version}`,
    });
    downloadText(csv, timestampedName('cxr-lab-results', 'csv'));
  };

  return (
    <div className="classify">
      <div className="classify__side">
        <DropZone onFiles={batch.addFiles} />
        <ModelStatus state={model} onRetry={() => void model.load().catch(() => {})}><ModelPicker /></ModelStatus>
      </div>
      <div className="classify__main">
        <section className="panel" aria-labelledby="batch-title">
          <div className="toolbar">
            <h2 id="batch-title" className="panel__title">
              Results
            </h2>
            <div className="toolbar__actions">
              <button type="button" onClick={batch.cancel} disabled={!batch.running} data-testid="cancel">
                Cancel batch
              </button>
              <button type="button" onClick={exportCsv} disabled={!finished.length || !model.info} data-testid="export-csv">
                Export CSV
              </button>
              <button type="button" onClick={batch.clear} disabled={!finished.length && !batch.rows.some((r) => r.status === 'cancelled')} data-testid="clear">
                Clear
              </button>
            </div>
          </div>
          {batch.runTotal > 0 && (
            <div className="batch-progress" data-testid="batch-progress" data-done={batch.runDone} data-total={batch.runTotal} data-running={batch.running}>
              <ProgressBar value={progress} label="Batch progress" />
              <span>
                {batch.runDone} / {batch.runTotal} {batch.running ? (model.status === 'loading' ? '(waiting for the model)' : '') : 'finished'}
              </span>
            </div>
          )}
          {batch.rows.length === 0 && <p className="muted">No images yet. Results appear here; nothing leaves this device.</p>}
          {shown && shown.status !== 'queued' && shown.status !== 'running' && (
            <ResultCard row={shown} classNames={classNames} uncertainBelow={meta?.uncertainBelow} />
          )}
          {batch.rows.length > 0 && (
            <BatchTable rows={batch.rows} classNames={classNames} selectedKey={shown?.key ?? null} onSelect={setSelected} filter={filter} onFilter={setFilter} />
          )}
        </section>
      </div>
      <div className="sr-only" aria-live="polite" aria-atomic="true" data-testid="announcer">
        {batch.announcement}
      </div>
    </div>
  );
}
