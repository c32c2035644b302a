import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../data/random';
import { FusedAdamOptimizer } from './fused-adam';
import { prepareHeapSimd } from './heap-simd';

function uniform(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
}

/** Three Adam steps on two variables with fixed pseudo-random gradients; returns the final values. */
function run(optimizer: tf.Optimizer, prefix: string): number[][] {
  const rng = new Rng(3);
  // tidy frees the initial values; variables survive it.
  const a = tf.tidy(() => tf.variable(tf.tensor2d(uniform(rng, 12), [3, 4]), true, `${prefix}_a`));
  const b = tf.tidy(() => tf.variable(tf.tensor1d(uniform(rng, 5)), true, `${prefix}_b`));
  for (let step = 0; step < 3; step++) {
    const grads = { [a.name]: tf.tensor2d(uniform(rng, 12), [3, 4]), [b.name]: tf.tensor1d(uniform(rng, 5)) };
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const values = [Array.from(a.dataSync()), Array.from(b.dataSync())];
  tf.dispose([a, b]);
  return values;
}

describe.each(['cpu', 'wasm'] as const)('FusedAdamOptimizer on %s', (backend) => {
  beforeAll(prepareHeapSimd);
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matches tf.train.adam to float32 rounding and frees its temporaries', async () => {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const stock = tf.train.adam(0.05);
    const fused = new FusedAdamOptimizer(0.05);
    const want = run(stock, `${backend}_stock`);
    const got = run(fused, `${backend}_fused`);
    got.forEach((values, i) => values.forEach((v, j) => expect(v).toBeCloseTo(want[i]?.[j] as number, 5)));
    expect(fused.getClassName()).toBe('Adam');
    stock.dispose();
    fused.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('round-trips its slots through getWeights / setWeights', async () => {
    await tf.setBackend(backend);
    const first = new FusedAdamOptimizer(0.05);
    const v = tf.variable(tf.tensor1d([1, 2, 3]), true, `${backend}_slots`);
    first.applyGradients({ [v.name]: tf.tensor1d([0.5, -1, 2]) });
    const second = new FusedAdamOptimizer(0.05);
    await second.setWeights(await first.getWeights());
    const saved = v.clone();
    first.applyGradients({ [v.name]: tf.tensor1d([1, 1, 1]) });
    const afterFirst = Array.from(v.dataSync());
    v.assign(saved);
    second.applyGradients({ [v.name]: tf.tensor1d([1, 1, 1]) });
    Array.from(v.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(afterFirst[i] as number, 6));
    tf.dispose([v, saved]);
    first.dispose();
    second.dispose();
  });
});
