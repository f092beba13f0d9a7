// The Train page: fine-tune the shipped classifier on the user's own labelled images, in the browser.
// 1 Images (folder / zip / per-class cards) → 2 Train (split, settings, Train/Stop) → 3 live curves and
// validation results → 4 keep the model (try, download, save for the Classify page, import).
// All ML runs in the training worker (useTrainer); this page only renders state.
import { useEffect, useMemo } from 'react';
import { DatasetPanel } from '../components/train/DatasetPanel';
import { SettingsPanel } from '../components/train/SettingsPanel';
import { CopiesPanel } from '../components/train/CopiesPanel';
import { TrainingCharts } from '../components/train/TrainingCharts';
import { ConfusionMatrix, MetricsTable, RocChart } from '../components/train/Evaluation';
import { MisclassifiedGallery } from '../components/train/MisclassifiedGallery';
import { TrainGradCam } from '../components/train/TrainGradCam';
import { KeepPanel } from '../components/train/KeepPanel';
import { ShortcutLesson } from '../components/train/ShortcutLesson';
import { ProjectPanel } from '../components/train/ProjectPanel';
import { evaluate } from '../components/train/evaluation';
import { useTrainer } from '../hooks/useTrainer';
import { dismissMessage, ensureBase, imageGradCam, imageInput } from '../state/trainer';
import '../components/train/train.css';

export default function TrainPage() {
  const state = useTrainer();
  useEffect(() => {
    void ensureBase().catch(() => {});
  }, []);

  const { run } = state;
  const evaluation = useMemo(
    () => (run.valProbs ? evaluate(run.classNames, run.valIds, run.valLabels, run.valProbs) : null),
    [run.valProbs, run.classNames, run.valIds, run.valLabels],
  );
  const byId = useMemo(() => new Map(state.images.map((im) => [im.id, im])), [state.images]);
  const base = state.base;
  const showRun = run.status !== 'idle';

  return (
    <div className="train" data-testid="train-page">
      <section className="panel tr-intro" aria-labelledby="tr-intro-title">
        <div className="toolbar">
          <h2 id="tr-intro-title" className="panel__title">
            Teach the network new classes
          </h2>
        </div>
        <p>
          The shipped chest X-ray network already turns every image into a list of {base.info?.embeddingDim ?? 'a few hundred'} numbers (its <em>embedding</em>
          ). Here it stays frozen: each of your images is embedded once, and only a small new classifier on top is trained, so training takes seconds. Research
          and education only.
        </p>
        <p className="muted" data-testid="base-status" data-status={base.status}>
          {base.status === 'loading' && 'Loading the network…'}
          {base.status === 'ready' &&
            base.info &&
            `Network: ${base.info.metadata.name} (${base.info.metadata.version}) · backend ${base.info.backend.name}${base.info.backend.details.length ? ` (${base.info.backend.details.join(', ')})` : ''} · ready in ${Math.round(base.info.loadMs)} ms`}
          {base.status === 'error' && <span className="error-text">The network could not be loaded: {base.error}</span>}
        </p>
      </section>

      {state.message && (
        <div className={`tr-message tr-message--${state.message.kind}`} role={state.message.kind === 'error' ? 'alert' : 'status'} data-testid="train-message">
          <span>{state.message.text}</span>
          <button type="button" className="tr-icon" onClick={dismissMessage} aria-label="Dismiss message">
            ✕
          </button>
        </div>
      )}

      <DatasetPanel state={state} />
      <CopiesPanel state={state} />
      <SettingsPanel state={state} />

      <section className="panel" aria-labelledby="tr-watch-title" data-testid="watch-panel">
        <h2 id="tr-watch-title" className="panel__title">
          3 · Watch it learn
        </h2>
        {!showRun && (
          <p className="muted">The curves, the confusion matrix and the mistakes appear here as soon as training starts, and update after every epoch.</p>
        )}
        {showRun && (
          <>
            <TrainingCharts
              history={run.history}
              plannedEpochs={run.plannedEpochs}
              keptEpoch={run.status === 'done' ? (run.result?.keptEpoch ?? null) : null}
            />
            {evaluation ? (
              <div className="tr-eval" data-testid="evaluation" data-epoch={run.probsEpoch ?? ''}>
                <h3 className="tr-subtitle">
                  Validation results {run.status === 'done' ? `of the kept model (epoch ${run.probsEpoch})` : `after epoch ${run.probsEpoch}`}
                </h3>
                <div className="tr-eval__grid">
                  <div>
                    <ConfusionMatrix evaluation={evaluation} />
                    <MetricsTable evaluation={evaluation} />
                  </div>
                  <RocChart evaluation={evaluation} />
                </div>
                <h3 className="tr-subtitle">Misclassified validation images ({evaluation.misclassified.length})</h3>
                <MisclassifiedGallery
                  items={evaluation.misclassified}
                  classNames={evaluation.classNames}
                  thumbOf={(id) => byId.get(id)?.thumb}
                  pathOf={(id) => byId.get(id)?.path ?? `image ${id}`}
                  loadImage={imageInput}
                  renderDetailFigure={
                    // The kept model exists once the run is done: its Grad-CAM replaces the plain picture.
                    run.status === 'done'
                      ? (item, thumb) => (
                          <TrainGradCam
                            key={item.id}
                            imageId={item.id}
                            path={byId.get(item.id)?.path ?? `image ${item.id}`}
                            classNames={evaluation.classNames}
                            initialClass={item.predictedIndex}
                            load={imageGradCam}
                            placeholder={thumb}
                          />
                        )
                      : undefined
                  }
                  renderDetailExtra={
                    run.status === 'done' ? undefined : () => <p className="muted">The Grad-CAM heatmap is available once training has finished.</p>
                  }
                />
              </div>
            ) : (
              run.history.length > 0 && <p className="muted">No validation images: only the training curves are shown.</p>
            )}
          </>
        )}
      </section>

      <ShortcutLesson state={state} />

      <KeepPanel state={state} />
      <ProjectPanel state={state} />
    </div>
  );
}
