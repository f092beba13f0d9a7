// Split and training settings with sensible defaults up front and the rest in an "Advanced" fold,
// plus the Train / Stop buttons and the run's status line.
import type { ModelMetadata } from '../../../core/metadata';
import { OPERATING_POINT_CLASS } from '../../../core/operating-point';
import { useEffect, useId, useMemo, useState } from 'react';
import { ProgressBar } from '../ProgressBar';
import { AugmentPreview } from './AugmentPreview';
import { useLessons } from '../../hooks/useLessons';
import { shortcutBusy } from '../../state/lessons';
import {
  applyOverfittingPreset,
  CLASSROOM_EPOCH_MS,
  datasetCheck,
  plannedEpochs,
  planSplit,
  resetSettings,
  startTraining,
  stopTraining,
  updateSettings,
  type TrainerState,
} from '../../state/trainer';

/** A number input that keeps what the user types and commits only valid values. */
function NumberField({
  label,
  value,
  onChange,
  min,
  max,
  step,
  integer,
  help,
  disabled,
  testId,
}: {
  label: string;
  value: number;
  onChange: (v: number) => void;
  min: number;
  max: number;
  step?: number | 'any';
  integer?: boolean;
  help?: string;
  disabled?: boolean;
  testId?: string;
}) {
  const id = useId();
  const [text, setText] = useState(String(value));
  useEffect(() => setText(String(value)), [value]);
  const parsed = Number(text);
  const valid = text.trim() !== '' && Number.isFinite(parsed) && parsed >= min && parsed <= max && (!integer || Number.isInteger(parsed));
  return (
    <div className="tr-field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        inputMode={integer ? 'numeric' : 'decimal'}
        value={text}
        min={min}
        max={max}
        step={step ?? (integer ? 1 : 'any')}
        disabled={disabled}
        aria-invalid={!valid || undefined}
        aria-describedby={help ? `${id}-help` : undefined}
        data-testid={testId}
        onChange={(e) => {
          const t = e.currentTarget.value;
          setText(t);
          const v = Number(t);
          if (t.trim() !== '' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v))) onChange(v);
        }}
        onBlur={() => setText(String(value))}
      />
      {help && (
        <span id={`${id}-help`} className="tr-field__help">
          {help}
        </span>
      )}
    </div>
  );
}

function SelectField<T extends string | number>({
  label,
  value,
  options,
  onChange,
  disabled,
  help,
  testId,
}: {
  label: string;
  value: T;
  options: { value: T; text: string }[];
  onChange: (v: T) => void;
  disabled?: boolean;
  help?: string;
  testId?: string;
}) {
  const id = useId();
  return (
    <div className="tr-field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={String(value)}
        disabled={disabled}
        data-testid={testId}
        aria-describedby={help ? `${id}-help` : undefined}
        onChange={(e) => {
          const o = options.find((x) => String(x.value) === e.currentTarget.value);
          if (o) onChange(o.value);
        }}
      >
        {options.map((o) => (
          <option key={String(o.value)} value={String(o.value)}>
            {o.text}
          </option>
        ))}
      </select>
      {help && (
        <span id={`${id}-help`} className="tr-field__help">
          {help}
        </span>
      )}
    </div>
  );
}

