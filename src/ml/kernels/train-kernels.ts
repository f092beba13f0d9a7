// Faster wasm versions of kernels that dominate a conv-net training step after the conv
// gradients are fixed (profiled on the reference CNN, see scripts/bench-train.ts --profile):
//   Tile        - used by the BatchNorm gradient to broadcast 1/sqrt(var); the stock wasm kernel
//                 does per-element index arithmetic (~190 ms per call at 16x128x128x16).
//   MaxPoolGrad - stock kernel rescans every window for every input pixel; here one pass over
//                 the outputs scatters dy to the (first) argmax of each window.
//   Sum / Mean  - reductions over leading axes (BatchNorm statistics and gradients reduce NHWC
//                 over [0, 1, 2]); the stock kernel transposes first. Here a single streaming pass.
// Each kernel falls back to the original wasm kernel for cases it does not handle.
import { backend_util, util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { simdKernels } from './simd';
import { byteAddr, f32Offset, f64Scratch, free, heapF32, heapU8, readF64, type WasmBackendLike } from './wasm-util';

interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: unknown;
  attrs: Record<string, unknown>;
}
type Fallback = (args: KernelArgs) => TensorInfo;

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

function byteOffset(backend: WasmBackendLike, t: TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (d == null) throw new Error('wasm kernels: unknown tensor');
  return d.memoryOffset;
}

/** Copies [off, off+len) to follow itself until it fills reps*len elements (doubling memmoves). */
function replicate(heap: Uint8Array, off: number, len: number, reps: number): void {
  const total = len * reps;
  let done = len;
  while (done < total) {
    const n = Math.min(done, total - done);
    heap.copyWithin(off + done, off, off + n);
    done += n;
  }
}

export function makeTile(fallback: Fallback): (args: KernelArgs) => TensorInfo {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const x = args.inputs.x;
    const reps = args.attrs.reps as number[];
    const bpe = BYTES[x.dtype];
    if (bpe == null || x.shape.length === 0 || reps.length !== x.shape.length) return fallback(args);
    const rank = x.shape.length;
    const outShape = x.shape.map((d, i) => d * reps[i]);
    const out = backend.makeOutput(outShape, x.dtype);
    if (util.sizeFromShape(outShape) === 0) return out;
    const heap = heapU8(backend); // after makeOutput (memory may have grown)
    const inStrides = util.computeStrides(x.shape).map((s) => s * bpe);
    const outStrides = util.computeStrides(outShape).map((s) => s * bpe);
    const rowBytes = x.shape[rank - 1] * bpe;
    const xo = byteOffset(backend, x);
    const oo = byteOffset(backend, out);
    const rec = (d: number, inOff: number, outOff: number): void => {
      if (d === rank - 1) {
        heap.copyWithin(outOff, inOff, inOff + rowBytes);
        replicate(heap, outOff, rowBytes, reps[d]);
        return;
      }
      for (let i = 0; i < x.shape[d]; i++) rec(d + 1, inOff + i * inStrides[d], outOff + i * outStrides[d]);
      replicate(heap, outOff, x.shape[d] * outStrides[d], reps[d]);
    };
    if (rank === 1) {
      heap.copyWithin(oo, xo, xo + rowBytes);
      replicate(heap, oo, rowBytes, reps[0]);
    } else {
      rec(0, xo, oo);
    }
    return out;
  };
}

