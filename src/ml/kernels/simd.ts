// SIMD kernels for the training step on the wasm backend, assembled at run time (wasm-asm.ts)
// into a tiny module that imports the backend's own memory: tensors are read and written in place
// with 128-bit SIMD, ~5-10x faster than scalar JS loops over HEAPF32 (which were the bottleneck of
// the BatchNorm / ReLU / pooling gradients; measured with scripts/bench-train.ts --profile).
//
// All functions take byte addresses. Per-channel kernels require C % 4 == 0 (callers check and
// fall back otherwise). Sums accumulate float32 partial sums over blocks of <= 64 rows and add
// them into float64 accumulators (scratch memory owned by the caller).
import { F32, I32, V128, buildModule, op, type Code, type FuncDef } from './wasm-asm';
import type { WasmBackendLike } from './wasm-util';

export interface SimdKernels {
  /** out = dy * step(x) (step: 1 for x > 0, NaN for NaN, else 0), n floats. */
  reluGrad(dy: number, x: number, out: number, n: number): void;
  /** out = a * b, n floats (a = b: Square). */
  mul(a: number, b: number, out: number, n: number): void;
  /** out = dy * (x * 2), n floats. */
  squareGrad(dy: number, x: number, out: number, n: number): void;
  /** out[r, c] = x[r, c] * a[c], rows x C. */
  scaleC(x: number, out: number, rows: number, C: number, a: number): void;
  /** out[r, c] = x[r, c] * a[c] + b[c], rows x C. */
  scaleShiftC(x: number, out: number, rows: number, C: number, a: number, b: number): void;
  /** acc[c] (float64) += sum_r x[r, c]. */
  colSums(x: number, rows: number, C: number, acc: number): void;
  /** acc1[c] += sum_r dy[r, c]; acc2[c] += sum_r dy[r, c] * (x[r, c] - mean[c]) (float64 acc). */
  bnSums(dy: number, x: number, mean: number, rows: number, C: number, acc1: number, acc2: number): void;
  /**
   * 2x2 / stride 2 max-pool gradient (valid padding), NHWC: the first maximum of each window (in
   * row-major order) receives dy, the other three positions get 0. Rows/columns not covered by any
   * window (odd H or W) are left untouched.
   */
  maxPoolGrad2x2(x: number, dy: number, out: number, N: number, H: number, W: number, C: number): void;
  /**
   * One row of the transposed im2col matrix (one filter tap, one input channel) for nb images:
   * dst[n, ho, wo] = src[n, ho * sh + di, wo * sw + dj] (0 outside the image), where src holds nb
   * consecutive H x W planes. Columns outside [w0, w1) are known to fall outside the image.
   */
  /**
   * Input gradient of a stride-1 convolution with ONE input channel (dx [N, H, W, 1]) from dy
   * [N, Ho, Wo, Co] and the filter [kh, kw, 1, Co] (Co % 4 == 0): dx[n, h, w] =
   * sum over taps (i, j) inside dy and co of dy[n, h - i + pt, w - j + pl, co] * f[i, j, co].
   */
  convInputGrad1(
    dy: number,
    f: number,
    out: number,
    N: number,
    H: number,
    W: number,
    Ho: number,
    Wo: number,
    Co: number,
    kh: number,
    kw: number,
    pt: number,
    pl: number,
  ): void;
  im2colRow(
    src: number,
    dst: number,
    nb: number,
    H: number,
    W: number,
    Ho: number,
    Wo: number,
    di: number,
    dj: number,
    sh: number,
    sw: number,
    w0: number,
    w1: number,
  ): void;
}

const {
  get,
  set,
  i32,
  f32,
  block,
  loop,
  end,
  br,
  brIf,
  i32Add,
  i32Mul,
  i32Shl,
  i32And,
  i32GeU,
  f32Load,
  f32Store,
  f32Mul,
  f32Gt,
  f32Ne,
  select,
  v128Load,
  v128Store,
  f32x4Splat,
  f32x4Eq,
  f32x4Gt,
  v128And,
  v128AndNot,
  v128Bitselect,
  f32x4Add,
  f32x4Sub,
  f32x4Mul,
  f64x2Add,
  f64x2PromoteLowF32x4,
  shuffleHighF32,
} = op;