export function SettingsPanel({ state }: { state: TrainerState }) {
  const { settings, run } = state;
  const busy = run.status === 'training' || run.status === 'stopping';
  const plan = useMemo(
    () => planSplit(state),
    [
      state.classes,
      state.images,
      state.settings.valFraction,
      state.settings.seed,
      state.settings.maxTrainPerClass,
      state.settings.duplicates,
      state.settings.excludeBaseTrainedFromVal,
    ],
  ); // eslint-disable-line react-hooks/exhaustive-deps
  const check = useMemo(() => datasetCheck(state), [state.classes, state.images]); // eslint-disable-line react-hooks/exhaustive-deps
  const preparing = state.images.some((im) => im.status === 'queued');
  const blockProblem = state.base.info?.lastBlockProblem ?? null;
  // The shortcut lesson's border-only run holds the worker too (its own normal run shows as busy above).
  const { shortcut } = useLessons();
  const lessonBusy = shortcutBusy(shortcut) && shortcut.status !== 'normal';
  const canTrain = !busy && !lessonBusy && !preparing && check.errors.length === 0 && state.images.length > 0 && state.base.status !== 'error';
  const valPct = Math.round(settings.valFraction * 100);
  const epochsPlanned = plannedEpochs(settings, blockProblem === null);
  const paceSeconds = (epochsPlanned * CLASSROOM_EPOCH_MS) / 1000;
  const why = busy
    ? null
    : lessonBusy
      ? 'The shortcut lesson is training (below).'
      : state.images.length === 0
        ? 'Add images first.'
        : preparing
          ? 'Preparing images…'
          : (check.errors[0] ?? (state.base.status === 'error' ? `The network could not be loaded: ${state.base.error}` : null));

  return (
    <section className="panel" aria-labelledby="tr-settings-title" data-testid="settings-panel">
      <h2 id="tr-settings-title" className="panel__title">
        2 · Train
      </h2>
      <div className="tr-fields">
        <div className="tr-field tr-field--wide">
          <label htmlFor="tr-valfrac">
            Validation share: <strong>{valPct}%</strong>
          </label>
          <input
            id="tr-valfrac"
            type="range"
            min={0.1}
            max={0.5}
            step={0.05}
            value={settings.valFraction}
            disabled={busy}
            onChange={(e) => updateSettings({ valFraction: Number(e.currentTarget.value) })}
            aria-valuetext={`${valPct}% of each class for validation`}
            data-testid="val-fraction"
          />
          <span className="tr-field__help" data-testid="split-summary" data-train={plan.train.ids.length} data-val={plan.val.ids.length}>
            {plan.train.ids.length} to train on, {plan.val.ids.length} to validate (stratified:{' '}
            {plan.perClass.map((c) => `${c.name || '?'} ${c.train}/${c.val}`).join(', ')})
          </span>
        </div>
        <div className="tr-field tr-field--check tr-field--wide">
          <input
            id="tr-pace"
            type="checkbox"
            checked={settings.classroomPace}
            disabled={busy}
            onChange={(e) => updateSettings({ classroomPace: e.currentTarget.checked })}
            data-testid="classroom-pace"
            aria-describedby="tr-pace-help"
          />
          <label htmlFor="tr-pace">
            Classroom pace (each epoch takes at least {CLASSROOM_EPOCH_MS / 1000} s, so the curves grow where everyone can follow them)
          </label>
          <span id="tr-pace-help" className="tr-field__help" data-testid="pace-estimate" data-seconds={settings.classroomPace ? paceSeconds : ''}>
            {settings.classroomPace
              ? `About ${Math.round(paceSeconds)} s at classroom pace (${epochsPlanned} epochs × ${CLASSROOM_EPOCH_MS / 1000} s), longer if an epoch itself takes more.`
              : 'Off: epochs run as fast as this device allows.'}
          </span>
        </div>
        <div className="tr-field tr-field--wide">
          <div>
            <button type="button" onClick={applyOverfittingPreset} disabled={busy} data-testid="overfit-preset" aria-describedby="tr-overfit-help">
              Overfitting demo
            </button>
          </div>
          <span id="tr-overfit-help" className="tr-field__help" data-testid="overfit-summary">
            {settings.maxTrainPerClass > 0
              ? `Training on at most ${settings.maxTrainPerClass} images per class. `
              : 'Sets: at most 8 training images per class, 40 epochs, no early stopping, no dropout or weight decay, no augmentation, classroom pace. '}
            {settings.maxTrainPerClass > 0 && (
              <button type="button" className="tr-link" onClick={() => updateSettings({ maxTrainPerClass: 0 })} disabled={busy} data-testid="use-all-images">
                Use all images
              </button>
            )}
          </span>
        </div>
        <NumberField
          label="Seed"
          value={settings.seed}
          min={0}
          max={2 ** 31 - 1}
          integer
          disabled={busy}
          onChange={(v) => updateSettings({ seed: v })}
          help="Same seed, images and backend → same curves"
          testId="seed"
        />
        <NumberField
          label="Epochs"
          value={settings.head.epochs}
          min={1}
          max={500}
          integer
          disabled={busy}
          onChange={(v) => updateSettings({ head: { epochs: v } })}
          testId="epochs"
        />
        <SelectField
          label="Learning rate"
          value={settings.head.learningRate}
          disabled={busy}
          options={[0.0003, 0.001, 0.003, 0.01, 0.03, 0.1].map((v) => ({ value: v, text: String(v) }))}
          onChange={(v) => updateSettings({ head: { learningRate: v } })}
          testId="learning-rate"
        />
        <SelectField
          label="Batch size"
          value={settings.head.batchSize}
          disabled={busy}
          options={[8, 16, 32, 64, 128].map((v) => ({ value: v, text: String(v) }))}
          onChange={(v) => updateSettings({ head: { batchSize: v } })}
          testId="batch-size"
        />
        <SelectField
          label="Hidden units"
          value={settings.head.hiddenUnits}
          disabled={busy}
          options={[0, 16, 32, 64, 128, 256].map((v) => ({ value: v, text: v === 0 ? 'none (linear)' : String(v) }))}
          onChange={(v) => updateSettings({ head: { hiddenUnits: v } })}
          testId="hidden-units"
        />
      </div>
      <AdvancedSettings state={state} busy={busy} blockProblem={blockProblem} />
      <div className="tr-run">
        <button type="button" className="primary tr-big" onClick={() => void startTraining()} disabled={!canTrain} data-testid="train-button">
          {run.status === 'done' || run.status === 'error' ? 'Train again' : 'Train'}
        </button>
        <button type="button" className="tr-big" onClick={stopTraining} disabled={run.status !== 'training'} data-testid="stop-button">
          Stop
        </button>
        {why && <span className="muted">{why}</span>}
      </div>
      <RunStatus run={run} busy={busy} />
    </section>
  );
}

