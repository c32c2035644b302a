/**
 * Whole-sequence LSTM and GRU kernels with a registered gradient, for the wasm and cpu backends.
 *
 * One `UlasanRnnSequence` kernel runs a layer over all time steps: the input projection x·W + b for every step is
 * one big matmul, each step then costs one matmul h·U (two for GRU) plus pointwise cell math on the heap, and the
 * backward pass mirrors it (one matmul per step for dh, then dW, dU, db, dx as big matmuls over all steps).
 * The stock tfjs-layers RNN instead issues ~15 engine ops per step forward and ~40 backward.
 *
 * Semantics match tf.layers.lstm / tf.layers.gru with `recurrentActivation: 'sigmoid'` and `activation: 'tanh'`:
 * LSTM gates in order i, f, c, o with c' = f·c + i·g, h' = o·tanh(c'); GRU (reset applied before the recurrent
 * matmul, as in tfjs) gates z, r, h with h' = z·h + (1 − z)·tanh(x·W_h + (r·h)·U_h + b_h).
 *
 * tanh(x) is computed as 2·sigmoid(2x) − 1 so that one vectorised wasm Sigmoid call covers all gates of a step.
 */
import * as tf from '@tensorflow/tfjs';
import { requireHeapSimd, type HeapSimd } from './heap-simd';
import { kernelInput, sub, withArena, type Arena, type Region } from './arena';

export const RNN_SEQUENCE = 'UlasanRnnSequence';
export const RNN_SEQUENCE_GRAD = 'UlasanRnnSequenceGrad';

export type RnnCell = 'lstm' | 'gru';

export interface RnnSequenceAttrs {
  cell: RnnCell;
  /** Scan from the last time step to the first; outputs stay aligned with the input positions. */
  reverse: boolean;
  /** Output every step's h ([batch, time, units]) instead of the last one ([batch, units]). */
  returnSequences: boolean;
}

/** Batch, time, input features, units. */
interface Dims {
  B: number;
  T: number;
  I: number;
  H: number;
}

const BACKENDS = ['cpu', 'wasm'] as const;

/**
 * Runs an LSTM or GRU over a [batch, time, features] sequence. kernel is [features, gates·units],
 * recurrentKernel [units, gates·units], bias [gates·units] (gates 4 for LSTM, 3 for GRU).
 */
export function rnnSequence(
  x: tf.Tensor,
  kernel: tf.Tensor,
  recurrentKernel: tf.Tensor,
  bias: tf.Tensor,
  attrs: RnnSequenceAttrs,
): tf.Tensor {
  registerRnnKernels();
  // customGrad rather than a registered gradient: a registered kernel's second output (the cache) would get a
  // zero-filled JS array as its unused gradient on every backward pass, megabytes per batch.
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, kernelIn, recurrentIn, biasIn, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const inputs = { x: xIn, kernel: kernelIn, recurrentKernel: recurrentIn, bias: biasIn };
    const [y, cache] = tf.engine().runKernel(RNN_SEQUENCE, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    save([xIn, kernelIn, recurrentIn, cache as tf.Tensor]);
    return {
      value: y as tf.Tensor,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sKernel, sRecurrent, sCache] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const gradInputs = { dy: dy as tf.Tensor, x: sx, kernel: sKernel, recurrentKernel: sRecurrent, cache: sCache };
        return tf.engine().runKernel(RNN_SEQUENCE_GRAD, gradInputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      },
    };
  });
  return op(x, kernel, recurrentKernel, bias);
}

let registered = false;