/** for (i = start; i < limit; i += step) body — i and limit are i32 locals. */
function forLoop(i: number, start: Code, limit: number, step: number, body: Code): Code {
  return [
    ...start,
    ...set(i),
    ...block,
    ...loop,
    ...get(i),
    ...get(limit),
    ...i32GeU,
    ...brIf(1),
    ...body,
    ...get(i),
    ...i32(step),
    ...i32Add,
    ...set(i),
    ...br(0),
    ...end,
    ...end,
  ];
}

const splat = (v: number): Code => [...f32(v), ...f32x4Splat];
const addr = (base: number, off: number): Code => [...get(base), ...get(off), ...i32Add];

// ---- elementwise: (dy, x, out, n) ------------------------------------------------------------
// locals: 4 i, 5 endV (bytes), 6 endAll (bytes), 7 xv (v128), 8 xs (f32)
function elementwise(name: string, vec: Code, scalar: Code): FuncDef {
  const [DY, X, OUT, N, IDX, ENDV, ENDALL] = [0, 1, 2, 3, 4, 5, 6];
  return {
    name,
    params: [I32, I32, I32, I32],
    locals: [I32, I32, I32, V128, F32],
    body: [
      ...get(N),
      ...i32(2),
      ...i32Shl,
      ...set(ENDALL),
      ...get(N),
      ...i32(-4),
      ...i32And,
      ...i32(2),
      ...i32Shl,
      ...set(ENDV),
      ...forLoop(IDX, i32(0), ENDV, 16, [
        ...addr(X, IDX),
        ...v128Load(),
        ...set(7),
        ...addr(OUT, IDX),
        ...addr(DY, IDX),
        ...v128Load(),
        ...vec, // [addr, dyv] -> [addr, result]
        ...v128Store(),
      ]),
      ...forLoop(IDX, get(ENDV), ENDALL, 4, [
        ...addr(X, IDX),
        ...f32Load(),
        ...set(8),
        ...addr(OUT, IDX),
        ...addr(DY, IDX),
        ...f32Load(),
        ...scalar, // [addr, dy] -> [addr, result]
        ...f32Store(),
      ]),
    ],
  };
}

// relu grad: s = x > 0 ? 1 : 0, NaN where x is NaN; out = dy * s
const reluGradDef = elementwise(
  'relu_grad',
  [
    ...splat(1),
    ...splat(0),
    ...get(7),
    ...splat(0),
    ...f32x4Gt,
    ...v128Bitselect, // s
    ...get(7),
    ...get(7),
    ...get(7),
    ...f32x4Eq,
    ...v128Bitselect, // NaN lanes: x
    // stack: [addr, dyv, s] (bitselect(s, x, x==x))
    ...f32x4Mul,
  ],
  [
    ...f32(1),
    ...get(8),
    ...f32(0),
    ...get(8),
    ...get(8),
    ...f32Ne,
    ...select, // x != x ? x : 0
    ...get(8),
    ...f32(0),
    ...f32Gt,
    ...select, // x > 0 ? 1 : (...)
    ...f32Mul,
  ],
);

// plain product: out = dy * x
const mulDef = elementwise('mul', [...get(7), ...f32x4Mul], [...get(8), ...f32Mul]);

// square grad: out = dy * (x * 2)
const squareGradDef = elementwise('square_grad', [...get(7), ...splat(2), ...f32x4Mul, ...f32x4Mul], [...get(8), ...f32(2), ...f32Mul, ...f32Mul]);

