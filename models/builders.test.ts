import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UlasanError } from '../core/errors';
import { FusedRnn, SeededDropout } from './fused-layers';
import { regularizationLosses } from './fit';
import { buildModel, ModelSpecSchema, parseModelSpec, type ModelArch, type ModelSpecInput } from './builders';

const VOCAB = 30;
const SEQ = 12;
const context = { vocabSize: VOCAB, seqLen: SEQ, nClasses: 3, seed: 5 };
/** Small widths so every architecture builds and runs in milliseconds. */
const tiny: Record<ModelArch, ModelSpecInput> = {
  cnn: { arch: 'cnn', embeddingDim: 6, filters: [4, 5], denseUnits: 4 },
  lstm: { arch: 'lstm', embeddingDim: 6, units: 4, denseUnits: 3 },
  gru: { arch: 'gru', embeddingDim: 6, units: 4, denseUnits: 3 },
  bilstm: { arch: 'bilstm', embeddingDim: 6, units: 3 },
  'cnn-bilstm': { arch: 'cnn-bilstm', embeddingDim: 6, filters: 4, units: 3, denseUnits: 4 },
  'cnn-small': { arch: 'cnn-small', embeddingDim: 6, filters: 4 },
};

function tokens(rows: number): tf.Tensor2D {
  return tf.tensor2d(Int32Array.from({ length: rows * SEQ }, (_, i) => (i * 7) % VOCAB), [rows, SEQ], 'int32');
}

