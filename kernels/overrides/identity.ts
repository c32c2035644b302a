/** Identity: share the buffer (no wasm kernel writes into its inputs). */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type KernelArgs, type TensorInfo, input } from './heap-ops';

/**
 * A transpose whose permutation keeps every axis in place (the Embedding gradient does two per step, one of the
 * whole 10000 × 100 table) shares its input, where the stock kernel copies it.
 */
export function noOpTransposeOr(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { perm } = args.attrs as unknown as tf.TransposeAttrs;
    return perm.every((axis, i) => axis === i) ? sharedIdentity(args) : stock(args);
  };
}

export function sharedIdentity({ inputs, backend }: KernelArgs): TensorInfo {
  const x = input(inputs, 'x');
  (backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}
