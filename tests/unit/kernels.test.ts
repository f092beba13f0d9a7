// Correctness of the wasm gradient kernels (src/ml/kernels) against the cpu backend's reference
// kernels, plus leak checks (tf.memory().numTensors stable across repeated calls).
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../src/ml/tf-node';
import { registerWasmGradientKernels } from '../../src/ml/kernels/index';

type TF = Awaited<ReturnType<typeof initNodeBackend>>;
let tf: TF;

beforeAll(async () => {
  tf = await initNodeBackend('wasm');
  registerWasmGradientKernels(); // second call: must be a no-op
  await tf.setBackend('cpu');
  await tf.setBackend('wasm');
});

let seed = 12345;
function rand(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    a[i] = (seed / 4294967296) * 2 - 1;
  }
  return a;
}

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
type Inputs = Record<string, { shape: number[]; data: Float32Array }>;

/** Runs one kernel on a backend with fresh tensors; returns its output values and shape. */
async function runOn(backend: 'cpu' | 'wasm', kernel: string, inputs: Inputs, attrs: object) {
  await tf.setBackend(backend);
  const ts: Record<string, import('@tensorflow/tfjs').Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.data, v.shape, 'float32');
  const out = tf.engine().runKernel(kernel, ts as never, attrs as never) as import('@tensorflow/tfjs').Tensor;
  const values = out.dataSync().slice();
  const shape = out.shape.slice();
  tf.dispose([out, ...Object.values(ts)]);
  return { values, shape };
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-6);
}

async function compare(kernel: string, inputs: Inputs, attrs: object) {
  const ref = await runOn('cpu', kernel, inputs, attrs);
  const got = await runOn('wasm', kernel, inputs, attrs);
  expect(got.shape).toEqual(ref.shape);
  expect(maxRelErr(got.values, ref.values)).toBeLessThan(1e-4);
}

function outSize(inSize: number, k: number, s: number, pad: Pad, axis: 1 | 2): number {
  if (pad === 'same') return Math.ceil(inSize / s);
  if (pad === 'valid') return Math.ceil((inSize - k + 1) / s);
  const [a, b] = pad[axis];
  return Math.floor((inSize + a + b - k) / s) + 1;
}

interface Case {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  s: number;
  pad: Pad;
}

const explicitPad: Pad = [
  [0, 0],
  [2, 0],
  [1, 2],
  [0, 0],
];

const convCases: Case[] = [
  { n: 1, h: 7, w: 9, ci: 1, co: 8, k: 3, s: 1, pad: 'same' },
  { n: 3, h: 9, w: 7, ci: 3, co: 16, k: 3, s: 1, pad: 'valid' },
  { n: 3, h: 11, w: 11, ci: 8, co: 3, k: 5, s: 1, pad: 'same' },
  { n: 1, h: 9, w: 13, ci: 16, co: 8, k: 1, s: 1, pad: 'valid' },
  { n: 3, h: 9, w: 9, ci: 3, co: 8, k: 3, s: 2, pad: 'same' },
  { n: 1, h: 13, w: 11, ci: 8, co: 16, k: 3, s: 2, pad: 'valid' },
  { n: 3, h: 10, w: 12, ci: 16, co: 16, k: 5, s: 2, pad: 'same' },
  { n: 3, h: 8, w: 8, ci: 1, co: 3, k: 1, s: 2, pad: 'same' },
  { n: 1, h: 9, w: 11, ci: 3, co: 8, k: 3, s: [1, 2] as unknown as number, pad: 'same' },
  { n: 3, h: 10, w: 9, ci: 8, co: 8, k: 3, s: 1, pad: explicitPad },
  { n: 1, h: 11, w: 10, ci: 3, co: 16, k: 3, s: 2, pad: explicitPad },
  { n: 1, h: 32, w: 32, ci: 16, co: 32, k: 3, s: 1, pad: 'same' },
  // one input channel, stride 1: direct SIMD input gradient
  { n: 2, h: 11, w: 9, ci: 1, co: 16, k: 5, s: 1, pad: 'valid' },
  { n: 3, h: 10, w: 9, ci: 1, co: 4, k: 3, s: 1, pad: explicitPad },
  { n: 2, h: 16, w: 12, ci: 1, co: 12, k: 3, s: 1, pad: 'same' },
];