function weightBytes(model: tf.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

describe('buildModel', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterEach(() => {
    tf.disposeVariables();
  });

  describe.each(Object.keys(tiny) as ModelArch[])('%s', (arch) => {
    for (const fused of [true, false]) {
      it(`maps [rows, seqLen] token ids to class probabilities (fused=${fused})`, () => {
        const model = buildModel({ ...tiny[arch], fused }, context);
        const out = tf.tidy(() => model.predict(tokens(4)) as tf.Tensor);
        expect(out.shape).toEqual([4, 3]);
        const sums = tf.tidy(() => Array.from(out.sum(-1).dataSync()));
        sums.forEach((s) => expect(s).toBeCloseTo(1, 5));
        tf.dispose(out);
        model.dispose();
      });
    }

    it('has a 1-unit sigmoid head for two classes', () => {
      const model = buildModel(tiny[arch], { ...context, nClasses: 2 });
      const out = tf.tidy(() => model.predict(tokens(2)) as tf.Tensor);
      expect(out.shape).toEqual([2, 1]);
      expect(model.layers.at(-1)?.getConfig()['activation']).toBe('sigmoid');
      out.dispose();
      model.dispose();
    });
  });

  it('fused and stock recurrent models compute the same function from the same seed', () => {
    for (const arch of ['lstm', 'gru', 'bilstm', 'cnn-bilstm'] as const) {
      const fused = buildModel({ ...tiny[arch], fused: true }, context);
      const stock = buildModel({ ...tiny[arch], fused: false }, context);
      const [a, b] = tf.tidy(() => [fused, stock].map((m) => Array.from((m.predict(tokens(3)) as tf.Tensor).dataSync())));
      a?.forEach((v, i) => expect(v, arch).toBeCloseTo(b?.[i] as number, 5));
      fused.dispose();
      stock.dispose();
    }
  });

  it('gives identical initial weights for the same seed and different ones for another seed', () => {
    const a = buildModel(tiny['cnn-bilstm'], context);
    const b = buildModel(tiny['cnn-bilstm'], context);
    const c = buildModel(tiny['cnn-bilstm'], { ...context, seed: 6 });
    expect(weightBytes(b)).toEqual(weightBytes(a));
    expect(weightBytes(c)).not.toEqual(weightBytes(a));
    // An LSTM's forget-gate bias starts at one; its recurrent kernel has orthonormal rows.
    const rnn = a.layers.find((l) => l instanceof FusedRnn) as FusedRnn;
    const [, recurrent, bias] = rnn.getWeights().map((w) => w.dataSync());
    expect(Array.from(bias ?? []).slice(0, 12)).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    const rowNorm = Math.hypot(...Array.from(recurrent ?? []).slice(0, 12));
    expect(rowNorm).toBeCloseTo(1, 5);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('uses seeded dropout layers and deterministic layer names', () => {
    const a = buildModel(tiny.cnn, context);
    const b = buildModel(tiny.cnn, context);
    expect(a.layers.map((l) => l.name)).toEqual(b.layers.map((l) => l.name));
    expect(a.layers.filter((l) => l instanceof SeededDropout)).toHaveLength(3);
    a.dispose();
    b.dispose();
  });

  it('draws a dropout mask per training step that is a pure function of (seed, step)', () => {
    const layer = new SeededDropout({ rate: 0.5, seed: 9 });
    const x = tf.ones([4, 16]);
    const mask = (step: number, training = true) => {
      layer.step = step;
      return Array.from((layer.apply(x, { training }) as tf.Tensor).dataSync());
    };
    expect(mask(3)).toEqual(mask(3));
    expect(mask(4)).not.toEqual(mask(3));
    expect(new Set(mask(3))).toEqual(new Set([0, 2]));
    expect(mask(3, false)).toEqual(Array(64).fill(1));
    // Why not tf.layers.dropout({ seed }): it is honoured, but then every batch gets the same mask.
    const stock = tf.layers.dropout({ rate: 0.5, seed: 9 });
    const stockMask = () => Array.from((stock.apply(x, { training: true }) as tf.Tensor).dataSync());
    expect(stockMask()).toEqual(stockMask());
  });

  it('starts from given Word2Vec vectors and can freeze them', () => {
    const matrix = Float32Array.from({ length: VOCAB * 6 }, (_, i) => i / 100);
    const model = buildModel({ ...tiny['cnn-small'], embeddingTrainable: false }, { ...context, embeddingMatrix: matrix });
    const embedding = model.getLayer('embedding');
    expect(Array.from(embedding.getWeights()[0]?.dataSync() ?? [])).toEqual(Array.from(matrix));
    expect(embedding.trainable).toBe(false);
    expect(model.trainableWeights.map((w) => w.originalName)).not.toContain('embedding/embeddings');
    model.dispose();
  });

  it('adds an L2 penalty per layer kind', () => {
    const model = buildModel({ ...tiny.lstm, l2: { recurrent: 0.01, dense: 0.001 } }, context);
    // kernel + recurrent kernel of the LSTM, hidden and output Dense kernels
    const penalties = regularizationLosses(model);
    expect(penalties).toHaveLength(4);
    penalties.forEach((p) => expect(p.dataSync()[0]).toBeGreaterThan(0));
    tf.dispose(penalties);
    model.dispose();
  });

  it('rejects a Word2Vec matrix of the wrong size, naming both sizes', () => {
    const build = () => buildModel(tiny.lstm, { ...context, embeddingMatrix: new Float32Array(7) });
    expect(build).toThrow(UlasanError);
    expect(build).toThrow(/7 values, expected vocabSize × embeddingDim = 30 × 6/);
  });

  it('rejects unknown architectures and bad fields with their paths', () => {
    expect(() => parseModelSpec({ arch: 'transformer' })).toThrow(/invalid model spec: arch:/);
    expect(() => parseModelSpec({ arch: 'cnn', dropout: 1.5 })).toThrow(/dropout:/);
    expect(() => parseModelSpec({ arch: 'lstm', units: 0 })).toThrow(/units:/);
  });

  it('fills the documented defaults', () => {
    expect(ModelSpecSchema.parse({ arch: 'bilstm' })).toMatchObject({ embeddingDim: 128, units: 32, dropout: 0.35 });
    expect(ModelSpecSchema.parse({ arch: 'cnn-small' })).toMatchObject({ embeddingDim: 32, filters: 64, kernelSize: 5, dropout: 0.3 });
    expect(ModelSpecSchema.parse({ arch: 'cnn' })).toMatchObject({ filters: [64, 128], kernelSize: 3, pooling: 'max' });
  });
});
