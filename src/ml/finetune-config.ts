// Fine-tuning settings and per-epoch logs: plain data, no tfjs, so the Train page's UI can import
// them without pulling TensorFlow.js into its bundle (src/ml/finetune/index.ts re-exports them).

export interface HeadConfig {
  /** Units of the hidden ReLU layer; 0 = a linear head (softmax regression on the embedding). */
  hiddenUnits: number;
  /** Dropout rate before each dense layer (0 = off). */
  dropout: number;
  /** Adam learning rate of the head. */
  learningRate: number;
  /** Maximum number of head epochs. */
  epochs: number;
  batchSize: number;
  /** 'balanced': every class weighs the same in the loss, whatever its number of images. */
  classWeighting: 'none' | 'balanced';
  /** Early stopping: stop after this many epochs without a better validation loss (0 = off). */
  patience: number;
  /** Keep the weights of the best validation epoch when training ends by itself (or stops early). */
  restoreBest: boolean;
  labelSmoothing: number;
  /** L2 penalty on the dense kernels. */
  l2: number;
  seed: number;
}

export const DEFAULT_HEAD_CONFIG: HeadConfig = {
  hiddenUnits: 64,
  dropout: 0.3,
  learningRate: 0.003,
  epochs: 30,
  batchSize: 32,
  classWeighting: 'balanced',
  patience: 8,
  restoreBest: true,
  labelSmoothing: 0,
  l2: 1e-4,
  seed: 42,
};

export interface BlockConfig {
  /** Epochs of last-block fine-tuning after the head (0 = off). */
  epochs: number;
  /** Adam learning rate for the block and the head in this stage. */
  learningRate: number;
  batchSize: number;
}

export const DEFAULT_BLOCK_CONFIG: BlockConfig = { epochs: 5, learningRate: 3e-4, batchSize: 16 };

export interface EpochLog {
  /** 1-based, counting on across the head and block stages. */
  epoch: number;
  stage: 'head' | 'block';
  /** Mean cross-entropy over the epoch's batches (with dropout, no class weights, no smoothing). */
  trainLoss: number;
  trainAcc: number;
  /** Null when there is no validation set. */
  valLoss: number | null;
  valAcc: number | null;
  seconds: number;
}

export type StopReason = 'completed' | 'early-stopped' | 'stopped';
