/** UnsortedSegmentSum. */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapSimd } from '../heap-simd';
import { type KernelArgs, type TensorInfo, type TypedArray, heapView, input, offsetOf, sizeOf } from './heap-ops';

/**
 * out[segmentIds[i], ...] += x[i, ...], a plain scatter-add over the heap. segmentIds may have any rank as long as
 * its shape prefixes x's; ids outside [0, numSegments) are dropped (TF drops negative ids; tfjs-cpu drops both).
 * The output keeps x's dtype, as in TF.
 */
export function unsortedSegmentSum({ inputs, backend, attrs }: KernelArgs): TensorInfo {
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
  const floats = x.dtype === 'float32' && segmentIds.dtype === 'int32';
  const simd = floats ? heapSimd(wasm as unknown as tf.KernelBackend) : undefined;
  if (simd === undefined) {
    scatterAdd(heapView(wasm, x), heapView(wasm, segmentIds), heapView(wasm, out), sizeOf(rowShape), numSegments);
  } else {
    const count = sizeOf(segmentIds.shape);
    simd.scatterAdd(offsetOf(wasm, x), offsetOf(wasm, segmentIds), offsetOf(wasm, out), count, sizeOf(rowShape), numSegments);
  }
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