function strides(c: Case): [number, number] {
  return Array.isArray(c.s) ? (c.s as unknown as [number, number]) : [c.s, c.s];
}

function caseName(c: Case): string {
  return `n${c.n} ${c.h}x${c.w} ${c.ci}->${c.co} k${c.k} s${strides(c).join('/')} pad ${JSON.stringify(c.pad)}`;
}

describe('Conv2D gradients on wasm vs cpu', () => {
  for (const c of convCases) {
    it(`Conv2DBackpropFilter & Conv2DBackpropInput: ${caseName(c)}`, async () => {
      const [sh, sw] = strides(c);
      const ho = outSize(c.h, c.k, sh, c.pad, 1);
      const wo = outSize(c.w, c.k, sw, c.pad, 2);
      const x = { shape: [c.n, c.h, c.w, c.ci], data: rand(c.n * c.h * c.w * c.ci) };
      const dy = { shape: [c.n, ho, wo, c.co], data: rand(c.n * ho * wo * c.co) };
      const filter = { shape: [c.k, c.k, c.ci, c.co], data: rand(c.k * c.k * c.ci * c.co) };
      const common = { strides: [sh, sw], pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
      await compare('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: filter.shape });
      await compare('Conv2DBackpropInput', { dy, filter }, { ...common, inputShape: x.shape });
    });
  }
});

const dwCases: (Case & { m: number })[] = [
  { n: 1, h: 7, w: 9, ci: 1, co: 1, m: 1, k: 3, s: 1, pad: 'same' },
  { n: 3, h: 9, w: 7, ci: 3, co: 3, m: 1, k: 3, s: 1, pad: 'valid' },
  { n: 3, h: 11, w: 11, ci: 8, co: 8, m: 1, k: 5, s: 1, pad: 'same' },
  { n: 3, h: 9, w: 9, ci: 16, co: 16, m: 1, k: 3, s: 2, pad: 'same' },
  { n: 1, h: 13, w: 11, ci: 8, co: 8, m: 1, k: 3, s: 2, pad: 'valid' },
  { n: 3, h: 10, w: 12, ci: 16, co: 16, m: 1, k: 5, s: 2, pad: 'same' },
  { n: 1, h: 9, w: 9, ci: 8, co: 8, m: 1, k: 1, s: 1, pad: 'valid' },
  { n: 3, h: 9, w: 8, ci: 3, co: 6, m: 2, k: 3, s: 1, pad: 'same' },
  { n: 1, h: 9, w: 9, ci: 3, co: 9, m: 3, k: 3, s: 2, pad: 'valid' },
  { n: 3, h: 10, w: 9, ci: 8, co: 8, m: 1, k: 3, s: 2, pad: explicitPad },
];

describe('Depthwise conv gradients on wasm vs cpu', () => {
  for (const c of dwCases) {
    it(`DepthwiseConv2dNativeBackpropFilter & Input: ${caseName(c)} m${c.m}`, async () => {
      const [sh, sw] = strides(c);
      const ho = outSize(c.h, c.k, sh, c.pad, 1);
      const wo = outSize(c.w, c.k, sw, c.pad, 2);
      const x = { shape: [c.n, c.h, c.w, c.ci], data: rand(c.n * c.h * c.w * c.ci) };
      const dy = { shape: [c.n, ho, wo, c.ci * c.m], data: rand(c.n * ho * wo * c.ci * c.m) };
      const filter = { shape: [c.k, c.k, c.ci, c.m], data: rand(c.k * c.k * c.ci * c.m) };
      const common = { strides: [sh, sw], pad: c.pad, dilations: [1, 1], dimRoundingMode: undefined };
      await compare('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...common, filterShape: filter.shape });
      await compare('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...common, inputShape: x.shape });
    });
  }
});

describe('faster stock kernels (Tile, MaxPoolGrad, Sum, Mean) on wasm vs cpu', () => {
  it('Tile: several ranks and reps', async () => {
    const cases: [number[], number[]][] = [
      [
        [1, 1, 1, 5],
        [3, 4, 5, 1],
      ],
      [
        [2, 3],
        [2, 3],
      ],
      [[4], [3]],
      [
        [2, 1, 3],
        [1, 4, 2],
      ],
      [
        [3, 2, 2, 1],
        [1, 1, 1, 4],
      ],
    ];
    for (const [shape, reps] of cases) {
      const size = shape.reduce((a, b) => a * b, 1);
      await compare('Tile', { x: { shape, data: rand(size) } }, { reps });
    }
    await tf.setBackend('wasm');
    const ti = tf.tile(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), [2, 1]);
    expect(Array.from(ti.dataSync())).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    ti.dispose();
  });

  it('MaxPoolGrad: 2x2/2, 3x3/2 same, 3x3/1 valid, odd sizes, ties after ReLU', async () => {
    const cases: [number[], number, number, 'same' | 'valid'][] = [
      [[3, 8, 8, 4], 2, 2, 'valid'],
      [[1, 9, 7, 3], 2, 2, 'valid'],
      [[2, 9, 9, 2], 3, 2, 'same'],
      [[1, 7, 8, 5], 3, 1, 'valid'],
      [[2, 5, 5, 1], 2, 1, 'same'],
      [[2, 8, 6, 16], 2, 2, 'valid'], // SIMD 2x2 path
      [[2, 9, 7, 8], 2, 2, 'valid'], // SIMD 2x2 path, odd sizes (uncovered last row/column)
      [[1, 6, 6, 8], 2, 2, 'same'], // 'same' with even sizes = no padding: SIMD path
    ];
    for (const [shape, f, s, pad] of cases) {
      const size = shape.reduce((a, b) => a * b, 1);
      const xd = rand(size).map((v) => Math.max(0, v)); // many ties (zeros)
      await tf.setBackend('cpu');
      const out = tf.maxPool(tf.tensor4d(xd, shape as [number, number, number, number]), f, s, pad);
      const outD = { shape: out.shape, data: out.dataSync().slice() as Float32Array };
      out.dispose();
      const dy = { shape: outD.shape, data: rand(outD.data.length) };
      await compare('MaxPoolGrad', { dy, input: { shape, data: xd }, output: outD }, { filterSize: f, strides: s, pad });
    }
  });

  it('FusedBatchNorm with per-channel statistics (with and without scale/offset)', async () => {
    for (const C of [6, 8, 32]) {
      const x = { shape: [2, 5, 4, C], data: rand(40 * C) };
      const vec = (positive = false) => ({ shape: [C], data: rand(C).map((v) => (positive ? Math.abs(v) + 0.1 : v)) });
      await compare('FusedBatchNorm', { x, mean: vec(), variance: vec(true), offset: vec(), scale: vec() }, { varianceEpsilon: 1e-3 });
      await compare('FusedBatchNorm', { x, mean: vec(), variance: vec(true) }, { varianceEpsilon: 1e-3 });
    }
    const x1 = { shape: [3, 4, 1], data: rand(12) };
    const v1 = { shape: [1], data: new Float32Array([0.5]) };
    await compare('FusedBatchNorm', { x: x1, mean: v1, variance: v1, scale: v1 }, { varianceEpsilon: 1e-3 });
  });

  it('Square (SIMD) matches cpu, including the scalar tail and int32 (stock kernel)', async () => {
    for (const shape of [[2, 9, 7, 16], [5, 3], [1]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      await compare('Square', { x: { shape, data: rand(n).map((v) => v * 10) } }, {});
    }
    await tf.setBackend('wasm');
    const i = tf.square(tf.tensor1d([-3, 4], 'int32'));
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.dataSync())).toEqual([9, 16]);
    i.dispose();
  });

  it('Identity shares data and stays correct after the source is disposed', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    b.dispose();
  });

  it('Sum / Mean over leading axes (and fallback for other axes)', async () => {
    for (const C of [6, 8]) {
      const x = { shape: [3, 5, 4, C], data: rand(60 * C) };
      for (const kernel of ['Sum', 'Mean']) {
        for (const axis of [[0, 1, 2], [0], [1, 0], [3], [1, 2], [0, 1, 2, 3]]) {
          for (const keepDims of [false, true]) await compare(kernel, { x }, { axis, keepDims });
        }
      }
    }
    // many rows (several 64-row blocks of the SIMD column sums)
    await compare('Sum', { x: { shape: [4, 33, 17, 12], data: rand(4 * 33 * 17 * 12) } }, { axis: [0, 1, 2], keepDims: false });
  });
});

describe('fused gradient kernels (CxrReluGrad, CxrSquareGrad, CxrChannelScale, CxrBatchNormGradSums) vs cpu', () => {
  it('the SIMD module assembles, validates and binds to the backend memory in Node', async () => {
    const simd = await import('../../src/ml/kernels/simd');
    expect(simd.simdModuleValid(false)).toBe(true);
    expect(simd.simdModuleValid(true)).toBe(true);
    await tf.setBackend('wasm');
    expect(simd.simdKernels(tf.backend() as never)).not.toBeNull();
  });

  type T = import('@tensorflow/tfjs').Tensor;
  /** Values of `f` on the cpu backend (stock ops) and of the fused `kernel` on wasm. */
  async function fusedVsCpu(kernel: string, inputs: Inputs, reference: (t: Record<string, T>) => T) {
    await tf.setBackend('cpu');
    const cpuTs: Record<string, T> = {};
    for (const [k, v] of Object.entries(inputs)) cpuTs[k] = tf.tensor(v.data, v.shape, 'float32');
    const refT = reference(cpuTs);
    const ref = { values: refT.dataSync().slice(), shape: refT.shape.slice() };
    tf.dispose([refT, ...Object.values(cpuTs)]);
    const got = await runOn('wasm', kernel, inputs, {});
    expect(got.shape).toEqual(ref.shape);
    expect(maxRelErr(got.values, ref.values)).toBeLessThan(1e-5);
    return got;
  }

  const shapes = [[2, 9, 7, 1], [3, 5, 4, 16], [1, 6, 6, 3], [7, 5], [11], [5, 67, 8]];

  it('CxrReluGrad = dy * step(x) (zeros, negatives, NaN)', async () => {
    for (const shape of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      const xd = rand(n).map((v, i) => (i % 5 === 0 ? 0 : v));
      await fusedVsCpu('CxrReluGrad', { dy: { shape, data: rand(n) }, x: { shape, data: xd } }, (t) => tf.mul(t.dy, tf.cast(tf.step(t.x), 'float32')));
    }
    const nan = await runOn(
      'wasm',
      'CxrReluGrad',
      { dy: { shape: [3], data: new Float32Array([1, 2, 3]) }, x: { shape: [3], data: new Float32Array([NaN, -1, 1]) } },
      {},
    );
    expect(Number.isNaN(nan.values[0])).toBe(true);
    expect(Array.from(nan.values.slice(1))).toEqual([0, 3]);
  });

  it('CxrSquareGrad = dy * 2x', async () => {
    for (const shape of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      await fusedVsCpu('CxrSquareGrad', { dy: { shape, data: rand(n) }, x: { shape, data: rand(n) } }, (t) => tf.mul(t.dy, tf.mul(t.x, 2)));
    }
  });

  it('CxrChannelScale = x * s[c] and CxrBatchNormGradSums = per-channel [sum dy, sum dy (x - mean)]', async () => {
    for (const shape of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      const C = shape[shape.length - 1];
      const axes = shape.slice(0, -1).map((_, i) => i);
      const x = { shape, data: rand(n) };
      const dy = { shape, data: rand(n) };
      const vec = { shape: [C], data: rand(C) };
      await fusedVsCpu('CxrChannelScale', { x, s: vec }, (t) => tf.mul(t.x, t.s));
      if (axes.length === 0) continue;
      await fusedVsCpu('CxrBatchNormGradSums', { dy, x, mean: vec }, (t) => tf.stack([tf.sum(t.dy, axes), tf.sum(tf.mul(t.dy, tf.sub(t.x, t.mean)), axes)]));
    }
  });

  it('Cast to the same dtype shares data and survives disposal of the source', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor1d([1.5, -2, 3]);
    const b = tf.cast(a, 'float32');
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1.5, -2, 3]);
    const c = tf.cast(b, 'int32');
    expect(c.dtype).toBe('int32');
    expect(Array.from(c.dataSync())).toEqual([1, -2, 3]);
    tf.dispose([b, c]);
  });
});

