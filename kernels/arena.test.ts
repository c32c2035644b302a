import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { aliasingTranspose, createArena, sub, transposeStreams } from './arena';

describe('kernel arena', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('transposes by write streams like the definition, for odd and aliasing shapes', () => {
    for (const [rows, cols] of [
      [5, 3],
      [1024, 7],
      [3, 1],
    ] as const) {
      const heap = Float32Array.from({ length: 2 * rows * cols }, (_, i) => (i < rows * cols ? i : -1));
      transposeStreams(heap, 0, rows * cols, rows, cols);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) expect(heap[rows * cols + c * rows + r]).toBe(r * cols + c);
      }
    }
    expect(aliasingTranspose(4096)).toBe(true);
    expect(aliasingTranspose(3968)).toBe(false);
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`runs gemm (with bias), add, sigmoid and transpose on ${backend} and returns outputs`, async () => {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const [out] = tf.tidy(() => {
        const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
        const b = tf.tensor2d([1, 0, 0, 1, 1, 1], [3, 2]);
        const bias = tf.tensor1d([10, 20]);
        const arena = createArena(tf.engine().backend);
        const [ra, rb, rbias] = [a, b, bias].map((t) => arena.input(t as unknown as tf.TensorInfo));
        const y = arena.output([2, 2, 2]);
        const first = sub(y, 0, 4);
        const second = sub(y, 4, 4);
        arena.gemm(ra!, rb!, first, 2, 3, 2, rbias); // [[14, 25], [20, 31]]
        const t = arena.scratch(4);
        arena.transpose(first, 2, 2, t); // [[14, 20], [25, 31]]
        arena.add(first, t, second);
        arena.sigmoid(second, second);
        const [info] = arena.done();
        return [tf.engine().makeTensorFromTensorInfo(info as tf.TensorInfo)];
      });
      const values = Array.from(out?.dataSync() ?? []);
      expect(values.slice(0, 4)).toEqual([14, 25, 20, 31]);
      values.slice(4).forEach((v) => expect(v).toBeCloseTo(1, 6)); // sigmoid of 28..62
      out?.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
