// A loaded classifier: model + metadata + a view of the model that exposes logits and the embedding,
// so one forward pass gives calibrated probabilities, raw logits (for calibration and Grad-CAM class
// scores) and the pooled features (for fine-tuning and out-of-distribution scoring).
import * as tf from '@tensorflow/tfjs';
import type { ModelMetadata } from '../core/metadata';

export interface Prediction {
  /** Calibrated probabilities (softmax(logits / temperature)), in metadata.classNames order. */
  probabilities: number[];
  logits: number[];
  label: string;
  /** Top probability is below metadata.uncertainBelow. */
  uncertain: boolean;
}

export interface BatchOutput {
  predictions: Prediction[];
  embeddings: Float32Array[];
}

export class Classifier {
  readonly inputSize: number;
  private readonly heads: tf.LayersModel;

  constructor(
    readonly model: tf.LayersModel,
    readonly metadata: ModelMetadata,
  ) {
    this.inputSize = metadata.preprocessing.inputSize;
    this.heads = tf.model({
      inputs: model.inputs,
      outputs: [model.getLayer(metadata.layers.logits).output as tf.SymbolicTensor, model.getLayer(metadata.layers.embedding).output as tf.SymbolicTensor],
    });
  }

  get classNames(): string[] {
    return this.metadata.classNames;
  }

  get temperature(): number {
    return this.metadata.trust?.temperature ?? 1;
  }

  /** Stacks preprocessed inputs into an NHWC batch tensor (caller disposes). */
  toBatch(inputs: Float32Array[]): tf.Tensor4D {
    const s = this.inputSize;
    const flat = new Float32Array(inputs.length * s * s);
    inputs.forEach((x, i) => {
      if (x.length !== s * s) throw new Error(`input ${i} has ${x.length} values, expected ${s * s}`);
      flat.set(x, i * s * s);
    });
    return tf.tensor4d(flat, [inputs.length, s, s, 1]);
  }

  /** Runs the model on preprocessed inputs. Every intermediate tensor is disposed. */
  async predict(inputs: Float32Array[]): Promise<BatchOutput> {
    if (inputs.length === 0) return { predictions: [], embeddings: [] };
    const [logitsT, embT] = tf.tidy(() => {
      const x = this.toBatch(inputs);
      return this.heads.predict(x) as tf.Tensor[];
    });
    const [logitData, embData] = await Promise.all([logitsT.data() as Promise<Float32Array>, embT.data() as Promise<Float32Array>]);
    logitsT.dispose();
    embT.dispose();
    const k = this.classNames.length;
    const d = embData.length / inputs.length;
    const predictions: Prediction[] = [];
    const embeddings: Float32Array[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const logits = Array.from(logitData.subarray(i * k, (i + 1) * k));
      predictions.push(this.describe(logits));
      embeddings.push(embData.slice(i * d, (i + 1) * d));
    }
    return { predictions, embeddings };
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