describe('fused gradients (BatchNorm in training mode, ReLU, Square, Mean) vs cpu, end to end', () => {
  type T = import('@tensorflow/tfjs').Tensor;
  /** BatchNorm exactly as tfjs-layers trains it: moments over the leading axes, then batchNorm. */
  function bnReluLoss(x: T, gamma: T, beta: T, w: T): T {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(x, axes);
    const y = tf.relu(tf.batchNorm(x, mean, variance, beta, gamma, 1e-3));
    return tf.sum(tf.mul(y, w)).add(tf.mean(tf.square(y)));
  }

  // (tfjs cannot differentiate batchNorm without a scale on any backend: it saves an undefined input)
  const cases: { shape: number[] }[] = [{ shape: [4, 9, 7, 1] }, { shape: [3, 6, 5, 16] }, { shape: [2, 5, 5, 3] }, { shape: [6, 8] }];

  for (const c of cases) {
    it(`gradients wrt x, gamma, beta: ${JSON.stringify(c.shape)}`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const C = c.shape[c.shape.length - 1];
      const xd = rand(n).map((v, i) => v * 3 + (i % C)); // non-zero means
      const wd = rand(n);
      const gd = rand(C).map((v) => v + 1.5);
      const bd = rand(C);
      async function grads(backend: 'cpu' | 'wasm') {
        await tf.setBackend(backend);
        const x = tf.tensor(xd, c.shape);
        const w = tf.tensor(wd, c.shape);
        const gamma = tf.tensor1d(gd);
        const beta = tf.tensor1d(bd);
        const before = tf.memory().numTensors;
        const f = (a: T, g: T, b: T) => bnReluLoss(a, g, b, w);
        const gs = tf.grads(f as never)([x, gamma, beta]);
        const out = gs.map((g) => g.dataSync().slice());
        tf.dispose(gs);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([x, w, gamma, beta]);
        return out;
      }
      const ref = await grads('cpu');
      const got = await grads('wasm');
      expect(got.length).toBe(ref.length);
      for (let i = 0; i < ref.length; i++) expect(maxRelErr(got[i], ref[i])).toBeLessThan(2e-4);
      if (C % 4 === 0) {
        // the fused path really ran on wasm (and the stock gradient on cpu)
        const ran = async (backend: 'cpu' | 'wasm') => {
          await tf.setBackend(backend);
          const info = await tf.profile(async () => {
            await grads(backend);
          });
          return new Set(info.kernels.map((k) => k.name));
        };
        const wasmKernels = await ran('wasm');
        for (const k of ['CxrBatchNormGradSums', 'CxrChannelScale', 'CxrReluGrad', 'CxrSquareGrad']) expect(wasmKernels.has(k), k).toBe(true);
        expect(wasmKernels.has('Step')).toBe(false);
        const cpuKernels = await ran('cpu');
        expect([...cpuKernels].some((k) => k.startsWith('Cxr'))).toBe(false);
      }
    });
  }

  it('Mean gradient over other axes (GAP [1, 2], [0], all) and non-per-channel BatchNorm fall back', async () => {
    const xd = rand(2 * 5 * 4 * 3);
    async function grads(backend: 'cpu' | 'wasm') {
      await tf.setBackend(backend);
      const x = tf.tensor4d(xd, [2, 5, 4, 3]);
      const m4 = tf.tensor4d([0.1, -0.2, 0.3], [1, 1, 1, 3]);
      const v4 = tf.tensor4d([1.1, 0.7, 2.0], [1, 1, 1, 3]);
      const s4 = tf.tensor4d([0.9, 1.2, -0.5], [1, 1, 1, 3]);
      const f = (a: T) =>
        tf.addN([
          tf.sum(tf.square(tf.mean(a, [1, 2]))),
          tf.sum(tf.mul(tf.mean(a, 0), tf.mean(a, 0))),
          tf.mean(a).mul(3),
          tf.sum(tf.square(tf.batchNorm(a, m4, v4, m4, s4))),
        ]);
      const [g] = tf.grads(f as never)([x]);
      const out = g.dataSync().slice();
      tf.dispose([g, x, m4, v4, s4]);
      return out;
    }
    const ref = await grads('cpu');
    const got = await grads('wasm');
    expect(maxRelErr(got, ref)).toBeLessThan(1e-5);
  });
});

