/**
 * Training kernels the stock tfjs wasm backend (4.22) lacks or runs slowly.
 *
 * - `UnsortedSegmentSum` is missing, and it is the gradient of `gather`, so no model with an Embedding trains.
 * - `Conv2DBackpropFilter` is missing, and it is the filter gradient of Conv1D/Conv2D.
 * - The stock `Conv2DBackpropInput` (the Conv1D input gradient, needed below an Embedding) is ~10x slower than the
 *   matmul + col2im replacement here.
 * - `BatchMatMul` / `_FusedMatMul` with `transposeA`/`transposeB` are 4-17x slower than transposing first, and
 *   backprop through every Dense/LSTM matmul uses transposed operands.
 *
 * The cpu backend's kernels are no fallback: they take seconds to minutes per batch at realistic sizes.
 */
import * as tf from '@tensorflow/tfjs';
// Importing the backend registers its stock kernels, which the replacements below wrap or call.
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type TensorInfo = tf.TensorInfo;
type KernelArgs = Parameters<tf.KernelFunc>[0];
type TypedArray = Float32Array | Int32Array | Uint8Array;
type ConvInfo = tf.backend_util.Conv2DInfo;
type ConvAttrs = Pick<tf.Conv2DBackpropFilterAttrs, 'strides' | 'pad' | 'dataFormat' | 'dimRoundingMode'>;

const BACKEND = 'wasm';

/** Kernel functions this module installed, so a second call recognises them and does nothing. */
const installed = new WeakSet<tf.KernelFunc>();

/**
 * Registers the wasm training kernels. Idempotent, and safe before or after `await tf.setBackend('wasm')`: the new
 * kernels need no setup, and the replaced stock kernels keep their `setupFunc`, which already ran if wasm is active
 * and otherwise runs when it becomes active.
 */
export function registerWasmTrainingKernels(): void {
  registerIfMissing(tf.UnsortedSegmentSum, unsortedSegmentSum);
  registerIfMissing(tf.Conv2DBackpropFilter, conv2DBackpropFilter);
  overrideKernel(tf.Conv2DBackpropInput, conv2DBackpropInputOr);
  overrideKernel(tf.BatchMatMul, transposingMatMul);
  overrideKernel(tf._FusedMatMul, transposingMatMul);
}

/** Leaves a kernel that exists alone: ours from an earlier call, or a native one from a newer tfjs. */
function registerIfMissing(kernelName: string, kernelFunc: tf.KernelFunc): void {
  if (findKernel(kernelName) !== undefined) return;
  installed.add(kernelFunc);
  tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
}

/** `tf.getKernel` is typed as always returning a config, but returns undefined for unknown kernels. */
function findKernel(kernelName: string): tf.KernelConfig | undefined {
  return tf.getKernel(kernelName, BACKEND) as tf.KernelConfig | undefined;
}

/**
 * Replaces a stock wasm kernel with `wrap(stock)`. The stock `setupFunc` is kept: it binds the C++ function that the
 * stock kernelFunc, still called by the wrapper, needs.
 */
function overrideKernel(kernelName: string, wrap: (stock: tf.KernelFunc) => tf.KernelFunc): void {
  const stock = findKernel(kernelName);
  if (stock === undefined) throw new Error(`stock wasm kernel '${kernelName}' is not registered`);
  if (installed.has(stock.kernelFunc)) return;
  const kernelFunc = wrap(stock.kernelFunc);
  installed.add(kernelFunc);
  tf.unregisterKernel(kernelName, BACKEND);
  tf.registerKernel({ ...stock, kernelFunc });
}

function requireKernel(kernelName: string): tf.KernelFunc {
  const kernel = findKernel(kernelName);
  if (kernel === undefined) throw new Error(`wasm kernel '${kernelName}' is not registered`);
  return kernel.kernelFunc;
}

/** Calls another wasm kernel directly on TensorInfos (no engine round trip, so nothing is taped or tracked). */
function runKernel(kernelName: string, backend: BackendWasm, inputs: tf.NamedTensorInfoMap, attrs = {}): TensorInfo {
  return requireKernel(kernelName)({ inputs, backend, attrs }) as TensorInfo;
}

function input(inputs: tf.NamedTensorInfoMap, name: string): TensorInfo {
  const info = inputs[name];
  if (info === undefined) throw new Error(`missing kernel input '${name}'`);
  return info;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((size, dim) => size * dim, 1);
}

/** A view on the wasm heap. Take it only after the last allocation in a kernel: heap growth detaches old views. */
function heapView(backend: BackendWasm, info: TensorInfo): TypedArray {
  return backend.typedArrayFromHeap(info) as TypedArray;
}

// ---------------------------------------------------------------------------------------------------------------
// UnsortedSegmentSum

/**
 * out[segmentIds[i], ...] += x[i, ...], a plain scatter-add over the heap. segmentIds may have any rank as long as
 * its shape prefixes x's; ids outside [0, numSegments) are dropped (TF drops negative ids; tfjs-cpu drops both).
 * The output keeps x's dtype, as in TF.
 */
