// A loaded classifier: model + metadata + a view of the model that exposes logits and the embedding,
// so one forward pass gives calibrated probabilities, raw logits (for calibration and Grad-CAM class
// scores) and the pooled features (for fine-tuning and out-of-distribution scoring).
import * as tf from './tf';
import type { ModelMetadata } from '../core/metadata';
import { OodScorer, withHeaderReasons, type ImageFeatures, type OodResult } from '../core/ood';
import type { DicomMeta } from '../core/dicom-meta';
import { loadModelFiles, type FileReader } from './io';
import { stackInputs } from './batch';

export interface Prediction {
  /** Calibrated probabilities (softmax(logits / temperature)), in metadata.classNames order. */
  probabilities: number[];
  logits: number[];
  label: string;
  /** Top probability is below metadata.uncertainBelow. */
  uncertain: boolean;
  /**
   * Out-of-distribution verdict ("is this a frontal chest X-ray like the training data?"), present
   * whenever the model's metadata has trust.ood. This is THE place the OOD flag lives: the browser
   * result carries it as `ClassifyResult.prediction.ood`, `npm run predict -- --json` as "ood".
   * Image checks are included when the caller passed the decoded image's features (the worker and
   * the CLIs do); otherwise only the embedding distance is checked. A flagged image should not be
   * shown with a confident class.
   */
  ood?: OodResult;
}

export interface PredictOptions {
  /** Per input: features of the decoded image (src/image/features.ts analyseDecoded / imageFeatures). */
  features?: (ImageFeatures | undefined)[];
  /**
   * Per input: the DICOM header facts (DecodedImage.dicom). A lateral view, a non-chest body part or
   * a non-radiograph modality joins the OOD verdict as a reason (withheld), with or without trust.ood.
   */
  dicom?: (DicomMeta | undefined)[];
}

export interface BatchOutput {
  predictions: Prediction[];
  embeddings: Float32Array[];
}

export class Classifier {
  readonly inputSize: number;
  /** The OOD detector from metadata.trust.ood, or null when the metadata has none. */
  readonly ood: OodScorer | null;
  private readonly heads: tf.LayersModel;
  /** Index of the OOD layer's output in `heads` (1 = the embedding itself). */
  private readonly oodOutput: number;

  /**
   * Loads a model folder through `read` (model.json, weight shards, metadata.json; ModelLoadError with
   * the reason when something is missing or wrong) and wraps it: the one way every caller loads one.
   */
  static async load(read: FileReader, onProgress?: (fraction: number) => void): Promise<Classifier> {
    const { model, metadata } = await loadModelFiles(read, onProgress);
    return new Classifier(model, metadata);
  }

  constructor(
    readonly model: tf.LayersModel,
    readonly metadata: ModelMetadata,
  ) {
    this.inputSize = metadata.preprocessing.inputSize;
    this.ood = metadata.trust?.ood ? new OodScorer(metadata.trust.ood) : null;
    const outputs = [model.getLayer(metadata.layers.logits).output as tf.SymbolicTensor, model.getLayer(metadata.layers.embedding).output as tf.SymbolicTensor];
    this.oodOutput = 1;
    const oodLayer = this.ood?.stats.embedding.layer;
    if (oodLayer && oodLayer !== metadata.layers.embedding) {
      // Another layer's output (a conv map is average-pooled in predict()).
      outputs.push(model.getLayer(oodLayer).output as tf.SymbolicTensor);
      this.oodOutput = 2;
    }
    this.heads = tf.model({ inputs: model.inputs, outputs });
  }

  get classNames(): string[] {
    return this.metadata.classNames;
  }

  get temperature(): number {
    return this.metadata.trust?.temperature ?? 1;
  }

  /** Stacks preprocessed inputs into an NHWC batch tensor (caller disposes). */
  toBatch(inputs: Float32Array[]): tf.Tensor4D {
    return stackInputs(inputs, this.inputSize);
  }

  /**
   * Runs the model on preprocessed inputs. Every intermediate tensor is disposed. With trust.ood in
   * the metadata each prediction carries `ood` (image checks only for inputs with `options.features`).
   */
  async predict(inputs: Float32Array[], options: PredictOptions = {}): Promise<BatchOutput> {
    if (inputs.length === 0) return { predictions: [], embeddings: [] };
    if (options.features && options.features.length !== inputs.length)
      throw new Error(`predict: ${options.features.length} feature sets for ${inputs.length} inputs`);
    const outs = tf.tidy(() => {
      const x = this.toBatch(inputs);
      const o = this.heads.predict(x) as tf.Tensor[];
      // A 4-D OOD layer (conv map) is global-average-pooled like the embedding.
      if (o.length > 2 && o[2].rank === 4) o[2] = tf.mean(o[2], [1, 2]);
      return o;
    });
    const data = (await Promise.all(outs.map((t) => t.data()))) as Float32Array[];
    outs.forEach((t) => t.dispose());
    const [logitData, embData] = data;
    const oodData = data[this.oodOutput];
    const k = this.classNames.length;
    const d = embData.length / inputs.length;
    const od = oodData.length / inputs.length;
    const predictions: Prediction[] = [];
    const embeddings: Float32Array[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const logits = Array.from(logitData.subarray(i * k, (i + 1) * k));
      const prediction = this.describe(logits);
      if (this.ood) prediction.ood = this.ood.score(oodData.subarray(i * od, (i + 1) * od), options.features?.[i], inputs[i]);
      const headerOod = withHeaderReasons(prediction.ood, options.dicom?.[i]?.headerReasons ?? []);
      if (headerOod) prediction.ood = headerOod;
      predictions.push(prediction);
      embeddings.push(embData.slice(i * d, (i + 1) * d));
    }
    return { predictions, embeddings };
  }

  /** trust.ood.layoutTemplate, for computing image features (src/image/features.ts). */
  get layoutTemplate(): number[] | undefined {
    return this.ood?.stats.layoutTemplate;
  }

  /** Turns logits into the user-facing prediction (temperature, label, uncertainty). */
  describe(logits: number[]): Prediction {
    const t = this.temperature;
    const m = Math.max(...logits.map((v) => v / t));
    const e = logits.map((v) => Math.exp(v / t - m));
    const sum = e.reduce((a, b) => a + b, 0);
    const probabilities = e.map((v) => v / sum);
    let best = 0;
    for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[best]) best = i;
    return {
      probabilities,
      logits,
      label: this.classNames[best],
      uncertain: probabilities[best] < this.metadata.uncertainBelow,
    };
  }

  dispose(): void {
    this.model.dispose();
  }
}