describe('gradients through tf.grad (end to end)', () => {
  it('conv2d + depthwiseConv2d gradients match the cpu backend', async () => {
    const xd = rand(2 * 12 * 10 * 3);
    const wd = rand(3 * 3 * 3 * 8);
    const dwd = rand(3 * 3 * 8 * 1);
    async function grads(backend: 'cpu' | 'wasm') {
      await tf.setBackend(backend);
      const x = tf.tensor4d(xd, [2, 12, 10, 3]);
      const w = tf.tensor4d(wd, [3, 3, 3, 8]);
      const dw = tf.tensor4d(dwd, [3, 3, 8, 1]);
      const f = (a: import('@tensorflow/tfjs').Tensor4D, b: import('@tensorflow/tfjs').Tensor4D, c: import('@tensorflow/tfjs').Tensor4D) =>
        tf
          .depthwiseConv2d(tf.relu(tf.conv2d(a, b, 2, 'same')), c, 1, 'same')
          .square()
          .sum();
      const gs = tf.grads(f as never)([x, w, dw]);
      const out = gs.map((g) => g.dataSync().slice());
      tf.dispose([x, w, dw, ...gs]);
      return out;
    }
    const ref = await grads('cpu');
    const got = await grads('wasm');
    for (let i = 0; i < ref.length; i++) expect(maxRelErr(got[i], ref[i])).toBeLessThan(1e-4);
  });
});

