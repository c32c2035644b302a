import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../data/random';
import { UlasanError } from '../core/errors';
import { scoreTokenIds } from './token-scores';
import { fitModel, loadModel, macroF1, regularizationLosses, serializeModel, type FitCheckpoint, type FitOptions, type TrainingData } from './fit';
import { buildModel, type ModelSpecInput } from './builders';
import { registerTrainingKernels } from '../kernels/training-kernels';

const VOCAB = 20;
const SEQ = 8;
const MARKERS = [3, 4, 5];

/** Class c iff marker token MARKERS[c] occurs; other tokens are noise from [6, VOCAB). Linearly separable. */
function toyData(rows: number, seed: number, nClasses = 3): { x: Int32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Int32Array(rows * SEQ);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < SEQ; t++) x[r * SEQ + t] = 6 + rng.int(VOCAB - 6);
    y[r] = r % nClasses;
    x[r * SEQ + rng.int(SEQ)] = MARKERS[y[r] as number] as number;
  }
  return { x, y };
}

function dataset(nClasses = 3): TrainingData {
  const train = toyData(48, 1, nClasses);
  const val = toyData(24, 2, nClasses);
  return { xTrain: train.x, yTrain: train.y, xVal: val.x, yVal: val.y };
}

const context = { vocabSize: VOCAB, seqLen: SEQ, nClasses: 3, seed: 11 };
const small: ModelSpecInput = { arch: 'cnn-small', embeddingDim: 8, filters: 8, kernelSize: 3, dropout: 0.25 };
const recurrent: ModelSpecInput = { arch: 'cnn-bilstm', embeddingDim: 6, filters: 5, units: 4, denseUnits: 4, dropout: 0.3 };
const options: FitOptions = { epochs: 3, batchSize: 16, learningRate: 0.02, seed: 3 };

async function weightsAfterFit(spec: ModelSpecInput, fit: FitOptions, seed = 11): Promise<number[][]> {
  const model = buildModel(spec, { ...context, seed });
  try {
    await fitModel(model, dataset(), fit);
    return model.getWeights().map((w) => Array.from(w.dataSync()));
  } finally {
    model.dispose();
  }
}

