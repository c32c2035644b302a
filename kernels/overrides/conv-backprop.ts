/**
 * Conv2D gradients, NHWC: with im2col(x) the [N·outH·outW, fH·fW·Cin] matrix of receptive fields and the filter
 * viewed as W [fH·fW·Cin, Cout], conv2d is y = im2col(x) · W, so dW = im2col(x)^T · dy and dx = col2im(dy · W^T).
 * Both become one stock wasm matmul plus a JS copy/scatter.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapSimd } from '../heap-simd';
import { floatHeap } from '../arena';
import { conv1dGeometry, sparseFilterGrad, sparseInputGrad, sparseNonzeros, type Conv1dGeometry } from '../sparse-conv';
import { type ConvAttrs, type ConvInfo, type KernelArgs, type TensorInfo, heapView, input, matMul, offsetOf, sizeOf, transpose2d, view } from './heap-ops';

/**
 * Transposes im2col(x) explicitly because the stock matmul is ~15x slower with a transposed operand. (Computing
 * dW^T = dy^T · im2col(x) instead transposes less data but its matmul shape runs slower: no faster overall.)
 */
export function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const wasm = backend as BackendWasm;
  const x = input(inputs, 'x');
  const dy = input(inputs, 'dy');
  const { filterShape, ...convAttrs } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const reason = unsupportedConv(convAttrs, [x, dy]);
  if (reason !== undefined) throw new Error(`wasm Conv2DBackpropFilter: ${reason}`);
  const info = convInfo(x.shape, filterShape, convAttrs);
  const sparse = sparseDy(wasm, dy, info);
  if (sparse !== undefined) {
    const dw = wasm.makeOutput(filterShape, 'float32');
    const at = (t: TensorInfo) => offsetOf(wasm, t) / 4;
    sparseFilterGrad(floatHeap(wasm), at(x), at(dy), sparse.nonzeros, sparse.geo, at(dw));
    return dw;
  }
  if (isConv1dStride1(info)) {
    return simdConv1dFilterGrad(wasm, x, dy, info, filterShape) ?? conv1dFilterGrad(wasm, x, dy, info, filterShape);
  }
  const cols = im2col(wasm, x, info);
  const colsT = transpose2d(wasm, cols);
  wasm.disposeData(cols.dataId);
  const dw = matMul(wasm, colsT, view(dy, [outputPositions(info), info.outChannels]));
  wasm.disposeData(colsT.dataId);
  return view(dw, filterShape);
}

/** Falls back to the stock kernel for what the fast path does not cover (NCHW), rather than failing. */
export function conv2DBackpropInputOr(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const wasm = args.backend as BackendWasm;
    const dy = input(args.inputs, 'dy');
    const filter = input(args.inputs, 'filter');
    const { inputShape, ...convAttrs } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (unsupportedConv(convAttrs, [dy, filter]) !== undefined) return stock(args);
    const info = convInfo(inputShape, filter.shape, convAttrs);
    const sparse = sparseDy(wasm, dy, info);
    if (sparse !== undefined) {
      const dx = wasm.makeOutput(inputShape, 'float32');
      const at = (t: TensorInfo) => offsetOf(wasm, t) / 4;
      sparseInputGrad(floatHeap(wasm), at(dy), at(filter), sparse.nonzeros, sparse.geo, at(dx));
      return dx;
    }
    if (isConv1dStride1(info)) {
      const simd = simdConv1dInputGrad(wasm, dy, filter, info, inputShape);
      return simd ?? conv1dInputGrad(wasm, dy, filter, info, inputShape);
    }
    const filterT = transpose2d(wasm, view(filter, [patchSize(info), info.outChannels]));
    const cols = matMul(wasm, view(dy, [outputPositions(info), info.outChannels]), filterT);
    wasm.disposeData(filterT.dataId);
    const dx = col2im(wasm, cols, info);
    wasm.disposeData(cols.dataId);
    return dx;
  };
}

/**
 * A Conv1D dy behind a (global) max pool is mostly zeros: when the share of nonzeros is under sparse-conv.ts's
 * threshold, both gradients walk only those (~60x fewer multiply-adds behind GlobalMaxPooling1D, ~3x less time).
 */
function sparseDy(
  backend: BackendWasm,
  dy: TensorInfo,
  info: ConvInfo,
): { geo: Conv1dGeometry; nonzeros: Int32Array } | undefined {
  const geo = conv1dGeometry(info);
  if (geo === undefined) return undefined;
  const nonzeros = sparseNonzeros(floatHeap(backend), offsetOf(backend, dy) / 4, sizeOf(dy.shape), dy.dataId);
  return nonzeros === undefined ? undefined : { geo, nonzeros };
}

