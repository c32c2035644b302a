import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { Rng } from '../data/random';
import { rnnSequence, type RnnCell } from './rnn';
import { useTrainingBackend } from './testing/backend';

const TOLERANCE = 1e-4;
const [B, T, I] = [3, 5, 4];

function uniform(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

interface Case {
  cell: RnnCell;
  /** Units: 3 keeps the JavaScript cell loops, 8 takes the SIMD ones (lstm-cell.wat) on wasm. */
  H: number;
  reverse: boolean;
  returnSequences: boolean;
}

/**
 * Output and gradients (x, kernel, recurrent kernel, bias) of a random linear functional of the output, from the
 * fused kernel and from the stock tfjs layer with the same weights.
 */
function fusedAndStock({ cell, H, reverse, returnSequences }: Case): { fused: tf.Tensor[]; stock: tf.Tensor[] } {
  const rng = new Rng(7);
  const G = (cell === 'lstm' ? 4 : 3) * H;
  const x = tf.tensor3d(uniform(rng, B * T * I), [B, T, I]);
  const kernel = tf.tensor2d(uniform(rng, I * G, 0.5), [I, G]);
  const recurrent = tf.tensor2d(uniform(rng, H * G, 0.5), [H, G]);
  const bias = tf.tensor1d(uniform(rng, G, 0.3));
  const outShape = returnSequences ? [B, T, H] : [B, H];
  const probe = tf.tensor(uniform(rng, outShape.reduce((a, b) => a * b, 1)), outShape);

  const fusedLoss = (...args: tf.Tensor[]) => {
    const [xs, k, r, b] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    return rnnSequence(xs, k, r, b, { cell, reverse, returnSequences }).mul(probe).sum();
  };
  const fused = [
    rnnSequence(x, kernel, recurrent, bias, { cell, reverse, returnSequences }),
    ...tf.grads(fusedLoss)([x, kernel, recurrent, bias]),
  ];

  const args = { units: H, recurrentActivation: 'sigmoid' as const, returnSequences, goBackwards: reverse };
  const layer = cell === 'lstm' ? tf.layers.lstm(args) : tf.layers.gru(args);
  layer.apply(tf.zeros([B, T, I]));
  layer.setWeights([kernel, recurrent, bias]);
  // Keras returns a backwards layer's sequence in scan order; the fused kernel aligns it with the input.
  const stockOut = (xs: tf.Tensor) => {
    const out = layer.apply(xs) as tf.Tensor;
    return reverse && returnSequences ? tf.reverse(out, 1) : out;
  };
  const weightGrads = tf.variableGrads(
    () => stockOut(x).mul(probe).sum() as tf.Scalar,
    layer.trainableWeights.map((w) => w.read() as tf.Variable),
  );
  const stock = [
    stockOut(x),
    tf.grad((xs: tf.Tensor) => stockOut(xs).mul(probe).sum())(x),
    ...layer.trainableWeights.map((w) => weightGrads.grads[(w.read() as tf.Variable).name] as tf.Tensor),
  ];
  layer.dispose();
  return { fused, stock };
}

function expectClose(actual: tf.Tensor, expected: tf.Tensor, what: string): void {
  expect(actual.shape, what).toEqual(expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let worst = 0;
  e.forEach((value, i) => {
    worst = Math.max(worst, Math.abs((a[i] as number) - value) / Math.max(1, Math.abs(value)));
  });
  expect(worst, what).toBeLessThanOrEqual(TOLERANCE);
}

const cases: Case[] = [];
for (const cell of ['lstm', 'gru'] as const) {
  for (const reverse of [false, true]) {
    for (const returnSequences of [false, true]) {
      for (const H of [3, 8]) cases.push({ cell, H, reverse, returnSequences });
    }
  }
}

describe.each(['cpu', 'wasm'] as const)('fused RNN kernels on %s', (backend) => {
  useTrainingBackend(backend);

  it.each(cases)('$cell units=$H reverse=$reverse returnSequences=$returnSequences matches the stock layer', (c) => {
    tf.tidy(() => {
      const { fused, stock } = fusedAndStock(c);
      const names = ['output', 'dx', 'dKernel', 'dRecurrentKernel', 'dBias'];
      fused.forEach((t, i) => expectClose(t, stock[i] as tf.Tensor, `${names[i]}`));
    });
  });

  it('leaks neither tensors nor heap buffers over repeated forward and backward passes', () => {
    const run = () =>
      tf.tidy(() => {
        fusedAndStock({ cell: 'lstm', H: 8, reverse: true, returnSequences: true });
        fusedAndStock({ cell: 'gru', H: 3, reverse: false, returnSequences: false });
      });
    run();
    const before = { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
    for (let i = 0; i < 3; i++) run();
    expect({ tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() }).toEqual(before);
  });
});

describe('rnnSequence input checks', () => {
  it('rejects a recurrent kernel of the wrong width', async () => {
    await tf.setBackend('cpu');
    const run = () =>
      tf.tidy(() => rnnSequence(tf.zeros([1, 2, 3]), tf.zeros([3, 8]), tf.zeros([2, 6]), tf.zeros([8]), {
        cell: 'lstm',
        reverse: false,
        returnSequences: false,
      }));
    expect(run).toThrow(/recurrentKernel must be \[units, 4·units\], got \[2,6\]/);
  });
});