// ---- per-channel scale (and shift): (x, out, rows, C, a[, b]) ------------------------------------
function scaleDef(shift: boolean): FuncDef {
  // params: 0 x, 1 out, 2 rows, 3 C, 4 a, (5 b)
  const P = shift ? 6 : 5;
  const [ROWBYTES, END, R, CB] = [P, P + 1, P + 2, P + 3];
  return {
    name: shift ? 'scale_shift_c' : 'scale_c',
    params: shift ? [I32, I32, I32, I32, I32, I32] : [I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32],
    body: [
      ...get(3),
      ...i32(2),
      ...i32Shl,
      ...set(ROWBYTES),
      ...get(2),
      ...get(ROWBYTES),
      ...i32Mul,
      ...set(END),
      // R: byte offset of the row start
      ...forLoop(R, i32(0), END, 0, [
        ...forLoop(CB, i32(0), ROWBYTES, 16, [
          ...get(1),
          ...get(R),
          ...i32Add,
          ...get(CB),
          ...i32Add,
          ...get(0),
          ...get(R),
          ...i32Add,
          ...get(CB),
          ...i32Add,
          ...v128Load(),
          ...addr(4, CB),
          ...v128Load(),
          ...f32x4Mul,
          ...(shift ? [...addr(5, CB), ...v128Load(), ...f32x4Add] : []),
          ...v128Store(),
        ]),
        ...get(R),
        ...get(ROWBYTES),
        ...i32Add,
        ...set(R),
      ]),
    ],
  };
}

// ---- column sums (f32 partial sums over <= 64-row blocks, f64 accumulators) --------------------
const BLOCK_ROWS = 64;

/**
 * Shared structure of colSums / bnSums. Per block of rows, per 4-channel group: a v128 partial
 * sum (two for bnSums) over the block's rows, then added into the float64 accumulators.
 */
function sumsDef(bn: boolean): FuncDef {
  // colSums params: 0 x, 1 rows, 2 C, 3 acc
  // bnSums params:  0 dy, 1 x, 2 mean, 3 rows, 4 C, 5 acc1, 6 acc2
  const np = bn ? 7 : 4;
  const ROWS = bn ? 3 : 1;
  const CC = bn ? 4 : 2;
  const [ROWBYTES, END, B0, B1, CB, P, S1, S2, MV] = [np, np + 1, np + 2, np + 3, np + 4, np + 5, np + 6, np + 7, np + 8];
  const flush = (acc: number, s: number): Code => [
    // acc[c..c+1] (f64, at acc + 2*CB) += promote_low(s); acc[c+2..c+3] += promote_low(high(s))
    ...get(acc),
    ...get(CB),
    ...i32(1),
    ...i32Shl,
    ...i32Add, // address of acc[c]
    ...get(acc),
    ...get(CB),
    ...i32(1),
    ...i32Shl,
    ...i32Add,
    ...v128Load(),
    ...get(s),
    ...f64x2PromoteLowF32x4,
    ...f64x2Add,
    ...v128Store(),
    ...get(acc),
    ...get(CB),
    ...i32(1),
    ...i32Shl,
    ...i32Add,
    ...get(acc),
    ...get(CB),
    ...i32(1),
    ...i32Shl,
    ...i32Add,
    ...v128Load(16),
    ...get(s),
    ...get(s),
    ...shuffleHighF32,
    ...f64x2PromoteLowF32x4,
    ...f64x2Add,
    ...v128Store(16),
  ];
  const inner: Code = bn
    ? [
        // d = dy[p]; s1 += d; s2 += d * (x[p] - mean)
        ...addr(0, P),
        ...v128Load(),
        ...set(MV + 1),
        ...get(S1),
        ...get(MV + 1),
        ...f32x4Add,
        ...set(S1),
        ...get(S2),
        ...get(MV + 1),
        ...addr(1, P),
        ...v128Load(),
        ...get(MV),
        ...f32x4Sub,
        ...f32x4Mul,
        ...f32x4Add,
        ...set(S2),
      ]
    : [...get(S1), ...addr(0, P), ...v128Load(), ...f32x4Add, ...set(S1)];
  return {
    name: bn ? 'bn_sums' : 'col_sums',
    params: Array(np).fill(I32),
    // ROWBYTES END B0 B1 CB P S1 S2 MV D
    locals: [I32, I32, I32, I32, I32, I32, V128, V128, V128, V128],
    body: [
      ...get(CC),
      ...i32(2),
      ...i32Shl,
      ...set(ROWBYTES),
      ...get(ROWS),
      ...get(ROWBYTES),
      ...i32Mul,
      ...set(END),
      ...forLoop(B0, i32(0), END, 0, [
        // B1 = min(B0 + BLOCK_ROWS * rowBytes, END)
        ...get(B0),
        ...i32(BLOCK_ROWS),
        ...get(ROWBYTES),
        ...i32Mul,
        ...i32Add,
        ...set(B1),
        ...get(END),
        ...get(B1),
        ...get(B1),
        ...get(END),
        ...i32GeU,
        ...select,
        ...set(B1),
        ...forLoop(CB, i32(0), ROWBYTES, 16, [
          ...splat(0),
          ...set(S1),
          ...(bn ? [...splat(0), ...set(S2), ...addr(2, CB), ...v128Load(), ...set(MV)] : []),
          // P = B0 + CB; while P < B1 + CB ... (iterate rows of the block at this channel group)
          ...get(B0),
          ...get(CB),
          ...i32Add,
          ...set(P),
          ...block,
          ...loop,
          ...get(P),
          ...get(B1),
          ...get(CB),
          ...i32Add,
          ...i32GeU,
          ...brIf(1),
          ...inner,
          ...get(P),
          ...get(ROWBYTES),
          ...i32Add,
          ...set(P),
          ...br(0),
          ...end,
          ...end,
          ...flush(bn ? 5 : 3, S1),
          ...(bn ? flush(6, S2) : []),
        ]),
        ...get(B1),
        ...set(B0),
      ]),
    ],
  };
}

