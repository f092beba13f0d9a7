import type { ReactNode } from 'react';
import type { ModelState } from '../state/classifier';
import { ProgressBar } from './ProgressBar';
import { savedModelName } from './ModelPicker';

const PHASE_TEXT: Record<string, string> = {
  backend: 'Starting the compute backend…',
  metadata: 'Reading model description…',
  weights: 'Downloading model weights…',
  warmup: 'Warming up (compiling kernels)…',
};

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Model load status, progress and the active backend. `children` is a slot (e.g. a model picker). */
export function ModelStatus({ state, onRetry, children }: { state: ModelState; onRetry: () => void; children?: ReactNode }) {
  const { status, info } = state;
  // A model saved in this browser goes by the name it was saved under; its metadata name is an id.
  const saved = savedModelName(state.source);
  return (
    <section className="panel model-status" aria-labelledby="model-status-title" data-testid="model-status" data-status={status}>
      <h2 id="model-status-title" className="panel__title">
        Model
      </h2>
      {status === 'loading' && (
        <div>
          <p>
            {PHASE_TEXT[state.phase ?? 'backend']}
            {state.phase === 'weights' && state.loadedBytes ? ` ${mb(state.loadedBytes)}${state.totalBytes ? ` of ${mb(state.totalBytes)}` : ''}` : ''}
          </p>
          <ProgressBar value={state.phase === 'weights' ? state.fraction : null} label="Model loading" testId="model-progress" />
        </div>
      )}
      {status === 'error' && (
        <div role="alert" className="error-box" data-testid="model-error">
          <p>
            <strong>The model could not be loaded.</strong> {state.error}
          </p>
          <button type="button" onClick={onRetry}>
            Retry
          </button>
        </div>
      )}
      {info && (
        <dl className="facts">
          <dt>Model</dt>
          <dd data-testid="model-name" data-saved-name={saved ?? undefined}>
            {saved ?? info.metadata.name}{' '}
            <span className={saved ? 'muted' : undefined}>
              {saved ? `(saved in this browser; ${info.metadata.name} ` : ''}
              <span data-testid="model-version">{info.metadata.version}</span>
              {saved ? ')' : ''}
            </span>
          </dd>
          <dt>Backend</dt>
          <dd>
            <span data-testid="backend" data-backend={info.backend.name}>
              {info.backend.name}
            </span>
            {info.backend.details.length > 0 && <span className="muted"> ({info.backend.details.join(', ')})</span>}
            {info.backend.attempts.some((a) => a.error) && (
              <span
                className="muted"
                title={info.backend.attempts
                  .filter((a) => a.error)
                  .map((a) => `${a.name}: ${a.error}`)
                  .join('\n')}
              >
                {' '}
                — fallback
              </span>
            )}
          </dd>
          <dt>Classes</dt>
          <dd>{info.metadata.classNames.join(', ')}</dd>
          <dt>Ready in</dt>
          <dd>
            {Math.round(info.loadMs + info.warmupMs)} ms <span className="muted">(warm-up {Math.round(info.warmupMs)} ms)</span>
          </dd>
        </dl>
      )}
      {children}
    </section>
  );
}
