// The trust numbers of a fine-tuned model, fitted the same way as the shipped model's: the
// out-of-distribution gate (the base network's, refitted on the fine-tuning images: refitOodStats),
// the softmax temperature and the covid operating point on the validation split (fitCalibration),
// and the validation report that becomes the model's metrics.json (buildMetricsReport). Works on the
// composed model exactly as the Classify page will run it, so the numbers describe the exported model.
import * as tf from './tf';
import { stackInputs } from './batch';
import type { ModelMetadata, TrustSpec } from '../core/metadata';
import { OodScorer, pixelVector, refitOodStats, type ImageFeatures, type OodSamples, type OodStats } from '../core/ood';
import { fitCalibration, OPERATING_POINT_CLASS } from '../core/operating-point';
import { buildMetricsReport, type MetricsReport } from '../core/report';

/** Lower bound of a fine-tuned model's softmax temperature (see fitFinetuneTrust). */
export const FINETUNE_MIN_TEMPERATURE = 1;

/** One fine-tuning image as the gate sees it: the model input and the decoded image's features. */
export interface TrustImage {
  input: Float32Array;
  /** imageFeaturesFrom(…, base gate's layoutTemplate) of the decoded image (src/image/features.ts analyseDecoded). */
  features: ImageFeatures;
  label: number;
}

export interface TrustFitInput {
  /** The composed fine-tuned model and its metadata (classNames, layers). */
  model: tf.LayersModel;
  metadata: ModelMetadata;
  /** The base network's gate (its trust.ood); without one the model gets no gate. */
  baseOod: OodStats | undefined;
  trainCount: number;
  valCount: number;
  /** The i-th training / validation image (decoded on demand, so that only a batch is held at once). */
  trainImage: (i: number) => Promise<TrustImage>;
  valImage: (i: number) => Promise<TrustImage>;
  /** Called after each batch with the number of images done (of trainCount + valCount). */
  onProgress?: (done: number) => void;
  /** Polled between batches; true stops the fit (an error is thrown). */
  shouldStop?: () => boolean;
  batchSize?: number;
  date?: string;
}

export interface TrustFit {
  trust: TrustSpec;
  /** Validation report of the calibrated model; null without validation images. */
  report: MetricsReport | null;
  /** metrics.json of the fine-tuned model: `meta` (split 'val', sizes) + the report + the gate's val rate. */
  metrics: Record<string, unknown> | null;
  /** Validation images the fitted gate withholds (0 unless a fixed colour check fires). */
  valWithheld: number;
}

interface Collected {
  samples: OodSamples;
  logits: number[][];
}

/**
 * Runs `view` (outputs: [logits?, gate layer?]) on `count` images in batches and collects what the
 * fits need. `withLogits`: the view's first output is the logits.
 */
async function collect(
  input: TrustFitInput,
  view: tf.LayersModel,
  withLogits: boolean,
  hasOod: boolean,
  count: number,
  get: (i: number) => Promise<TrustImage>,
  offset: number,
): Promise<Collected> {
  const size = input.metadata.preprocessing.inputSize;
  const pixelSize = input.baseOod?.pixels?.size ?? 0;
  const k = input.metadata.classNames.length;
  const out: Collected = { samples: { embeddings: [], pixels: pixelSize ? [] : undefined, features: [], labels: [] }, logits: [] };
  const batchSize = Math.max(1, input.batchSize ?? 16);
  for (let i = 0; i < count; i += batchSize) {
    if (input.shouldStop?.()) throw new Error('stopped while fitting the trust numbers');
    const batch: TrustImage[] = [];
    for (let j = i; j < Math.min(count, i + batchSize); j++) batch.push(await get(j));
    const outs = tf.tidy(() => {
      const o = view.predict(
        stackInputs(
          batch.map((b) => b.input),
          size,
        ),
      );
      const list = Array.isArray(o) ? o : [o];
      // A conv map is average-pooled, as the Classifier does for the gate's layer.
      return list.map((t) => (t.rank === 4 ? tf.mean(t, [1, 2]) : t));
    });
    const data = (await Promise.all(outs.map((t) => t.data()))) as Float32Array[];
    tf.dispose(outs);
    const logitData = withLogits ? data[0] : null;
    const oodData = hasOod ? data[withLogits ? 1 : 0] : null;
    const d = oodData ? oodData.length / batch.length : 0;
    batch.forEach((b, j) => {
      if (logitData) out.logits.push(Array.from(logitData.subarray(j * k, (j + 1) * k)));
      out.samples.labels.push(b.label);
      out.samples.features.push(b.features);
      if (oodData) out.samples.embeddings.push(oodData.slice(j * d, (j + 1) * d));
      if (pixelSize) out.samples.pixels!.push(pixelVector(b.input, pixelSize));
    });
    input.onProgress?.(offset + Math.min(count, i + batchSize));
  }
  return out;
}