export function makeMaxPoolGrad(fallback: Fallback): (args: KernelArgs) => TensorInfo {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const { dy, input } = args.inputs;
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: 'valid' | 'same' | number;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    if (dy.dtype !== 'float32' || input.dtype !== 'float32' || input.shape.length !== 4 || dimRoundingMode != null) {
      return fallback(args);
    }
    const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo } = info;
    const { effectiveFilterHeight: fh, effectiveFilterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
    const pt = info.padInfo.top;
    const pl = info.padInfo.left;
    const out = backend.makeOutput(input.shape.slice(), 'float32');
    const simd = simdKernels(backend);
    if (simd != null && C % 4 === 0 && fh === 2 && fw === 2 && sh === 2 && sw === 2 && pt === 0 && pl === 0 && Ho === H >> 1 && Wo === W >> 1) {
      // odd H or W: the last row/column is in no window and must read 0
      if (H % 2 === 1 || W % 2 === 1) heapU8(backend).fill(0, byteAddr(backend, out), byteAddr(backend, out) + 4 * N * H * W * C);
      simd.maxPoolGrad2x2(byteAddr(backend, input), byteAddr(backend, dy), byteAddr(backend, out), N, H, W, C);
      return out;
    }
    const heap = heapF32(backend);
    const xo = f32Offset(backend, input);
    const go = f32Offset(backend, dy);
    const oo = f32Offset(backend, out);
    heap.fill(0, oo, oo + N * H * W * C);
    // Per output pixel, vectorised over channels: the first maximum of each window in row-major
    // order (same tie-breaking as the cpu backend) receives dy. (The stock wasm MaxPoolWithArgmax
    // is no faster than this loop and breaks ties differently.)
    const bestVal = new Float32Array(C);
    const bestIdx = new Int32Array(C);
    for (let n = 0; n < N; n++) {
      for (let oh = 0; oh < Ho; oh++) {
        const h0 = Math.max(0, oh * sh - pt);
        const h1 = Math.min(H, oh * sh - pt + fh);
        for (let ow = 0; ow < Wo; ow++) {
          const w0 = Math.max(0, ow * sw - pl);
          const w1 = Math.min(W, ow * sw - pl + fw);
          if (h1 <= h0 || w1 <= w0) continue;
          let first = true;
          for (let h = h0; h < h1; h++) {
            for (let w = w0; w < w1; w++) {
              const p = ((n * H + h) * W + w) * C;
              const xp = xo + p;
              if (first) {
                for (let c = 0; c < C; c++) {
                  bestVal[c] = heap[xp + c];
                  bestIdx[c] = p + c;
                }
                first = false;
              } else {
                for (let c = 0; c < C; c++) {
                  const v = heap[xp + c];
                  if (v > bestVal[c]) {
                    bestVal[c] = v;
                    bestIdx[c] = p + c;
                  }
                }
              }
            }
          }
          const g = go + ((n * Ho + oh) * Wo + ow) * C;
          for (let c = 0; c < C; c++) heap[oo + bestIdx[c]] += heap[g + c];
        }
      }
    }
    return out;
  };
}

/** If axes are exactly the leading axes [0..k-1] (k < rank), returns k; otherwise -1. */
function leadingAxes(axis: unknown, shape: number[]): number {
  const axes = util
    .parseAxisParam(axis as number | number[], shape)
    .slice()
    .sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length) return -1;
  for (let i = 0; i < axes.length; i++) if (axes[i] !== i) return -1;
  return axes.length;
}

/**
 * acc[c] += sum_m heap[off + m*inner + c]. Column-wise scalar accumulation over row blocks (a
 * register accumulator per column, blocks small enough to stay in cache): ~4x faster in V8 than
 * accumulating into a typed array row by row.
 */
export function sumLeading(heap: Float32Array, off: number, outer: number, inner: number, acc: Float64Array): void {
  const block = Math.max(1, Math.floor(16384 / inner));
  for (let m0 = 0; m0 < outer; m0 += block) {
    const m1 = Math.min(outer, m0 + block);
    for (let c = 0; c < inner; c++) {
      let s0 = 0;
      let s1 = 0;
      let p = off + m0 * inner + c;
      const end = off + m1 * inner + c;
      const step2 = 2 * inner;
      for (; p + inner < end; p += step2) {
        s0 += heap[p];
        s1 += heap[p + inner];
      }
      if (p < end) s0 += heap[p];
      acc[c] += s0 + s1;
    }
  }
}

function makeLeadingReduce(fallback: Fallback, mean: boolean): (args: KernelArgs) => TensorInfo {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const x = args.inputs.x;
    if (x.dtype !== 'float32') return fallback(args);
    const k = leadingAxes(args.attrs.axis, x.shape);
    if (k < 0) return fallback(args);
    const outer = util.sizeFromShape(x.shape.slice(0, k));
    const inner = util.sizeFromShape(x.shape.slice(k));
    const keepDims = args.attrs.keepDims === true;
    const outShape = keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
    const out = backend.makeOutput(outShape, 'float32');
    const simd = simdKernels(backend);
    let acc: Float64Array;
    if (simd != null && inner % 4 === 0) {
      const scratch = f64Scratch(backend, inner);
      simd.colSums(byteAddr(backend, x), outer, inner, scratch.addr);
      acc = readF64(backend, scratch.addr, inner);
      free(backend, scratch.t);
    } else {
      acc = new Float64Array(inner);
      sumLeading(heapF32(backend), f32Offset(backend, x), outer, inner, acc);
    }
    const heap = heapF32(backend);
    const oo = f32Offset(backend, out);
    const scale = mean ? 1 / outer : 1;
    for (let c = 0; c < inner; c++) heap[oo + c] = acc[c] * scale;
    return out;
  };
}

