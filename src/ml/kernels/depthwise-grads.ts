// Depthwise conv gradients for the wasm backend (both missing from tfjs-backend-wasm 4.22).
//
// DepthwiseConv2dNativeBackpropInput: dx = depthwise_conv(zero-inserted dy, flipped filter)
//   through the backend's XNNPACK DepthwiseConv2dNative (filter [kh, kw, C*m, 1]); with a channel
//   multiplier m > 1 the m partial results of each input channel are summed afterwards.
// DepthwiseConv2dNativeBackpropFilter: per-channel correlation of x and dy (no GEMM structure);
//   a tight loop over the wasm heap, accumulating in float64.
import {
  backend_util,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { transposedConvPadding } from './conv2d-grads';
import { assertFloat32, assertNoDilation, dilateNHWC, f32Offset, free, heapF32, reshape, runKernel, type WasmBackendLike } from './wasm-util';

interface KernelArgs<A> {
  inputs: Record<string, TensorInfo>;
  backend: unknown;
  attrs: A;
}

export function depthwiseConv2dNativeBackpropFilter(args: KernelArgs<DepthwiseConv2dNativeBackpropFilterAttrs>): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = args.attrs;
  assertFloat32('DepthwiseConv2dNativeBackpropFilter', x, dy);
  assertNoDilation('DepthwiseConv2dNativeBackpropFilter', dilations);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, outChannels: CO } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const m = CO / C;

  const acc = new Float64Array(kh * kw * CO);
  const out = backend.makeOutput([kh, kw, C, m], 'float32');
  const heap = heapF32(backend);
  const xo = f32Offset(backend, x);
  const dyo = f32Offset(backend, dy);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const tap = (i * kw + j) * CO;
      const w0 = Math.min(Wo, Math.max(0, Math.ceil((pl - j) / sw)));
      const w1 = Math.max(w0, Math.min(Wo, Math.floor((W - 1 + pl - j) / sw) + 1));
      if (w1 === w0) continue;
      for (let n = 0; n < N; n++) {
        for (let ho = 0; ho < Ho; ho++) {
          const hi = ho * sh + i - pt;
          if (hi < 0 || hi >= H) continue;
          const xRow = xo + ((n * H + hi) * W + j - pl) * C;
          const dyRow = dyo + (n * Ho + ho) * Wo * CO;
          if (m === 1) {
            for (let wo = w0; wo < w1; wo++) {
              const xp = xRow + wo * sw * C;
              const dp = dyRow + wo * CO;
              for (let c = 0; c < C; c++) acc[tap + c] += heap[xp + c] * heap[dp + c];
            }
          } else {
            for (let wo = w0; wo < w1; wo++) {
              const xp = xRow + wo * sw * C;
              const dp = dyRow + wo * CO;
              for (let c = 0; c < C; c++) {
                const xv = heap[xp + c];
                for (let q = 0; q < m; q++) acc[tap + c * m + q] += xv * heap[dp + c * m + q];
              }
            }
          }
        }
      }
    }
  }
  const oo = f32Offset(backend, out);
  for (let k = 0; k < acc.length; k++) heap[oo + k] = acc[k];
  return out;
}

export function depthwiseConv2dNativeBackpropInput(args: KernelArgs<DepthwiseConv2dNativeBackpropInputAttrs>): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = args.attrs;
  assertFloat32('DepthwiseConv2dNativeBackpropInput', dy, filter);
  assertNoDilation('DepthwiseConv2dNativeBackpropInput', dilations);
  const info = backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, outChannels: CO } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const m = CO / C;
  const ph = transposedConvPadding(H, Ho, kh, sh, info.padInfo.top);
  const pw = transposedConvPadding(W, Wo, kw, sw, info.padInfo.left);

  // flipped filter as [kh, kw, C*m, 1]: wf[i, j, c*m+q] = W[kh-1-i, kw-1-j, c, q]
  const wf = backend.makeOutput([kh, kw, CO, 1], 'float32');
  {
    const heap = heapF32(backend);
    const src = f32Offset(backend, filter);
    const dst = f32Offset(backend, wf);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const s = src + ((kh - 1 - i) * kw + (kw - 1 - j)) * CO;
        heap.copyWithin(dst + (i * kw + j) * CO, s, s + CO);
      }
    }
  }
  const dyd = dilateNHWC(backend, dy, sh, sw);
  const conv = runKernel(backend, 'DepthwiseConv2dNative', { x: dyd, filter: wf }, {
    strides: [1, 1],
    pad: [
      [0, 0],
      [ph.before, ph.after],
      [pw.before, pw.after],
      [0, 0],
    ],
    dilations: [1, 1],
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
  } as never);
  free(backend, wf, dyd);
  let res = conv;
  if (conv.shape[1] !== H || conv.shape[2] !== W || ph.crop !== 0 || pw.crop !== 0) {
    res = runKernel(backend, 'Slice', { x: conv }, { begin: [0, ph.crop, pw.crop, 0], size: [N, H, W, CO] });
    free(backend, conv);
  }
  if (m === 1) return res;
  const r5 = reshape(backend, res, [N, H, W, C, m]);
  const summed = runKernel(backend, 'Sum', { x: r5 }, { axis: [4], keepDims: false });
  free(backend, r5, res);
  return summed;
}

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as KernelFunc,
};

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as KernelFunc,
};
