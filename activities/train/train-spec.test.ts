/**
 * The tfjs-free train schemas stay in step with models/builders.ts and models/fit.ts (same fields, bounds and
 * defaults), and the spec's model section is strict yet lets a grid vary the arch.
 */
import { describe, expect, it } from 'vitest';
import { FitOptionsSchema } from '../../models/fit';
import { ModelSpecSchema } from '../../models/builders';
import { BASELINE_ARCHS, dropOtherArchFields, NEURAL_ARCHS, NeuralSpecMirror, TrainModelSchema, TrainOptionsSchema } from './train-spec';

const optionsOf = (schema: unknown) => (schema as { options: { shape: Record<string, unknown> }[] }).options;
const archOf = (option: { shape: Record<string, unknown> }) => (option.shape.arch as { value: string }).value;

/** Inputs per arch that exercise defaults, overrides and bounds (some must fail in both). */
const PROBES: Record<string, unknown[]> = {
  cnn: [{}, { filters: [8], pooling: 'global-max', padding: 'valid' }, { filters: [] }, { dropout: 1 }, { l2: { conv: 0.01 } }],
  lstm: [{}, { units: 3, denseUnits: 0 }, { units: 0 }, { embeddingTrainable: false, fused: false }],
  gru: [{}, { dropout: 0.99 }, { dropout: -0.1 }],
  bilstm: [{}, { returnSequences: false }, { embeddingDim: 1.5 }],
  'cnn-bilstm': [{}, { filters: 16, kernelSize: 5 }, { padding: 'causal' }],
  'cnn-small': [{}, { embeddingDim: 8, filters: 8, kernelSize: 3, dropout: 0 }, { l2: { dense: -1 } }],
};

describe('the tfjs-free neural spec mirror', () => {
  it('has the same archs and fields as ModelSpecSchema', () => {
    const real = Object.fromEntries(optionsOf(ModelSpecSchema).map((o) => [archOf(o), Object.keys(o.shape).sort()]));
    const mirror = Object.fromEntries(optionsOf(NeuralSpecMirror).map((o) => [archOf(o), Object.keys(o.shape).sort()]));
    expect(mirror).toEqual(real);
    expect([...NEURAL_ARCHS].sort()).toEqual(Object.keys(real).sort());
  });

  it.each(NEURAL_ARCHS)('%s: parses (and refuses) the same inputs to the same values', (arch) => {
    for (const probe of PROBES[arch]!) {
      const input = { arch, ...(probe as object) };
      const real = ModelSpecSchema.safeParse(input);
      const mirror = NeuralSpecMirror.safeParse(input);
      expect(mirror.success, JSON.stringify(input)).toBe(real.success);
      if (real.success) expect(mirror.data).toEqual(real.data);
    }
  });

  it('mirrors FitOptionsSchema (seed comes from the spec, the rest from train:)', () => {
    const real = Object.keys(FitOptionsSchema.shape).filter((k) => k !== 'seed').sort();
    expect(Object.keys(TrainOptionsSchema.shape).sort()).toEqual(real);
    const input = { optimizer: 'rmsprop', classWeight: 'balanced', earlyStopping: {}, reduceLrOnPlateau: { factor: 0.5 }, threads: 2 };
    // epochs, batch size and learning rate keep the quickstart's defaults; seed comes from the spec.
    const drop = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !['epochs', 'batchSize', 'learningRate', 'seed'].includes(k)));
    expect(drop(TrainOptionsSchema.parse(input))).toEqual(drop(FitOptionsSchema.parse(input)));
  });
});

describe('TrainModelSchema', () => {
  it('fills baseline defaults (scikit-learn’s)', () => {
    expect(TrainModelSchema.parse({ arch: 'linear-svm' })).toEqual({ arch: 'linear-svm', C: 1, tol: 1e-4, maxIter: 1000, interceptScaling: 1 });
    expect(TrainModelSchema.parse({ arch: 'nb', alpha: 0.5 })).toEqual({ arch: 'nb', alpha: 0.5 });
    expect(BASELINE_ARCHS).toEqual(['nb', 'complement-nb', 'linear-svm', 'logistic-regression', 'random-forest']);
  });

  it('drops fields of other archs (a grid over model.arch) but refuses fields no arch has', () => {
    expect(dropOtherArchFields({ arch: 'lstm', filters: 32, units: 8, typo: 1 })).toEqual({ arch: 'lstm', units: 8, typo: 1 });
    expect(TrainModelSchema.parse({ arch: 'lstm', embeddingDim: 16, filters: [8], kernelSize: 3 })).toMatchObject({ arch: 'lstm', embeddingDim: 16, units: 64 });
    const typo = TrainModelSchema.safeParse({ arch: 'cnn', fliters: [8] });
    expect(typo.success).toBe(false);
    expect(JSON.stringify(typo.error?.issues)).toContain('fliters');
  });

  it('lists every arch when the arch is unknown, the quickstart first', () => {
    const result = TrainModelSchema.safeParse({ arch: 'transformer' });
    expect(result.error?.issues[0]?.message).toBe(
      'unknown model arch "transformer"; allowed: cnn-small, cnn, lstm, gru, bilstm, cnn-bilstm, nb, complement-nb, linear-svm, logistic-regression, random-forest',
    );
  });
});