// ---- 2x2 / 2 max-pool gradient -------------------------------------------------------------------
function maxPoolGradDef(): FuncDef {
  // params: 0 x, 1 dy, 2 out, 3 N, 4 H, 5 W, 6 C
  const [CB4, ROWB, NR, OH, OW, HO, WO, P, G, CB] = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  // v128 locals: 17 v0 (best), 18 g1.., 19 s0, 20 s1, 21 s2, 22 s3, 23 gt, 24 d
  const [BEST, S0, S1, S2, S3, GT, D] = [17, 18, 19, 20, 21, 22, 23];
  // byte offset of window element k relative to P: 0, C4, rowBytes, rowBytes + C4
  const elemAddr = (base: number, k: 0 | 1 | 2 | 3): Code => {
    const e: Code = [...get(base), ...get(P), ...i32Add, ...get(CB), ...i32Add];
    if (k === 1 || k === 3) e.push(...get(CB4), ...i32Add);
    if (k >= 2) e.push(...get(ROWB), ...i32Add);
    return e;
  };
  const step = (k: 1 | 2 | 3, sk: number): Code => [
    // gt = v_k > best; best = gt ? v_k : best; s_j &= ~gt (j < k); s_k = gt
    ...elemAddr(0, k),
    ...v128Load(),
    ...set(D),
    ...get(D),
    ...get(BEST),
    ...f32x4Gt,
    ...set(GT),
    ...get(D),
    ...get(BEST),
    ...get(GT),
    ...v128Bitselect,
    ...set(BEST),
    ...[S0, S1, S2].filter((s) => s < sk).flatMap((s) => [...get(s), ...get(GT), ...v128AndNot, ...set(s)]),
    ...get(GT),
    ...set(sk),
  ];
  const write = (k: 0 | 1 | 2 | 3, s: number): Code => [...elemAddr(2, k), ...get(D), ...get(s), ...v128And, ...v128Store()];
  return {
    name: 'maxpool_grad_2x2',
    params: [I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, V128, V128, V128, V128, V128, V128, V128],
    body: [
      ...get(6),
      ...i32(2),
      ...i32Shl,
      ...set(CB4), // C * 4 bytes
      ...get(5),
      ...get(CB4),
      ...i32Mul,
      ...set(ROWB), // W * C * 4
      // HO = H >> 1, WO = W >> 1
      ...get(4),
      ...i32(1),
      ...[0x76],
      ...set(HO), // i32.shr_u
      ...get(5),
      ...i32(1),
      ...[0x76],
      ...set(WO),
      ...get(3),
      ...get(4),
      ...i32Mul,
      ...set(NR), // N * H image rows
      // G: byte offset of dy (advances by C4 per output pixel)
      ...i32(0),
      ...set(G),
      // loop over image row pairs: OH runs over n * H + 2 * oh (as a row index)
      ...forLoop(OH, i32(0), NR, 0, [
        // skip the odd last row of each image: rows r with (r % H) == H - 1 and H odd are never a window top
        ...forLoop(OW, i32(0), WO, 1, [
          // P = (OH * W + 2 * OW) * C4
          ...get(OH),
          ...get(5),
          ...i32Mul,
          ...get(OW),
          ...i32(1),
          ...i32Shl,
          ...i32Add,
          ...get(CB4),
          ...i32Mul,
          ...set(P),
          ...forLoop(CB, i32(0), CB4, 16, [
            ...elemAddr(0, 0),
            ...v128Load(),
            ...set(BEST),
            ...[0xfd, 0x0c, ...Array(16).fill(0xff)],
            ...set(S0), // v128.const all ones
            ...splat(0),
            ...set(S1),
            ...splat(0),
            ...set(S2),
            ...splat(0),
            ...set(S3),
            ...step(1, S1),
            ...step(2, S2),
            ...step(3, S3),
            ...get(1),
            ...get(G),
            ...i32Add,
            ...get(CB),
            ...i32Add,
            ...v128Load(),
            ...set(D),
            ...write(0, S0),
            ...write(1, S1),
            ...write(2, S2),
            ...write(3, S3),
          ]),
          ...get(G),
          ...get(CB4),
          ...i32Add,
          ...set(G),
        ]),
        // next window row: OH += 2, and skip a leftover odd row at the end of an image
        ...get(OH),
        ...i32(2),
        ...i32Add,
        ...set(OH),
        ...get(4),
        ...i32(1),
        ...i32And, // H odd?
        ...op.if_,
        // if ((OH + 1) % H == 0) OH += 1  <=>  OH is the last (uncovered) row of its image
        ...get(OH),
        ...i32(1),
        ...i32Add,
        ...get(4),
        ...[0x70],
        ...op.i32Eqz, // i32.rem_u
        ...op.if_,
        ...get(OH),
        ...i32(1),
        ...i32Add,
        ...set(OH),
        ...end,
        ...end,
      ]),
    ],
  };
}

