// Fused gradients for the wasm backend.
//
// tfjs-core builds the gradients of BatchNorm, ReLU, Square and Mean out of many generic
// elementwise ops, each a full pass over an activation-sized tensor (16x128x128x16 floats in the
// first block of the reference CNN): FusedBatchNorm's gradient alone does ~10 full-size
// multiplies/subtractions plus a Tile and four reductions, ReLU's is Step + Cast + Mul, Square's
// Cast + Mul + Mul, Mean's Fill(ones) + Mul + RealDiv. On wasm those passes dominate a training
// step once the convolutions run on XNNPACK.
//
// Here the gradient functions of those four kernels are replaced by versions that, on the wasm
// backend only, call a few fused single-pass kernels registered under our own names:
//   CxrReluGrad(dy, x)           = dy * step(x)                      (1 pass instead of 3)
//   CxrSquareGrad(dy, x)         = dy * (2 x)                        (1 pass instead of 2-3)
//   CxrChannelScale(x, s)        = x * s[c]  (per last-axis channel)   (BatchNorm dx, 1 pass)
//   CxrBatchNormGradSums(dy,x,m) = [sum dy, sum dy (x - m)] per channel (1 pass instead of ~8)
//   Mean's gradient: dy / n broadcast with the (memcpy) Tile kernel     (1 pass instead of 3)
// The maths is the stock gradients' (same formulas; only the order of float32 roundings changes,
// e.g. BatchNorm multiplies per-channel sums instead of summing per-element products). On every
// other backend, and for shapes/dtypes the fused kernels do not cover, the original gradient
// function runs unchanged.
import {
  add,
  broadcastTo,
  div,
  engine,
  getBackend,
  getGradient,
  getKernel,
  mul,
  neg,
  registerGradient,
  reshape,
  rsqrt,
  scalar,
  slice,
  util,
  type GradConfig,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { simdKernels } from './simd';
import { byteAddr, f32Offset, f64Scratch, free, heapF32, readF64, type WasmBackendLike } from './wasm-util';

export const RELU_GRAD = 'CxrReluGrad';
export const SQUARE_GRAD = 'CxrSquareGrad';
export const CHANNEL_SCALE = 'CxrChannelScale';
export const BN_GRAD_SUMS = 'CxrBatchNormGradSums';

interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: unknown;
  attrs: Record<string, unknown>;
}

function assertSameShapeF32(kernel: string, a: TensorInfo, b: TensorInfo): void {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error(`${kernel}: expected float32 inputs`);
  if (!util.arraysEqual(a.shape, b.shape)) throw new Error(`${kernel}: shapes ${a.shape} and ${b.shape} differ`);
}

/** out = dy * step(x), step(x) = 1 for x > 0, 0 otherwise, NaN for NaN (as the Step kernel). */
function reluGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, x } = args.inputs;
  assertSameShapeF32(RELU_GRAD, dy, x);
  const out = backend.makeOutput(x.shape.slice(), 'float32');
  const n = util.sizeFromShape(x.shape);
  const simd = simdKernels(backend);
  if (simd != null) {
    simd.reluGrad(byteAddr(backend, dy), byteAddr(backend, x), byteAddr(backend, out), n);
    return out;
  }
  const heap = heapF32(backend);
  const g = f32Offset(backend, dy);
  const xo = f32Offset(backend, x);
  const o = f32Offset(backend, out);
  for (let i = 0; i < n; i++) {
    const v = heap[xo + i];
    heap[o + i] = heap[g + i] * (v > 0 ? 1 : Number.isNaN(v) ? NaN : 0);
  }
  return out;
}

/** out = dy * (x * 2) (Square's gradient). */
function squareGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, x } = args.inputs;
  assertSameShapeF32(SQUARE_GRAD, dy, x);
  const out = backend.makeOutput(x.shape.slice(), 'float32');
  const n = util.sizeFromShape(x.shape);
  const simd = simdKernels(backend);
  if (simd != null) {
    simd.squareGrad(byteAddr(backend, dy), byteAddr(backend, x), byteAddr(backend, out), n);
    return out;
  }
  const heap = heapF32(backend);
  const g = f32Offset(backend, dy);
  const xo = f32Offset(backend, x);
  const o = f32Offset(backend, out);
  for (let i = 0; i < n; i++) heap[o + i] = heap[g + i] * (heap[xo + i] * 2);
  return out;
}

