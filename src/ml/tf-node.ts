// Node entry for tfjs: the wasm backend (tfjs-node cannot install here), with our gradient kernels
// registered so that model.fit works on conv nets. Scripts and unit tests call initNodeBackend().
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { registerWasmGradientKernels } from './kernels/index';

export type NodeBackend = 'wasm' | 'cpu';

export async function initNodeBackend(name: NodeBackend = 'wasm'): Promise<typeof tf> {
  if (name === 'wasm') {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
    setWasmPaths(dir + path.sep);
    registerWasmGradientKernels();
  }
  await tf.setBackend(name);
  await tf.ready();
  return tf;
}
