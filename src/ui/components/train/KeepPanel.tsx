// Keep the result: try the model on new images, download it (one .zip or the files one by one), save it in
// this browser under a name (it then shows up in the Classify page's model picker), and manage saved
// and imported models.
import { useEffect, useId, useRef, useState } from 'react';
import { GrayThumb } from './GrayThumb';
import { ProbabilityList } from './MisclassifiedGallery';
import { deleteSaved, downloadModel, importModel, previewFiles, saveModel, type TrainerState } from '../../state/trainer';
import { DropTarget } from '../DropTarget';
import { modelNameProblem } from '../../../ml/model-store';
import { THUMB_SIZE } from '../../../worker/train-protocol';

function kb(bytes: number): string {
  return bytes > 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.round(bytes / 1e3)} kB`;
}

function Preview({ state }: { state: TrainerState }) {
  const input = useRef<HTMLInputElement>(null);
  const ready = state.run.status === 'done' && !!state.run.result;
  return (
    <div className="tr-preview">
      <h3 className="tr-subtitle">Try it</h3>
      <DropTarget
        className="tr-drop tr-drop--small"
        overClassName="tr-drop--over"
        disabledClassName="tr-drop--disabled"
        disabled={!ready}
        label="Try the trained model: drop images here or press to choose"
        testId="preview-drop"
        onActivate={() => input.current?.click()}
        onFiles={({ files, rejected }) =>
          void previewFiles(
            files.map((f) => ({ name: f.path, file: f.file })),
            rejected,
          )
        }
      >
        Drop new images here to test the model{ready ? '' : ' (after training)'}
      </DropTarget>
      <input
        ref={input}
        type="file"
        multiple
        accept="image/*"
        hidden
        data-testid="preview-input"
        onChange={(e) => {
          void previewFiles(Array.from(e.currentTarget.files ?? []).map((f) => ({ name: f.name, file: f })));
          e.currentTarget.value = '';
        }}
      />
      <ul className="tr-previews">
        {state.previews.map((p) => (
          <li
            key={p.key}
            className="tr-previews__item"
            data-testid="preview-result"
            data-file={p.name}
            data-status={p.status}
            data-withheld={p.withheld ? 'true' : 'false'}
          >
            {p.thumb && <GrayThumb gray={p.thumb} size={THUMB_SIZE} display={72} label={`Model input of ${p.name}`} />}
            <div className="tr-previews__main">
              <p className="tr-previews__name">{p.name}</p>
              {p.status === 'running' && <p className="muted">Classifying…</p>}
              {p.status === 'error' && <p className="error-text">{p.error}</p>}
              {p.status === 'done' && p.withheld && (
                <p className="error-text" data-testid="preview-withheld">
                  Not a chest X-ray? {p.withheld.join('; ')}. No class is shown.
                </p>
              )}
              {p.status === 'done' && !p.withheld && p.probabilities && p.classNames && (
                <ProbabilityList classNames={p.classNames} probabilities={p.probabilities} />
              )}
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}

function SaveForm({ state }: { state: TrainerState }) {
  const id = useId();
  const result = state.run.result;
  const suggested = result ? `${result.metadata.classNames.join(' vs ')} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}` : '';
  const [name, setName] = useState(suggested);
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setName(suggested);
    setConfirm(false);
  }, [state.run.runId, state.run.status]); // eslint-disable-line react-hooks/exhaustive-deps
  const problem = modelNameProblem(name);
  const exists = state.saved.some((m) => m.name === name.trim());
  const disabled = !result || state.run.status !== 'done' || busy;
  const save = async () => {
    if (problem) return;
    if (exists && !confirm) {
      setConfirm(true);
      return;
    }
    setBusy(true);
    await saveModel(name, exists);
    setBusy(false);
    setConfirm(false);
  };
  return (
    <form
      className="tr-save"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label htmlFor={id}>Save in this browser as</label>
      <div className="tr-save__row">
        <input
          id={id}
          type="text"
          value={name}
          maxLength={80}
          disabled={disabled}
          onChange={(e) => (setName(e.currentTarget.value), setConfirm(false))}
          data-testid="save-name"
        />
        <button type="submit" className="primary" disabled={disabled || !!problem} data-testid="save-button">
          {confirm ? 'Replace it' : 'Save'}
        </button>
      </div>
      {confirm && (
        <p className="tr-check tr-check--warn">A saved model is already called “{name.trim()}”. Press “Replace it” to overwrite it, or change the name.</p>
      )}
      {problem && name && <p className="error-text">{problem}</p>}
    </form>
  );
}

function SavedModels({ state }: { state: TrainerState }) {
  const input = useRef<HTMLInputElement>(null);
  const [importName, setImportName] = useState('');
  const id = useId();
  return (
    <div className="tr-saved">
      <h3 className="tr-subtitle">Saved in this browser</h3>
      {state.saved.length === 0 ? (
        <p className="muted">No saved models yet.</p>
      ) : (
        <ul className="tr-saved__list" data-testid="saved-models">
          {state.saved.map((m) => (
            <li key={m.name} data-testid="saved-model" data-name={m.name}>
              <span className="tr-saved__name">{m.name}</span>{' '}
              <span className="muted">
                {m.classNames.join(', ')} · {kb(m.bytes)} · {m.origin} {new Date(m.savedAt).toLocaleString()}
                {m.facts && Object.entries(m.facts).map(([k, v]) => ` · ${k} ${v}${k.includes('accuracy') ? '%' : ''}`)}
              </span>{' '}
              <button type="button" className="tr-icon" onClick={() => void deleteSaved(m.name)} aria-label={`Delete saved model ${m.name}`}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="tr-import">
        <label htmlFor={id}>Import a downloaded model (its .zip, or model.json + weights.bin + metadata.json) as</label>
        <div className="tr-save__row">
          <input
            id={id}
            type="text"
            value={importName}
            placeholder="name for the imported model"
            maxLength={80}
            onChange={(e) => setImportName(e.currentTarget.value)}
            data-testid="import-name"
          />
          <button type="button" onClick={() => input.current?.click()} disabled={!!modelNameProblem(importName)} data-testid="import-button">
            Choose files…
          </button>
        </div>
        <input
          ref={input}
          type="file"
          multiple
          accept=".zip,.json,.bin,.md,application/zip,application/json,text/markdown"
          hidden
          data-testid="import-input"
          onChange={(e) => {
            const files = Array.from(e.currentTarget.files ?? []);
            e.currentTarget.value = '';
            if (files.length) void importModel(files, importName).then((ok) => ok && setImportName(''));
          }}
        />
      </div>
    </div>
  );
}

export function KeepPanel({ state }: { state: TrainerState }) {
  const ready = state.run.status === 'done' && !!state.run.result;
  return (
    <section className="panel" aria-labelledby="tr-keep-title" data-testid="keep-panel">
      <h2 id="tr-keep-title" className="panel__title">
        4 · Keep the result
      </h2>
      <div className="tr-keep">
        <div>
          <Preview state={state} />
        </div>
        <div>
          <h3 className="tr-subtitle">Download or save</h3>
          <div className="tr-buttons">
            <button type="button" className="primary" onClick={() => void downloadModel('zip')} disabled={!ready} data-testid="download-zip">
              Download model (.zip)
            </button>
            <button type="button" onClick={() => void downloadModel('files')} disabled={!ready} data-testid="download-files">
              Download the files
            </button>
          </div>
          <p className="muted tr-hint">
            model.json + weights.bin (TensorFlow.js), metadata.json (class names, preprocessing, calibration, operating point, "Not a chest X-ray?" check,
            training record), metrics.json (validation results) and model-card.md (the Model card).
          </p>
          <SaveForm state={state} />
          <SavedModels state={state} />
        </div>
      </div>
    </section>
  );
}
