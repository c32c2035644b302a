/** Equal with broadcasting. */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type TensorInfo, input, offsetOf, sizeOf } from './heap-ops';

export function broadcastEqualOr(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const a = input(args.inputs, 'a');
    const b = input(args.inputs, 'b');
    if (tf.util.arraysEqual(a.shape, b.shape) || a.dtype !== b.dtype || a.dtype !== 'float32') return stock(args);
    const wasm = args.backend as BackendWasm;
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = wasm.makeOutput(shape, 'bool');
    const buffer = (wasm.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer;
    const view = (t: TensorInfo) => new Float32Array(buffer, offsetOf(wasm, t), sizeOf(t.shape));
    const result = new Uint8Array(buffer, offsetOf(wasm, out), sizeOf(shape));
    equalBroadcast(view(a), broadcastStrides(a.shape, shape), view(b), broadcastStrides(b.shape, shape), result, shape);
    return out;
  };
}

/** Element strides of a `shape` tensor broadcast to `outShape` (0 along broadcast axes). */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const padded = [...Array<number>(rank - shape.length).fill(1), ...shape];
  const strides = new Array<number>(rank).fill(0);
  for (let d = rank - 1, stride = 1; d >= 0; d--) {
    strides[d] = padded[d] === 1 ? 0 : stride;
    stride *= padded[d] as number;
  }
  return strides;
}

/** Row by row over the last axis, with an odometer over the leading axes for the two base offsets. */
function equalBroadcast(
  a: Float32Array,
  aStrides: number[],
  b: Float32Array,
  bStrides: number[],
  out: Uint8Array,
  shape: readonly number[],
): void {
  const rank = shape.length;
  const inner = shape[rank - 1] ?? 1;
  const sa = aStrides[rank - 1] ?? 0;
  const sb = bStrides[rank - 1] ?? 0;
  const counter = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < out.length; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = a[ia + j * sa] === b[ib + j * sb] ? 1 : 0;
    for (let d = rank - 2; d >= 0; d--) {
      counter[d] = (counter[d] as number) + 1;
      ia += aStrides[d] as number;
      ib += bStrides[d] as number;
      if ((counter[d] as number) < (shape[d] as number)) break;
      ia -= (aStrides[d] as number) * (shape[d] as number);
      ib -= (bStrides[d] as number) * (shape[d] as number);
      counter[d] = 0;
    }
  }
}