/** Registers the forward and backward kernels for cpu and wasm. Idempotent. */
export function registerRnnKernels(): void {
  if (registered) return;
  registered = true;
  for (const backendName of BACKENDS) {
    tf.registerKernel({ kernelName: RNN_SEQUENCE, backendName, kernelFunc: forwardKernel });
    tf.registerKernel({ kernelName: RNN_SEQUENCE_GRAD, backendName, kernelFunc: backwardKernel });
  }
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

function tensorInput(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  return kernelInput(inputs, name, RNN_SEQUENCE);
}

function dimsOf(x: tf.TensorInfo, recurrentKernel: tf.TensorInfo, cell: RnnCell): Dims {
  const [B, T, I] = x.shape;
  const [H, GH] = recurrentKernel.shape;
  if (B === undefined || T === undefined || I === undefined || x.shape.length !== 3) {
    throw new Error(`${RNN_SEQUENCE}: x must be [batch, time, features], got [${x.shape}]`);
  }
  if (H === undefined || GH !== gateCount(cell) * H) {
    throw new Error(`${RNN_SEQUENCE}: recurrentKernel must be [units, ${gateCount(cell)}·units], got [${recurrentKernel.shape}]`);
  }
  return { B, T, I, H };
}

function gateCount(cell: RnnCell): number {
  return cell === 'lstm' ? 4 : 3;
}

function forwardKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const a = attrs as unknown as RnnSequenceAttrs;
  const x = tensorInput(inputs, 'x');
  const recurrentKernel = tensorInput(inputs, 'recurrentKernel');
  const d = dimsOf(x, recurrentKernel, a.cell);
  return withArena(backend as tf.KernelBackend, (arena) => {
    const args = {
      x: arena.input(x),
      W: arena.input(tensorInput(inputs, 'kernel')),
      U: arena.input(recurrentKernel),
      b: arena.input(tensorInput(inputs, 'bias')),
    };
    if (a.cell === 'lstm') lstmForward(arena, args, d, a, lstmSimd(backend as tf.KernelBackend, d));
    else gruForward(arena, args, d, a);
  });
}

function backwardKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const a = attrs as unknown as RnnSequenceAttrs;
  const x = tensorInput(inputs, 'x');
  const recurrentKernel = tensorInput(inputs, 'recurrentKernel');
  const d = dimsOf(x, recurrentKernel, a.cell);
  return withArena(backend as tf.KernelBackend, (arena) => {
    const args = {
      dy: arena.input(tensorInput(inputs, 'dy')),
      W: arena.input(tensorInput(inputs, 'kernel')),
      U: arena.input(recurrentKernel),
      cache: arena.input(tensorInput(inputs, 'cache')),
    };
    if (a.cell === 'lstm') lstmBackward(arena, args, d, a, lstmSimd(backend as tf.KernelBackend, d));
    else gruBackward(arena, args, d, a);
  });
}

/**
 * lstm-cell.wat's cell maths on the wasm heap when the units are a multiple of 4, else undefined (the JavaScript loops).
 * On wasm it must have been prepared: float32 SIMD and float64 JavaScript round differently, and a run must not mix.
 */
