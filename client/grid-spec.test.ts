/** Grid specs: whole sections and features vary, families expand apart with their budgets, selection defaults to auto. */
import { describe, expect, it } from 'vitest';
import { gridPlanFromSpec } from './grid-spec';

const base = {
  name: 'families',
  seed: 3,
  source: { synthetic: { rows: 300 } },
  split: { train: 0.8, val: 0, test: 0.2 },
  features: { kind: 'tfidf' },
  model: { arch: 'linear-svm' },
};

describe('gridPlanFromSpec', () => {
  it('expands each family on its own, whole sections replacing the base, with family names and budgets', () => {
    const plan = gridPlanFromSpec(
      {
        ...base,
        grid: {
          values: { 'resample.method': ['none', 'random-over'] },
          families: [
            { name: 'words', values: { 'features.minDf': [1, 2], model: [{ arch: 'nb', alpha: 0.5 }] } },
            { name: 'cnn', maxTrainRows: 5000, values: { features: [{ kind: 'token-ids', maxLen: 16 }], model: [{ arch: 'cnn-small', embeddingDim: 8, filters: 8 }] } },
          ],
        },
      },
      'families.yaml',
    );
    // The grid's own values vary slowest, then the family's, in the order listed.
    expect(plan.cells.map((c) => [c.family, c.features!.kind, c.train.model.arch, c.resample.sampler.method])).toEqual([
      ['words', 'tfidf', 'nb', 'none'],
      ['words', 'tfidf', 'nb', 'none'],
      ['words', 'tfidf', 'nb', 'random-over'],
      ['words', 'tfidf', 'nb', 'random-over'],
      ['cnn', 'token-ids', 'cnn-small', 'none'],
      ['cnn', 'token-ids', 'cnn-small', 'random-over'],
    ]);
    expect(plan.cells.map((c) => (c.features as { minDf?: number }).minDf)).toEqual([1, 2, 1, 2, undefined, undefined]);
    expect(plan.cells.map((c) => c.maxTrainRows)).toEqual([undefined, undefined, undefined, undefined, 5000, 5000]);
    // A model section replaced whole: no field of the base's linear SVM lingers on the NB.
    expect(plan.cells[0]!.train.model).not.toHaveProperty('C');
  });

  it('selects by auto (cv below 200 validation rows of the rarest class) with 5 folds and a top-3 vote unless told', () => {
    const plan = gridPlanFromSpec({ ...base, grid: { values: { 'model.C': [0.5, 1] } } }, 'auto.yaml');
    expect(plan.selection).toEqual({ method: 'auto', folds: 5, seed: 3, minValClassRows: 200, ensemble: 3 });
    // Without a validation split only the test split must hold every class.
    expect(plan.support?.partitions).toEqual(['test']);
    const cv = gridPlanFromSpec({ ...base, grid: { values: { 'model.C': [0.5, 1] }, selection: { method: 'cv', folds: 3, ensemble: 0 } } }, 'cv.yaml');
    expect(cv.selection).toMatchObject({ method: 'cv', folds: 3, ensemble: 0 });
  });

  it('refuses a grid with nothing to vary, naming the field', () => {
    expect(() => gridPlanFromSpec({ ...base, grid: {} }, 'empty.yaml')).toThrow('grid: give values (or families) to vary');
  });
});
