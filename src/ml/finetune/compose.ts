// Composing the fine-tuned model (standardisation folded in) and exporting its files. Part of src/ml/finetune (index.ts describes the two stages).
import * as tf from '../tf';
import type { ModelMetadata } from '../../core/metadata';
import { serializeModel } from '../io';
import { modelCardMarkdown } from '../../core/model-card';
import type { MetricsReport } from '../../core/report';
import type { DenseWeights, HeadWeights } from './types';

/** Folds the standardisation into the first dense layer: ((x−μ)/σ)W + b = x(W/σ) + (b − (μ/σ)W). */
export function foldStandardisation(first: DenseWeights, mean: Float32Array, std: Float32Array): DenseWeights {
  const { inDim, outDim } = first;
  const kernel = new Float32Array(inDim * outDim);
  const bias = Float64Array.from(first.bias);
  for (let i = 0; i < inDim; i++) {
    const inv = 1 / std[i];
    for (let j = 0; j < outDim; j++) {
      const w = first.kernel[i * outDim + j] * inv;
      kernel[i * outDim + j] = w;
      bias[j] -= mean[i] * w;
    }
  }
  return { kernel, bias: Float32Array.from(bias), inDim, outDim };
}

export interface ComposeOptions {
  classNames: string[];
  name: string;
  version?: string;
  /** Last-block weights from trainLastBlock (applied to the exported copy). */
  block?: { convName: string; weights: Float32Array[] };
  /** Recorded in metadata.training. */
  training?: ModelMetadata['training'];
  notes?: string[];
}

export const FINETUNE_LAYERS = { hidden: 'ft_hidden', logits: 'logits', probs: 'probs' } as const;

/**
 * The full fine-tuned model: the backbone up to its embedding layer + the head (standardisation
 * folded in) + softmax, as an independent LayersModel (its own weights; the backbone is untouched),
 * with metadata carrying the new class names and the backbone's preprocessing.
 */
export async function composeModel(
  backbone: tf.LayersModel,
  baseMetadata: ModelMetadata,
  head: HeadWeights,
  opts: ComposeOptions,
): Promise<{ model: tf.LayersModel; metadata: ModelMetadata }> {
  if (opts.classNames.length !== head.numClasses)
    throw new Error(`composeModel: ${opts.classNames.length} class names for a head with ${head.numClasses} outputs`);
  const emb = backbone.getLayer(baseMetadata.layers.embedding).output as tf.SymbolicTensor;
  const first = head.hidden ?? head.logits;
  const folded = foldStandardisation(first, head.mean, head.std);
  const denses: { layer: tf.layers.Layer; w: DenseWeights }[] = [];
  let x = emb;
  if (head.hidden) {
    const layer = tf.layers.dense({ units: head.hidden.outDim, activation: 'relu', name: FINETUNE_LAYERS.hidden });
    x = layer.apply(x) as tf.SymbolicTensor;
    denses.push({ layer, w: folded });
  }
  const logitsLayer = tf.layers.dense({ units: head.numClasses, name: FINETUNE_LAYERS.logits });
  x = logitsLayer.apply(x) as tf.SymbolicTensor;
  denses.push({ layer: logitsLayer, w: head.hidden ? head.logits : folded });
  const probsLayer = tf.layers.activation({ activation: 'softmax', name: FINETUNE_LAYERS.probs });
  const probs = probsLayer.apply(x) as tf.SymbolicTensor;
  const temp = tf.model({ inputs: backbone.inputs, outputs: probs, name: 'cxrnet_finetuned' });
  let artifacts: tf.io.ModelArtifacts | undefined;
  try {
    for (const { layer, w } of denses) setWeightsFrom(layer, [w.kernel, w.bias]);
    await temp.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  } finally {
    // Only the new layers belong to us; the backbone's layers stay alive.
    for (const l of [...denses.map((d) => d.layer), probsLayer]) {
      try {
        l.dispose();
      } catch {
        /* never built */
      }
    }
  }
  if (!artifacts) throw new Error('composeModel: the model could not be saved');
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  if (opts.block) {
    setWeightsFrom(model.getLayer(opts.block.convName), opts.block.weights);
  }
  const metadata: ModelMetadata = {
    name: opts.name,
    version: opts.version ?? new Date().toISOString().slice(0, 19).replace(/[-:T]/g, ''),
    task: `${opts.classNames.join(' / ')}: fine-tuned in the browser from ${baseMetadata.name} (${baseMetadata.version}). Research and education only; not for clinical use.`,
    classNames: [...opts.classNames],
    input: baseMetadata.input,
    preprocessing: { ...baseMetadata.preprocessing },
    layers: { embedding: baseMetadata.layers.embedding, lastConv: baseMetadata.layers.lastConv, logits: FINETUNE_LAYERS.logits },
    uncertainBelow: baseMetadata.uncertainBelow,
    trust: { temperature: 1 },
    training: opts.training,
    notes: [
      `Backbone: ${baseMetadata.name} (${baseMetadata.version}) up to its embedding layer${opts.block ? ', last block fine-tuned' : ', frozen'}; new head trained in the browser (CXR Lab Train page).`,
      ...(opts.notes ?? []),
    ],
  };
  return { model, metadata };
}

/** Sets a layer's weights from plain arrays (shapes taken from the layer); no tensor is left behind. */
function setWeightsFrom(layer: tf.layers.Layer, values: Float32Array[]): void {
  const shapes = layer.getWeights().map((w) => w.shape);
  if (shapes.length !== values.length) throw new Error(`layer ${layer.name} has ${shapes.length} weights, got ${values.length}`);
  const tensors = values.map((v, i) => tf.tensor(v, shapes[i]));
  try {
    layer.setWeights(tensors); // copies the values
  } finally {
    tf.dispose(tensors);
  }
}

export type ExportedFileName = 'model.json' | 'weights.bin' | 'metadata.json' | 'metrics.json' | 'model-card.md';

/**
 * model.json + weights.bin + metadata.json of a composed model (float32 weights: exact predictions),
 * and, given the validation report (src/ml/finetune-trust.ts), its metrics.json and model-card.md:
 * the Model card travels with the weights.
 */
export async function exportModelFiles(
  model: tf.LayersModel,
  metadata: ModelMetadata,
  metrics: (Record<string, unknown> & Partial<MetricsReport>) | null = null,
): Promise<Partial<Record<ExportedFileName, Uint8Array>> & Record<'model.json' | 'weights.bin' | 'metadata.json', Uint8Array>> {
  const { modelJson, weights } = await serializeModel(model, 'none', 'weights.bin');
  const enc = new TextEncoder();
  return {
    'model.json': enc.encode(modelJson),
    'weights.bin': weights,
    'metadata.json': enc.encode(JSON.stringify(metadata, null, 2) + '\n'),
    ...(metrics ? { 'metrics.json': enc.encode(JSON.stringify(metrics) + '\n') } : {}),
    'model-card.md': enc.encode(modelCardMarkdown(metadata, metrics && Array.isArray(metrics.confusionMatrix) ? (metrics as MetricsReport) : null)),
  };
}