describe('leaks', () => {
  it('numTensors and backend data ids are unchanged after repeated kernel calls', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(rand(3 * 9 * 9 * 8), [3, 9, 9, 8]);
    const filter = tf.tensor(rand(3 * 3 * 8 * 4), [3, 3, 8, 4]);
    const dwFilter = tf.tensor(rand(3 * 3 * 8 * 2), [3, 3, 8, 2]);
    const dy1 = tf.tensor(rand(3 * 9 * 9 * 4), [3, 9, 9, 4]);
    const dy2 = tf.tensor(rand(3 * 5 * 5 * 4), [3, 5, 5, 4]);
    const dyDw = tf.tensor(rand(3 * 5 * 5 * 16), [3, 5, 5, 16]);
    const small = tf.tensor(rand(8), [1, 1, 1, 8]);
    const pooled = tf.tensor(rand(3 * 4 * 4 * 8), [3, 4, 4, 8]);
    const vec = tf.tensor(
      rand(8).map((v) => Math.abs(v) + 0.1),
      [8],
    );
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const calls: [string, object, object][] = [
      ['Conv2DBackpropFilter', { x, dy: dy1 }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 4] }],
      ['Conv2DBackpropFilter', { x, dy: dy2 }, { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 4] }],
      ['Conv2DBackpropInput', { dy: dy1, filter }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [3, 9, 9, 8] }],
      ['Conv2DBackpropInput', { dy: dy2, filter }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [3, 9, 9, 8] }],
      ['DepthwiseConv2dNativeBackpropFilter', { x, dy: dyDw }, { strides: 2, pad: 'same', dilations: 1, filterShape: [3, 3, 8, 2] }],
      ['DepthwiseConv2dNativeBackpropInput', { dy: dyDw, filter: dwFilter }, { strides: 2, pad: 'same', dilations: 1, inputShape: [3, 9, 9, 8] }],
      ['Tile', { x: small }, { reps: [3, 9, 9, 1] }],
      ['MaxPoolGrad', { dy: pooled, input: x, output: pooled }, { filterSize: 2, strides: 2, pad: 'valid' }],
      ['Sum', { x }, { axis: [0, 1, 2], keepDims: false }],
      ['Mean', { x }, { axis: [0, 1, 2], keepDims: true }],
      ['FusedBatchNorm', { x, mean: vec, variance: vec, offset: vec, scale: vec }, { varianceEpsilon: 1e-3 }],
      ['Identity', { x }, {}],
      ['Cast', { x }, { dtype: 'float32' }],
      ['Square', { x }, {}],
      ['CxrReluGrad', { dy: x, x }, {}],
      ['CxrSquareGrad', { dy: x, x }, {}],
      ['CxrChannelScale', { x, s: vec }, {}],
      ['CxrBatchNormGradSums', { dy: x, x, mean: vec }, {}],
    ];
    for (const [kernel, inputs, attrs] of calls) {
      tf.dispose(tf.engine().runKernel(kernel, inputs as never, attrs as never) as never); // warm-up
      const before = tf.memory().numTensors;
      const idsBefore = backend.numDataIds();
      for (let i = 0; i < 5; i++) {
        const out = tf.engine().runKernel(kernel, inputs as never, attrs as never) as import('@tensorflow/tfjs').Tensor;
        out.dataSync();
        out.dispose();
      }
      expect(tf.memory().numTensors, kernel).toBe(before);
      expect(backend.numDataIds(), kernel).toBe(idsBefore);
    }
    tf.dispose([x, filter, dwFilter, dy1, dy2, dyDw, small, pooled, vec]);
  });

  it('splits large batches (im2col limit) without changing the result or leaking', async () => {
    const mod = await import('../../src/ml/kernels/conv2d-grads');
    const x = { shape: [5, 16, 16, 8], data: rand(5 * 16 * 16 * 8) };
    const dy = { shape: [5, 16, 16, 8], data: rand(5 * 16 * 16 * 8) };
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 8] };
    const ref = await runOn('cpu', 'Conv2DBackpropFilter', { x, dy }, attrs);
    const saved = mod.IM2COL_MAX_FLOATS;
    mod.setIm2colMaxFloats(72 * 256 * 2); // 2 images per chunk -> 3 chunks
    try {
      const before = tf.memory().numTensors;
      const got = await runOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
      expect(tf.memory().numTensors).toBe(before);
      expect(maxRelErr(got.values, ref.values)).toBeLessThan(1e-4);
    } finally {
      mod.setIm2colMaxFloats(saved);
    }
  });

  it('rejects dilations > 1 with a clear error', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 8, 8, 2]);
    const dy = tf.zeros([1, 8, 8, 2]);
    expect(() =>
      tf.engine().runKernel(
        'DepthwiseConv2dNativeBackpropFilter',
        { x, dy } as never,
        {
          strides: 1,
          pad: 'same',
          dilations: 2,
          filterShape: [3, 3, 2, 1],
        } as never,
      ),
    ).toThrow(/dilation/);
    tf.dispose([x, dy]);
  });
});
