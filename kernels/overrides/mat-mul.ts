/** Transposing matmul wrapper. */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type TensorInfo, input, runKernel } from './heap-ops';

/** Materialises transposed operands with the wasm Transpose kernel, so the stock kernel takes its fast path. */
export function transposingMatMul(stock: tf.KernelFunc): tf.KernelFunc {
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