/**
 * Fits the fine-tuned model's trust numbers (see the file header). Without validation images there
 * is nothing to fit the temperature and the operating point on: the model keeps temperature 1, no
 * operating point and no report (the gate is still refitted). No tensor outlives the call.
 */
export async function fitFinetuneTrust(input: TrustFitInput): Promise<TrustFit> {
  const { model, metadata } = input;
  const oodLayer = input.baseOod?.embedding.layer;
  const hasOod = !!oodLayer && model.layers.some((l) => l.name === oodLayer);
  // Views sharing the model's layers (never disposed: that would free the model's weights). The
  // training images only feed the gate, whose layer comes early: they need not run the whole network.
  const logits = model.getLayer(metadata.layers.logits).output as tf.SymbolicTensor;
  const gate = hasOod ? (model.getLayer(oodLayer!).output as tf.SymbolicTensor) : null;
  const valView = tf.model({ inputs: model.inputs, outputs: gate ? [logits, gate] : [logits], name: 'trust_val_view' });
  const trainView = gate ? tf.model({ inputs: model.inputs, outputs: gate, name: 'trust_gate_view' }) : null;
  const train = trainView ? await collect(input, trainView, false, true, input.trainCount, input.trainImage, 0) : null;
  const val = await collect(input, valView, true, hasOod, input.valCount, input.valImage, input.trainCount);

  const classNames = metadata.classNames;
  const ood = hasOod && train ? refitOodStats(input.baseOod!, train.samples, val.samples, classNames.length, { date: input.date }) : undefined;
  const scorer = ood ? new OodScorer(ood) : null;
  const v = val.samples;
  const valWithheld = scorer ? v.embeddings.filter((e, i) => scorer.scoreWith(e, v.features[i], v.pixels?.[i]).flagged).length : 0;
  if (input.valCount === 0) return { trust: { temperature: 1, ...(ood ? { ood } : {}) }, report: null, metrics: null, valWithheld };

  // Never sharper than the head itself: a small validation split that happens to be perfectly
  // separated drives temperature scaling to its lower bound (every answer near 100 %), and a few
  // dozen images cannot show that a model is under-confident. So a fine-tuned model's temperature
  // only softens (T ≥ 1); the shipped model's, fitted on 1,000+ validation films, may sharpen.
  const calibration = fitCalibration(val.logits, v.labels, classNames, { minTemperature: FINETUNE_MIN_TEMPERATURE });
  const op = calibration.covidThreshold;
  const trust: TrustSpec = {
    temperature: calibration.temperature,
    temperatureFit: calibration.temperatureFit,
    ...(op ? { covidThreshold: op } : {}),
    ...(ood ? { ood } : {}),
  };
  const report = buildMetricsReport({
    classNames,
    labels: v.labels,
    probabilities: calibration.calibrated,
    logits: val.logits,
    temperature: calibration.temperature,
    operatingPoint: op
      ? {
          className: OPERATING_POINT_CLASS,
          threshold: op.threshold,
          source: 'metadata.trust.covidThreshold (fitted on this validation split)',
          targetSensitivity: op.targetSensitivity,
          valSensitivity: op.valSensitivity,
          valSpecificity: op.valSpecificity,
        }
      : null,
  });
  const metrics = {
    meta: {
      tool: 'CXR Lab Train page (src/ml/finetune-trust.ts)',
      date: input.date ?? null,
      split: 'val',
      model: { name: metadata.name, version: metadata.version, temperature: calibration.temperature, covidThreshold: op?.threshold ?? null },
      data: { trainImages: input.trainCount, valImages: input.valCount },
      note: 'The validation split also chose the kept epoch, the temperature and the operating point, so these figures are optimistic.',
    },
    ...report,
    ood: scorer ? { flagged: valWithheld, n: input.valCount, rate: valWithheld / input.valCount } : null,
  };
  return { trust, report, metrics, valWithheld };
}
