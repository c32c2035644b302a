/**
 * The spec's `features:`, `model:` and `train:` sections: every feature kind and arch resolves into
 * stage params, a grid can vary `model.arch`, and every shipped experiment spec validates.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment } from './experiment';
import { gridPlanFromSpec } from './grid-spec';
import { ExperimentSpecSchema, parseSpec, planFromSpec } from './spec';

const base = { name: 't', source: { synthetic: { rows: 100 } }, seed: 9 };
const plan = (extra: Record<string, unknown>) => planFromSpec(ExperimentSpecSchema.parse({ ...base, ...extra }));

describe('features, model and train sections', () => {
  it('keeps token ids the default kind, as before the other kinds existed', () => {
    const p = plan({ model: { arch: 'cnn-small' } });
    expect(p.features).toEqual({ kind: 'token-ids', maxVocab: 10_000, minCount: 1, maxLen: { percentile: 95 } });
    expect(p.train).toMatchObject({ epochs: 5, batchSize: 64, learningRate: 0.005, optimizer: 'adam', threads: 1, seed: 9 });
    expect(p.train.model).toMatchObject({ arch: 'cnn-small', embeddingDim: 32, filters: 64, kernelSize: 5, dropout: 0.3 });
  });

  it('sizes a Word2Vec embedding to the model and seeds it with the spec seed', () => {
    const p = plan({ features: { embedding: { word2vec: { minCount: 2 } } }, model: { arch: 'lstm', embeddingDim: 24 } });
    expect(p.features).toMatchObject({ kind: 'token-ids', embedding: { word2vec: { vectorSize: 24, minCount: 2, window: 5, architecture: 'cbow', seed: 9 } } });
  });

  it('resolves tfidf and doc-vectors with their defaults, and baselines with sklearn’s', () => {
    const tfidf = plan({ features: { kind: 'tfidf', ngramRange: [1, 2], minDf: 2 }, model: { arch: 'linear-svm' } });
    expect(tfidf.features).toEqual({
      kind: 'tfidf',
      ngramRange: [1, 2],
      minDf: 2,
      maxDf: 1,
      maxFeatures: null,
      useIdf: true,
      smoothIdf: true,
      sublinearTf: false,
      norm: 'l2',
    });
    expect(tfidf.train.model).toEqual({ arch: 'linear-svm', C: 1, tol: 1e-4, maxIter: 1000, interceptScaling: 1 });
    const docs = plan({ features: { kind: 'doc-vectors' }, model: { arch: 'logistic-regression', C: 10 } });
    expect(docs.features).toMatchObject({ kind: 'doc-vectors', word2vec: { vectorSize: 100, seed: 9 } });
  });

  it('passes the fit options through (optimizer, class weights, early stopping, LR on plateau)', () => {
    const p = plan({
      model: { arch: 'gru' },
      train: { optimizer: 'rmsprop', classWeight: 'balanced', earlyStopping: { patience: 1 }, reduceLrOnPlateau: { factor: 0.5 } },
    });
    expect(p.train).toMatchObject({
      optimizer: 'rmsprop',
      classWeight: 'balanced',
      earlyStopping: { monitor: 'val_loss', patience: 1, minDelta: 0, restoreBestWeights: false },
      reduceLrOnPlateau: { monitor: 'val_loss', factor: 0.5, patience: 2, minLr: 1e-6 },
    });
  });

  it('names bad fields: an unknown feature kind, a typo in the model, a bad ngram range', () => {
    expect(() => parseSpec({ ...base, features: { kind: 'bert' }, model: { arch: 'cnn' } }, 's.yaml')).toThrow(
      /features\.kind: unknown features kind "bert"; allowed: token-ids, tfidf, doc-vectors/,
    );
    expect(() => parseSpec({ ...base, model: { arch: 'lstm', unit: 8 } }, 's.yaml')).toThrow(/model: Unrecognized key: "unit"/);
    expect(() => parseSpec({ ...base, features: { kind: 'tfidf', ngramRange: [2, 1] }, model: { arch: 'nb' } }, 's.yaml')).toThrow(/ngramRange/);
  });

  it('expands a grid over model.arch, each cell keeping only its arch’s fields', () => {
    const raw = {
      ...base,
      model: { arch: 'cnn', embeddingDim: 16, filters: [8], units: 8 },
      grid: { values: { 'model.arch': ['cnn', 'lstm'] } },
    };
    const grid = gridPlanFromSpec(raw, 'grid.yaml');
    expect(grid.cells.map((c) => c.train.model.arch)).toEqual(['cnn', 'lstm']);
    expect(grid.cells[0]!.train.model).toMatchObject({ arch: 'cnn', embeddingDim: 16, filters: [8] });
    expect(grid.cells[0]!.train.model).not.toHaveProperty('units');
    expect(grid.cells[1]!.train.model).toMatchObject({ arch: 'lstm', embeddingDim: 16, units: 8 });
    expect(grid.cells[1]!.train.model).not.toHaveProperty('filters');
  });
});

describe('shipped experiment specs', () => {
  it('all validate (real-data ones when ../shared/data is there)', async () => {
    const dir = new URL('../experiments/', import.meta.url).pathname;
    const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml'));
    expect(files).toEqual(expect.arrayContaining(['halodoc-baselines.yaml', 'lstm-word2vec.yaml', 'grid-arch.yaml']));
    const realData = existsSync(new URL('../../shared/data/reviews/halodoc_id_reviews.csv', import.meta.url));
    for (const file of files) {
      if (file.startsWith('halodoc') && !realData) continue;
      const experiment = await loadExperiment(join(dir, file));
      expect(['pipeline', 'grid'], file).toContain(experiment.kind);
    }
    const baselines = await (realData ? loadExperiment(join(dir, 'halodoc-baselines.yaml')) : undefined);
    if (baselines?.kind === 'pipeline') {
      expect(baselines.plan.features).toMatchObject({ kind: 'tfidf', ngramRange: [1, 2], minDf: 2 });
      expect(baselines.plan.train.model).toMatchObject({ arch: 'linear-svm' });
    }
  });
});
