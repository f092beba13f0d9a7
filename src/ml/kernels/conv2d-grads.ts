// Conv2D gradients for the wasm backend, built on the backend's XNNPACK-backed kernels.
//
// Conv2DBackpropFilter (missing from tfjs-backend-wasm 4.22):
//   dW[kh*kw*Ci, Co] = im2colT(x)[kh*kw*Ci, N*Ho*Wo] . dy[N*Ho*Wo, Co]
//   The transposed im2col matrix is built straight in the wasm heap (row = one filter tap and one
//   input channel, i.e. a shifted copy of one channel plane of x transposed to [Ci, N, H, W]),
//   then ONE BatchMatMul with no transposes, which the backend runs with XNNPACK's GEMM.
//   Large batches are split so the im2col buffer stays under IM2COL_MAX_FLOATS.
//
// Conv2DBackpropInput (present in tfjs-backend-wasm, but a naive scalar loop, ~10x slower than
//   XNNPACK): dx = conv2d(zero-inserted dy, spatially flipped + in/out-swapped filter), run through
//   the backend's XNNPACK Conv2D with explicit padding. Strides > 1 zero-insert dy first.
import {
  backend_util,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { simdKernels, type SimdKernels } from './simd';
import { assertChannelsLast, byteAddr, assertFloat32, dilateNHWC, f32Offset, free, heapF32, reshape, runKernel, type WasmBackendLike } from './wasm-util';

/** Upper bound on the im2col buffer (floats) before the batch is split: 32M floats = 128 MiB. */
export let IM2COL_MAX_FLOATS = 32 * 1024 * 1024;

/** Changes the im2col size limit (floats); used by tests to exercise batch splitting. */
export function setIm2colMaxFloats(n: number): void {
  IM2COL_MAX_FLOATS = Math.max(1, Math.floor(n));
}

interface KernelArgs<A> {
  inputs: Record<string, TensorInfo>;
  backend: unknown;
  attrs: A;
}

/**
 * Writes rows [tap (i,j), channel c] x columns [(n - n0), ho, wo] of the transposed im2col matrix.
 * xOff: HEAPF32 index of x laid out as [C, N, H, W]; aOff: index of the [K, nb*Ho*Wo] output.
 */
export function fillIm2colT(
  heap: Float32Array,
  xOff: number,
  aOff: number,
  n0: number,
  nb: number,
  N: number,
  C: number,
  H: number,
  W: number,
  kh: number,
  kw: number,
  Ho: number,
  Wo: number,
  sh: number,
  sw: number,
  pt: number,
  pl: number,
): void {
  const rowLen = nb * Ho * Wo;
  let row = 0;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      // output columns whose input column wi = wo*sw + j - pl lies inside [0, W)
      const w0 = Math.min(Wo, Math.max(0, Math.ceil((pl - j) / sw)));
      const w1 = Math.max(w0, Math.min(Wo, Math.floor((W - 1 + pl - j) / sw) + 1));
      const colShift = j - pl;
      for (let c = 0; c < C; c++, row++) {
        let o = aOff + row * rowLen;
        for (let n = n0; n < n0 + nb; n++) {
          const plane = xOff + (c * N + n) * H * W;
          for (let ho = 0; ho < Ho; ho++, o += Wo) {
            const hi = ho * sh + i - pt;
            if (hi < 0 || hi >= H || w1 === w0) {
              heap.fill(0, o, o + Wo);
              continue;
            }
            if (w0 > 0) heap.fill(0, o, o + w0);
            const src = plane + hi * W + colShift;
            if (sw === 1) {
              heap.copyWithin(o + w0, src + w0, src + w1);
            } else {
              for (let wo = w0; wo < w1; wo++) heap[o + wo] = heap[src + wo * sw];
            }
            if (w1 < Wo) heap.fill(0, o + w1, o + Wo);
          }
        }
      }
    }
  }
}

/** fillIm2colT with the wasm im2col_row kernel (one call per row: tap x channel). Byte addresses. */
export function fillIm2colTWasm(
  simd: SimdKernels,
  xAddr: number,
  aAddr: number,
  n0: number,
  nb: number,
  N: number,
  C: number,
  H: number,
  W: number,
  kh: number,
  kw: number,
  Ho: number,
  Wo: number,
  sh: number,
  sw: number,
  pt: number,
  pl: number,
): void {
  const rowBytes = nb * Ho * Wo * 4;
  let row = 0;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const w0 = Math.min(Wo, Math.max(0, Math.ceil((pl - j) / sw)));
      const w1 = Math.max(w0, Math.min(Wo, Math.floor((W - 1 + pl - j) / sw) + 1));
      for (let c = 0; c < C; c++, row++) {
        const src = xAddr + (c * N + n0) * H * W * 4;
        simd.im2colRow(src, aAddr + row * rowBytes, nb, H, W, Ho, Wo, i - pt, j - pl, sh, sw, w0, w1);
      }
    }
  }
}

