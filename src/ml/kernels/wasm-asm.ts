// A minimal WebAssembly binary writer: just enough to build small SIMD kernels at run time
// (no toolchain, no binary blobs in the repository). The module imports the tfjs wasm backend's
// own memory (env.memory), so kernels read and write tensors in place.
//
// Only the instructions the kernels in simd.ts use are provided. Opcodes follow the WebAssembly
// core spec (v2, with fixed-width SIMD).

export type Code = number[];

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const simd = (op: number): Code => [0xfd, ...uleb(op)];

/** Instructions (each returns its encoding). Memory offsets are in bytes. */
export const op = {
  get: (i: number): Code => [0x20, ...uleb(i)],
  set: (i: number): Code => [0x21, ...uleb(i)],
  tee: (i: number): Code => [0x22, ...uleb(i)],
  i32: (v: number): Code => [0x41, ...sleb(v | 0)],
  f32: (v: number): Code => {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    return [0x43, ...b];
  },
  f64: (v: number): Code => {
    const b = new Uint8Array(new Float64Array([v]).buffer);
    return [0x44, ...b];
  },
  block: [0x02, 0x40] as Code,
  loop: [0x03, 0x40] as Code,
  if_: [0x04, 0x40] as Code,
  else_: [0x05] as Code,
  end: [0x0b] as Code,
  br: (d: number): Code => [0x0c, ...uleb(d)],
  brIf: (d: number): Code => [0x0d, ...uleb(d)],
  drop: [0x1a] as Code,
  /** memory.copy [dst, src, n] and memory.fill [dst, byte, n] (bulk memory). */
  memoryCopy: [0xfc, 10, 0, 0] as Code,
  memoryFill: [0xfc, 11, 0] as Code,
  i32LtS: [0x48] as Code,
  i32Or: [0x72] as Code,
  // i32
  i32Add: [0x6a] as Code,
  i32Sub: [0x6b] as Code,
  i32Mul: [0x6c] as Code,
  i32Shl: [0x74] as Code,
  i32And: [0x71] as Code,
  i32Eqz: [0x45] as Code,
  i32Eq: [0x46] as Code,
  i32LtU: [0x49] as Code,
  i32GeU: [0x4f] as Code,
  i32GtU: [0x4b] as Code,
  // scalar float
  f32Load: (off = 0): Code => [0x2a, 2, ...uleb(off)],
  f32Store: (off = 0): Code => [0x38, 2, ...uleb(off)],
  f64Load: (off = 0): Code => [0x2b, 3, ...uleb(off)],
  f64Store: (off = 0): Code => [0x39, 3, ...uleb(off)],
  f32Add: [0x92] as Code,
  f32Sub: [0x93] as Code,
  f32Mul: [0x94] as Code,
  f32Gt: [0x5e] as Code,
  f32Ne: [0x5c] as Code,
  f64Add: [0xa0] as Code,
  f64Mul: [0xa2] as Code,
  f64PromoteF32: [0xbb] as Code,
  f32DemoteF64: [0xb6] as Code,
  select: [0x1b] as Code,
  // SIMD
  v128Load: (off = 0): Code => [...simd(0x00), 0, ...uleb(off)],
  v128Store: (off = 0): Code => [...simd(0x0b), 0, ...uleb(off)],
  f32x4Splat: simd(0x13),
  f32x4ExtractLane: (lane: number): Code => [...simd(0x1f), lane],
  f32x4Eq: simd(0x41),
  f32x4Ne: simd(0x42),
  f32x4Gt: simd(0x44),
  v128Not: simd(0x4d),
  v128And: simd(0x4e),
  v128AndNot: simd(0x4f),
  v128Or: simd(0x50),
  v128Bitselect: simd(0x52),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  f64x2Add: simd(0xf0),
  f64x2PromoteLowF32x4: simd(0x5f),
  f64x2ExtractLane: (lane: number): Code => [...simd(0x21), lane],
  /** i8x16.shuffle moving f32 lanes 2, 3 to lanes 0, 1. */
  shuffleHighF32: [...simd(0x0d), 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15] as Code,
};

export interface FuncDef {
  name: string;
  params: ValType[];
  results?: ValType[];
  /** Extra locals (after the params). */
  locals?: ValType[];
  body: Code;
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function str(s: string): number[] {
  const b = Array.from(new TextEncoder().encode(s));
  return [...uleb(b.length), ...b];
}

/** Builds a module importing env.memory (shared or not, as the backend's memory) and exporting `funcs`. */
export function buildModule(funcs: FuncDef[], sharedMemory: boolean): Uint8Array {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec((f.results ?? []).map((r) => [r]))]);
  // memory import: min 1 page; a shared memory needs a maximum (65536 pages = 4 GiB, the limit)
  const memType = sharedMemory ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  const imports = vec([[...str('env'), ...str('memory'), 0x02, ...memType]]);
  const fnSec = vec(funcs.map((_, i) => uleb(i)));
  const exports = vec(funcs.map((f, i) => [...str(f.name), 0x00, ...uleb(i)]));
  const codes = funcs.map((f) => {
    const locals = f.locals ?? [];
    // one local entry per declared local (simple; the counts are small)
    const localDecl = vec(locals.map((t) => [...uleb(1), t]));
    const body = [...localDecl, ...f.body, 0x0b];
    return [...uleb(body.length), ...body];
  });
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, fnSec),
    ...section(7, exports),
    ...section(10, vec(codes)),
  ];
  return new Uint8Array(bytes);
}