// ---- im2col row ---------------------------------------------------------------------------------
function im2colRowDef(): FuncDef {
  // params: 0 src, 1 dst, 2 nb, 3 H, 4 W, 5 Ho, 6 Wo, 7 di, 8 dj, 9 sh, 10 sw, 11 w0, 12 w1
  const [NI, HO, HI, SROW, O, WO, PLANE, ROWB] = [13, 14, 15, 16, 17, 18, 19, 20];
  const { memoryCopy, memoryFill, i32LtS, i32Or, if_, else_, i32GtU } = op;
  const fill = (dst: Code, bytes: Code): Code => [...dst, ...i32(0), ...bytes, ...memoryFill];
  return {
    name: 'im2col_row',
    params: Array(13).fill(I32),
    locals: Array(8).fill(I32),
    body: [
      ...get(3),
      ...get(4),
      ...i32Mul,
      ...i32(2),
      ...i32Shl,
      ...set(PLANE),
      ...get(6),
      ...i32(2),
      ...i32Shl,
      ...set(ROWB),
      ...get(1),
      ...set(O),
      ...forLoop(NI, i32(0), 2, 1, [
        ...forLoop(HO, i32(0), 5, 1, [
          ...get(HO),
          ...get(9),
          ...i32Mul,
          ...get(7),
          ...i32Add,
          ...set(HI),
          // hi < 0 || hi >= H || w1 <= w0  -> the whole row is zero
          ...get(HI),
          ...i32(0),
          ...i32LtS,
          ...get(HI),
          ...get(3),
          ...op.i32GeU,
          ...i32Or,
          ...get(12),
          ...get(11),
          ...i32GtU,
          ...op.i32Eqz,
          ...i32Or,
          ...if_,
          ...fill(get(O), get(ROWB)),
          ...else_,
          ...fill(get(O), [...get(11), ...i32(2), ...i32Shl]),
          // srow = src + n * plane + (hi * W + dj) * 4
          ...get(0),
          ...get(NI),
          ...get(PLANE),
          ...i32Mul,
          ...i32Add,
          ...get(HI),
          ...get(4),
          ...i32Mul,
          ...get(8),
          ...i32Add,
          ...i32(2),
          ...i32Shl,
          ...i32Add,
          ...set(SROW),
          ...get(10),
          ...i32(1),
          ...op.i32Eq,
          ...if_,
          ...get(O),
          ...get(11),
          ...i32(2),
          ...i32Shl,
          ...i32Add,
          ...get(SROW),
          ...get(11),
          ...i32(2),
          ...i32Shl,
          ...i32Add,
          ...get(12),
          ...get(11),
          ...op.i32Sub,
          ...i32(2),
          ...i32Shl,
          ...memoryCopy,
          ...else_,
          ...forLoop(WO, get(11), 12, 1, [
            ...get(O),
            ...get(WO),
            ...i32(2),
            ...i32Shl,
            ...i32Add,
            ...get(SROW),
            ...get(WO),
            ...get(10),
            ...i32Mul,
            ...i32(2),
            ...i32Shl,
            ...i32Add,
            ...f32Load(),
            ...f32Store(),
          ]),
          ...end,
          ...fill([...get(O), ...get(12), ...i32(2), ...i32Shl, ...i32Add], [...get(6), ...get(12), ...op.i32Sub, ...i32(2), ...i32Shl]),
          ...end,
          ...get(O),
          ...get(ROWB),
          ...i32Add,
          ...set(O),
        ]),
      ]),
    ],
  };
}

