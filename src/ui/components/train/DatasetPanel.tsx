// Data in: a whole data set (folder with one sub-folder per class, or a .zip of it) and/or class cards
// à la Teachable Machine, each with its own name, drop zone, counts and thumbnails. Warnings, skipped
// files and the embedding progress live here too.
import { useMemo, useRef } from 'react';
import { ProgressBar } from '../ProgressBar';
import { GrayThumb } from './GrayThumb';
import {
  addClass,
  addDataset,
  addToClass,
  classSummaries,
  clearDataset,
  clearSkipped,
  datasetCheck,
  removeClass,
  renameClass,
  type ImageEntry,
  type TrainerState,
} from '../../state/trainer';
import { MAX_CLASSES } from '../../../ml/dataset-browser';
import { intakeFromFileList } from '../../lib/files';
import { DropTarget } from '../DropTarget';
import { THUMB_SIZE } from '../../../worker/train-protocol';

const IMAGE_ACCEPT = 'image/png,image/jpeg,image/webp,image/bmp,image/gif,.png,.jpg,.jpeg,.webp,.bmp,.gif,.zip,application/zip';
const SHOWN_THUMBS = 12;
const folderAttrs = { webkitdirectory: '', directory: '' } as Record<string, string>;

function ClassCard({
  index,
  classKey,
  name,
  ready,
  queued,
  failed,
  thumbs,
  locked,
  canRemove,
  duplicate,
}: {
  index: number;
  classKey: number;
  name: string;
  ready: number;
  queued: number;
  failed: number;
  thumbs: ImageEntry[];
  locked: boolean;
  canRemove: boolean;
  duplicate: boolean;
}) {
  const input = useRef<HTMLInputElement>(null);
  const nameId = `class-name-${classKey}`;
  const few = ready + queued > 0 && ready + queued < 10;
  return (
    <li className="tr-class" data-testid="class-card" data-class={name} data-count={ready}>
      <div className="tr-class__head">
        <label htmlFor={nameId} className="sr-only">
          Name of class {index + 1}
        </label>
        <input
          id={nameId}
          className="tr-class__name"
          value={name}
          maxLength={40}
          disabled={locked}
          aria-invalid={duplicate || !name.trim() ? true : undefined}
          onChange={(e) => renameClass(classKey, e.currentTarget.value)}
          data-testid="class-name"
        />
        <button type="button" className="tr-icon" onClick={() => removeClass(classKey)} disabled={locked || !canRemove} aria-label={`Remove class ${name}`}>
          ✕
        </button>
      </div>
      <p className="tr-class__count">
        <strong data-testid="class-count">{ready}</strong> image{ready === 1 ? '' : 's'}
        {queued > 0 && <span className="muted"> · {queued} preparing</span>}
        {failed > 0 && <span className="error-text"> · {failed} skipped</span>}
        {few && <span className="badge badge--warn">few images</span>}
      </p>
      {thumbs.length > 0 && (
        // A labelled group (aria-label on a plain div is not allowed); an empty card has none.
        <div className="tr-class__thumbs" role="group" aria-label={`Examples of ${name}`}>
          {thumbs.map((im) => (
            <GrayThumb key={im.id} gray={im.thumb!} size={THUMB_SIZE} display={48} label={`${name}: ${im.path}`} />
          ))}
          {ready > thumbs.length && <span className="tr-class__more">+{ready - thumbs.length}</span>}
        </div>
      )}
      <DropTarget
        overClassName="tr-drop--over"
        disabledClassName="tr-drop--disabled"
        className="tr-drop tr-drop--small"
        testId="class-drop"
        label={`Add images to ${name}: drop files here or press to choose`}
        disabled={locked}
        onActivate={() => input.current?.click()}
        onFiles={({ files, rejected }) => void addToClass(classKey, files, rejected)}
      >
        <span>
          Drop images (or a .zip) for <strong>{name || 'this class'}</strong>, or press to choose
        </span>
      </DropTarget>
      <input
        ref={input}
        type="file"
        multiple
        accept={IMAGE_ACCEPT}
        hidden
        data-testid="class-files-input"
        onChange={(e) => {
          void addToClass(classKey, intakeFromFileList(e.currentTarget.files));
          e.currentTarget.value = '';
        }}
      />
    </li>
  );
}

