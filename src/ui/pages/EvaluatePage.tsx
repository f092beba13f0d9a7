// Evaluate: "does this model work on my hospital's films?" External validation in the browser, for
// the model in use (the shipped one or one saved from the Train page): a labelled folder, a .zip
// of it, or a folder with manifest.csv, classified in the worker; the report is the one
// `npm run evaluate` writes (src/core/evaluation.ts), downloadable as the same JSON.
import { useEffect, useRef } from 'react';
import { ModelStatus } from '../components/ModelStatus';
import { ModelPicker } from '../components/ModelPicker';
import { ProgressBar } from '../components/ProgressBar';
import { EvaluateReport } from '../components/evaluate/EvaluateReport';
import { EvaluateGallery } from '../components/evaluate/EvaluateGallery';
import { ShortcutCheck } from '../components/evaluate/ShortcutCheck';
import { useClassifier } from '../hooks/useClassifier';
import { useEvaluation } from '../hooks/useEvaluation';
import { cancelEvaluation, evaluateFiles, rerun, resetEvaluation, type EvaluationState } from '../state/evaluation';
import { intakeFromFileList } from '../lib/files';
import { DropTarget } from '../components/DropTarget';
import { stringifyReport } from '../../core/evaluation';
import { siteOf } from '../../core/evaluation-data';
import { downloadText, timestampedName } from '../lib/csv';
import { evaluationCsv } from '../lib/evaluateCsv';
import '../components/evaluate/evaluate.css';

const folderAttrs = { webkitdirectory: '', directory: '' } as Record<string, string>;

function seconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '—';
  if (s < 60) return `${Math.ceil(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function Intake({ busy }: { busy: boolean }) {
  const folder = useRef<HTMLInputElement>(null);
  const zip = useRef<HTMLInputElement>(null);
  const nameOf = (files: { path: string }[], fallback: string) => files[0]?.path.split('/')[0] || fallback;
  return (
    <section className="panel" aria-labelledby="ev-intake">
      <h2 id="ev-intake" className="panel__title">
        Your labelled films
      </h2>
      <p>
        Choose a folder with <strong>one sub-folder per class</strong> of the model (named like its classes, any case; folders inside a class folder are treated
        as <strong>sites</strong>, e.g. <code>normal/hospital-a/</code>), a <strong>.zip</strong> of such a folder, or a folder with a <code>manifest.csv</code>{' '}
        (<code>file,label[,split][,site]</code>). Nothing leaves this device.
      </p>
      <DropTarget
        className="dropzone ev-drop"
        overClassName="dropzone--over"
        disabled={busy}
        testId="evaluate-dropzone"
        onFiles={({ files, rejected }) => void evaluateFiles(files, nameOf(files, 'dropped files'), 'test', rejected)}
      >
        <span>Drop a folder or a .zip here, or</span>
        <div className="toolbar__actions">
          <button type="button" onClick={() => folder.current?.click()} disabled={busy}>
            Choose a folder
          </button>
          <button type="button" onClick={() => zip.current?.click()} disabled={busy}>
            Choose a .zip
          </button>
        </div>
      </DropTarget>
      <input
        ref={folder}
        type="file"
        className="sr-only"
        tabIndex={-1}
        aria-hidden="true"
        multiple
        {...folderAttrs}
        data-testid="evaluate-folder-input"
        onChange={(e) => {
          const files = intakeFromFileList(e.currentTarget.files);
          void evaluateFiles(files, nameOf(files, 'folder'));
          e.currentTarget.value = '';
        }}
      />
      <input
        ref={zip}
        type="file"
        className="sr-only"
        tabIndex={-1}
        aria-hidden="true"
        accept=".zip,application/zip"
        data-testid="evaluate-zip-input"
        onChange={(e) => {
          const files = intakeFromFileList(e.currentTarget.files);
          void evaluateFiles(files, files[0]?.path ?? 'archive.zip');
          e.currentTarget.value = '';
        }}
      />
    </section>
  );
}

function DataSummary({ state }: { state: EvaluationState }) {
  const data = state.data;
  if (!data) return null;
  const counts = new Map<string, number>();
  for (const e of data.entries) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
  const sites = new Set(data.entries.map((e) => siteOf(e)).filter(Boolean));
  return (
    <section className="panel" aria-labelledby="ev-data">
      <h2 id="ev-data" className="panel__title">
        Data: {state.source}
      </h2>
      <p data-testid="evaluate-data" data-layout={data.layout} data-images={data.entries.length}>
        {data.layout === 'manifest' ? 'manifest.csv' : 'class folders'}: {data.entries.length} images
        {data.layout === 'manifest' ? ` (split ${data.split})` : ''} — {[...counts].map(([c, n]) => `${c} ${n}`).join(', ')}
        {sites.size > 0 ? `; ${sites.size} site${sites.size === 1 ? '' : 's'}` : ''}.
      </p>
      {data.note && <p className="muted">{data.note.replace(/^note: /, '')}</p>}
      {state.splits.length > 0 && (
        <p>
          <label htmlFor="ev-split">Split</label>{' '}
          <select
            id="ev-split"
            value={data.split}
            onChange={(e) => void rerun(e.currentTarget.value)}
            disabled={state.phase === 'running'}
            data-testid="evaluate-split"
          >
            {state.splits.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
            <option value="all">all</option>
          </select>
        </p>
      )}
      {data.unknownFolders.length > 0 && (
        <div role="note" className="ev-warn" data-testid="evaluate-unknown-folders">
          <p>
            Ignored folders (not a class of this model, whose classes are {state.model?.metadata.classNames.join(', ')}); their images were not evaluated and
            not merged into any class:
          </p>
          <ul>
            {data.unknownFolders.map((u) => (
              <li key={u.folder} data-testid="evaluate-unknown-folder" data-folder={u.folder}>
                {u.folder}/ ({u.files} image{u.files === 1 ? '' : 's'})
              </li>
            ))}
          </ul>
        </div>
      )}
      {(data.ignored.length > 0 || state.rejected.length > 0) && (
        <details>
          <summary>Ignored files ({data.ignored.length + state.rejected.length})</summary>
          <ul>
            {[...state.rejected.map((r) => ({ file: r.path, reason: r.reason })), ...data.ignored].map((f) => (
              <li key={f.file} data-testid="evaluate-ignored-file">
                {f.file}: {f.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
      {state.skipped.length > 0 && (
        <div data-testid="evaluate-skipped">
          <p>Skipped {state.skipped.length} file(s) that could not be read as images:</p>
          <ul>
            {state.skipped.map((s) => (
              <li key={s.file} data-testid="evaluate-skipped-file" data-file={s.file}>
                {s.file}: {s.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function Progress({ state }: { state: EvaluationState }) {
  if (state.phase !== 'running' && state.phase !== 'reporting') return null;
  return (
    <section className="panel" aria-labelledby="ev-progress">
      <h2 id="ev-progress" className="panel__title">
        {state.phase === 'running' ? 'Classifying' : 'Building the report'}
      </h2>
      <div className="batch-progress" data-testid="evaluate-progress" data-done={state.done} data-total={state.total}>
        <ProgressBar value={state.phase === 'running' && state.total ? state.done / state.total : null} label="Evaluation progress" />
        <span>
          {state.done} / {state.total}
          {state.phase === 'running' ? `, about ${seconds(state.etaSeconds)} left` : ''}
        </span>
      </div>
      {state.phase === 'running' && (
        <button type="button" onClick={cancelEvaluation} data-testid="evaluate-cancel">
          Cancel (keep the results so far)
        </button>
      )}
    </section>
  );
}

export default function EvaluatePage() {
  const model = useClassifier();
  const state = useEvaluation();
  const busy = state.phase === 'running' || state.phase === 'reporting' || state.phase === 'reading' || state.shortcut.status === 'running';
  useEffect(() => {
    void model.ensure().catch(() => {});
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const report = state.report;
  const info = model.info;
  const modelChanged =
    report &&
    info &&
    (report.meta.model.name !== info.metadata.name || report.meta.model.version !== info.metadata.version || report.meta.model.dir !== info.sourceLabel);
  const wrong = state.data ? state.outcomes.filter((o, i) => o && o.predicted !== state.data!.entries[i].labelIndex).length : 0;

  return (
    <div className="evaluate" data-testid="evaluate-page" data-phase={state.phase}>
      <div className="evaluate__side">
        <ModelStatus state={model} onRetry={() => void model.load().catch(() => {})}>
          <ModelPicker />
        </ModelStatus>
        <Intake busy={busy} />
      </div>
      <div className="evaluate__main">
        <section className="panel" aria-labelledby="ev-what">
          <h2 id="ev-what" className="panel__title">
            Does this model work on your films?
          </h2>
          <p>
            Models that score well where they were built often fail at other hospitals. Give labelled films from yours and this page computes what{' '}
            <code>npm run evaluate</code> computes — accuracy, per-class metrics with 95 % intervals, ROC curves, calibration, the covid operating point,
            per-site results, a shortcut check — with the model in use, entirely in this browser.
          </p>
        </section>
        {state.phase === 'reading' && <p className="muted">Reading {state.source}…</p>}
        {state.phase === 'error' && (
          <div>
            <p role="alert" className="error-text" data-testid="evaluate-error">
              {state.error}
            </p>
            {state.data && (
              <button type="button" onClick={() => void rerun()} data-testid="evaluate-retry">
                Evaluate again with the model in use
              </button>
            )}
          </div>
        )}
        <DataSummary state={state} />
        <Progress state={state} />
        {report && state.data && (
          <>
            <section className="panel" aria-labelledby="ev-downloads">
              <h2 id="ev-downloads" className="panel__title">
                Downloads
              </h2>
              {modelChanged && (
                <p className="ev-warn">
                  Another model is loaded now; this report is about {report.meta.model.name} {report.meta.model.version}.
                </p>
              )}
              <div className="toolbar__actions">
                <button
                  type="button"
                  onClick={() => downloadText(stringifyReport(report) + '\n', timestampedName('cxr-lab-evaluation', 'json'), 'application/json')}
                  data-testid="evaluate-download-json"
                >
                  Report (JSON, as npm run evaluate -- --out writes it)
                </button>
                <button
                  type="button"
                  onClick={() =>
                    downloadText(
                      evaluationCsv(state.data!, state.outcomes, state.skipped, report.classNames),
                      timestampedName('cxr-lab-evaluation-images', 'csv'),
                    )
                  }
                  data-testid="evaluate-download-csv"
                >
                  Per-image results (CSV)
                </button>
                <button type="button" onClick={() => void rerun()} disabled={busy} data-testid="evaluate-rerun">
                  Evaluate again{modelChanged ? ' with the model in use' : ''}
                </button>
                <button type="button" onClick={resetEvaluation} disabled={busy} data-testid="evaluate-clear">
                  Clear
                </button>
              </div>
            </section>
            <EvaluateReport report={report} />
            <section className="panel" aria-labelledby="ev-shortcut">
              <h2 id="ev-shortcut" className="panel__title">
                Shortcut check
              </h2>
              <ShortcutCheck report={report} state={state.shortcut} busy={state.phase !== 'done'} />
            </section>
            <section className="panel" aria-labelledby="ev-gallery">
              <h2 id="ev-gallery" className="panel__title">
                Misclassified images
              </h2>
              <EvaluateGallery items={state.misclassified} data={state.data} classNames={report.classNames} totalWrong={wrong} />
            </section>
          </>
        )}
      </div>
      <div className="sr-only" aria-live="polite" aria-atomic="true" data-testid="evaluate-announcer">
        {state.announcement}
      </div>
    </div>
  );
}