/** The Advanced settings: regularisation, class weighting, and the optional last-block stage with its augmentation preview. */
function AdvancedSettings({ state, busy, blockProblem }: { state: TrainerState; busy: boolean; blockProblem: string | null }) {
  const { settings } = state;
  return (
    <details className="tr-advanced">
      <summary>Advanced</summary>
      <div className="tr-fields">
        <NumberField
          label="Dropout"
          value={settings.head.dropout}
          min={0}
          max={0.8}
          step={0.05}
          disabled={busy}
          onChange={(v) => updateSettings({ head: { dropout: v } })}
          testId="dropout"
        />
        <SelectField
          label="Class weighting"
          value={settings.head.classWeighting}
          disabled={busy}
          options={[
            { value: 'balanced', text: 'balanced (each class counts the same)' },
            { value: 'none', text: 'none (each image counts the same)' },
          ]}
          onChange={(v) => updateSettings({ head: { classWeighting: v } })}
          testId="class-weighting"
        />
        <NumberField
          label="Early-stopping patience"
          value={settings.head.patience}
          min={0}
          max={100}
          integer
          disabled={busy}
          help="Epochs without a better validation loss before stopping (0 = never)"
          onChange={(v) => updateSettings({ head: { patience: v } })}
          testId="patience"
        />
        <div className="tr-field tr-field--check">
          <input
            id="tr-restore"
            type="checkbox"
            checked={settings.head.restoreBest}
            disabled={busy}
            onChange={(e) => updateSettings({ head: { restoreBest: e.currentTarget.checked } })}
          />
          <label htmlFor="tr-restore">Keep the best validation epoch (not the last)</label>
        </div>
        <NumberField
          label="Label smoothing"
          value={settings.head.labelSmoothing}
          min={0}
          max={0.3}
          step={0.05}
          disabled={busy}
          onChange={(v) => updateSettings({ head: { labelSmoothing: v } })}
        />
        <NumberField
          label="L2 weight decay"
          value={settings.head.l2}
          min={0}
          max={0.1}
          step="any"
          disabled={busy}
          onChange={(v) => updateSettings({ head: { l2: v } })}
        />
      </div>
      <fieldset className="tr-block" disabled={busy || blockProblem !== null}>
        <legend>Also fine-tune the last block</legend>
        <div className="tr-field tr-field--check">
          <input
            id="tr-block"
            type="checkbox"
            checked={settings.blockEnabled && !blockProblem}
            onChange={(e) => updateSettings({ blockEnabled: e.currentTarget.checked })}
            data-testid="block-enabled"
          />
          <label htmlFor="tr-block">
            After the head, unfreeze the last convolution block and train it on augmented images (slower; for more images and more time).
          </label>
        </div>
        {blockProblem && <p className="muted">Not available for this network: {blockProblem}.</p>}
        {!blockProblem && <AugmentPreview state={state} enabled={settings.blockEnabled} disabled={busy} />}
        {settings.blockEnabled && !blockProblem && (
          <div className="tr-fields">
            <NumberField
              label="Block epochs"
              value={settings.block.epochs}
              min={1}
              max={100}
              integer
              onChange={(v) => updateSettings({ block: { epochs: v } })}
              testId="block-epochs"
            />
            <SelectField
              label="Block learning rate"
              value={settings.block.learningRate}
              options={[0.00003, 0.0001, 0.0003, 0.001].map((v) => ({ value: v, text: String(v) }))}
              onChange={(v) => updateSettings({ block: { learningRate: v } })}
            />
            <SelectField
              label="Block batch size"
              value={settings.block.batchSize}
              options={[8, 16, 32].map((v) => ({ value: v, text: String(v) }))}
              onChange={(v) => updateSettings({ block: { batchSize: v } })}
            />
          </div>
        )}
      </fieldset>
      <button type="button" onClick={resetSettings} disabled={busy}>
        Reset settings to defaults
      </button>
    </details>
  );
}

