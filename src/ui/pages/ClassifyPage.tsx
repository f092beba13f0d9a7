import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { DropZone } from '../components/DropZone';
import { ModelStatus } from '../components/ModelStatus';
import { ModelPicker } from '../components/ModelPicker';
import { ProgressBar } from '../components/ProgressBar';
import { ResultCard } from '../components/ResultCard';
import { BatchTable } from '../components/BatchTable';
import { useBatch } from '../hooks/useBatch';
import { restoreSession } from '../state/batch';
import { useClassifier } from '../hooks/useClassifier';
import { filesFromClipboard } from '../lib/files';
import { downloadText, rowsToCsv, timestampedName } from '../lib/csv';
import { markFirstResultShown } from '../lib/debug';
import { sessionStore } from '../lib/session';
import { NO_FILTER, filterRows, isFiltering, sortRows, type SortState, type TableFilter } from '../lib/table';

const CARD_FOLLOW_MS = 1000;

/** `value`, updated at most every `ms` (at once when ms is 0); the newest value always arrives. */
function useEvery<T>(value: T, ms: number): T {
  const [held, setHeld] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    if (ms <= 0 || Date.now() - last.current >= ms) {
      last.current = Date.now();
      setHeld(value);
      return;
    }
    const t = setTimeout(
      () => {
        last.current = Date.now();
        setHeld(value);
      },
      ms - (Date.now() - last.current),
    );
    return () => clearTimeout(t);
  }, [value, ms]);
  return ms <= 0 ? value : held;
}

