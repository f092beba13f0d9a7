// The head as trainable variables (created from and read back into plain HeadWeights). Part of src/ml/finetune (index.ts describes the two stages).
import * as tf from '../tf';
import { createRng } from '../../core/random';
import type { DenseWeights, HeadWeights } from './types';
import { glorot, heUniform } from './helpers';

export class HeadVars {
  readonly mean: tf.Tensor1D;
  readonly std: tf.Tensor1D;
  readonly hiddenKernel: tf.Variable | null;
  readonly hiddenBias: tf.Variable | null;
  readonly logitsKernel: tf.Variable;
  readonly logitsBias: tf.Variable;

  constructor(readonly init: HeadWeights) {
    this.mean = tf.tensor1d(init.mean);
    this.std = tf.tensor1d(init.std);
    const v = (a: Float32Array, shape: number[], name: string) => newVariable(tf.tensor(a, shape), name);
    this.hiddenKernel = init.hidden ? v(init.hidden.kernel, [init.hidden.inDim, init.hidden.outDim], 'ft_hidden_kernel') : null;
    this.hiddenBias = init.hidden ? v(init.hidden.bias, [init.hidden.outDim], 'ft_hidden_bias') : null;
    this.logitsKernel = v(init.logits.kernel, [init.logits.inDim, init.logits.outDim], 'ft_logits_kernel');
    this.logitsBias = v(init.logits.bias, [init.logits.outDim], 'ft_logits_bias');
  }

  get variables(): tf.Variable[] {
    return [this.hiddenKernel, this.hiddenBias, this.logitsKernel, this.logitsBias].filter((x): x is tf.Variable => x !== null);
  }

  get kernels(): tf.Variable[] {
    return [this.hiddenKernel, this.logitsKernel].filter((x): x is tf.Variable => x !== null);
  }

  /** Logits from raw embeddings [n, dim]. `masks` (training): dropout masks for each dense input. */
  logits(emb: tf.Tensor2D, masks: (tf.Tensor2D | null)[] = []): tf.Tensor2D {
    let x = emb.sub(this.mean).div(this.std) as tf.Tensor2D;
    if (this.hiddenKernel && this.hiddenBias) {
      if (masks[0]) x = x.mul(masks[0]);
      x = tf.relu(x.matMul(this.hiddenKernel).add(this.hiddenBias)) as tf.Tensor2D;
      if (masks[1]) x = x.mul(masks[1]);
    } else if (masks[0]) {
      x = x.mul(masks[0]);
    }
    return x.matMul(this.logitsKernel).add(this.logitsBias) as tf.Tensor2D;
  }

  /** Widths of the dense inputs (for dropout masks). */
  get denseInputs(): number[] {
    return this.init.hidden ? [this.init.dim, this.init.hidden.outDim] : [this.init.dim];
  }

  async read(): Promise<HeadWeights> {
    const [hk, hb, lk, lb] = await Promise.all([this.hiddenKernel?.data(), this.hiddenBias?.data(), this.logitsKernel.data(), this.logitsBias.data()]);
    const h = this.init.hidden;
    return {
      ...this.init,
      mean: this.init.mean.slice(),
      std: this.init.std.slice(),
      hidden: h ? { ...h, kernel: Float32Array.from(hk as Float32Array), bias: Float32Array.from(hb as Float32Array) } : null,
      logits: { ...this.init.logits, kernel: Float32Array.from(lk as Float32Array), bias: Float32Array.from(lb as Float32Array) },
    };
  }

  dispose(): void {
    this.mean.dispose();
    this.std.dispose();
    for (const v of this.variables) v.dispose();
  }
}

let varCounter = 0;

/** A trainable variable holding `init`'s values; `init` is disposed (the variable keeps the data). */
export function newVariable(init: tf.Tensor, name: string): tf.Variable {
  const v = tf.variable(init, true, `${name}_${varCounter++}`);
  init.dispose();
  return v;
}

/** A freshly initialised head (seeded) for embeddings of width `dim`. */
export function initHead(dim: number, numClasses: number, hiddenUnits: number, seed: number, stats: { mean: Float32Array; std: Float32Array }): HeadWeights {
  const rng = createRng(seed);
  const hidden: DenseWeights | null =
    hiddenUnits > 0 ? { kernel: heUniform(rng, dim, hiddenUnits), bias: new Float32Array(hiddenUnits), inDim: dim, outDim: hiddenUnits } : null;
  const inDim = hidden ? hiddenUnits : dim;
  return {
    dim,
    numClasses,
    mean: stats.mean,
    std: stats.std,
    hidden,
    logits: { kernel: glorot(rng, inDim, numClasses), bias: new Float32Array(numClasses), inDim, outDim: numClasses },
  };
}
