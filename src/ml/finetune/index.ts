// Fine-tuning the shipped classifier on new labelled images, platform-neutral (Node tests, the
// browser's training worker). Two stages, both with a hand-written training loop so that every source
// of randomness (initialisation, shuffling, dropout masks, augmentation) comes from the seeded RNG
// and the same seed, data and backend give the same curves:
//
// 1. Head: the backbone's embedding (global-average-pooled features) is frozen and computed once per
//    image; a small head (optional hidden layer + dropout + logits) is trained on those vectors.
//    Inputs are standardised with the training set's mean/std; the standardisation is folded into the
//    first dense layer when the full model is composed, so the exported model takes images as before.
// 2. Optional last block: the last conv (+ its BatchNorm, kept in inference mode, and ReLU) is
//    unfrozen and trained together with the head on augmented images, at a lower learning rate.
//
// Early stopping watches the validation loss (patience); a stop signal is honoured between batches,
// and the weights always come from a finished epoch. Per-epoch callbacks get train/val loss and
// accuracy and the validation probabilities. Everything is disposed: tf.memory().numTensors is flat.
//
// The modules, in the order a run uses them: types, embedder (stage 1 input), helpers, head-vars,
// loop (shared by both stages), head (stage 1), last-block (stage 2), compose (export).
export { DEFAULT_BLOCK_CONFIG, DEFAULT_HEAD_CONFIG } from '../finetune-config';
export type { BlockConfig, EpochLog, HeadConfig, StopReason } from '../finetune-config';
export type { DenseWeights, HeadWeights, TrainOutcome, BlockOutcome, LoopHooks } from './types';
export type { Embedder } from './embedder';
export { embeddingModel, embed, createEmbedder } from './embedder';
export { classWeights, standardisation, macrotask } from './helpers';
export { initHead } from './head-vars';
export type { EmbeddingData, TrainHeadOptions } from './head';
export { trainHead, predictHead } from './head';
export type { LastBlock, TrainBlockOptions } from './last-block';
export { findLastBlock, trunkFeatures, trainLastBlock } from './last-block';
export type { ComposeOptions, ExportedFileName } from './compose';
export { foldStandardisation, FINETUNE_LAYERS, composeModel, exportModelFiles } from './compose';