export default function ClassifyPage() {
  const model = useClassifier();
  const batch = useBatch();
  const session = useSyncExternalStore(sessionStore.subscribe, sessionStore.get);
  const [selected, setSelected] = useState<number | null>(null);
  const [filter, setFilter] = useState<TableFilter>(NO_FILTER);
  const [sort, setSort] = useState<SortState>({ key: 'order', dir: 1 });

  // Load the model as soon as the page opens, so it is warm when the first image arrives; bring back
  // the results kept from the last visit.
  useEffect(() => {
    void model.ensure().catch(() => {});
    void restoreSession();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Paste anywhere on the page.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const files = filesFromClipboard(e.clipboardData);
      if (files.length) {
        e.preventDefault();
        batch.addFiles(files.map((f) => ({ name: f.path, file: f.file })));
      }
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [batch.addFiles]);

  // Queued and cancelled files cannot be kept (only results are), nor anything when IndexedDB is
  // unavailable: the browser asks before such a reload or close.
  const unsaved = batch.running || batch.resumable > 0 || (!session.available && batch.rows.some((r) => r.status === 'done' || r.status === 'error'));
  useEffect(() => {
    if (!unsaved) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [unsaved]);

  const finishedCount = useMemo(() => batch.rows.reduce((n, r) => n + (r.status === 'done' || r.status === 'error' ? 1 : 0), 0), [batch.rows]);
  const latest = useMemo(() => {
    for (let i = batch.rows.length - 1; i >= 0; i--) if (batch.rows[i].status === 'done' || batch.rows[i].status === 'error') return batch.rows[i];
    return null;
  }, [batch.rows]);
  // While a big batch runs the card follows the newest result once a second, not at every update.
  const following = useEvery(latest, batch.running && batch.runTotal > 5 ? CARD_FOLLOW_MS : 0);
  const shown = (selected !== null ? batch.rows.find((r) => r.key === selected) : undefined) ?? following;

  useEffect(() => {
    if (latest?.status === 'done') markFirstResultShown();
  }, [latest]);

  const meta = model.info?.metadata;
  const classNames = useMemo(() => meta?.classNames ?? [], [meta]);
  const progress = batch.runTotal ? batch.runDone / batch.runTotal : 0;
  const filtering = isFiltering(filter);
  const filteredCount = useMemo(() => (filtering ? filterRows(batch.rows, filter).length : batch.rows.length), [batch.rows, filter, filtering]);
  const exportCsv = (onlyFiltered: boolean) => {
    if (!model.info) return;
    const rows = onlyFiltered ? sortRows(filterRows(batch.rows, filter), sort) : batch.rows;
    const csv = rowsToCsv(rows, {
      classNames,
      backend: model.info.backend.name,
      modelVersion: `${model.info.metadata.name}@${model.info.metadata.version}`,
    });
    downloadText(csv, timestampedName(onlyFiltered ? 'cxr-lab-results-filtered' : 'cxr-lab-results', 'csv'));
  };
  const progressText = [
    `${batch.runDone} of ${batch.runTotal} processed`,
    batch.runCancelled ? `, ${batch.runCancelled} cancelled` : '',
    batch.running ? (model.status === 'loading' ? ' (waiting for the model)' : '') : batch.runCancelled ? ' — stopped' : ' — finished',
  ].join('');

  return (
    <div className="classify">
      <div className="classify__side">
        <DropZone onFiles={batch.addFiles} />
        <ModelStatus state={model} onRetry={() => void model.load().catch(() => {})}>
          <ModelPicker />
        </ModelStatus>
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
              {batch.resumable > 0 && (
                <button type="button" onClick={batch.resume} data-testid="resume">
                  Resume ({batch.resumable})
                </button>
              )}
              <button type="button" onClick={() => exportCsv(false)} disabled={!finishedCount || !model.info} data-testid="export-csv">
                Export CSV{filtering ? ` (all ${batch.rows.length})` : ''}
              </button>
              {filtering && (
                <button type="button" onClick={() => exportCsv(true)} disabled={!filteredCount || !model.info} data-testid="export-csv-filtered">
                  Export filtered rows only ({filteredCount})
                </button>
              )}
              <button type="button" onClick={batch.clear} disabled={!finishedCount && !batch.rows.some((r) => r.status === 'cancelled')} data-testid="clear">
                Clear
              </button>
            </div>
          </div>
          {batch.runTotal > 0 && (
            <div
              className="batch-progress"
              data-testid="batch-progress"
              data-done={batch.runDone}
              data-total={batch.runTotal}
              data-cancelled={batch.runCancelled}
              data-running={batch.running}
            >
              <ProgressBar value={progress} label="Batch progress" />
              <span>{progressText}</span>
            </div>
          )}
          {batch.rows.length === 0 && <p className="muted">No images yet. Results appear here; nothing leaves this device.</p>}
          <SessionNote saved={session.saved} restored={session.restored} available={session.available} error={session.error} rows={batch.rows.length} />
          {shown && shown.status !== 'queued' && shown.status !== 'running' && shown.status !== 'cancelled' && (
            <ResultCard row={shown} classNames={classNames} uncertainBelow={meta?.uncertainBelow} />
          )}
          {batch.rows.length > 0 && (
            <BatchTable
              rows={batch.rows}
              classNames={classNames}
              selectedKey={shown?.key ?? null}
              onSelect={setSelected}
              filter={filter}
              onFilter={setFilter}
              sort={sort}
              onSort={setSort}
            />
          )}
        </section>
      </div>
      <div className="sr-only" aria-live="polite" aria-atomic="true" data-testid="announcer">
        {batch.announcement}
      </div>
    </div>
  );
}

/** Where the results are kept, in one line. */
function SessionNote({ saved, restored, available, error, rows }: { saved: number; restored: number; available: boolean; error: string | null; rows: number }) {
  if (!available) {
    return rows > 0 ? (
      <p className="muted" data-testid="session-note" data-saved="0">
        Results are not kept in this browser{error ? ` (${error})` : ''}: export them before you reload or close the page.
      </p>
    ) : null;
  }
  if (!saved && !restored) return null;
  return (
    <p className="muted" data-testid="session-note" data-saved={saved} data-restored={restored}>
      {restored ? `${restored} result${restored === 1 ? '' : 's'} restored from your last visit. ` : ''}
      {saved} result{saved === 1 ? ' is' : 's are'} kept in this browser (thumbnails and numbers, never the images) until you press Clear.
    </p>
  );
}
