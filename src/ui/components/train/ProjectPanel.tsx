// The whole Train-page project (images, labels, split, settings, trained model, curves): download it
// as one .cxrlab file, save it in this browser, open either again. While there is unsaved work the
// browser asks before a reload or close (src/ui/lib/project.ts).
import { useEffect, useId, useRef, useState, useSyncExternalStore } from 'react';
import type { TrainerState } from '../../state/trainer';
import {
  defaultProjectName,
  deleteProject,
  dismissProjectMessage,
  downloadProject,
  openProjectFile,
  openStoredProject,
  projectStore,
  refreshProjects,
  saveProjectInBrowser,
} from '../../lib/project';
import { PROJECT_EXTENSION } from '../../../core/project';

function mb(bytes: number): string {
  return bytes > 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.round(bytes / 1e3)} kB`;
}

export function ProjectPanel({ state }: { state: TrainerState }) {
  const p = useSyncExternalStore(projectStore.subscribe, projectStore.get);
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [name, setName] = useState('');
  useEffect(() => {
    void refreshProjects();
  }, []);
  const training = state.run.status === 'training' || state.run.status === 'stopping';
  const hasWork = state.images.length > 0 || state.run.result !== null;
  const canSave = hasWork && !training && !p.busy;
  const prepared = state.images.filter((im) => im.status !== 'queued').length;
  const exists = p.saved.some((s) => s.name === name.trim());
  // Opening replaces the current work: when that is unsaved, ask first (in the page, not a browser dialog).
  const [pending, setPending] = useState<{ label: string; open: () => Promise<void> } | null>(null);
  const open = (label: string, f: () => Promise<void>) => {
    if (projectStore.get().dirty) setPending({ label, open: f });
    else void f();
  };
  return (
    <section className="panel" aria-labelledby="tr-project-title" data-testid="project-panel">
      <div className="toolbar">
        <h2 id="tr-project-title" className="panel__title">
          Project
        </h2>
        <span className={p.dirty ? 'tr-check tr-check--warn' : 'muted'} data-testid="project-status" data-dirty={p.dirty ? 'true' : 'false'}>
          {p.dirty
            ? 'Unsaved: a reload or closing the tab would lose these images and the trained model'
            : p.lastSaved
              ? `Saved (${p.lastSaved.where === 'file' ? 'file' : 'in this browser'}: ${p.lastSaved.name})`
              : 'Nothing to save yet'}
        </span>
      </div>
      <p className="muted">
        One {PROJECT_EXTENSION} file (or a copy in this browser) keeps the images, their classes, the split, the settings, the trained model and its curves. The
        images stay on this device.
      </p>
      {p.message && (
        <div className={`tr-message tr-message--${p.message.kind}`} role={p.message.kind === 'error' ? 'alert' : 'status'} data-testid="project-message">
          <span>{p.message.text}</span>
          <button type="button" className="tr-icon" onClick={dismissProjectMessage} aria-label="Dismiss project message">
            ✕
          </button>
        </div>
      )}
      {p.restoring && (
        <p className="muted" role="status" data-testid="project-progress">
          Opening “{p.restoring.name}”: {prepared} of {p.restoring.total} images ready
          {p.restoring.reused < p.restoring.total ? ` (${p.restoring.total - p.restoring.reused} prepared again from their files)` : ''}…
        </p>
      )}
      {pending && (
        <div className="tr-check tr-check--warn" role="alert" data-testid="project-confirm">
          <p>
            The current images and model are not saved: opening “{pending.label}” replaces them. Download or save the current project first, or open it anyway.
          </p>
          <div className="tr-buttons">
            <button
              type="button"
              onClick={() => {
                const f = pending.open;
                setPending(null);
                void f();
              }}
              data-testid="project-confirm-open"
            >
              Open anyway
            </button>
            <button type="button" onClick={() => setPending(null)} data-testid="project-confirm-cancel">
              Cancel
            </button>
          </div>
        </div>
      )}
      <div className="tr-buttons">
        <button type="button" className="primary" onClick={() => void downloadProject()} disabled={!canSave} data-testid="project-download">
          Download project ({PROJECT_EXTENSION})
        </button>
        <button type="button" onClick={() => input.current?.click()} disabled={!!p.busy || training} data-testid="project-open-file">
          Open a project file…
        </button>
        <input
          ref={input}
          type="file"
          accept={`${PROJECT_EXTENSION},application/zip`}
          hidden
          data-testid="project-file-input"
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (f) open(f.name, () => openProjectFile(f));
          }}
        />
      </div>
      <form
        className="tr-save"
        onSubmit={(e) => {
          e.preventDefault();
          void saveProjectInBrowser(name || defaultProjectName());
        }}
      >
        <label htmlFor={id}>Save in this browser as</label>
        <div className="tr-save__row">
          <input
            id={id}
            type="text"
            value={name}
            placeholder={hasWork ? defaultProjectName(state) : 'project name'}
            maxLength={80}
            onChange={(e) => setName(e.currentTarget.value)}
            data-testid="project-name"
          />
          <button type="submit" disabled={!canSave} data-testid="project-save">
            {exists ? 'Replace saved project' : 'Save in this browser'}
          </button>
        </div>
      </form>
      <h3 className="tr-subtitle">Projects saved in this browser</h3>
      {p.saved.length === 0 ? (
        <p className="muted">No saved projects yet.</p>
      ) : (
        <ul className="tr-saved__list" data-testid="saved-projects">
          {p.saved.map((s) => (
            <li key={s.name} data-testid="saved-project" data-name={s.name}>
              <span className="tr-saved__name">{s.name}</span>{' '}
              <span className="muted">
                {s.classes.join(', ')} · {s.images} images{s.trained ? ' · trained model' : ''} · {mb(s.bytes)} · {new Date(s.savedAt).toLocaleString()}
              </span>{' '}
              <button
                type="button"
                className="tr-icon"
                onClick={() => open(s.name, () => openStoredProject(s.name))}
                disabled={!!p.busy || training}
                aria-label={`Open saved project ${s.name}`}
                data-testid="project-open-saved"
              >
                Open
              </button>{' '}
              <button type="button" className="tr-icon" onClick={() => void deleteProject(s.name)} aria-label={`Delete saved project ${s.name}`}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
