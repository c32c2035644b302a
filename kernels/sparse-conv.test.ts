import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../data/random';
import { DEFAULT_MAX_DENSITY, setSparseConvMaxDensity, sparseConvCalls } from './sparse-conv';
import { registerTrainingKernels } from './training-kernels';

const TOLERANCE = 1e-4;

function uniform(rng: Rng, size: number): Float32Array {
  return Float32Array.from({ length: size }, () => rng.next() * 2 - 1);
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i] as number;
    const diff = Math.abs((actual[i] as number) - want);
    expect(diff, `${what}: element ${i}`).toBeLessThanOrEqual(TOLERANCE * Math.max(1, Math.abs(want)));
  }
}

function countNonzeros(values: Float32Array): number {
  return values.reduce((n, v) => (v === 0 ? n : n + 1), 0);
}

interface Case {
  batch: number;
  width: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: 'valid' | 'same';
}

function shapes(c: Case) {
  const xShape: [number, number, number, number] = [c.batch, 1, c.width, c.inChannels];
  const filterShape: [number, number, number, number] = [1, c.kernel, c.inChannels, c.outChannels];
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, [1, c.stride], 1, c.pad);
  return { xShape, filterShape, dyShape: info.outShape };
}

/** Both gradient kernels on wasm, called directly (as tfjs-core's Conv1D gradient calls them). */
function gradients(c: Case, x: Float32Array, filter: Float32Array, dy: Float32Array): { dw: Float32Array; dx: Float32Array } {
  const { xShape, filterShape, dyShape } = shapes(c);
  const attrs = { strides: [1, c.stride], pad: c.pad, dataFormat: 'NHWC' } as unknown as tf.NamedAttrMap;
  return tf.tidy(() => {
    const dyTensor = tf.tensor4d(dy, dyShape);
    const dw = tf.engine().runKernel(
      tf.Conv2DBackpropFilter,
      { x: tf.tensor4d(x, xShape), dy: dyTensor },
      { ...attrs, filterShape },
    ) as tf.Tensor;
    const dx = tf.engine().runKernel(
      tf.Conv2DBackpropInput,
      { dy: dyTensor, filter: tf.tensor4d(filter, filterShape) },
      { ...attrs, inputShape: xShape },
    ) as tf.Tensor;
    expect(dw.shape).toEqual(filterShape);
    expect(dx.shape).toEqual(xShape);
    return { dw: dw.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
  });
}

/** Runs `run` with the threshold forced, and reports whether both kernels took the sparse path. */
function withThreshold<T>(density: number, run: () => T): { result: T; sparse: boolean } {
  const before = { ...sparseConvCalls };
  const previous = setSparseConvMaxDensity(density);
  try {
    const result = run();
    const filter = sparseConvCalls.filter - before.filter;
    const input = sparseConvCalls.input - before.input;
    expect(filter, 'both kernels take the same path').toBe(input);
    return { result, sparse: filter > 0 };
  } finally {
    setSparseConvMaxDensity(previous);
  }
}

/** The gradient GlobalMaxPooling1D(ReLU(z)) sends back to z (at most one nonzero per sample and filter), on cpu. */
async function maxPoolGradient(rng: Rng, dyShape: number[]): Promise<Float32Array> {
  await tf.setBackend('cpu');
  const z = uniform(rng, dyShape.reduce((a, b) => a * b, 1));
  const weights = uniform(rng, (dyShape[0] as number) * (dyShape[3] as number));
  const dy = tf.tidy(() =>
    tf.grad((t: tf.Tensor) => tf.relu(t).max([1, 2]).mul(tf.tensor1d(weights).reshape([dyShape[0] as number, -1])).sum())(
      tf.tensor(z, dyShape),
    ),
  );
  const values = dy.dataSync() as Float32Array;
  dy.dispose();
  await tf.setBackend('wasm');
  return values;
}

describe('sparse Conv1D gradients', () => {
  beforeAll(async () => {
    registerTrainingKernels();
    await tf.setBackend('wasm');
  });
  afterEach(() => {
    setSparseConvMaxDensity(DEFAULT_MAX_DENSITY);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const pad of ['valid', 'same'] as const) {
    for (const stride of [1, 2]) {
      for (const kernel of [3, 5]) {
        const c: Case = { batch: 3, width: 70, inChannels: 5, outChannels: 7, kernel, stride, pad };
        it(`sparse and dense paths agree (${pad}, stride ${stride}, kernel ${kernel})`, async () => {
          const rng = new Rng(100 + stride * 10 + kernel);
          const { xShape, filterShape, dyShape } = shapes(c);
          const x = uniform(rng, xShape.reduce((a, b) => a * b, 1));
          const filter = uniform(rng, filterShape.reduce((a, b) => a * b, 1));
          const size = dyShape.reduce((a, b) => a * b, 1);
          const masked = [0.005, 0.02, 0.1, 0.5].map((density) =>
            Float32Array.from(uniform(rng, size), (v) => (rng.next() < density ? v : 0)),
          );
          for (const dy of [await maxPoolGradient(rng, dyShape), ...masked]) {
            const nonzeros = countNonzeros(dy);
            const dense = withThreshold(0, () => gradients(c, x, filter, dy));
            const sparse = withThreshold(1, () => gradients(c, x, filter, dy));
            expect(dense.sparse).toBe(false);
            expect(sparse.sparse).toBe(true);
            expectClose(sparse.result.dw, dense.result.dw, `dW at ${nonzeros}/${size} nonzeros`);
            expectClose(sparse.result.dx, dense.result.dx, `dx at ${nonzeros}/${size} nonzeros`);
            // The default threshold picks the path by density alone.
            const byDefault = withThreshold(DEFAULT_MAX_DENSITY, () => gradients(c, x, filter, dy));
            expect(byDefault.sparse).toBe(nonzeros <= Math.floor(size * DEFAULT_MAX_DENSITY));
          }
        });
      }
    }
  }

  it('an all-zero dy gives zero gradients on the sparse path', async () => {
    const c: Case = { batch: 2, width: 9, inChannels: 3, outChannels: 4, kernel: 3, stride: 1, pad: 'same' };
    const rng = new Rng(7);
    const { result, sparse } = withThreshold(DEFAULT_MAX_DENSITY, () =>
      gradients(c, uniform(rng, 2 * 9 * 3), uniform(rng, 3 * 3 * 4), new Float32Array(2 * 9 * 4)),
    );
    expect(sparse).toBe(true);
    expect(result.dw.every((v) => v === 0)).toBe(true);
    expect(result.dx.every((v) => v === 0)).toBe(true);
  });

  it('a 2-D conv with a sparse dy stays on the dense path', async () => {
    const before = { ...sparseConvCalls };
    tf.tidy(() => {
      const dy = tf.buffer([1, 4, 4, 2]);
      dy.set(1, 0, 2, 1, 0);
      tf.engine().runKernel(
        tf.Conv2DBackpropFilter,
        { x: tf.ones([1, 4, 4, 3]), dy: dy.toTensor() },
        { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [2, 2, 3, 2] },
      );
    });
    expect(sparseConvCalls).toEqual(before);
  });

  for (const [pad, stride, kernel] of [
    ['valid', 1, 3],
    ['same', 2, 5],
  ] as const) {
    it(`tf.grad of sum(globalMaxPool(relu(conv1d))) matches cpu (${pad}, stride ${stride}, kernel ${kernel})`, async () => {
      const rng = new Rng(200 + kernel);
      const x = uniform(rng, 4 * 80 * 6);
      const w = uniform(rng, kernel * 6 * 8);
      // Weighting the pooled features (rather than a plain sum) gives each filter a different gradient, so a
      // filter-index mix-up would show.
      const weights = uniform(rng, 8);
      const run = () =>
        tf.tidy(() =>
          tf
            .grads((input: tf.Tensor, filter: tf.Tensor) =>
              tf
                .relu(tf.conv1d(input as tf.Tensor3D, filter as tf.Tensor3D, stride, pad))
                .max(1)
                .mul(tf.tensor1d(weights))
                .sum(),
            )([tf.tensor3d(x, [4, 80, 6]), tf.tensor3d(w, [kernel, 6, 8])])
            .map((g) => g.dataSync() as Float32Array),
        );
      await tf.setBackend('cpu');
      const expected = run();
      await tf.setBackend('wasm');
      const { result: actual, sparse } = withThreshold(DEFAULT_MAX_DENSITY, run);
      expect(sparse).toBe(true);
      expectClose(actual[0] as Float32Array, expected[0] as Float32Array, 'dx');
      expectClose(actual[1] as Float32Array, expected[1] as Float32Array, 'dW');
    });
  }

  it('the sparse path leaks neither tensors nor wasm buffers', async () => {
    const c: Case = { batch: 2, width: 40, inChannels: 3, outChannels: 4, kernel: 3, stride: 1, pad: 'valid' };
    const rng = new Rng(8);
    const x = uniform(rng, 2 * 40 * 3);
    const filter = uniform(rng, 3 * 3 * 4);
    const dy = new Float32Array(2 * 38 * 4);
    dy[5] = 1;
    const live = () => ({ tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() });
    withThreshold(DEFAULT_MAX_DENSITY, () => gradients(c, x, filter, dy));
    const before = live();
    const { sparse } = withThreshold(DEFAULT_MAX_DENSITY, () => {
      for (let i = 0; i < 3; i++) gradients(c, x, filter, dy);
    });
    expect(sparse).toBe(true);
    expect(live()).toEqual(before);
  });
});