describe('fitModel', () => {
  beforeAll(async () => {
    registerTrainingKernels();
    await tf.setBackend('cpu');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('lowers the loss on a separable toy set and logs every epoch', async () => {
    const model = buildModel(small, context);
    const result = await fitModel(model, dataset(), { ...options, epochs: 8 });
    const losses = result.history.map((h) => h.loss);
    expect(result.history.map((h) => h.epoch)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(losses.at(-1) as number).toBeLessThan((losses[0] as number) * 0.5);
    expect(result.history.at(-1)?.valAccuracy).toBeGreaterThan(0.6);
    model.dispose();
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`gives identical weights for two runs with the same seeds on ${backend} (dropout, shuffling, fused BiLSTM)`, async () => {
      await tf.setBackend(backend);
      const first = await weightsAfterFit(recurrent, options);
      const second = await weightsAfterFit(recurrent, options);
      const otherShuffle = await weightsAfterFit(recurrent, { ...options, seed: 4 });
      expect(second).toEqual(first);
      expect(otherShuffle).not.toEqual(first);
      await tf.setBackend('cpu');
    });
  }

  it('resumes a killed run from its last checkpoint to the same final weights as an uninterrupted run', async () => {
    await tf.setBackend('wasm');
    const fit: FitOptions = { ...options, epochs: 4, reduceLrOnPlateau: { patience: 0, factor: 0.5 } };
    const uninterrupted = buildModel(recurrent, context);
    const full = await fitModel(uninterrupted, dataset(), fit);

    // The "killed" attempt stores a checkpoint after each epoch and dies after epoch 1.
    const killed = buildModel(recurrent, context);
    let stored: FitCheckpoint | undefined;
    const crash = fitModel(killed, dataset(), fit, {
      onEpochEnd: async (epoch, _logs, _model, checkpoint) => {
        stored = await checkpoint();
        if (epoch === 1) throw new Error('worker killed');
      },
    });
    await expect(crash).rejects.toThrow('worker killed');
    killed.dispose();
    expect(stored?.epoch).toBe(2);

    // A fresh attempt loads the checkpointed model and continues at epoch 2.
    const restarted = await loadModel((stored as FitCheckpoint).model);
    const rest = await fitModel(restarted, dataset(), fit, {}, stored);
    expect(rest.history.map((h) => h.epoch)).toEqual([0, 1, 2, 3]);
    expect(rest.history).toHaveLength(full.history.length);
    expect(rest.finalLearningRate).toBe(full.finalLearningRate);
    const want = uninterrupted.getWeights().map((w) => Array.from(w.dataSync()));
    expect(restarted.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(want);
    uninterrupted.dispose();
    restarted.dispose();
    await tf.setBackend('cpu');
  });

  it('frees every tensor over build/fit/dispose cycles, including fits that throw', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      await tf.setBackend(backend);
      const start = tf.memory().numTensors;
      for (const optimizer of ['adam', 'rmsprop', 'adagrad', 'sgd'] as const) {
        const model = buildModel(recurrent, context);
        await fitModel(model, dataset(), { ...options, epochs: 1, optimizer, earlyStopping: { restoreBestWeights: true } });
        model.dispose();
      }
      const failing = buildModel(recurrent, context);
      const hook = { onEpochEnd: () => Promise.reject(new Error('hook failed')) };
      await expect(fitModel(failing, dataset(), { ...options, epochs: 2 }, hook)).rejects.toThrow('hook failed');
      failing.dispose();
      expect(tf.memory().numTensors, backend).toBe(start);
    }
    await tf.setBackend('cpu');
  });

  it('stops early when the monitored metric stops improving', async () => {
    const model = buildModel(small, context);
    // A learning rate this small leaves the weights bit-identical, so val_loss never improves after epoch 0.
    const result = await fitModel(model, dataset(), {
      ...options,
      epochs: 10,
      optimizer: 'sgd',
      learningRate: 1e-12,
      earlyStopping: { patience: 2 },
      reduceLrOnPlateau: { patience: 1, factor: 0.5, minLr: 0 },
    });
    expect(result.stoppedEarly).toBe(true);
    expect(result.epochsRun).toBe(3);
    expect(result.bestEpoch).toBe(0);
    expect(result.history.map((h) => h.learningRate)).toEqual([1e-12, 1e-12, 5e-13]);
    model.dispose();
  });

  it('weights the loss by class: balanced weights change an imbalanced fit', async () => {
    const data = dataset();
    const imbalanced: TrainingData = { xTrain: data.xTrain, yTrain: data.yTrain.map((y, i) => (i % 6 === 0 ? y : 0)) };
    const losses: number[] = [];
    for (const classWeight of [undefined, 'balanced' as const, [1, 1, 1]]) {
      const model = buildModel(small, context);
      const result = await fitModel(model, imbalanced, { ...options, epochs: 1, classWeight });
      losses.push(result.history[0]?.loss as number);
      model.dispose();
    }
    expect(losses[1]).not.toBe(losses[0]);
    expect(losses[2]).toBe(losses[0]);
  });

  it('adds weight decay as ½·decay·Σw² over every trainable weight (gradient decay·w, PyTorch Adagrad), and it shrinks the weights', async () => {
    const model = buildModel(small, context);
    try {
      const squares = model.trainableWeights.reduce((sum, w) => sum + Array.from(w.read().dataSync()).reduce((a, v) => a + v * v, 0), 0);
      expect(regularizationLosses(model)).toHaveLength(0);
      const [penalty] = regularizationLosses(model, 1e-2);
      expect(penalty!.dataSync()[0]).toBeCloseTo(0.5 * 1e-2 * squares, 4);
      penalty!.dispose();
    } finally {
      model.dispose();
    }
    const norm = (weights: number[][]) => weights.flat().reduce((a, v) => a + v * v, 0);
    const adagrad: FitOptions = { ...options, optimizer: 'adagrad', epochs: 2 };
    const plain = await weightsAfterFit(small, adagrad);
    const decayed = await weightsAfterFit(small, { ...adagrad, weightDecay: 0.05 });
    expect(norm(decayed)).toBeLessThan(norm(plain));
  });

  it('rejects inconsistent data with what, where and how many', async () => {
    const model = buildModel(small, context);
    const data = dataset();
    await expect(fitModel(model, { ...data, xTrain: data.xTrain.subarray(1) })).rejects.toThrow(
      /xtrain has 383 token ids but ytrain has 48 labels: expected 48 × 8/,
    );
    const badLabel = { ...data, yTrain: Int32Array.from(data.yTrain, (y, i) => (i === 5 ? 3 : y)) };
    await expect(fitModel(model, badLabel)).rejects.toThrow(UlasanError);
    await expect(fitModel(model, badLabel)).rejects.toThrow(/ytrain\[5\] = 3 is not a class index in \[0, 3\)/);
    await expect(fitModel(model, { xTrain: data.xTrain, yTrain: data.yTrain }, { earlyStopping: {} })).rejects.toThrow(
      /need validation data/,
    );
    model.dispose();
  });
});

describe('predict and serialisation', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('predicts class indices and per-class probabilities, binary heads included', () => {
    const { x } = toyData(5, 9);
    for (const nClasses of [2, 3]) {
      const model = buildModel(small, { ...context, nClasses });
      const { labels: classes, scores: probabilities } = scoreTokenIds(model, x, 5, x.length / 5, 2);
      expect(classes).toHaveLength(5);
      expect(probabilities).toHaveLength(5 * nClasses);
      for (let r = 0; r < 5; r++) {
        const row = Array.from(probabilities.subarray(r * nClasses, (r + 1) * nClasses));
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        expect(classes[r]).toBe(row.indexOf(Math.max(...row)));
      }
      model.dispose();
    }
  });

  it('serialises to the same bytes for identical weights and loads back to the same predictions', async () => {
    const a = buildModel(recurrent, context);
    const b = buildModel(recurrent, context);
    const [sa, sb] = [await serializeModel(a), await serializeModel(b)];
    expect(sb.weights).toEqual(sa.weights);
    expect(sb.modelJson).toBe(sa.modelJson);
    const loaded = await loadModel(sa);
    const { x } = toyData(4, 3);
    const scores = (model: Parameters<typeof scoreTokenIds>[0]) => scoreTokenIds(model, x, 4, x.length / 4).scores;
    expect(scores(loaded)).toEqual(scores(a));
    expect((await serializeModel(loaded)).weights).toEqual(sa.weights);
    [a, b, loaded].forEach((m) => m.dispose());
  });

  it('computes macro F1 over the classes present', () => {
    const truth = Int32Array.from([0, 0, 1, 1, 2]);
    const predicted = Int32Array.from([0, 1, 1, 1, 0]);
    // class 0: P 1/2 R 1/2 F 1/2; class 1: P 2/3 R 1 F 0.8; class 2: F 0
    expect(macroF1(truth, predicted, 4)).toBeCloseTo((0.5 + 0.8 + 0) / 3, 10);
  });
});