/** out[..., c] = x[..., c] * s[c] with s of size C = x's last dimension. */
function channelScale(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, s } = args.inputs;
  const C = x.shape[x.shape.length - 1];
  if (x.dtype !== 'float32' || s.dtype !== 'float32' || util.sizeFromShape(s.shape) !== C) {
    throw new Error(`${CHANNEL_SCALE}: expected float32 x [..., C] and s [C]`);
  }
  const out = backend.makeOutput(x.shape.slice(), 'float32');
  const total = util.sizeFromShape(x.shape);
  const simd = simdKernels(backend);
  if (simd != null && C % 4 === 0) {
    simd.scaleC(byteAddr(backend, x), byteAddr(backend, out), total / C, C, byteAddr(backend, s));
    return out;
  }
  const heap = heapF32(backend);
  const xo = f32Offset(backend, x);
  const so = f32Offset(backend, s);
  const o = f32Offset(backend, out);
  const sc = heap.slice(so, so + C);
  for (let base = 0; base < total; base += C) {
    const xb = xo + base;
    const ob = o + base;
    for (let c = 0; c < C; c++) heap[ob + c] = heap[xb + c] * sc[c];
  }
  return out;
}

/** Per-channel [sum(dy), sum(dy * (x - mean))] over all leading axes, as a [2, C] tensor. */
function batchNormGradSums(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, x, mean } = args.inputs;
  assertSameShapeF32(BN_GRAD_SUMS, dy, x);
  const C = x.shape[x.shape.length - 1];
  if (mean.dtype !== 'float32' || util.sizeFromShape(mean.shape) !== C) {
    throw new Error(`${BN_GRAD_SUMS}: expected a float32 mean of size ${C}`);
  }
  const out = backend.makeOutput([2, C], 'float32');
  const rows = util.sizeFromShape(x.shape) / C;
  const simd = simdKernels(backend);
  if (simd != null && C % 4 === 0) {
    const acc = f64Scratch(backend, 2 * C);
    simd.bnSums(byteAddr(backend, dy), byteAddr(backend, x), byteAddr(backend, mean), rows, C, acc.addr, acc.addr + 8 * C);
    const sums = readF64(backend, acc.addr, 2 * C);
    free(backend, acc.t);
    heapF32(backend).set(sums, f32Offset(backend, out));
    return out;
  }
  const heap = heapF32(backend);
  const g = f32Offset(backend, dy);
  const xo = f32Offset(backend, x);
  const mo = f32Offset(backend, mean);
  const o = f32Offset(backend, out);
  const m = heap.slice(mo, mo + C);
  const s1 = new Float64Array(C);
  const s2 = new Float64Array(C);
  if (C === 1) {
    // one long column: two scalar accumulators
    const m0 = m[0];
    let a = 0;
    let b = 0;
    for (let i = 0; i < rows; i++) {
      const d = heap[g + i];
      a += d;
      b += d * (heap[xo + i] - m0);
    }
    s1[0] = a;
    s2[0] = b;
  } else {
    // blocks of rows small enough to stay in cache, one register accumulator pair per column
    const block = Math.max(1, Math.floor(8192 / C));
    for (let r0 = 0; r0 < rows; r0 += block) {
      const r1 = Math.min(rows, r0 + block);
      for (let c = 0; c < C; c++) {
        const mc = m[c];
        let a = 0;
        let b = 0;
        const end = r1 * C + c;
        for (let p = r0 * C + c; p < end; p += C) {
          const d = heap[g + p];
          a += d;
          b += d * (heap[xo + p] - mc);
        }
        s1[c] += a;
        s2[c] += b;
      }
    }
  }
  for (let c = 0; c < C; c++) {
    heap[o + c] = s1[c];
    heap[o + C + c] = s2[c];
  }
  return out;
}

const k = (kernelName: string, f: (args: KernelArgs) => TensorInfo): KernelConfig => ({
  kernelName,
  backendName: 'wasm',
  kernelFunc: f as unknown as KernelFunc,
});

export const FUSED_GRAD_KERNELS: readonly KernelConfig[] = [
  k(RELU_GRAD, reluGrad),
  k(SQUARE_GRAD, squareGrad),
  k(CHANNEL_SCALE, channelScale),
  k(BN_GRAD_SUMS, batchNormGradSums),
];

// ---------------------------------------------------------------------------------------------
// Gradient overrides

type GradFunc = GradConfig['gradFunc'];

function run(kernel: string, inputs: Record<string, Tensor>, attrs: NamedAttrMap = {}): Tensor {
  return engine().runKernel(kernel, inputs as never, attrs) as Tensor;
}

