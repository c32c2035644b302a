/** GatherV2 along axis 0: whole-row copies (the Embedding lookup). */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapView, input, offsetOf, sizeOf } from './heap-ops';

export function gatherRowsOr(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { axis, batchDims } = args.attrs as unknown as tf.GatherV2Attrs;
    const x = input(args.inputs, 'x');
    const indices = input(args.inputs, 'indices');
    const fast = axis === 0 && (batchDims ?? 0) === 0 && x.shape.length >= 1 && indices.dtype === 'int32';
    if (!fast || (x.dtype !== 'float32' && x.dtype !== 'int32')) return stock(args);
    const wasm = args.backend as BackendWasm;
    const rows = x.shape[0] as number;
    const rowSize = sizeOf(x.shape.slice(1));
    const out = wasm.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    const ids = heapView(wasm, indices) as Int32Array;
    const words = new Uint32Array((wasm.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer);
    const src = offsetOf(wasm, x) / 4;
    const dst = offsetOf(wasm, out) / 4;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (!(id >= 0 && id < rows)) {
        wasm.disposeData(out.dataId);
        throw new Error(`GatherV2: index ${id} at position ${i} is not in [0, ${rows}) (a token id beyond the vocabulary?)`);
      }
      words.copyWithin(dst + i * rowSize, src + id * rowSize, src + (id + 1) * rowSize);
    }
    return out;
  };
}
