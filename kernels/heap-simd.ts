/**
 * WebAssembly SIMD kernels that work in place on the tfjs wasm backend's heap: each module imports the backend's
 * own `WebAssembly.Memory`, so tensors are read and written where they are, with no copies in or out.
 *
 * The modules are assembled from their `.wat` text once per process (`prepareHeapSimd`, asynchronous) and bound
 * to a heap on first use (synchronous, so kernels can call it). A re-created wasm backend brings a new memory and
 * gets new instances.
 */
import type * as tf from '@tensorflow/tfjs';
import { loadWatModule } from './wat';

export interface HeapSimd {
  /** adam.wat: one Adam update pass (byte offsets, length, beta1, beta2, step, scale, epsilon). */
  adam(...offsetsLengthAndHyperparameters: number[]): void;
  /** transpose-scatter-conv-grads.wat: out[cols × rows] = transpose of x[rows × cols] (byte offsets). */
  transpose(x: number, out: number, rows: number, cols: number): void;
  /** transpose-scatter-conv-grads.wat: out = 0, then out[ids[i]] += x[i] row by row (byte offsets; float32 rows, int32 ids). */
  scatterAdd(x: number, ids: number, out: number, count: number, rowSize: number, numSegments: number): void;
  /** transpose-scatter-conv-grads.wat: the dense stride-1 Conv1D filter gradient (byte offsets x, dy, dw, then B, W, C, outW, F, K, pad). */
  convFilterGrad(...offsetsAndSizes: number[]): void;
  /** transpose-scatter-conv-grads.wat: the dense stride-1 Conv1D input gradient (byte offsets dy, wt, dx, then B, W, C, outW, F, K, pad). */
  convInputGrad(...offsetsAndSizes: number[]): void;
  /** lstm-cell.wat: the pointwise LSTM cell maths of kernels/rnn.ts (byte offsets; units a multiple of 4). */
  cellState(gates: number, cPrev: number, cNext: number, c2: number, B: number, H: number): void;
  cellOutput(gates: number, s2: number, tc: number, hNext: number, B: number, H: number): void;
  cellGrad(...offsetsAndSizes: number[]): void;
  /** conv-max.wat: the Conv1D → ReLU → GlobalMaxPooling1D gradient of conv-max.ts (byte offsets, then sizes). */
  convMaxGrad(...offsetsAndSizes: number[]): void;
  /** conv-max.wat: the bias, ReLU and maximum after the conv, for conv-max.ts (byte offsets, then B, W, F). */
  biasReluMax(z: number, bias: number, y: number, argmax: number, B: number, W: number, F: number): void;
}

const SOURCES = ['./wat/adam.wat', './wat/transpose-scatter-conv-grads.wat', './wat/lstm-cell.wat', './wat/conv-max.wat'] as const;

let modules: WebAssembly.Module[] | undefined;
const bound = new WeakMap<WebAssembly.Memory, HeapSimd>();

/** Assembles the modules; idempotent. */
export async function prepareHeapSimd(): Promise<void> {
  modules ??= await Promise.all(SOURCES.map((source) => loadWatModule(new URL(source, import.meta.url))));
}

/**
 * The kernels bound to `backend`'s heap; undefined on a backend without one (cpu) or before `prepareHeapSimd`.
 * For kernels whose JavaScript fallback gives the same bits (transpose, scatterAdd); the others use `requireHeapSimd`.
 */
export function heapSimd(backend: tf.KernelBackend): HeapSimd | undefined {
  if (modules === undefined || !('wasm' in backend)) return undefined;
  const { memory } = (backend as unknown as { wasm: { asm: { memory: WebAssembly.Memory } } }).wasm.asm;
  let kernels = bound.get(memory);
  if (kernels === undefined) {
    const exports = modules.map((module) => new WebAssembly.Instance(module, { tfjs: { memory } }).exports);
    kernels = Object.assign({}, ...exports) as HeapSimd;
    bound.set(memory, kernels);
  }
  return kernels;
}

/**
 * The kernels on wasm, undefined on cpu (where the caller runs its JavaScript twin). On wasm before
 * `prepareHeapSimd` it throws rather than falling back: float32 SIMD and float64 JavaScript round differently, and a
 * training run must not mix the two.
 */
export function requireHeapSimd(backend: tf.KernelBackend, kernel: string): HeapSimd | undefined {
  const simd = heapSimd(backend);
  if (simd === undefined && 'wasm' in backend) throw new Error(`${kernel} on wasm: call prepareHeapSimd() first`);
  return simd;
}
