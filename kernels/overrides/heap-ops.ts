/** Shared helpers of the kernel overrides: tensor views on the wasm heap and direct calls of stock kernels. */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { aliasingTranspose, kernelInput, transposeOnHeap } from '../arena';
import { requireKernel } from './registry';

export type TensorInfo = tf.TensorInfo;
export type KernelArgs = Parameters<tf.KernelFunc>[0];
export type TypedArray = Float32Array | Int32Array | Uint8Array;
export type ConvInfo = tf.backend_util.Conv2DInfo;
export type ConvAttrs = Pick<tf.Conv2DBackpropFilterAttrs, 'strides' | 'pad' | 'dataFormat' | 'dimRoundingMode'>;

/** Calls another wasm kernel directly on TensorInfos (no engine round trip, so nothing is taped or tracked). */
export function runKernel(kernelName: string, backend: BackendWasm, inputs: tf.NamedTensorInfoMap, attrs = {}): TensorInfo {
  return requireKernel(kernelName)({ inputs, backend, attrs }) as TensorInfo;
}

export function input(inputs: tf.NamedTensorInfoMap, name: string): TensorInfo {
  return kernelInput(inputs, name, 'wasm training kernel');
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((size, dim) => size * dim, 1);
}

/** A view on the wasm heap. Take it only after the last allocation in a kernel: heap growth detaches old views. */
export function heapView(backend: BackendWasm, info: TensorInfo): TypedArray {
  return backend.typedArrayFromHeap(info) as TypedArray;
}

/** The same buffer under another shape of equal size (what the stock Reshape kernel returns, without the refcount). */
export function view(info: TensorInfo, shape: readonly number[]): TensorInfo {
  return { dataId: info.dataId, dtype: info.dtype, shape: [...shape] };
}

export function transpose2d(backend: BackendWasm, x: TensorInfo): TensorInfo {
  const [rows = 0, cols = 0] = x.shape;
  if (!aliasingTranspose(rows) || x.dtype !== 'float32') return runKernel(tf.Transpose, backend, { x }, { perm: [1, 0] });
  const out = backend.makeOutput([cols, rows], 'float32');
  transposeOnHeap(backend, offsetOf(backend, x) / 4, offsetOf(backend, out) / 4, rows, cols);
  return out;
}

export function matMul(backend: BackendWasm, a: TensorInfo, b: TensorInfo): TensorInfo {
  return runKernel(tf.BatchMatMul, backend, { a, b }, { transposeA: false, transposeB: false });
}

export function offsetOf(backend: BackendWasm, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId).memoryOffset;
}