/** What the run is doing (stage, epoch, progress), how it ended, and what the trained model carries. */
function RunStatus({ run, busy }: { run: TrainerState['run']; busy: boolean }) {
  const last = run.history[run.history.length - 1];
  if (!(busy || run.status === 'done' || run.status === 'error')) return null;
  return (
    <div className="tr-status" data-testid="run-status" data-status={run.status} data-epochs={run.history.length} aria-live="polite">
      {busy && (
        <>
          <p>
            {run.status === 'stopping'
              ? 'Stopping after the current batch…'
              : run.stage === 'block-prepare'
                ? `Preparing the last-block stage: ${run.stageDetail ?? ''}`
                : run.stage === 'compose'
                  ? 'Assembling the model…'
                  : run.stage === 'calibrate'
                    ? `Fitting the calibration, the ${OPERATING_POINT_CLASS} operating point and the "Not a chest X-ray?" check: ${run.stageDetail ?? ''}…`
                    : `Epoch ${last ? last.epoch + 1 : 1} of up to ${run.plannedEpochs}${run.stage === 'block' ? ' (last block)' : ''}`}
          </p>
          <ProgressBar value={run.plannedEpochs ? run.history.length / run.plannedEpochs : null} label="Training progress" />
        </>
      )}
      {run.status === 'done' && run.result && (
        <p data-testid="run-summary">
          {run.result.stopReason === 'stopped'
            ? 'Stopped'
            : run.result.stopReason === 'early-stopped'
              ? 'Stopped early (no better validation loss)'
              : 'Finished'}{' '}
          after {run.history.length} epoch{run.history.length === 1 ? '' : 's'} in {(run.result.timings.totalMs / 1000).toFixed(1)} s.{' '}
          {run.result.keptEpoch > 0 ? `Kept the weights of epoch ${run.result.keptEpoch}.` : 'No epoch finished: the model has its initial head.'}
          {run.result.blockTuned && ' The last block was fine-tuned.'} Backend: {run.result.memory.backend}.
        </p>
      )}
      {run.status === 'done' && run.result && <TrustSummary metadata={run.result.metadata} />}
      {run.status === 'error' && (
        <p role="alert" className="error-text">
          Training failed: {run.error}
        </p>
      )}
    </div>
  );
}

/** What the trained model carries besides its weights (the Model card shows the same, in full). */
function TrustSummary({ metadata }: { metadata: ModelMetadata }) {
  const t = metadata.trust;
  const op = t?.covidThreshold;
  const f = t?.ood?.fit;
  return (
    <p data-testid="run-trust">
      {t?.temperatureFit
        ? `Calibrated on the ${t.temperatureFit.valImages} validation images (temperature ${t.temperature.toFixed(2)}). `
        : 'No validation images: not calibrated. '}
      {op
        ? `${OPERATING_POINT_CLASS[0].toUpperCase()}${OPERATING_POINT_CLASS.slice(1)} operating point: threshold ${op.threshold.toFixed(4)} (validation sensitivity ${op.valSensitivity.toFixed(2)} on ${op.valPositives ?? '—'} ${OPERATING_POINT_CLASS} images). `
        : `No ${OPERATING_POINT_CLASS} operating point (no class named "${OPERATING_POINT_CLASS}", or no ${OPERATING_POINT_CLASS} validation image). `}
      {t?.ood
        ? `"Not a chest X-ray?" check refitted on these images${typeof f?.flaggedBeforeRefit === 'number' ? ` (the shipped check would have withheld ${f.flaggedBeforeRefit} of them)` : ''}.`
        : 'No "Not a chest X-ray?" check.'}
    </p>
  );
}