/**
 * Conv1D (a height-1 conv2d) with stride 1 — every Conv1D the model builders make — has gradients without im2col:
 * with S the "shifted dy" matrix, S[(b, i), (k, co)] = dy[b, i − k + padLeft, co] (zero outside), both are one
 * matmul each, dW' = xᵀ·S and dx = S·W', over [B·inWidth] rows. That skips the im2col/col2im copies (3× the input)
 * and the transpose of the im2col matrix, about halving these kernels' time. (Once heap SIMD is prepared, both
 * gradients skip the matmul too: simdConv1dFilterGrad and simdConv1dInputGrad.)
 */
function isConv1dStride1(info: ConvInfo): boolean {
  return (
    info.inHeight === 1 &&
    info.filterHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationWidth === 1 &&
    info.padInfo.top === 0 &&
    info.outHeight === 1
  );
}

function shiftedDy(backend: BackendWasm, dy: TensorInfo, info: ConvInfo): TensorInfo {
  const { batchSize: B, inWidth: T, outWidth: Tout, filterWidth: K, outChannels: C } = info;
  const padLeft = info.padInfo.left;
  const s = backend.makeOutput([B * T, K * C], 'float32');
  const heap = floatHeap(backend);
  const so = offsetOf(backend, s) / 4;
  const dyo = offsetOf(backend, dy) / 4;
  heap.fill(0, so, so + B * T * K * C);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T; i++) {
      for (let k = 0; k < K; k++) {
        const t = i - k + padLeft;
        if (t < 0 || t >= Tout) continue;
        const src = dyo + (b * Tout + t) * C;
        heap.copyWithin(so + ((b * T + i) * K + k) * C, src, src + C);
      }
    }
  }
  return s;
}

function conv1dFilterGrad(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: ConvInfo, filterShape: number[]) {
  const { batchSize: B, inWidth: T, inChannels: Cin, filterWidth: K, outChannels: C } = info;
  const s = shiftedDy(backend, dy, info);
  const xT = transpose2d(backend, view(x, [B * T, Cin]));
  const dwp = matMul(backend, xT, s); // [Cin, K·C]
  backend.disposeData(xT.dataId);
  backend.disposeData(s.dataId);
  const dw = backend.makeOutput(filterShape, 'float32');
  const heap = floatHeap(backend);
  const from = offsetOf(backend, dwp) / 4;
  const to = offsetOf(backend, dw) / 4;
  for (let k = 0; k < K; k++) {
    for (let ci = 0; ci < Cin; ci++) {
      const src = from + (ci * K + k) * C;
      heap.copyWithin(to + (k * Cin + ci) * C, src, src + C);
    }
  }
  backend.disposeData(dwp.dataId);
  return dw;
}

/** How often the SIMD filter and input gradients ran, so tests can tell which path a gradient took. */
export const denseConvCalls = { simdFilter: 0, simdInput: 0 };

const simdConvGradEnabled = { filter: true, input: true };

/** Turns a SIMD conv gradient off (the matmul route runs instead) or on; returns the previous state. For tests. */
export function setSimdConvGrad(gradient: 'filter' | 'input', enabled: boolean): boolean {
  const previous = simdConvGradEnabled[gradient];
  simdConvGradEnabled[gradient] = enabled;
  return previous;
}

/**
 * dW[k, ci, co] = Σ_b Σ_i x[b, i + k − padLeft, ci] · dy[b, i, co] in one pass of transpose-scatter-conv-grads.wat's convFilterGrad, which
 * reads x and dy where they are and writes the filter layout [1, K, Cin, Cout] directly: no shifted-dy matrix, no
 * transpose of x, and no matmul packing a [B·W, K·Cout] operand (~2 ms of the ~7 ms the matmul route takes at the
 * cnn-bilstm's shapes, where this pass takes ~3.3 ms and the forward conv ~4.4). Its sums run in the same order as
 * that matmul's (the rows of x in turn, multiply then add), so the two agree to rounding, in practice bit for bit.
 * The kernel takes Cin in multiples of 4 and Cout of 8; other widths run on zero-padded copies. Undefined until
 * `prepareHeapSimd` has run: the matmul route then runs.
 */