function lstmSimd(backend: tf.KernelBackend, d: Dims): HeapSimd | undefined {
  return d.H % 4 === 0 ? requireHeapSimd(backend, RNN_SEQUENCE) : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Layout helpers. Inside the kernels everything is time-major in scan order: step s reads input position pos(s).

function position(s: number, d: Dims, reverse: boolean): number {
  return reverse ? d.T - 1 - s : s;
}

/** xt[s, b, :] = x[b, pos(s), :] */
function toTimeMajor(heap: Float32Array, x: Region, xt: Region, d: Dims, reverse: boolean): void {
  const { B, T, I } = d;
  for (let s = 0; s < T; s++) {
    const p = position(s, d, reverse);
    for (let b = 0; b < B; b++) {
      const src = x.off + (b * T + p) * I;
      heap.copyWithin(xt.off + (s * B + b) * I, src, src + I);
    }
  }
}

/** out[b, pos(s), :] = seq[s, b, :] for [T, B, F] seq */
function fromTimeMajor(heap: Float32Array, seq: Region, out: Region, d: Dims, F: number, reverse: boolean): void {
  const { B, T } = d;
  for (let s = 0; s < T; s++) {
    const p = position(s, d, reverse);
    for (let b = 0; b < B; b++) {
      const src = seq.off + (s * B + b) * F;
      heap.copyWithin(out.off + (b * T + p) * F, src, src + F);
    }
  }
}

/** The step outputs h[1..T] (stored [T+1, B, H] with h[0] = 0) as the layer output. */
function writeOutput(heap: Float32Array, h: Region, y: Region, d: Dims, attrs: RnnSequenceAttrs): void {
  const stepSize = d.B * d.H;
  if (attrs.returnSequences) fromTimeMajor(heap, sub(h, stepSize, d.T * stepSize), y, d, d.H, attrs.reverse);
  else heap.copyWithin(y.off, h.off + d.T * stepSize, h.off + (d.T + 1) * stepSize);
}

/** Offset of dy for (step s, batch row b), or -1 where that step has no output gradient. */
function dyOffset(dy: Region, s: number, b: number, d: Dims, attrs: RnnSequenceAttrs): number {
  if (attrs.returnSequences) return dy.off + (b * d.T + position(s, d, attrs.reverse)) * d.H;
  return s === d.T - 1 ? dy.off + b * d.H : -1;
}

/** Copies columns [from, from + count) of a [rows, cols] matrix into a [rows, count] one, times `scale`. */
function copyColumns(heap: Float32Array, m: Region, rows: number, cols: number, from: number, count: number, out: Region) {
  for (let r = 0; r < rows; r++) {
    heap.copyWithin(out.off + r * count, m.off + r * cols + from, m.off + r * cols + from + count);
  }
}

/** Writes a [rows, count] block into columns [from, from + count) of a [rows, cols] matrix. */
function placeColumns(heap: Float32Array, block: Region, rows: number, cols: number, from: number, count: number, m: Region) {
  for (let r = 0; r < rows; r++) {
    heap.copyWithin(m.off + r * cols + from, block.off + r * count, block.off + (r + 1) * count);
  }
}

function scaleColumns(heap: Float32Array, m: Region, rows: number, cols: number, from: number, count: number, k: number) {
  for (let r = 0; r < rows; r++) {
    const o = m.off + r * cols + from;
    for (let j = 0; j < count; j++) heap[o + j] = k * (heap[o + j] as number);
  }
}

function copyRegion(heap: Float32Array, from: Region, to: Region): void {
  heap.copyWithin(to.off, from.off, from.off + from.len);
}

function fill(heap: Float32Array, region: Region, value: number): void {
  heap.fill(value, region.off, region.off + region.len);
}

// ---------------------------------------------------------------------------------------------------------------
// LSTM

interface LstmCache {
  xt: Region; // [T, B, I]
  gates: Region; // [T, B, 4H] activations i, f, g, o
  c: Region; // [T + 1, B, H], c[0] = 0
  tc: Region; // [T, B, H] tanh(c[s + 1])
  h: Region; // [T + 1, B, H], h[0] = 0
}

function lstmCacheSize({ B, T, I, H }: Dims): number {
  return T * B * I + T * B * 4 * H + (T + 1) * B * H + T * B * H + (T + 1) * B * H;
}

function lstmCache(cache: Region, { B, T, I, H }: Dims): LstmCache {
  let at = 0;
  const take = (len: number) => {
    const region = sub(cache, at, len);
    at += len;
    return region;
  };
  return { xt: take(T * B * I), gates: take(T * B * 4 * H), c: take((T + 1) * B * H), tc: take(T * B * H), h: take((T + 1) * B * H) };
}

interface ForwardArgs {
  x: Region;
  W: Region;
  U: Region;
  b: Region;
}

function lstmForward(arena: Arena, { x, W, U, b }: ForwardArgs, d: Dims, attrs: RnnSequenceAttrs, simd?: HeapSimd): void {
  const { B, T, I, H } = d;
  const G = 4 * H;
  const y = arena.output(attrs.returnSequences ? [B, T, H] : [B, H]);
  const cache = lstmCache(arena.output([lstmCacheSize(d)]), d);
  // The g gate's weights are doubled so that sigmoid over all gates gives σ(2z), and tanh(z) = 2σ(2z) − 1.
  const wsc = arena.scratch(I * G);
  const usc = arena.scratch(H * G);
  const bsc = arena.scratch(G);
  const xw = arena.scratch(T * B * G);
  const z = arena.scratch(B * G);
  const c2 = arena.scratch(B * H);
  const heap = arena.heap();
  for (const [from, to, rows] of [[W, wsc, I], [U, usc, H], [b, bsc, 1]] as const) {
    copyRegion(heap, from, to);
    scaleColumns(heap, to, rows, G, 2 * H, H, 2);
  }
  toTimeMajor(heap, x, cache.xt, d, attrs.reverse);
  fill(heap, sub(cache.c, 0, B * H), 0);
  fill(heap, sub(cache.h, 0, B * H), 0);
  arena.gemm(cache.xt, wsc, xw, T * B, I, G, bsc);
  for (let s = 0; s < T; s++) {
    const gates = sub(cache.gates, s * B * G, B * G);
    arena.gemm(sub(cache.h, s * B * H, B * H), usc, z, B, H, G);
    arena.add(z, sub(xw, s * B * G, B * G), gates);
    arena.sigmoid(gates, gates);
    const [cPrev, cNext] = [cache.c.off + s * B * H, cache.c.off + (s + 1) * B * H];
    if (simd) simd.cellState(4 * gates.off, 4 * cPrev, 4 * cNext, 4 * c2.off, B, H);
    else lstmCellState(arena.heap(), gates.off, cPrev, c2.off, B, H);
    arena.sigmoid(c2, c2);
    const [tc, hNext] = [cache.tc.off + s * B * H, cache.h.off + (s + 1) * B * H];
    if (simd) simd.cellOutput(4 * gates.off, 4 * c2.off, 4 * tc, 4 * hNext, B, H);
    else lstmCellOutput(arena.heap(), gates.off, c2.off, tc, hNext, B, H);
  }
  writeOutput(arena.heap(), cache.h, y, d, attrs);
}

/** g = 2σ − 1 (stored back), c' = f·c + i·g written after c, and 2c' into c2 for the next sigmoid. */
function lstmCellState(heap: Float32Array, gates: number, cPrev: number, c2: number, B: number, H: number): void {
  const G = 4 * H;
  const cNext = cPrev + B * H;
  for (let b = 0; b < B; b++) {
    const row = gates + b * G;
    const cell = b * H;
    for (let j = 0; j < H; j++) {
      const i = heap[row + j] as number;
      const f = heap[row + H + j] as number;
      const g = 2 * (heap[row + 2 * H + j] as number) - 1;
      heap[row + 2 * H + j] = g;
      const c = f * (heap[cPrev + cell + j] as number) + i * g;
      heap[cNext + cell + j] = c;
      heap[c2 + cell + j] = 2 * c;
    }
  }
}

/** tanh(c') = 2σ(2c') − 1 and h' = o·tanh(c'). */
function lstmCellOutput(heap: Float32Array, gates: number, s2: number, tc: number, hNext: number, B: number, H: number) {
  const G = 4 * H;
  for (let b = 0; b < B; b++) {
    const o = gates + b * G + 3 * H;
    const cell = b * H;
    for (let j = 0; j < H; j++) {
      const t = 2 * (heap[s2 + cell + j] as number) - 1;
      heap[tc + cell + j] = t;
      heap[hNext + cell + j] = (heap[o + j] as number) * t;
    }
  }
}

interface BackwardArgs {
  dy: Region;
  W: Region;
  U: Region;
  cache: Region;
}

function lstmBackward(
  arena: Arena,
  { dy, W, U, cache: cacheRegion }: BackwardArgs,
  d: Dims,
  attrs: RnnSequenceAttrs,
  simd?: HeapSimd,
) {
  const { B, T, I, H } = d;
  const G = 4 * H;
  const N = T * B;
  const dx = arena.output([B, T, I]);
  const dW = arena.output([I, G]);
  const dU = arena.output([H, G]);
  const db = arena.output([G]);
  const cache = lstmCache(cacheRegion, d);
  const dZ = arena.scratch(N * G);
  const dhr = arena.scratch(B * H);
  const dc = arena.scratch(B * H);
  const ut = arena.scratch(G * H);
  arena.transpose(U, H, G, ut);
  fill(arena.heap(), dhr, 0);
  fill(arena.heap(), dc, 0);
  for (let s = T - 1; s >= 0; s--) {
    const dZs = sub(dZ, s * B * G, B * G);
    lstmCellGrad(arena, simd, cache, { dZs: dZs.off, dhr: dhr.off, dc: dc.off }, dy, s, d, attrs);
    if (s > 0) arena.gemm(dZs, ut, dhr, B, G, H);
  }
  weightGrads(arena, cache.xt, sub(cache.h, 0, N * H), dZ, { dW, dU, db }, N, I, H, G);
  const wt = arena.scratch(G * I);
  const dxt = arena.scratch(N * I);
  arena.transpose(W, I, G, wt);
  arena.gemm(dZ, wt, dxt, N, G, I);
  fromTimeMajor(arena.heap(), dxt, dx, d, I, attrs.reverse);
}

/** One step back through the LSTM cells of all rows, by lstm-cell.wat when `simd` is given, else in JavaScript. */
function lstmCellGrad(
  arena: Arena,
  simd: HeapSimd | undefined,
  cache: LstmCache,
  grads: { dZs: number; dhr: number; dc: number },
  dy: Region,
  s: number,
  d: Dims,
  attrs: RnnSequenceAttrs,
): void {
  const { B, H } = d;
  const G = 4 * H;
  const { dZs, dhr, dc } = grads;
  const gates = cache.gates.off + s * B * G;
  const cPrev = cache.c.off + s * B * H;
  const tc = cache.tc.off + s * B * H;
  if (simd) {
    // dy's rows for step s are `dyStride` floats apart, or absent (offset −1).
    const first = dyOffset(dy, s, 0, d, attrs);
    const dyStride = attrs.returnSequences ? d.T * H : H;
    simd.cellGrad(4 * gates, 4 * cPrev, 4 * tc, 4 * dZs, first < 0 ? -1 : 4 * first, 4 * dyStride, 4 * dhr, 4 * dc, B, H);
    return;
  }
  const heap = arena.heap();
  for (let b = 0; b < B; b++) {
    const row = gates + b * G;
    const out = dZs + b * G;
    const cell = b * H;
    const dyAt = dyOffset(dy, s, b, d, attrs);
    for (let j = 0; j < H; j++) {
      const i = heap[row + j] as number;
      const f = heap[row + H + j] as number;
      const g = heap[row + 2 * H + j] as number;
      const o = heap[row + 3 * H + j] as number;
      const t = heap[tc + cell + j] as number;
      const dh = (dyAt < 0 ? 0 : (heap[dyAt + j] as number)) + (heap[dhr + cell + j] as number);
      const dcv = (heap[dc + cell + j] as number) + dh * o * (1 - t * t);
      heap[out + j] = dcv * g * i * (1 - i);
      heap[out + H + j] = dcv * (heap[cPrev + cell + j] as number) * f * (1 - f);
      heap[out + 2 * H + j] = dcv * i * (1 - g * g);
      heap[out + 3 * H + j] = dh * t * o * (1 - o);
      heap[dc + cell + j] = dcv * f;
    }
  }
}

/**
 * dW = xtᵀ·dZ, dU = hprevᵀ·dZ and db = 1ᵀ·dZ over all N = T·B rows, as one matmul [xt | hprev | 1]ᵀ·dZ: XNNPACK
 * packs its right operand on every call, and dZ (N × 4H, 1M floats in the benchmark) is the big one.
 */
function weightGrads(
  arena: Arena,
  xt: Region,
  hPrev: Region,
  dZ: Region,
  out: { dW: Region; dU: Region; db: Region },
  N: number,
  I: number,
  H: number,
  G: number,
): void {
  const rows = I + H + 1;
  const stacked = arena.scratch(rows * N);
  const grads = arena.scratch(rows * G);
  arena.transpose(xt, N, I, sub(stacked, 0, I * N));
  arena.transpose(hPrev, N, H, sub(stacked, I * N, H * N));
  fill(arena.heap(), sub(stacked, (I + H) * N, N), 1);
  arena.gemm(stacked, dZ, grads, rows, N, G);
  const heap = arena.heap();
  copyRegion(heap, sub(grads, 0, I * G), out.dW);
  copyRegion(heap, sub(grads, I * G, H * G), out.dU);
  copyRegion(heap, sub(grads, (I + H) * G, G), out.db);
}

// ---------------------------------------------------------------------------------------------------------------
// GRU

interface GruCache {
  xt: Region; // [T, B, I]
  zr: Region; // [T, B, 2H] activations z, r
  hh: Region; // [T, B, H] candidate tanh(...)
  rh: Region; // [T, B, H] r · h[s]
  h: Region; // [T + 1, B, H], h[0] = 0
}

function gruCacheSize({ B, T, I, H }: Dims): number {
  return T * B * I + T * B * 2 * H + 2 * T * B * H + (T + 1) * B * H;
}

function gruCache(cache: Region, { B, T, I, H }: Dims): GruCache {
  let at = 0;
  const take = (len: number) => {
    const region = sub(cache, at, len);
    at += len;
    return region;
  };
  return { xt: take(T * B * I), zr: take(T * B * 2 * H), hh: take(T * B * H), rh: take(T * B * H), h: take((T + 1) * B * H) };
}

function gruForward(arena: Arena, { x, W, U, b }: ForwardArgs, d: Dims, attrs: RnnSequenceAttrs): void {
  const { B, T, I, H } = d;
  const G = 3 * H;
  const y = arena.output(attrs.returnSequences ? [B, T, H] : [B, H]);
  const cache = gruCache(arena.output([gruCacheSize(d)]), d);
  const uzr = arena.scratch(H * 2 * H);
  const uh = arena.scratch(H * H);
  const xw = arena.scratch(T * B * G);
  const zrPre = arena.scratch(B * 2 * H);
  const q = arena.scratch(B * H);
  const a2 = arena.scratch(B * H);
  let heap = arena.heap();
  copyColumns(heap, U, H, G, 0, 2 * H, uzr);
  copyColumns(heap, U, H, G, 2 * H, H, uh);
  toTimeMajor(heap, x, cache.xt, d, attrs.reverse);
  fill(heap, sub(cache.h, 0, B * H), 0);
  arena.gemm(cache.xt, W, xw, T * B, I, G, b);
  for (let s = 0; s < T; s++) {
    const zr = sub(cache.zr, s * B * 2 * H, B * 2 * H);
    const hPrev = cache.h.off + s * B * H;
    const rh = sub(cache.rh, s * B * H, B * H);
    arena.gemm(sub(cache.h, s * B * H, B * H), uzr, zrPre, B, H, 2 * H);
    heap = arena.heap();
    for (let bi = 0; bi < B; bi++) {
      const src = xw.off + (s * B + bi) * G;
      for (let j = 0; j < 2 * H; j++) {
        heap[zr.off + bi * 2 * H + j] = (heap[zrPre.off + bi * 2 * H + j] as number) + (heap[src + j] as number);
      }
    }
    arena.sigmoid(zr, zr);
    heap = arena.heap();
    for (let bi = 0; bi < B; bi++) {
      for (let j = 0; j < H; j++) {
        const r = heap[zr.off + bi * 2 * H + H + j] as number;
        heap[rh.off + bi * H + j] = r * (heap[hPrev + bi * H + j] as number);
      }
    }
    arena.gemm(rh, uh, q, B, H, H);
    heap = arena.heap();
    for (let bi = 0; bi < B; bi++) {
      const src = xw.off + (s * B + bi) * G + 2 * H;
      for (let j = 0; j < H; j++) {
        heap[a2.off + bi * H + j] = 2 * ((heap[src + j] as number) + (heap[q.off + bi * H + j] as number));
      }
    }
    arena.sigmoid(a2, a2);
    heap = arena.heap();
    gruCellOutput(heap, zr.off, a2.off, cache.hh.off + s * B * H, hPrev, B, H);
  }
  writeOutput(arena.heap(), cache.h, y, d, attrs);
}

/** hh = 2σ(2a) − 1 = tanh(a); h' = z·h + (1 − z)·hh, written after h. */
function gruCellOutput(heap: Float32Array, zr: number, s2: number, hh: number, hPrev: number, B: number, H: number) {
  const hNext = hPrev + B * H;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const cell = b * H + j;
      const cand = 2 * (heap[s2 + cell] as number) - 1;
      const z = heap[zr + b * 2 * H + j] as number;
      heap[hh + cell] = cand;
      heap[hNext + cell] = z * (heap[hPrev + cell] as number) + (1 - z) * cand;
    }
  }
}