export const makeSum = (fallback: Fallback) => makeLeadingReduce(fallback, false);
export const makeMean = (fallback: Fallback) => makeLeadingReduce(fallback, true);

/** Builds a replacement config that keeps the original kernel's setupFunc (needed by its fallback). */
export function wrapKernel(original: KernelConfig, make: (fallback: Fallback) => (args: KernelArgs) => TensorInfo): KernelConfig {
  const fallback = original.kernelFunc as unknown as Fallback;
  return {
    kernelName: original.kernelName,
    backendName: original.backendName,
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
    kernelFunc: make(fallback) as unknown as KernelFunc,
  };
}

/**
 * Identity: the stock wasm kernel copies the whole buffer. The engine clones every tensor it saves
 * for the backward pass (one Identity per saved activation), so share the (immutable) data
 * instead, as the cpu backend does.
 */
export function makeIdentity(fallback: Fallback): (args: KernelArgs) => TensorInfo {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const x = args.inputs.x;
    if (x.dtype === 'string') return fallback(args);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
}

/**
 * FusedBatchNorm with per-channel (last axis) statistics: out = x * a[c] + b[c], with
 * a = scale / sqrt(variance + eps) and b = offset - mean * a precomputed per channel.
 */
export function makeFusedBatchNorm(fallback: Fallback): (args: KernelArgs) => TensorInfo {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const { x, mean, variance, offset, scale } = args.inputs;
    const eps = Number(args.attrs.varianceEpsilon ?? 0.001);
    if (x.dtype !== 'float32' || x.shape.length === 0) return fallback(args);
    const C = x.shape[x.shape.length - 1];
    const params = [mean, variance, offset, scale];
    for (const p of params) {
      if (p == null) continue;
      const n = util.sizeFromShape(p.shape);
      if (p.dtype !== 'float32' || (n !== C && n !== 1)) return fallback(args);
    }
    const total = util.sizeFromShape(x.shape);
    const out = backend.makeOutput(x.shape.slice(), 'float32');
    if (total === 0) return out;
    const heap = heapF32(backend);
    const at = (p: TensorInfo | undefined, c: number, def: number): number => {
      if (p == null) return def;
      const o = f32Offset(backend, p);
      return util.sizeFromShape(p.shape) === 1 ? heap[o] : heap[o + c];
    };
    const a = new Float32Array(C);
    const b = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const s = at(scale, c, 1) / Math.sqrt(at(variance, c, 0) + eps);
      a[c] = s;
      b[c] = at(offset, c, 0) - at(mean, c, 0) * s;
    }
    const rows = total / C;
    const simd = simdKernels(backend);
    if (simd != null && C % 4 === 0) {
      const ab = backend.makeOutput([2 * C], 'float32');
      const abo = f32Offset(backend, ab);
      const h = heapF32(backend);
      h.set(a, abo);
      h.set(b, abo + C);
      simd.scaleShiftC(byteAddr(backend, x), byteAddr(backend, out), rows, C, 4 * abo, 4 * (abo + C));
      free(backend, ab);
      return out;
    }
    const xo = f32Offset(backend, x);
    const oo = f32Offset(backend, out);
    if (C === 1) {
      const a0 = a[0];
      const b0 = b[0];
      for (let i = 0; i < total; i++) heap[oo + i] = heap[xo + i] * a0 + b0;
    } else {
      for (let m = 0; m < rows; m++) {
        const xb = xo + m * C;
        const ob = oo + m * C;
        for (let c = 0; c < C; c++) heap[ob + c] = heap[xb + c] * a[c] + b[c];
      }
    }
    return out;
  };
}

/**
 * Cast to the tensor's own dtype: the stock wasm kernel copies the buffer (tfjs-core's moments
 * and the ReLU/Square gradients cast float32 to float32); share the data instead, as the cpu
 * backend does.
 */
export function makeCast(fallback: Fallback): (args: KernelArgs) => TensorInfo {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const x = args.inputs.x;
    if (args.attrs.dtype !== x.dtype || x.dtype === 'string') return fallback(args);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
}

/** Square of a float32 tensor with the SIMD module (the stock wasm kernel is a scalar loop). */
export function makeSquare(fallback: Fallback): (args: KernelArgs) => TensorInfo {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const x = args.inputs.x;
    const simd = x.dtype === 'float32' ? simdKernels(backend) : null;
    if (simd == null) return fallback(args);
    const out = backend.makeOutput(x.shape.slice(), 'float32');
    const a = byteAddr(backend, x);
    simd.mul(a, a, byteAddr(backend, out), util.sizeFromShape(x.shape));
    return out;
  };
}
