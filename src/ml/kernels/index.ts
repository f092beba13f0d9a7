// Gradient kernels that make model.fit work (and fast) on the tfjs wasm backend.
// Platform-neutral: call registerWasmGradientKernels() before (or after) tf.setBackend('wasm')
// in Node and in the browser's wasm fallback.
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig, conv2DBackpropInputConfig } from './conv2d-grads';
import {
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
} from './depthwise-grads';

export {
  conv2DBackpropFilter,
  conv2DBackpropInput,
  fillIm2colT,
  transposedConvPadding,
  IM2COL_MAX_FLOATS,
  setIm2colMaxFloats,
} from './conv2d-grads';
export { depthwiseConv2dNativeBackpropFilter, depthwiseConv2dNativeBackpropInput } from './depthwise-grads';

/**
 * Kernels we install on 'wasm'. Conv2DBackpropInput already exists in tfjs-backend-wasm but is a
 * naive scalar loop (~10x slower than XNNPACK), so it is replaced as well.
 */
export const WASM_GRADIENT_KERNELS: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
];

/** Idempotent: (re)installs our kernels on the wasm backend; safe to call any number of times. */
export function registerWasmGradientKernels(): void {
  for (const config of WASM_GRADIENT_KERNELS) {
    const existing = getKernel(config.kernelName, config.backendName);
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing != null) unregisterKernel(config.kernelName, config.backendName);
    registerKernel(config);
  }
}
