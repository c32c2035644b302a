import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../data/random';
import { heapSimd, prepareHeapSimd, type HeapSimd } from './heap-simd';
import { registerTrainingKernels } from './training-kernels';

/** Byte offset of a tensor's data on the wasm heap. */
function offsetOf(t: tf.Tensor): number {
  return (tf.backend() as BackendWasm).dataIdMap.get(t.dataId).memoryOffset;
}

function simd(): HeapSimd {
  const kernels = heapSimd(tf.backend());
  if (kernels === undefined) throw new Error('heap SIMD kernels not bound');
  return kernels;
}

describe('heap SIMD kernels on the wasm heap', () => {
  beforeAll(async () => {
    registerTrainingKernels();
    await tf.setBackend('wasm');
    await prepareHeapSimd();
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('is unavailable on cpu, where kernels keep their JavaScript loops', async () => {
    await tf.setBackend('cpu');
    expect(heapSimd(tf.backend())).toBeUndefined();
    await tf.setBackend('wasm');
    expect(heapSimd(tf.backend())).toBe(heapSimd(tf.backend()));
  });

  // Blocks of 4 x 4 and every kind of edge: rows or columns not a multiple of 4, single rows and columns.
  it.each([
    [4096, 100],
    [7, 5],
    [8, 12],
    [1, 9],
    [9, 1],
    [1024, 7],
    [6, 256],
  ])('transposes %i x %i exactly', (rows, cols) => {
    const values = Float32Array.from({ length: rows * cols }, (_, i) => i + 0.5);
    const x = tf.tensor2d(values, [rows, cols]);
    const out = tf.fill([cols, rows], -1);
    simd().transpose(offsetOf(x), offsetOf(out), rows, cols);
    const got = out.dataSync();
    let wrong = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) if (got[c * rows + r] !== values[r * cols + c]) wrong++;
    }
    expect(wrong).toBe(0);
    tf.dispose([x, out]);
  });

  it.each([4, 6, 1])('scatter-adds rows of %i floats like the definition, skipping out-of-range ids', (rowSize) => {
    const rng = new Rng(rowSize);
    const count = 50;
    const numSegments = 9;
    const values = Float32Array.from({ length: count * rowSize }, () => rng.next() * 2 - 1);
    const ids = Int32Array.from({ length: count }, () => rng.int(numSegments + 2) - 1); // -1 and 9 are out of range
    const want = new Float32Array(numSegments * rowSize);
    ids.forEach((id, i) => {
      if (id < 0 || id >= numSegments) return;
      for (let j = 0; j < rowSize; j++) want[id * rowSize + j] = (want[id * rowSize + j] as number) + (values[i * rowSize + j] as number);
    });
    const x = tf.tensor1d(values);
    const idTensor = tf.tensor1d(ids, 'int32');
    const out = tf.fill([numSegments * rowSize], 7); // stale values must be cleared
    simd().scatterAdd(offsetOf(x), offsetOf(idTensor), offsetOf(out), count, rowSize, numSegments);
    expect(Array.from(out.dataSync())).toEqual(Array.from(want));
    tf.dispose([x, idTensor, out]);
  });

  it('serves the tfjs kernels: an aliasing transpose and the embedding gradient', () => {
    const x = tf.tensor2d(Float32Array.from({ length: 4096 * 3 }, (_, i) => i), [4096, 3]);
    const t = tf.transpose(x);
    expect(t.shape).toEqual([3, 4096]);
    expect(Array.from(t.dataSync().subarray(4096, 4099))).toEqual([1, 4, 7]);
    const sums = tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]), tf.tensor1d([2, 0, 2], 'int32'), 3);
    expect(Array.from(sums.dataSync())).toEqual([3, 4, 0, 0, 6, 8]);
    tf.dispose([x, t, sums]);
  });
});
