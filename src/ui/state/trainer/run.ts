import type { TrainResult, TrainRun } from '../../../worker/train-protocol';
import { type HeadConfig } from '../../../ml/finetune-config';
import { CLASSROOM_EPOCH_MS, idleRun, trainerStore, set } from './store';
import { commitEpochs, getClient, setLastTrainRun, ensureBase } from './worker';
import { planSplit, datasetCheck } from './derived';

/** Starts a run with the current data and settings. Resolves when it ends (stopped runs included). */
export async function startTraining(): Promise<TrainResult | null> {
  const s = trainerStore.get();
  if (s.run.status === 'training' || s.run.status === 'stopping') return null;
  const check = datasetCheck(s);
  if (check.errors.length) {
    set((st) => ({ ...st, message: { kind: 'error', text: check.errors[0] } }));
    return null;
  }
  if (s.images.some((im) => im.status === 'queued')) {
    set((st) => ({ ...st, message: { kind: 'error', text: 'Wait until every image is prepared.' } }));
    return null;
  }
  const info = await ensureBase();
  const plan = planSplit(s);
  const { settings } = s;
  const head: HeadConfig = { ...settings.head, seed: settings.seed };
  const block = settings.blockEnabled && !info.lastBlockProblem ? settings.block : null;
  const run: TrainRun = {
    classNames: plan.classNames,
    train: plan.train,
    val: plan.val,
    head,
    block,
    modelName: `${plan.classNames.join(' / ')} (fine-tuned)`,
    notes: {
      valFraction: settings.valFraction,
      splitSeed: settings.seed,
      ...(settings.maxTrainPerClass > 0 ? { maxTrainPerClass: settings.maxTrainPerClass } : {}),
      ...(plan.copies.sets
        ? { copySets: plan.copies.sets, copies: settings.duplicates === 'remove' ? `${plan.copies.removed} extra copies removed` : 'kept together' }
        : {}),
      ...(settings.excludeBaseTrainedFromVal ? { baseTrainedOutOfValidation: 'yes' } : {}),
    },
    minEpochMs: settings.classroomPace ? CLASSROOM_EPOCH_MS : 0,
  };
  const runId = s.run.runId + 1;
  set((st) => ({
    ...st,
    message: null,
    previews: [],
    run: {
      ...idleRun,
      runId,
      status: 'training',
      stage: 'head',
      classNames: plan.classNames,
      trainCount: plan.train.ids.length,
      valIds: plan.val.ids,
      valLabels: plan.val.labels,
      plannedEpochs: head.epochs + (block ? block.epochs : 0),
      startedAt: performance.now(),
    },
  }));
  try {
    const result = await getClient().train(run);
    setLastTrainRun({ runId, run });
    commitEpochs();
    set((st) => ({
      ...st,
      run: {
        ...st.run,
        status: 'done',
        stage: null,
        result,
        history: result.history,
        valProbs: result.valProbs,
        probsEpoch: result.keptEpoch,
        finishedAt: performance.now(),
        memory: result.memory,
      },
    }));
    return result;
  } catch (e) {
    commitEpochs();
    set((st) => ({ ...st, run: { ...st.run, status: 'error', stage: null, error: (e as Error).message, finishedAt: performance.now() } }));
    return null;
  }
}

export function stopTraining(): void {
  const s = trainerStore.get();
  if (s.run.status !== 'training') return;
  set((st) => ({ ...st, run: { ...st.run, status: 'stopping' } }));
  void getClient().stop();
}
