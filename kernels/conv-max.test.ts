import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../data/random';
import { BIAS_RELU_MAX, convGlobalMax, type ConvPadding } from './conv-max';
import { prepareHeapSimd } from './heap-simd';
import { useTrainingBackend } from './testing/backend';

interface Case {
  padding: ConvPadding;
  K: number;
  /** Channels: 5 leaves a scalar tail after conv-max.wat's 4-float vectors. */
  C: number;
}

const cases: Case[] = [
  { padding: 'valid', K: 3, C: 8 },
  { padding: 'same', K: 3, C: 5 },
  { padding: 'same', K: 5, C: 8 },
  { padding: 'valid', K: 5, C: 5 },
];
const [B, W, F] = [3, 9, 6];

function uniform(rng: Rng, shape: number[]): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1), shape);
}

/** Output and gradients (x, kernel, bias) of a weighted sum of the op's output, fused and from stock ops. */
function fusedAndStock({ padding, K, C }: Case, x?: tf.Tensor): { fused: tf.Tensor[]; stock: tf.Tensor[] } {
  const rng = new Rng(K * 10 + C);
  const input = x ?? uniform(rng, [B, W, C]);
  const kernel = uniform(rng, [K, C, F]);
  const bias = uniform(rng, [F]).mul(0.3);
  const probe = uniform(rng, [B, F]);
  const fusedOp = (xs: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => convGlobalMax(xs, k, b, padding);
  const stockOp = (xs: tf.Tensor, k: tf.Tensor, b: tf.Tensor) =>
    tf.relu(tf.add(tf.conv1d(xs as tf.Tensor3D, k as tf.Tensor3D, 1, padding), b)).max(1);
  const run = (op: typeof fusedOp) => [
    op(input, kernel, bias),
    ...tf.grads((xs: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => op(xs, k, b).mul(probe).sum())([input, kernel, bias]),
  ];
  return { fused: run(fusedOp), stock: run(stockOp) };
}

function worstRelativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  let worst = 0;
  expected.dataSync().forEach((e, i) => (worst = Math.max(worst, Math.abs((a[i] as number) - e) / Math.max(1, Math.abs(e)))));
  return worst;
}

describe.each(['cpu', 'wasm'] as const)('convGlobalMax on %s', (backend) => {
  useTrainingBackend(backend);

  it.each(cases)('$padding K=$K C=$C: output and gradients match conv1d → relu → max', (c) => {
    tf.tidy(() => {
      const { fused, stock } = fusedAndStock(c);
      const names = ['output', 'dx', 'dKernel', 'dBias'];
      fused.forEach((t, i) => expect(worstRelativeError(t, stock[i] as tf.Tensor), names[i]).toBeLessThan(1e-5));
      expect(Array.from(fused[0]?.dataSync() ?? []).some((v) => v > 0)).toBe(true);
    });
  });

  it('keeps the first position of a tied maximum, and −1 where ReLU clips every position', () => {
    tf.tidy(() => {
      // z [1, 4, 2]: filter 0 peaks at positions 1 and 2 (tied), filter 1 stays below zero after its bias.
      const z = tf.tensor3d([1, -1, 3, -2, 3, -1, 2, -3], [1, 4, 2]);
      const [y, argmax] = tf.engine().runKernel(BIAS_RELU_MAX, { z, bias: tf.tensor1d([0.5, 0.5]) }) as tf.Tensor[];
      expect(Array.from(y?.dataSync() ?? [])).toEqual([3.5, 0]);
      expect(Array.from(argmax?.dataSync() ?? [])).toEqual([1, -1]);
    });
  });

  it('leaks neither tensors nor heap buffers', () => {
    const run = () => tf.tidy(() => void fusedAndStock(cases[1] as Case));
    run();
    const before = { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
    for (let i = 0; i < 3; i++) run();
    expect({ tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() }).toEqual(before);
  });
});

describe('the bias, ReLU and maximum pass', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  // 8 filters take conv-max.wat's SIMD pass on wasm, 6 the JavaScript loop; every value is rounded the same way.
  it.each([8, 6])('gives the same bits on wasm as on cpu for %i filters', async (filters) => {
    const rng = new Rng(filters);
    const z = Float32Array.from({ length: 4 * 11 * filters }, () => (rng.int(7) - 4) * 0.25 + rng.next() * 1e-3);
    const bias = Float32Array.from({ length: filters }, () => rng.next() - 0.5);
    const run = async (backend: 'cpu' | 'wasm') => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const inputs = { z: tf.tensor3d(z, [4, 11, filters]), bias: tf.tensor1d(bias) };
        const [y, argmax] = tf.engine().runKernel(BIAS_RELU_MAX, inputs) as tf.Tensor[];
        return [Array.from(y?.dataSync() ?? []), Array.from(argmax?.dataSync() ?? [])];
      });
    };
    await prepareHeapSimd();
    const [cpuY, cpuArgmax] = await run('cpu');
    const [wasmY, wasmArgmax] = await run('wasm');
    expect(wasmY).toEqual(cpuY);
    expect(wasmArgmax).toEqual(cpuArgmax);
    expect(cpuArgmax?.some((t) => t === -1)).toBe(true);
    expect(cpuArgmax?.some((t) => t > 0)).toBe(true);
  });
});