function gruBackward(arena: Arena, { dy, W, U, cache: cacheRegion }: BackwardArgs, d: Dims, attrs: RnnSequenceAttrs) {
  const { B, T, I, H } = d;
  const G = 3 * H;
  const N = T * B;
  const dx = arena.output([B, T, I]);
  const dW = arena.output([I, G]);
  const dU = arena.output([H, G]);
  const db = arena.output([G]);
  const cache = gruCache(cacheRegion, d);
  const dZR = arena.scratch(N * 2 * H); // pre-activation gradients of z, r for every step
  const dAH = arena.scratch(N * H); // pre-activation gradient of the candidate
  const dhr = arena.scratch(B * H);
  const drh = arena.scratch(B * H);
  const tmp = arena.scratch(B * H);
  const uzr = arena.scratch(H * 2 * H);
  const uh = arena.scratch(H * H);
  const uzrT = arena.scratch(2 * H * H);
  const uhT = arena.scratch(H * H);
  let heap = arena.heap();
  copyColumns(heap, U, H, G, 0, 2 * H, uzr);
  copyColumns(heap, U, H, G, 2 * H, H, uh);
  arena.transpose(uzr, H, 2 * H, uzrT);
  arena.transpose(uh, H, H, uhT);
  heap = arena.heap();
  fill(heap, dhr, 0);
  for (let s = T - 1; s >= 0; s--) {
    const dAHs = sub(dAH, s * B * H, B * H);
    const dZRs = sub(dZR, s * B * 2 * H, B * 2 * H);
    gruCellGradDirect(heap, cache, dAHs.off, dZRs.off, dy, dhr.off, s, d, attrs);
    arena.gemm(dAHs, uhT, drh, B, H, H);
    heap = arena.heap();
    gruResetGrad(heap, cache, dZRs.off, drh.off, dhr.off, s, d);
    if (s > 0) {
      arena.gemm(dZRs, uzrT, tmp, B, 2 * H, H);
      heap = arena.heap();
      for (let k = 0; k < B * H; k++) heap[dhr.off + k] = (heap[dhr.off + k] as number) + (heap[tmp.off + k] as number);
    }
  }
  gruWeightGrads(arena, cache, dZR, dAH, { dW, dU, db }, d);
  const wzrT = arena.scratch(2 * H * I);
  const whT = arena.scratch(H * I);
  const block = arena.scratch(I * 2 * H);
  heap = arena.heap();
  copyColumns(heap, W, I, G, 0, 2 * H, block);
  arena.transpose(block, I, 2 * H, wzrT);
  heap = arena.heap();
  copyColumns(heap, W, I, G, 2 * H, H, sub(block, 0, I * H));
  arena.transpose(sub(block, 0, I * H), I, H, whT);
  const dxt = arena.scratch(N * I);
  const dxt2 = arena.scratch(N * I);
  arena.gemm(dZR, wzrT, dxt, N, 2 * H, I);
  arena.gemm(dAH, whT, dxt2, N, H, I);
  arena.add(dxt, dxt2, dxt);
  fromTimeMajor(arena.heap(), dxt, dx, d, I, attrs.reverse);
}

