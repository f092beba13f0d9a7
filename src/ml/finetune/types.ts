// Shared shapes of fine-tuning: trained weights as plain arrays, outcomes, loop hooks. Part of src/ml/finetune (index.ts describes the two stages).
import type { EpochLog, StopReason } from '../finetune-config';

export interface DenseWeights {
  kernel: Float32Array;
  bias: Float32Array;
  inDim: number;
  outDim: number;
}

/** A trained head as plain arrays (no tensors: nothing to dispose, cheap to post between threads). */
export interface HeadWeights {
  dim: number;
  numClasses: number;
  /** Standardisation of the embedding, folded into the first dense layer on export. */
  mean: Float32Array;
  std: Float32Array;
  hidden: DenseWeights | null;
  logits: DenseWeights;
}

export interface TrainOutcome {
  head: HeadWeights;
  history: EpochLog[];
  /** Epoch whose weights are kept (0: stopped before any epoch finished: the initial weights). */
  keptEpoch: number;
  stopReason: StopReason;
  /** Validation probabilities of the kept weights (nVal × numClasses), or null without validation. */
  valProbs: Float32Array | null;
}

export interface BlockOutcome extends TrainOutcome {
  /** Fine-tuned last-block weights, in the conv layer's getWeights() order (kernel[, bias]). */
  blockWeights: Float32Array[];
}

export interface LoopHooks {
  /** Called after every finished epoch. Awaited (the worker posts the update here). */
  onEpoch?: (log: EpochLog, valProbs: Float32Array | null) => void | Promise<void>;
  /** Polled between batches; true = stop now and keep the last finished epoch. */
  shouldStop?: () => boolean;
  /** Lets the host process messages (e.g. a Stop click) now and then; awaited between batches. */
  yieldNow?: () => Promise<void>;
}
