// The training worker's memory figures: tfjs tensors and bytes, the wasm heap, and the peak so far.
import * as tf from '../../ml/tf';
import { type MemorySample } from '../train-protocol';

let peakNumBytes = 0;

function wasmHeapBytes(): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8?.buffer.byteLength ?? null;
}

export function memorySample(): MemorySample {
  const m = tf.memory();
  peakNumBytes = Math.max(peakNumBytes, m.numBytes);
  return { numTensors: m.numTensors, numBytes: m.numBytes, wasmHeapBytes: wasmHeapBytes(), peakNumBytes, backend: tf.getBackend() ?? null };
}