function simdConv1dFilterGrad(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: ConvInfo,
  filterShape: number[],
): TensorInfo | undefined {
  const simd = simdConvGradEnabled.filter ? heapSimd(backend as unknown as tf.KernelBackend) : undefined;
  if (simd === undefined) return undefined;
  const { batchSize: B, inWidth: W, inChannels: Cin, outWidth: outW, filterWidth: K, outChannels: C } = info;
  const padLeft = info.padInfo.left;
  const cinP = Math.ceil(Cin / 4) * 4;
  const cP = Math.ceil(C / 8) * 8;
  const dw = backend.makeOutput(filterShape, 'float32');
  denseConvCalls.simdFilter++;
  const at = (t: TensorInfo) => offsetOf(backend, t) / 4;
  if (cinP === Cin && cP === C) {
    simd.convFilterGrad(at(x) * 4, at(dy) * 4, at(dw) * 4, B, W, Cin, outW, C, K, padLeft);
    return dw;
  }
  const xP = cinP === Cin ? x : backend.makeOutput([B * W, cinP], 'float32');
  const dyP = cP === C ? dy : backend.makeOutput([B * outW, cP], 'float32');
  const dwP = backend.makeOutput([K * cinP, cP], 'float32');
  const heap = floatHeap(backend); // after the last allocation
  if (xP !== x) padRows(heap, at(x), at(xP), B * W, Cin, cinP);
  if (dyP !== dy) padRows(heap, at(dy), at(dyP), B * outW, C, cP);
  simd.convFilterGrad(at(xP) * 4, at(dyP) * 4, at(dwP) * 4, B, W, cinP, outW, cP, K, padLeft);
  for (let k = 0; k < K; k++) {
    for (let ci = 0; ci < Cin; ci++) {
      const src = at(dwP) + (k * cinP + ci) * cP;
      heap.copyWithin(at(dw) + (k * Cin + ci) * C, src, src + C);
    }
  }
  for (const t of [xP, dyP, dwP]) if (t !== x && t !== dy) backend.disposeData(t.dataId);
  return dw;
}

/** Copies `rows` rows of `cols` floats to rows of `width` floats, zero-filling the rest of each row. */
function padRows(heap: Float32Array, from: number, to: number, rows: number, cols: number, width: number): void {
  for (let r = 0; r < rows; r++) {
    heap.copyWithin(to + r * width, from + r * cols, from + (r + 1) * cols);
    heap.fill(0, to + r * width + cols, to + (r + 1) * width);
  }
}

/**
 * dx[b, i, ci] = Σ_k Σ_co dy[b, i − k + padLeft, co] · W[k, ci, co] in one pass of transpose-scatter-conv-grads.wat's convInputGrad over dy
 * in place and a copy of the filter with each tap transposed to [Cout, Cin] (K·Cin·Cout floats, a few µs), so each
 * dy float broadcasts against contiguous channels and the sums of 4 rows × 8 channels stay in registers: no
 * shifted-dy matrix and no matmul packing a [B·W, K·Cout] operand. The kernel takes Cin in multiples of 4 (any Cout);
 * other widths run on a zero-padded filter copy into a padded dx. Undefined until `prepareHeapSimd` has run (or
 * with an empty tensor): the matmul route then runs.
 */
function simdConv1dInputGrad(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  info: ConvInfo,
  inputShape: number[],
): TensorInfo | undefined {
  const simd = simdConvGradEnabled.input ? heapSimd(backend as unknown as tf.KernelBackend) : undefined;
  if (simd === undefined) return undefined;
  const { batchSize: B, inWidth: W, inChannels: Cin, outWidth: outW, filterWidth: K, outChannels: C } = info;
  if (B * W * Cin * outW * K * C === 0) return undefined;
  const padLeft = info.padInfo.left;
  const cinP = Math.ceil(Cin / 4) * 4;
  const wt = backend.makeOutput([K * C, cinP], 'float32');
  const dx = backend.makeOutput(inputShape, 'float32');
  const dxP = cinP === Cin ? dx : backend.makeOutput([B * W, cinP], 'float32');
  denseConvCalls.simdInput++;
  const heap = floatHeap(backend); // after the last allocation
  const at = (t: TensorInfo) => offsetOf(backend, t) / 4;
  if (cinP === Cin) {
    for (let k = 0; k < K; k++) simd.transpose((at(filter) + k * Cin * C) * 4, (at(wt) + k * C * Cin) * 4, Cin, C);
  } else {
    const [from, to] = [at(filter), at(wt)];
    heap.fill(0, to, to + K * C * cinP);
    for (let k = 0; k < K; k++) {
      for (let ci = 0; ci < Cin; ci++) {
        for (let co = 0; co < C; co++) {
          heap[to + (k * C + co) * cinP + ci] = heap[from + (k * Cin + ci) * C + co] as number;
        }
      }
    }
  }
  simd.convInputGrad(at(dy) * 4, at(wt) * 4, at(dxP) * 4, B, W, cinP, outW, C, K, padLeft);
  if (dxP !== dx) {
    for (let r = 0; r < B * W; r++) heap.copyWithin(at(dx) + r * Cin, at(dxP) + r * cinP, at(dxP) + r * cinP + Cin);
    backend.disposeData(dxP.dataId);
  }
  backend.disposeData(wt.dataId);
  return dx;
}