export function DatasetPanel({ state }: { state: TrainerState }) {
  const folderInput = useRef<HTMLInputElement>(null);
  const zipInput = useRef<HTMLInputElement>(null);
  const locked = state.run.status === 'training' || state.run.status === 'stopping';
  const summaries = useMemo(() => classSummaries(state), [state.classes, state.images]); // eslint-disable-line react-hooks/exhaustive-deps
  const check = useMemo(() => datasetCheck(state), [state.classes, state.images]); // eslint-disable-line react-hooks/exhaustive-deps
  const thumbsByClass = useMemo(() => {
    const m = new Map<number, ImageEntry[]>();
    for (const im of state.images) {
      if (im.status !== 'ready' || !im.thumb) continue;
      const list = m.get(im.classKey) ?? [];
      if (list.length < SHOWN_THUMBS) list.push(im);
      m.set(im.classKey, list);
    }
    return m;
  }, [state.images]);
  const total = state.images.length;
  const finished = state.images.filter((im) => im.status !== 'queued').length;
  const failedImages = state.images.filter((im) => im.status === 'error');
  const skipped = [...state.rejected, ...failedImages.map((im) => ({ path: im.path, reason: im.error ?? 'could not be read' }))];
  const lowerNames = state.classes.map((c) => c.name.trim().toLowerCase());

  return (
    <section className="panel" aria-labelledby="tr-data-title" data-testid="dataset-panel">
      <div className="toolbar">
        <h2 id="tr-data-title" className="panel__title">
          1 · Images
        </h2>
        <button type="button" onClick={clearDataset} disabled={locked || (total === 0 && skipped.length === 0)} data-testid="clear-dataset">
          Start over
        </button>
      </div>
      <DropTarget
        overClassName="tr-drop--over"
        disabledClassName="tr-drop--disabled"
        className="tr-drop"
        testId="dataset-drop"
        label="Drop a data-set folder or .zip here, or press to choose a folder"
        disabled={locked || state.intake.busy}
        onActivate={() => folderInput.current?.click()}
        onFiles={({ files, rejected }) => void addDataset(files, rejected)}
      >
        <span className="tr-drop__title">Drop a data-set folder or a .zip</span>
        <span className="muted">
          One sub-folder per class, e.g. <code>dataset/covid</code>, <code>dataset/normal</code> (2 to {MAX_CLASSES} classes). Images never leave this device.
        </span>
      </DropTarget>
      <div className="tr-buttons">
        <button type="button" onClick={() => folderInput.current?.click()} disabled={locked || state.intake.busy}>
          Choose a data-set folder…
        </button>
        <button type="button" onClick={() => zipInput.current?.click()} disabled={locked || state.intake.busy}>
          Choose a .zip…
        </button>
      </div>
      <input
        ref={folderInput}
        type="file"
        multiple
        hidden
        {...folderAttrs}
        data-testid="dataset-folder-input"
        onChange={(e) => {
          void addDataset(intakeFromFileList(e.currentTarget.files));
          e.currentTarget.value = '';
        }}
      />
      <input
        ref={zipInput}
        type="file"
        accept=".zip,application/zip"
        hidden
        data-testid="dataset-zip-input"
        onChange={(e) => {
          void addDataset(intakeFromFileList(e.currentTarget.files));
          e.currentTarget.value = '';
        }}
      />
      {state.intake.busy && (
        <div className="tr-progress-row">
          <span>{state.intake.message}</span>
          <ProgressBar value={state.intake.fraction} label="Reading files" />
        </div>
      )}
      {total > 0 && (
        <div className="tr-progress-row" data-testid="embed-progress" data-done={finished} data-total={total}>
          <span>
            {finished < total ? 'Preparing images (decode → embedding):' : 'Images prepared:'} {finished} / {total}
            {state.base.status === 'loading' && ' (loading the network…)'}
          </span>
          <ProgressBar value={total ? finished / total : 0} label="Preparing images" testId="embed-progressbar" />
        </div>
      )}
      <p className="muted tr-hint">…or name the classes yourself and drop images on each card:</p>
      <ul className="tr-classes" aria-label="Classes">
        {summaries.map((c, i) => (
          <ClassCard
            key={c.key}
            index={i}
            classKey={c.key}
            name={c.name}
            ready={c.ready}
            queued={c.queued}
            failed={c.failed}
            thumbs={thumbsByClass.get(c.key) ?? []}
            locked={locked}
            canRemove={state.classes.length > 1}
            duplicate={lowerNames.indexOf(c.name.trim().toLowerCase()) !== i}
          />
        ))}
        <li className="tr-class tr-class--add">
          <button type="button" onClick={addClass} disabled={locked || state.classes.length >= MAX_CLASSES} data-testid="add-class">
            + Add a class
          </button>
          {state.classes.length >= MAX_CLASSES && <p className="muted">At most {MAX_CLASSES} classes.</p>}
        </li>
      </ul>
      {(check.errors.length > 0 || check.warnings.length > 0) && total > 0 && (
        <ul className="tr-checks" data-testid="dataset-checks">
          {check.errors.map((e) => (
            <li key={e} className="tr-check tr-check--error">
              {e}
            </li>
          ))}
          {check.warnings.map((w) => (
            <li key={w} className="tr-check tr-check--warn" data-testid="dataset-warning">
              {w}
            </li>
          ))}
        </ul>
      )}
      {skipped.length > 0 && (
        <details className="tr-skipped" data-testid="skipped-files">
          <summary>
            {skipped.length} file{skipped.length === 1 ? '' : 's'} skipped
          </summary>
          <ul>
            {skipped.slice(0, 200).map((r, i) => (
              <li key={`${r.path}-${i}`} data-testid="skipped-file">
                <code>{r.path}</code>: {r.reason}
              </li>
            ))}
            {skipped.length > 200 && <li>… and {skipped.length - 200} more</li>}
          </ul>
          <button type="button" onClick={clearSkipped} disabled={locked}>
            Clear this list
          </button>
        </details>
      )}
    </section>
  );
}
