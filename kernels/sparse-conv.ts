/**
 * Conv1D gradients for a sparse output gradient dy.
 *
 * Why: behind GlobalMaxPooling1D (and ReLU) the conv output gradient has at most one nonzero per (sample, filter),
 * under 2% of its entries at the benchmark's 62 positions, yet the dense gradients (a matmul over every position)
 * cost ~15 ms per batch there. Walking only the nonzeros does the same sums with ~60x fewer multiply-adds.
 *
 * Works on one float heap (the wasm heap, or any Float32Array in tests) with float offsets, NHWC tensors of height 1
 * (how tfjs runs Conv1D): x [B, 1, inWidth, Cin], dy [B, 1, outWidth, Cout], filter [1, K, Cin, Cout]. With
 * iw = t·stride + k − padLeft, for every nonzero g = dy[b, t, f]:
 *   dW[k, c, f] += g · x[b, iw, c]      dx[b, iw, c] += g · W[k, c, f]      (taps with iw outside the input skipped)
 * These are the dense formulas with the zero terms left out, so results differ only in float summation order
 * (and where x or W holds Inf/NaN, whose products with a zero gradient the dense path would turn into NaN).
 */
import type * as tf from '@tensorflow/tfjs';

/**
 * Largest share of nonzeros in dy for which the sparse path runs. Measured at the benchmark CNN's shapes (B 64,
 * width 64, Cin 100, K 3, Cout 64) on 2 shared cores: the dense pair takes ~14 ms (filter ~9, input ~5.3), the
 * sparse kernels ~1.1 ms each per 1% of density (V8 runs the scalar loop at ~1.4 ns per multiply-add, the wasm
 * matmul ~15x faster per flop), so they break even near 6% (input alone near 4%). 1/32 keeps a 2x margin and
 * still covers every GlobalMaxPooling1D over 32 or more positions (at most one nonzero per sample and filter);
 * a MaxPooling1D(2) gradient (the cnn-bilstm, up to 50% dense) stays dense after a scan of a few percent of dy.
 */
export const DEFAULT_MAX_DENSITY = 1 / 32;

let maxDensity = DEFAULT_MAX_DENSITY;

/** How often each sparse kernel ran, so tests can tell which path a gradient took. */
export const sparseConvCalls = { filter: 0, input: 0 };

/** Sets the density threshold (0 forces the dense path, 1 the sparse one); returns the previous value. For tests. */
export function setSparseConvMaxDensity(density: number): number {
  if (!(density >= 0 && density <= 1)) throw new RangeError(`density threshold must be in [0, 1], got ${density}`);
  const previous = maxDensity;
  maxDensity = density;
  return previous;
}

/** The 1-D conv the sparse kernels handle, in the terms of the formulas above. */
export interface Conv1dGeometry {
  batch: number;
  inWidth: number;
  inChannels: number;
  outWidth: number;
  outChannels: number;
  filterWidth: number;
  stride: number;
  padLeft: number;
}

/**
 * The geometry when `info` is a height-1 conv (Conv1D as tfjs runs it), else undefined. Dilation must be 1, as for
 * every conv gradient tfjs-core lets through; a filter's taps then read consecutive input positions.
 */
export function conv1dGeometry(info: tf.backend_util.Conv2DInfo): Conv1dGeometry | undefined {
  if (info.inHeight !== 1 || info.filterHeight !== 1 || info.outHeight !== 1 || info.padInfo.top !== 0) return undefined;
  if (info.dataFormat !== 'channelsLast' || info.dilationWidth !== 1) return undefined;
  return {
    batch: info.batchSize,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterWidth: info.filterWidth,
    stride: info.strideWidth,
    padLeft: info.padInfo.left,
  };
}

/** Reused across calls: a training step asks for the same size every batch. */
let positions = new Int32Array(0);

/**
 * The last scan, by the tensor it read: both gradient kernels of a conv get the same dy, so the second one skips
 * its scan (~0.3 ms). Sound because a tensor's data never changes while its dataId lives (a new tensor gets a new
 * dataId object), and `positions` holds exactly this scan's result until the next scan replaces both.
 */
let lastScan: { key: object; density: number; nonzeros: Int32Array | undefined } | undefined;

/**
 * Indices (relative to `off`) of the nonzeros among heap[off, off + len), or undefined as soon as they exceed the
 * density threshold: a dense dy costs only the scan up to that point. `key` identifies the tensor (its dataId).
 * The array is valid until the next call.
 */