/** The candidate and update-gate gradients of step s; dhr becomes the direct part z·dh of dh[s]. */
function gruCellGradDirect(
  heap: Float32Array,
  cache: GruCache,
  dAHs: number,
  dZRs: number,
  dy: Region,
  dhr: number,
  s: number,
  d: Dims,
  attrs: RnnSequenceAttrs,
): void {
  const { B, H } = d;
  const zr = cache.zr.off + s * B * 2 * H;
  const hh = cache.hh.off + s * B * H;
  const hPrev = cache.h.off + s * B * H;
  for (let b = 0; b < B; b++) {
    const dyAt = dyOffset(dy, s, b, d, attrs);
    for (let j = 0; j < H; j++) {
      const cell = b * H + j;
      const z = heap[zr + b * 2 * H + j] as number;
      const cand = heap[hh + cell] as number;
      const dh = (dyAt < 0 ? 0 : (heap[dyAt + j] as number)) + (heap[dhr + cell] as number);
      heap[dAHs + cell] = dh * (1 - z) * (1 - cand * cand);
      heap[dZRs + b * 2 * H + j] = dh * ((heap[hPrev + cell] as number) - cand) * z * (1 - z);
      heap[dhr + cell] = dh * z;
    }
  }
}

/** With drh = d(r·h): the reset-gate gradient, and r·drh added to dhr. */
function gruResetGrad(heap: Float32Array, cache: GruCache, dZRs: number, drh: number, dhr: number, s: number, d: Dims) {
  const { B, H } = d;
  const zr = cache.zr.off + s * B * 2 * H;
  const hPrev = cache.h.off + s * B * H;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const cell = b * H + j;
      const r = heap[zr + b * 2 * H + H + j] as number;
      const g = heap[drh + cell] as number;
      heap[dZRs + b * 2 * H + H + j] = g * (heap[hPrev + cell] as number) * r * (1 - r);
      heap[dhr + cell] = (heap[dhr + cell] as number) + g * r;
    }
  }
}