/** True when the active backend is wasm and our fused kernels are registered on it. */
function fusedAvailable(): boolean {
  if (!enabled || getBackend() !== 'wasm' || getKernel(RELU_GRAD, 'wasm') == null) return false;
  return simdKernels(engine().backend as unknown as WasmBackendLike) != null;
}

let enabled = true;

/**
 * Turns the fused gradients on or off (off: the stock tfjs gradients run everywhere); for A/B
 * benchmarks. Without wasm SIMD they are off anyway: scalar JS loops are slower than the
 * backend's own (XNNPACK) elementwise kernels.
 */
export function setFusedGradientsEnabled(on: boolean): void {
  enabled = on;
}

const isF32 = (...ts: (Tensor | undefined)[]) => ts.every((t) => t == null || t.dtype === 'float32');

function reluGradFunc(orig: GradFunc): GradFunc {
  return (dy, saved, attrs) => {
    const [x] = saved;
    const g = dy as Tensor;
    if (!fusedAvailable() || !isF32(g, x) || !util.arraysEqual(g.shape, x.shape)) return orig(dy, saved, attrs);
    return { x: () => run(RELU_GRAD, { dy: g, x }) };
  };
}

function squareGradFunc(orig: GradFunc): GradFunc {
  return (dy, saved, attrs) => {
    const [x] = saved;
    const g = dy as Tensor;
    if (!fusedAvailable() || !isF32(g, x) || !util.arraysEqual(g.shape, x.shape)) return orig(dy, saved, attrs);
    return { x: () => run(SQUARE_GRAD, { dy: g, x }) };
  };
}

function meanGradFunc(orig: GradFunc): GradFunc {
  return (dy, saved, attrs) => {
    const [x] = saved;
    const g = dy as Tensor;
    if (!fusedAvailable() || !isF32(g)) return orig(dy, saved, attrs);
    const axes = util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
    let reduceSize = 1;
    for (const a of axes) reduceSize *= x.shape[a];
    return {
      x: () => {
        const expanded = x.shape.slice();
        for (const a of axes) expanded[a] = 1;
        // stock: (dy * ones(x.shape)) / n; dy * 1 is exact, so dividing first is bit-identical
        return broadcastTo(reshape(div(g, reduceSize), expanded), x.shape);
      },
    };
  };
}

function batchNormGradFunc(orig: GradFunc): GradFunc {
  return (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved as (Tensor | undefined)[] as Tensor[];
    const g = dy as Tensor;
    const C = x.shape[x.shape.length - 1];
    const perChannel = (t: Tensor | undefined) => t == null || (t.rank === 1 && t.shape[0] === C);
    if (
      C % 4 !== 0 ||
      !fusedAvailable() ||
      !isF32(g, x, mean, variance, scale) ||
      !util.arraysEqual(g.shape, x.shape) ||
      !perChannel(mean) ||
      !perChannel(variance) ||
      !perChannel(scale)
    ) {
      return orig(dy, saved, attrs);
    }
    const eps = Number((attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001);
    // [C] tensors, computed once for all derivatives (as the stock gradient does)
    const r = rsqrt(add(variance, scalar(eps))); // 1 / sqrt(var + eps)
    const rs = scale == null ? r : mul(r, scale);
    const sums = run(BN_GRAD_SUMS, { dy: g, x, mean }); // [2, C]
    const sumDy = reshape(slice(sums, [0, 0], [1, C]), [C]);
    const sumDyXc = reshape(slice(sums, [1, 0], [1, C]), [C]);
    return {
      x: () => run(CHANNEL_SCALE, { x: g, s: rs }),
      mean: () => mul(neg(rs), sumDy),
      variance: () => mul(mul(mul(mul(r, r), rs), scalar(-0.5)), sumDyXc),
      offset: () => sumDy.clone(),
      scale: () => mul(r, sumDyXc),
    };
  };
}

const OVERRIDES: Record<string, (orig: GradFunc) => GradFunc> = {
  Relu: reluGradFunc,
  Square: squareGradFunc,
  Mean: meanGradFunc,
  FusedBatchNorm: batchNormGradFunc,
};

const ours = new Set<GradFunc>();

/**
 * Replaces the gradient functions of Relu, Square, Mean and FusedBatchNorm (idempotent). The
 * replacements delegate to the original ones except on the wasm backend.
 */
export function installFusedGradients(): void {
  for (const [name, make] of Object.entries(OVERRIDES)) {
    const current = getGradient(name);
    if (current == null || ours.has(current.gradFunc)) continue;
    const gradFunc = make(current.gradFunc);
    ours.add(gradFunc);
    registerGradient({ ...current, gradFunc });
  }
}