export function sparseNonzeros(heap: Float32Array, off: number, len: number, key: object): Int32Array | undefined {
  if (lastScan !== undefined && lastScan.key === key && lastScan.density === maxDensity) return lastScan.nonzeros;
  const nonzeros = scan(heap, off, len, Math.floor(maxDensity * len));
  lastScan = { key, density: maxDensity, nonzeros };
  return nonzeros;
}

function scan(heap: Float32Array, off: number, len: number, limit: number): Int32Array | undefined {
  if (limit === 0 && len > 0) return undefined;
  if (positions.length < limit) positions = new Int32Array(limit);
  let n = 0;
  for (let i = 0; i < len; i++) {
    if (heap[off + i] === 0) continue;
    if (n === limit) return undefined;
    positions[n++] = i;
  }
  return positions.subarray(0, n);
}

/** Writes dW [1, K, Cin, Cout] at `dwOff`. `nonzeros` index dy (from `sparseNonzeros`). */
export function sparseFilterGrad(
  heap: Float32Array,
  xOff: number,
  dyOff: number,
  nonzeros: Int32Array,
  geo: Conv1dGeometry,
  dwOff: number,
): void {
  const { inWidth: W, inChannels: Cin, outWidth, outChannels: Cout, filterWidth: K, stride, padLeft } = geo;
  // Accumulate as [Cout, K, Cin]: a nonzero's taps are then one contiguous run in both x and the sum. One
  // transpose into the filter layout at the end (K·Cin·Cout floats) is small next to the work.
  const acc = new Float32Array(Cout * K * Cin);
  for (let n = 0; n < nonzeros.length; n++) {
    const i = nonzeros[n] as number;
    const row = (i / Cout) | 0;
    const f = i - row * Cout;
    const b = (row / outWidth) | 0;
    const start = (row - b * outWidth) * stride - padLeft; // input position of tap 0
    const k0 = Math.max(0, -start);
    const k1 = Math.min(K, W - start);
    if (k1 <= k0) continue;
    axpy(acc, (f * K + k0) * Cin, heap, xOff + (b * W + start + k0) * Cin, heap[dyOff + i] as number, (k1 - k0) * Cin);
  }
  for (let f = 0; f < Cout; f++) {
    for (let j = 0; j < K * Cin; j++) heap[dwOff + j * Cout + f] = acc[f * K * Cin + j] as number;
  }
  sparseConvCalls.filter++;
}

/** Writes dx [B, 1, inWidth, Cin] at `dxOff` from the filter [1, K, Cin, Cout] at `filterOff`. */
export function sparseInputGrad(
  heap: Float32Array,
  dyOff: number,
  filterOff: number,
  nonzeros: Int32Array,
  geo: Conv1dGeometry,
  dxOff: number,
): void {
  const { batch, inWidth: W, inChannels: Cin, outWidth, outChannels: Cout, filterWidth: K, stride, padLeft } = geo;
  // The filter as [Cout, K, Cin], so a nonzero's taps read one contiguous run.
  const wt = new Float32Array(Cout * K * Cin);
  for (let j = 0; j < K * Cin; j++) {
    for (let f = 0; f < Cout; f++) wt[f * K * Cin + j] = heap[filterOff + j * Cout + f] as number;
  }
  heap.fill(0, dxOff, dxOff + batch * W * Cin);
  for (let n = 0; n < nonzeros.length; n++) {
    const i = nonzeros[n] as number;
    const row = (i / Cout) | 0;
    const f = i - row * Cout;
    const b = (row / outWidth) | 0;
    const start = (row - b * outWidth) * stride - padLeft;
    const k0 = Math.max(0, -start);
    const k1 = Math.min(K, W - start);
    if (k1 <= k0) continue;
    axpy(heap, dxOff + (b * W + start + k0) * Cin, wt, (f * K + k0) * Cin, heap[dyOff + i] as number, (k1 - k0) * Cin);
  }
  sparseConvCalls.input++;
}

/** y[yOff, yOff + len) += g · x[xOff, xOff + len); unrolled by 4, which V8 runs ~1.5x faster than the plain loop. */
function axpy(y: Float32Array, yOff: number, x: Float32Array, xOff: number, g: number, len: number): void {
  let j = 0;
  for (; j + 4 <= len; j += 4) {
    const p = yOff + j;
    const q = xOff + j;
    y[p] = (y[p] as number) + g * (x[q] as number);
    y[p + 1] = (y[p + 1] as number) + g * (x[q + 1] as number);
    y[p + 2] = (y[p + 2] as number) + g * (x[q + 2] as number);
    y[p + 3] = (y[p + 3] as number) + g * (x[q + 3] as number);
  }
  for (; j < len; j++) y[yOff + j] = (y[yOff + j] as number) + g * (x[xOff + j] as number);
}