// ---- input gradient of a 1-input-channel stride-1 convolution ---------------------------------------
function convInputGrad1Def(): FuncDef {
  // params: 0 dy, 1 f, 2 out, 3 N, 4 H, 5 W, 6 Ho, 7 Wo, 8 Co, 9 kh, 10 kw, 11 pt, 12 pl
  const [NI, H_, W_, I_, J_, HO, WO, CB, COB, DYB, FB, O] = [13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24];
  const ACC = 25; // v128
  const { if_, i32LtU, f32x4ExtractLane, f32Add } = op;
  return {
    name: 'conv_input_grad_1',
    params: Array(13).fill(I32),
    locals: [...Array(12).fill(I32), V128],
    body: [
      ...get(8),
      ...i32(2),
      ...i32Shl,
      ...set(COB), // Co * 4 bytes
      ...get(2),
      ...set(O),
      ...forLoop(NI, i32(0), 3, 1, [
        ...forLoop(H_, i32(0), 4, 1, [
          ...forLoop(W_, i32(0), 5, 1, [
            ...splat(0),
            ...set(ACC),
            ...forLoop(I_, i32(0), 9, 1, [
              // ho = h - i + pt, used only when 0 <= ho < Ho (unsigned compare)
              ...get(H_),
              ...get(I_),
              ...op.i32Sub,
              ...get(11),
              ...i32Add,
              ...set(HO),
              ...get(HO),
              ...get(6),
              ...i32LtU,
              ...if_,
              ...forLoop(J_, i32(0), 10, 1, [
                ...get(W_),
                ...get(J_),
                ...op.i32Sub,
                ...get(12),
                ...i32Add,
                ...set(WO),
                ...get(WO),
                ...get(7),
                ...i32LtU,
                ...if_,
                // dyBase = dy + ((n * Ho + ho) * Wo + wo) * Co * 4; fBase = f + (i * kw + j) * Co * 4
                ...get(0),
                ...get(NI),
                ...get(6),
                ...i32Mul,
                ...get(HO),
                ...i32Add,
                ...get(7),
                ...i32Mul,
                ...get(WO),
                ...i32Add,
                ...get(COB),
                ...i32Mul,
                ...i32Add,
                ...set(DYB),
                ...get(1),
                ...get(I_),
                ...get(10),
                ...i32Mul,
                ...get(J_),
                ...i32Add,
                ...get(COB),
                ...i32Mul,
                ...i32Add,
                ...set(FB),
                ...forLoop(CB, i32(0), COB, 16, [
                  ...get(ACC),
                  ...addr(DYB, CB),
                  ...v128Load(),
                  ...addr(FB, CB),
                  ...v128Load(),
                  ...f32x4Mul,
                  ...f32x4Add,
                  ...set(ACC),
                ]),
                ...end,
              ]),
              ...end,
            ]),
            // out = (l0 + l1) + (l2 + l3)
            ...get(O),
            ...get(ACC),
            ...f32x4ExtractLane(0),
            ...get(ACC),
            ...f32x4ExtractLane(1),
            ...f32Add,
            ...get(ACC),
            ...f32x4ExtractLane(2),
            ...get(ACC),
            ...f32x4ExtractLane(3),
            ...f32Add,
            ...f32Add,
            ...f32Store(),
            ...get(O),
            ...i32(4),
            ...i32Add,
            ...set(O),
          ]),
        ]),
      ]),
    ],
  };
}