function conv1dInputGrad(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, info: ConvInfo, inputShape: number[]) {
  const { inChannels: Cin, filterWidth: K, outChannels: C } = info;
  const s = shiftedDy(backend, dy, info);
  // W'[(k, co), ci] = filter[k, ci, co]: each tap's [Cin, C] block transposed.
  const wp = backend.makeOutput([K * C, Cin], 'float32');
  const heap = floatHeap(backend);
  const fo = offsetOf(backend, filter) / 4;
  const wo = offsetOf(backend, wp) / 4;
  for (let k = 0; k < K; k++) {
    for (let ci = 0; ci < Cin; ci++) {
      for (let co = 0; co < C; co++) heap[wo + (k * C + co) * Cin + ci] = heap[fo + (k * Cin + ci) * C + co] as number;
    }
  }
  const dx = matMul(backend, s, wp); // [B·T, Cin]
  backend.disposeData(s.dataId);
  backend.disposeData(wp.dataId);
  return view(dx, inputShape);
}

/** Why the fast conv gradients cannot run these attrs, or undefined when they can. */
function unsupportedConv(attrs: ConvAttrs, tensors: TensorInfo[]): string | undefined {
  if (attrs.dataFormat !== 'NHWC') return `only dataFormat NHWC is supported, got ${attrs.dataFormat}`;
  const bad = tensors.find((t) => t.dtype !== 'float32' || t.shape.length !== 4);
  if (bad !== undefined) return `needs rank-4 float32 tensors, got ${bad.dtype} [${bad.shape}]`;
  return undefined;
}

/** Dilations are not an attr: tfjs-core refuses conv gradients with dilation > 1 before calling these kernels. */
function convInfo(inShape: readonly number[], filterShape: readonly number[], attrs: ConvAttrs): ConvInfo {
  const { strides, pad, dimRoundingMode } = attrs;
  const shape4d = (shape: readonly number[]) => shape as [number, number, number, number];
  return tf.backend_util.computeConv2DInfo(
    shape4d(inShape),
    shape4d(filterShape),
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
}

function outputPositions(info: ConvInfo): number {
  return info.batchSize * info.outHeight * info.outWidth;
}

function patchSize(info: ConvInfo): number {
  return info.filterHeight * info.filterWidth * info.inChannels;
}

/** Row (n, oh, ow) holds the receptive field of that output position, zeros where it overlaps the padding. */
function im2col(backend: BackendWasm, x: TensorInfo, info: ConvInfo): TensorInfo {
  const cols = backend.makeOutput([outputPositions(info), patchSize(info)], 'float32');
  const src = heapView(backend, x);
  const dst = heapView(backend, cols);
  dst.fill(0);
  forEachTap(info, (xOffset, colOffset) => {
    dst.set(src.subarray(xOffset, xOffset + info.inChannels), colOffset);
  });
  return cols;
}

/** The adjoint of im2col: every receptive-field row is added back onto the input positions it was copied from. */
function col2im(backend: BackendWasm, cols: TensorInfo, info: ConvInfo): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels } = info;
  const dx = backend.makeOutput([batchSize, inHeight, inWidth, inChannels], 'float32');
  const src = heapView(backend, cols);
  const dst = heapView(backend, dx);
  dst.fill(0);
  forEachTap(info, (xOffset, colOffset) => {
    for (let c = 0; c < inChannels; c++) {
      dst[xOffset + c] = (dst[xOffset + c] as number) + (src[colOffset + c] as number);
    }
  });
  return dx;
}

/**
 * Calls `visit(xOffset, colOffset)` for every (output position, filter tap) pair that lands inside the input:
 * `xOffset` is the first channel of the input pixel in x, `colOffset` its slot in the im2col matrix.
 */
function forEachTap(info: ConvInfo, visit: (xOffset: number, colOffset: number) => void): void {
  const { batchSize, outHeight, outWidth, inHeight, inWidth, inChannels, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth, padInfo } = info;
  const rowSize = patchSize(info);
  let colRow = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++, colRow += rowSize) {
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight + kh - padInfo.top;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth + kw - padInfo.left;
            if (iw < 0 || iw >= inWidth) continue;
            visit(((n * inHeight + ih) * inWidth + iw) * inChannels, colRow + (kh * filterWidth + kw) * inChannels);
          }
        }
      }
    }
  }
}