function unsortedSegmentSum({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const wasm = backend as BackendWasm;
  const x = input(inputs, 'x');
  const segmentIds = input(inputs, 'segmentIds');
  const numSegments = (attrs as unknown as tf.UnsortedSegmentSumAttrs).numSegments;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`wasm UnsortedSegmentSum supports float32 and int32 data, got ${x.dtype}`);
  }
  const idRank = segmentIds.shape.length;
  if (idRank > x.shape.length || segmentIds.shape.some((dim, i) => dim !== x.shape[i])) {
    throw new Error(`segmentIds shape [${segmentIds.shape}] must prefix data shape [${x.shape}]`);
  }
  const rowShape = x.shape.slice(idRank);
  const out = wasm.makeOutput([numSegments, ...rowShape], x.dtype);
  scatterAdd(heapView(wasm, x), heapView(wasm, segmentIds), heapView(wasm, out), sizeOf(rowShape), numSegments);
  return out;
}

function scatterAdd(x: TypedArray, ids: TypedArray, out: TypedArray, rowSize: number, numSegments: number): void {
  out.fill(0); // makeOutput leaves the heap uninitialised
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (!(id >= 0 && id < numSegments)) continue;
    const src = i * rowSize;
    const dst = id * rowSize;
    for (let j = 0; j < rowSize; j++) out[dst + j] = (out[dst + j] as number) + (x[src + j] as number);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Conv2D gradients, NHWC: with im2col(x) the [N·outH·outW, fH·fW·Cin] matrix of receptive fields and the filter
// viewed as W [fH·fW·Cin, Cout], conv2d is y = im2col(x) · W, so dW = im2col(x)^T · dy and dx = col2im(dy · W^T).
// Both become one stock wasm matmul plus a JS copy/scatter.

/**
 * Transposes im2col(x) explicitly because the stock matmul is ~15x slower with a transposed operand. (Computing
 * dW^T = dy^T · im2col(x) instead transposes less data but its matmul shape runs slower: no faster overall.)
 */
function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const wasm = backend as BackendWasm;
  const x = input(inputs, 'x');
  const dy = input(inputs, 'dy');
  const { filterShape, ...convAttrs } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const reason = unsupportedConv(convAttrs, [x, dy]);
  if (reason !== undefined) throw new Error(`wasm Conv2DBackpropFilter: ${reason}`);
  const info = convInfo(x.shape, filterShape, convAttrs);
  const cols = im2col(wasm, x, info);
  const colsT = transpose2d(wasm, cols);
  wasm.disposeData(cols.dataId);
  const dw = matMul(wasm, colsT, view(dy, [outputPositions(info), info.outChannels]));
  wasm.disposeData(colsT.dataId);
  return view(dw, filterShape);
}

/** Falls back to the stock kernel for what the fast path does not cover (NCHW), rather than failing. */
function conv2DBackpropInputOr(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const wasm = args.backend as BackendWasm;
    const dy = input(args.inputs, 'dy');
    const filter = input(args.inputs, 'filter');
    const { inputShape, ...convAttrs } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (unsupportedConv(convAttrs, [dy, filter]) !== undefined) return stock(args);
    const info = convInfo(inputShape, filter.shape, convAttrs);
    const filterT = transpose2d(wasm, view(filter, [patchSize(info), info.outChannels]));
    const cols = matMul(wasm, view(dy, [outputPositions(info), info.outChannels]), filterT);
    wasm.disposeData(filterT.dataId);
    const dx = col2im(wasm, cols, info);
    wasm.disposeData(cols.dataId);
    return dx;
  };
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

// ---------------------------------------------------------------------------------------------------------------
// Small helpers over the stock kernels

/** The same buffer under another shape of equal size (what the stock Reshape kernel returns, without the refcount). */
function view(info: TensorInfo, shape: readonly number[]): TensorInfo {
  return { dataId: info.dataId, dtype: info.dtype, shape: [...shape] };
}

function transpose2d(backend: BackendWasm, x: TensorInfo): TensorInfo {
  return runKernel(tf.Transpose, backend, { x }, { perm: [1, 0] });
}

function matMul(backend: BackendWasm, a: TensorInfo, b: TensorInfo): TensorInfo {
  return runKernel(tf.BatchMatMul, backend, { a, b }, { transposeA: false, transposeB: false });
}

// ---------------------------------------------------------------------------------------------------------------
// Transposing matmul wrapper

/** Materialises transposed operands with the wasm Transpose kernel, so the stock kernel takes its fast path. */
function transposingMatMul(stock: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { transposeA, transposeB } = (attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    if (!transposeA && !transposeB) return stock({ inputs, backend, attrs });
    const wasm = backend as BackendWasm;
    const a = transposeA ? swapInnerDims(wasm, input(inputs, 'a')) : input(inputs, 'a');
    const b = transposeB ? swapInnerDims(wasm, input(inputs, 'b')) : input(inputs, 'b');
    try {
      return stock({ inputs: { ...inputs, a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      if (transposeA) wasm.disposeData(a.dataId);
      if (transposeB) wasm.disposeData(b.dataId);
    }
  };
}

function swapInnerDims(backend: BackendWasm, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const perm = x.shape.map((_, i) => (i < rank - 2 ? i : 2 * rank - 3 - i));
  return runKernel(tf.Transpose, backend, { x }, { perm });
}