const DEFS: FuncDef[] = [
  mulDef,
  reluGradDef,
  squareGradDef,
  scaleDef(false),
  scaleDef(true),
  sumsDef(false),
  sumsDef(true),
  maxPoolGradDef(),
  im2colRowDef(),
  convInputGrad1Def(),
];

function memoryOf(backend: WasmBackendLike): WebAssembly.Memory | null {
  const w = backend.wasm as unknown as { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
  const mem = w.wasmMemory ?? w.asm?.memory;
  return mem instanceof WebAssembly.Memory ? mem : null;
}

const cache = new WeakMap<WebAssembly.Memory, SimdKernels | null>();
let disabled = false;

/** Turns the SIMD kernels off (callers fall back to their previous paths); for A/B benchmarks. */
export function setSimdEnabled(on: boolean): void {
  disabled = !on;
}

/** The SIMD kernels bound to this backend's memory, or null where wasm SIMD is unavailable. */
export function simdKernels(backend: WasmBackendLike): SimdKernels | null {
  if (disabled) return null;
  const mem = memoryOf(backend);
  if (mem == null) return null;
  if (cache.has(mem)) return cache.get(mem)!;
  let kernels: SimdKernels | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && mem.buffer instanceof SharedArrayBuffer;
    const bytes = buildModule(DEFS, shared);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), { env: { memory: mem } });
    const e = inst.exports as Record<string, (...a: number[]) => void>;
    kernels = {
      mul: e.mul,
      reluGrad: e.relu_grad,
      squareGrad: e.square_grad,
      scaleC: e.scale_c,
      scaleShiftC: e.scale_shift_c,
      colSums: e.col_sums,
      bnSums: e.bn_sums,
      maxPoolGrad2x2: e.maxpool_grad_2x2,
      im2colRow: e.im2col_row,
      convInputGrad1: e.conv_input_grad_1,
    };
  } catch {
    kernels = null; // no SIMD support (or no access to the memory): callers use their fallbacks
  }
  cache.set(mem, kernels);
  return kernels;
}

/** For tests: the module bytes validate on this engine. */
export function simdModuleValid(shared = false): boolean {
  return WebAssembly.validate(buildModule(DEFS, shared) as BufferSource);
}
