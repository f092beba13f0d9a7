// The one "stack preprocessed images into a 4-D tensor" of the project: the classifier, the OOD
// layer views, fine-tuning, its trust fit and Node training all batch their model inputs here.
import * as tf from './tf';

/**
 * Stacks inputs (each size² floats, one gray channel) into one NHWC batch tensor [n, size, size, 1].
 * The caller disposes it (or calls this inside tf.tidy). An input of the wrong length is an error,
 * not a silently shifted batch.
 */
export function stackInputs(inputs: readonly Float32Array[], size: number): tf.Tensor4D {
  const n = size * size;
  const flat = new Float32Array(inputs.length * n);
  inputs.forEach((x, i) => {
    if (x.length !== n) throw new Error(`input ${i} has ${x.length} values, expected ${n} (${size}×${size})`);
    flat.set(x, i * n);
  });
  return tf.tensor4d(flat, [inputs.length, size, size, 1]);
}
