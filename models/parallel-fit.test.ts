import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../data/random';
import { fitModel, type FitOptions, type TrainingData } from './fit';
import { buildModel, type ModelSpecInput } from './builders';
import { barrier } from './parallel-fit';

const VOCAB = 20;
const SEQ = 8;

function toy(rows: number, seed: number): TrainingData {
  const rng = new Rng(seed);
  const xTrain = Int32Array.from({ length: rows * SEQ }, () => 3 + rng.int(VOCAB - 3));
  const yTrain = Int32Array.from({ length: rows }, (_, r) => r % 2);
  yTrain.forEach((y, r) => (xTrain[r * SEQ + rng.int(SEQ)] = y + 1));
  return { xTrain, yTrain };
}

const context = { vocabSize: VOCAB, seqLen: SEQ, nClasses: 2, seed: 4 };
/** No dropout, so one and two threads compute the same gradients up to the order of summation. */
const spec: ModelSpecInput = { arch: 'cnn-bilstm', embeddingDim: 6, filters: 5, units: 4, denseUnits: 4, dropout: 0, l2: { dense: 0.01 } };
const options: FitOptions = { epochs: 2, batchSize: 15, learningRate: 0.01, seed: 9 };

async function train(threads: number): Promise<{ weights: number[][]; losses: number[] }> {
  const model = buildModel(spec, context);
  try {
    const result = await fitModel(model, toy(40, 1), { ...options, threads });
    return { weights: model.getWeights().map((w) => Array.from(w.dataSync())), losses: result.history.map((h) => h.loss) };
  } finally {
    model.dispose();
  }
}

describe('data-parallel fit in worker threads', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  // One two-thread fit only: each starts two workers (tsx + tfjs + wasm each), seconds on a loaded machine.
  it('matches the one-thread fit up to rounding, without leaking in this thread', async () => {
    const start = tf.memory().numTensors;
    const one = await train(1);
    const two = await train(2);
    two.losses.forEach((loss, i) => expect(loss).toBeCloseTo(one.losses[i] as number, 5));
    two.weights.forEach((w, i) => w.forEach((v, j) => expect(Math.abs(v - (one.weights[i]?.[j] as number))).toBeLessThan(1e-4)));
    expect(tf.memory().numTensors).toBe(start);
  });

  it('releases blocked threads when another one fails', () => {
    const control = new Int32Array(new SharedArrayBuffer(16));
    Atomics.store(control, 2, 1); // aborted
    expect(() => barrier(control, 2)).toThrow('another training thread failed');
  });
});
