// Helpers for composing wasm-backend kernels out of other wasm kernels and raw heap access.
// Platform-neutral (no Node APIs): used in Node and in the browser's wasm fallback.
//
// Intermediates are plain TensorInfos owned by the backend (not engine tensors), so they never
// show up in tf.memory().numTensors; every helper that creates one must be paired with free().
import { getKernel, type DataType, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';

/** The subset of BackendWasm that the gradient kernels use. */
export interface WasmBackendLike {
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined };
  wasm: { HEAPF32: Float32Array; HEAPU8: Uint8Array; wasmMemory?: WebAssembly.Memory };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

export const BACKEND = 'wasm';

/** Runs another registered wasm kernel directly (no engine bookkeeping, no tape). */
export function runKernel(backend: WasmBackendLike, name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
  const k = getKernel(name, BACKEND);
  if (k == null) throw new Error(`wasm gradient kernels: wasm kernel ${name} is not registered`);
  const out = k.kernelFunc({ inputs, attrs, backend: backend as never });
  return (Array.isArray(out) ? out[0] : out) as TensorInfo;
}

/** Like runKernel, for kernels with several outputs. */
export function runKernelMulti(backend: WasmBackendLike, name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo[] {
  const k = getKernel(name, BACKEND);
  if (k == null) throw new Error(`wasm gradient kernels: wasm kernel ${name} is not registered`);
  const out = k.kernelFunc({ inputs, attrs, backend: backend as never });
  return (Array.isArray(out) ? out : [out]) as TensorInfo[];
}

export function free(backend: WasmBackendLike, ...infos: (TensorInfo | null | undefined)[]): void {
  for (const t of infos) if (t != null) backend.disposeData(t.dataId);
}

/** Float32 element index of a tensor in the wasm heap (HEAPF32 index). */
export function f32Offset(backend: WasmBackendLike, t: TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (d == null) throw new Error('wasm gradient kernels: unknown tensor');
  return d.memoryOffset >>> 2;
}

/** Byte address of a tensor in the wasm heap. */
export function byteAddr(backend: WasmBackendLike, t: TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (d == null) throw new Error('wasm gradient kernels: unknown tensor');
  return d.memoryOffset;
}

/**
 * Zeroed float64 scratch space of n values in the wasm heap (a backend tensor: free() it).
 * Returns the tensor and its byte address.
 */
export function f64Scratch(backend: WasmBackendLike, n: number): { t: TensorInfo; addr: number } {
  const t = backend.makeOutput([2 * n], 'float32');
  const addr = byteAddr(backend, t);
  heapU8(backend).fill(0, addr, addr + 8 * n);
  return { t, addr };
}

/** Reads n float64 values at a byte address (any alignment). */
export function readF64(backend: WasmBackendLike, addr: number, n: number): Float64Array {
  const view = new DataView(heapBuffer(backend), addr, 8 * n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
}

/**
 * The current HEAPF32 view. Call this only AFTER every makeOutput / kernel call of the step:
 * an allocation can grow the wasm memory and detach previously taken views.
 */
export function heapF32(backend: WasmBackendLike): Float32Array {
  return new Float32Array(heapBuffer(backend));
}

/** Byte view of the whole wasm heap (same caveat as heapF32). */
export function heapU8(backend: WasmBackendLike): Uint8Array {
  return new Uint8Array(heapBuffer(backend));
}

/**
 * The current heap buffer. With the threaded build the memory is a growable SharedArrayBuffer
 * and Module.HEAPU8 may lag behind a growth, so prefer the Memory object's own buffer.
 */
function heapBuffer(backend: WasmBackendLike): ArrayBufferLike {
  const mem = backend.wasm.wasmMemory;
  return mem != null ? mem.buffer : backend.wasm.HEAPU8.buffer;
}

export function reshape(backend: WasmBackendLike, x: TensorInfo, shape: number[]): TensorInfo {
  return runKernel(backend, 'Reshape', { x }, { shape });
}

export function assertFloat32(kernel: string, ...ts: TensorInfo[]): void {
  for (const t of ts) {
    if (t.dtype !== 'float32') throw new Error(`${kernel} (wasm): expected float32 tensors, got ${t.dtype}`);
  }
}

export function assertNoDilation(kernel: string, dilations: number | [number, number] | undefined | null): void {
  if (dilations == null) return;
  const [dh, dw] = typeof dilations === 'number' ? [dilations, dilations] : dilations;
  if (dh !== 1 || dw !== 1) {
    throw new Error(`${kernel} (wasm): dilation rates other than 1 are not supported (got [${dh}, ${dw}])`);
  }
}

export function assertChannelsLast(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat != null && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${kernel} (wasm): only NHWC data format is supported (got ${dataFormat})`);
  }
}

/**
 * dy [N, Ho, Wo, C] -> zero-inserted [N, (Ho-1)*sh+1, (Wo-1)*sw+1, C] (the input-side view of a
 * strided convolution's output). Returns dy itself (with an extra reference) when sh = sw = 1.
 */
export function dilateNHWC(backend: WasmBackendLike, dy: TensorInfo, sh: number, sw: number): TensorInfo {
  const [n, ho, wo, c] = dy.shape;
  if (sh === 1 && sw === 1) {
    backend.incRef(dy.dataId);
    return { dataId: dy.dataId, shape: dy.shape.slice(), dtype: dy.dtype };
  }
  const hd = (ho - 1) * sh + 1;
  const wd = (wo - 1) * sw + 1;
  const out = backend.makeOutput([n, hd, wd, c], 'float32');
  const heap = heapF32(backend);
  const src = f32Offset(backend, dy);
  const dst = f32Offset(backend, out);
  heap.fill(0, dst, dst + n * hd * wd * c);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < ho; r++) {
      const srow = src + (b * ho + r) * wo * c;
      const drow = dst + (b * hd + r * sh) * wd * c;
      if (c === 1) {
        for (let q = 0; q < wo; q++) heap[drow + q * sw] = heap[srow + q];
      } else {
        for (let q = 0; q < wo; q++) heap.copyWithin(drow + q * sw * c, srow + q * c, srow + (q + 1) * c);
      }
    }
  }
  return out;
}