export function conv2DBackpropFilter(args: KernelArgs<Conv2DBackpropFilterAttrs>): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs;
  assertFloat32('Conv2DBackpropFilter', x, dy);
  assertChannelsLast('Conv2DBackpropFilter', dataFormat);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const K = kh * kw * C;
  const perImage = Ho * Wo;

  // x as [C, N, H, W]
  const xt = C === 1 ? reshape(backend, x, [1, N, H, W]) : runKernel(backend, 'Transpose', { x }, { perm: [3, 0, 1, 2] });
  const direct = kh === 1 && kw === 1 && sh === 1 && sw === 1 && pt === 0 && pl === 0 && Ho === H && Wo === W;

  const maxImages = Math.max(1, Math.floor(IM2COL_MAX_FLOATS / Math.max(1, K * perImage)));
  const chunk = direct ? N : Math.min(N, maxImages);
  let acc: TensorInfo | null = null;
  try {
    for (let n0 = 0; n0 < N; n0 += chunk) {
      const nb = Math.min(chunk, N - n0);
      let a: TensorInfo;
      if (direct) {
        a = reshape(backend, xt, [1, C, N * H * W]);
      } else {
        a = backend.makeOutput([1, K, nb * perImage], 'float32');
        const simd = simdKernels(backend);
        if (simd != null) {
          fillIm2colTWasm(simd, byteAddr(backend, xt), byteAddr(backend, a), n0, nb, N, C, H, W, kh, kw, Ho, Wo, sh, sw, pt, pl);
        } else {
          fillIm2colT(heapF32(backend), f32Offset(backend, xt), f32Offset(backend, a), n0, nb, N, C, H, W, kh, kw, Ho, Wo, sh, sw, pt, pl);
        }
      }
      let dyc: TensorInfo;
      if (nb === N) {
        dyc = reshape(backend, dy, [1, N * perImage, Co]);
      } else {
        const sl = runKernel(backend, 'Slice', { x: dy }, { begin: [n0, 0, 0, 0], size: [nb, Ho, Wo, Co] });
        dyc = reshape(backend, sl, [1, nb * perImage, Co]);
        free(backend, sl);
      }
      const part = runKernel(backend, 'BatchMatMul', { a, b: dyc }, { transposeA: false, transposeB: false });
      free(backend, a, dyc);
      if (acc == null) {
        acc = part;
      } else {
        const sum = runKernel(backend, 'Add', { a: acc, b: part });
        free(backend, acc, part);
        acc = sum;
      }
    }
  } finally {
    free(backend, xt);
  }
  const out = reshape(backend, acc!, [kh, kw, C, Co]);
  free(backend, acc);
  return out;
}

/** W[kh, kw, Ci, Co] -> W'[kh, kw, Co, Ci] with W'[i, j] = W[kh-1-i, kw-1-j] (transposed). */
function flipSwapFilter(backend: WasmBackendLike, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape;
  const out = backend.makeOutput([kh, kw, co, ci], 'float32');
  const heap = heapF32(backend);
  const src = f32Offset(backend, filter);
  const dst = f32Offset(backend, out);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const sBase = src + ((kh - 1 - i) * kw + (kw - 1 - j)) * ci * co;
      const dBase = dst + (i * kw + j) * co * ci;
      for (let a = 0; a < ci; a++) for (let b = 0; b < co; b++) heap[dBase + b * ci + a] = heap[sBase + a * co + b];
    }
  }
  return out;
}

/**
 * Padding that turns "correlate the zero-inserted dy with the flipped filter" into dx, plus the
 * crop needed when a pad would be negative (only with unusual explicit paddings).
 */
export function transposedConvPadding(
  inSize: number,
  outSize: number,
  k: number,
  s: number,
  padBefore: number,
): { before: number; after: number; crop: number } {
  const dilated = (outSize - 1) * s + 1;
  const p = k - 1 - padBefore;
  const q = inSize + k - 1 - dilated - p;
  const before = Math.max(p, 0);
  const after = Math.max(q, 0);
  return { before, after, crop: before - p };
}

export function conv2DBackpropInput(args: KernelArgs<Conv2DBackpropInputAttrs>): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs;
  assertFloat32('Conv2DBackpropInput', dy, filter);
  assertChannelsLast('Conv2DBackpropInput', dataFormat);
  const info = backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const Co = info.outChannels;
  const simd = simdKernels(backend);
  if (simd != null && C === 1 && sh === 1 && sw === 1 && Co % 4 === 0) {
    // one input channel (the first layer): XNNPACK is slow for a single output channel; a direct
    // SIMD loop over taps and output channels (vectorised over Co) is several times faster
    const out = backend.makeOutput([N, H, W, 1], 'float32');
    simd.convInputGrad1(
      byteAddr(backend, dy),
      byteAddr(backend, filter),
      byteAddr(backend, out),
      N,
      H,
      W,
      Ho,
      Wo,
      Co,
      kh,
      kw,
      info.padInfo.top,
      info.padInfo.left,
    );
    return out;
  }
  const ph = transposedConvPadding(H, Ho, kh, sh, info.padInfo.top);
  const pw = transposedConvPadding(W, Wo, kw, sw, info.padInfo.left);

  const wf = flipSwapFilter(backend, filter);
  const dyd = dilateNHWC(backend, dy, sh, sw);
  const conv = runKernel(backend, 'Conv2D', { x: dyd, filter: wf }, {
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
  if (conv.shape[1] === H && conv.shape[2] === W && ph.crop === 0 && pw.crop === 0) return conv;
  const out = runKernel(backend, 'Slice', { x: conv }, { begin: [0, ph.crop, pw.crop, 0], size: [N, H, W, C] });
  free(backend, conv);
  return out;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
};