function gruWeightGrads(
  arena: Arena,
  cache: GruCache,
  dZR: Region,
  dAH: Region,
  out: { dW: Region; dU: Region; db: Region },
  { B, T, I, H }: Dims,
): void {
  const N = T * B;
  const G = 3 * H;
  const xtT = arena.scratch(I * N);
  const hT = arena.scratch(H * N);
  const rhT = arena.scratch(H * N);
  const ones = arena.scratch(N);
  const wzr = arena.scratch(I * 2 * H);
  const wh = arena.scratch(I * H);
  const uzr = arena.scratch(H * 2 * H);
  const uh = arena.scratch(H * H);
  arena.transpose(cache.xt, N, I, xtT);
  arena.transpose(sub(cache.h, 0, N * H), N, H, hT);
  arena.transpose(cache.rh, N, H, rhT);
  fill(arena.heap(), ones, 1);
  arena.gemm(xtT, dZR, wzr, I, N, 2 * H);
  arena.gemm(xtT, dAH, wh, I, N, H);
  arena.gemm(hT, dZR, uzr, H, N, 2 * H);
  arena.gemm(rhT, dAH, uh, H, N, H);
  arena.gemm(ones, dZR, sub(out.db, 0, 2 * H), 1, N, 2 * H);
  arena.gemm(ones, dAH, sub(out.db, 2 * H, H), 1, N, H);
  const heap = arena.heap();
  placeColumns(heap, wzr, I, G, 0, 2 * H, out.dW);
  placeColumns(heap, wh, I, G, 2 * H, H, out.dW);
  placeColumns(heap, uzr, H, G, 0, 2 * H, out.dU);
  placeColumns(heap, uh, H, G, 2 * H, H, out.dU);
}
