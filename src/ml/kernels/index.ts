// Gradient kernels that make model.fit work (and fast) on the tfjs wasm backend.
// Platform-neutral: call registerWasmGradientKernels() before (or after) tf.setBackend('wasm')
// in Node and in the browser's wasm fallback.
//
// Layout: conv2d-grads.ts / depthwise-grads.ts (missing conv gradients, on XNNPACK), train-kernels.ts
// (faster replacements of stock kernels), fused-grads.ts (single-pass gradients of BatchNorm, ReLU,
// Square and Mean, installed as gradient overrides that only act on wasm), simd.ts (the 128-bit
// SIMD loops behind them, assembled at run time by wasm-asm.ts into a module that shares the
// backend's memory). Without wasm SIMD everything falls back to the previous paths.
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig, conv2DBackpropInputConfig } from './conv2d-grads';
import { depthwiseConv2dNativeBackpropFilterConfig, depthwiseConv2dNativeBackpropInputConfig } from './depthwise-grads';
import { FUSED_GRAD_KERNELS, installFusedGradients } from './fused-grads';
import { makeCast, makeFusedBatchNorm, makeIdentity, makeMaxPoolGrad, makeMean, makeSquare, makeSum, makeTile, wrapKernel } from './train-kernels';

export {
  conv2DBackpropFilter,
  conv2DBackpropInput,
  fillIm2colT,
  transposedConvPadding,
  IM2COL_MAX_FLOATS,
  setIm2colMaxFloats,
} from './conv2d-grads';
export { BN_GRAD_SUMS, CHANNEL_SCALE, RELU_GRAD, SQUARE_GRAD } from './fused-grads';
export { depthwiseConv2dNativeBackpropFilter, depthwiseConv2dNativeBackpropInput } from './depthwise-grads';

/**
 * New kernels for 'wasm'. Conv2DBackpropInput already exists in tfjs-backend-wasm but is a naive
 * scalar loop (~10x slower than XNNPACK), so it is replaced as well.
 */
export const WASM_GRADIENT_KERNELS: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  ...FUSED_GRAD_KERNELS,
];

/** Stock wasm kernels replaced by faster versions that fall back to the original when needed. */
const WRAPPED = {
  Tile: makeTile,
  MaxPoolGrad: makeMaxPoolGrad,
  Sum: makeSum,
  Mean: makeMean,
  Identity: makeIdentity,
  Cast: makeCast,
  Square: makeSquare,
  FusedBatchNorm: makeFusedBatchNorm,
} as const;

const installed = new Map<string, KernelConfig>();

function install(config: KernelConfig): void {
  const existing = getKernel(config.kernelName, config.backendName);
  if (existing != null) unregisterKernel(config.kernelName, config.backendName);
  registerKernel(config);
  installed.set(config.kernelName, config);
}

/** Idempotent: (re)installs our kernels on the wasm backend; safe to call any number of times. */
export function registerWasmGradientKernels(): void {
  for (const config of WASM_GRADIENT_KERNELS) {
    if (getKernel(config.kernelName, config.backendName)?.kernelFunc === config.kernelFunc) continue;
    install(config);
  }
  for (const [name, make] of Object.entries(WRAPPED)) {
    const current = getKernel(name, 'wasm');
    const ours = installed.get(name);
    if (current != null && ours != null && current.kernelFunc === ours.kernelFunc) continue;
    if (current == null) continue; // wasm backend package not loaded: nothing to speed up
    install(wrapKernel(current, make));
  }
  installFusedGradients();
}
