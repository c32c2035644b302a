import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../data/canonical';
import { Rng } from '../../data/random';
import { UlasanError } from '../../core/errors';
import type { BaselineKind, BaselineModel, BaselineParams, CsrMatrix, DenseMatrix, FeatureMatrix } from './index';
import { BASELINE_KINDS, fitBaseline, predictBaseline } from './index';

/** fixtures/sklearn-baselines.json, made by fixtures/make-baselines.py (sklearn 1.2.1). */
interface JsonMatrix {
  rows: number;
  cols: number;
  data: number[];
  indptr?: number[];
  indices?: number[];
}
interface SklearnModel {
  params: Record<string, number>;
  predictions: number[];
  accuracy: number;
  accuracy_seed_mean?: number;
}
interface Problem {
  name: string;
  n_classes: number;
  train: { X: JsonMatrix; y: number[] };
  test: { X: JsonMatrix; y: number[] };
  models: Record<string, SklearnModel>;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/sklearn-baselines.json', import.meta.url), 'utf8')) as {
  problems: Problem[];
};

function matrix(m: JsonMatrix): FeatureMatrix {
  const base = { rows: m.rows, cols: m.cols, data: Float32Array.from(m.data) };
  if (m.indptr === undefined || m.indices === undefined) return base;
  return { ...base, indptr: Int32Array.from(m.indptr), indices: Int32Array.from(m.indices) };
}

function toDense(x: CsrMatrix): DenseMatrix {
  const data = new Float32Array(x.rows * x.cols);
  for (let i = 0; i < x.rows; i++) {
    for (let p = x.indptr[i] as number; p < (x.indptr[i + 1] as number); p++) {
      data[i * x.cols + (x.indices[p] as number)] = x.data[p] as number;
    }
  }
  return { rows: x.rows, cols: x.cols, data };
}

/** The sklearn estimator each fixture entry was made with, and the same hyperparameters in our names. */
function ours(name: string, sk: SklearnModel): { kind: BaselineKind; params: BaselineParams[BaselineKind] } {
  const p = sk.params;
  if (name.startsWith('multinomialNb')) return { kind: 'multinomialNb', params: { alpha: p.alpha } };
  if (name.startsWith('complementNb')) return { kind: 'complementNb', params: { alpha: p.alpha } };
  const classWeight = name.endsWith('Balanced') ? { classWeight: 'balanced' as const } : {};
  if (name.startsWith('linearSvc')) return { kind: 'linearSvm', params: { C: p.C, tol: p.tol, maxIter: p.max_iter, ...classWeight } };
  if (name.startsWith('logisticRegression')) {
    return { kind: 'logisticRegression', params: { C: p.C, tol: p.tol, maxIter: p.max_iter, ...classWeight } };
  }
  if (name === 'randomForest') return { kind: 'randomForest', params: { nEstimators: p.n_estimators } };
  throw new Error(`fixture model ${name} has no counterpart`);
}

function agreement(a: Int32Array, b: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

const cases = fixture.problems.flatMap((problem) =>
  Object.entries(problem.models).map(([name, sk]) => [`${problem.name}: ${name}`, problem, name, sk] as const),
);

describe('baselines agree with scikit-learn on the committed synthetic problems', () => {
  it.each(cases)('%s', (_label, problem, name, sk) => {
    const { kind, params } = ours(name, sk);
    const yTest = Int32Array.from(problem.test.y);
    const yTrain = Int32Array.from(problem.train.y);
    const model = fitBaseline(kind, matrix(problem.train.X), yTrain, problem.n_classes, params, new Rng(42));
    const pred = predictBaseline(model, matrix(problem.test.X));
    const accuracy = agreement(pred, yTest);
    if (kind === 'multinomialNb' || kind === 'complementNb') {
      expect(Array.from(pred)).toEqual(sk.predictions);
    } else if (kind === 'randomForest') {
      // forests differ tree by tree (different random streams); their accuracy must not
      const gap = Math.abs(accuracy - sk.accuracy);
      expect(gap, `accuracy ${accuracy} vs sklearn ${sk.accuracy}`).toBeLessThanOrEqual(0.03);
      expect(Math.abs(accuracy - (sk.accuracy_seed_mean as number))).toBeLessThanOrEqual(0.03);
    } else {
      expect(agreement(pred, sk.predictions)).toBeGreaterThanOrEqual(0.98);
      expect(Math.abs(accuracy - sk.accuracy)).toBeLessThanOrEqual(0.01);
    }
  });
});

describe('class weights', () => {
  const problem = fixture.problems.find((p) => p.name === 'tfidf 3-class imbalanced') as Problem;
  const xTrain = matrix(problem.train.X);
  const yTrain = Int32Array.from(problem.train.y);
  const xTest = matrix(problem.test.X);

  it.each(['linearSvm', 'logisticRegression'] as const)('%s: balanced moves predictions towards the rare class, as sklearn', (kind) => {
    const rare = (pred: ArrayLike<number>) => Array.from(pred).filter((c) => c === 1).length;
    const plain = predictBaseline(fitBaseline(kind, xTrain, yTrain, 3, {}, new Rng(1)), xTest);
    const balanced = predictBaseline(fitBaseline(kind, xTrain, yTrain, 3, { classWeight: 'balanced' }, new Rng(1)), xTest);
    const sk = problem.models[kind === 'linearSvm' ? 'linearSvcBalanced' : 'logisticRegressionBalanced'] as SklearnModel;
    expect(rare(balanced)).toBeGreaterThan(rare(plain));
    expect(Math.abs(rare(balanced) - rare(sk.predictions))).toBeLessThanOrEqual(3);
  });

  it('refuses a class weight it does not know', () => {
    expect(() => fitBaseline('linearSvm', xTrain, yTrain, 3, { classWeight: 'auto' as never }, new Rng(1))).toThrow(
      "linearSvm classWeight must be 'none' or 'balanced'; got auto",
    );
  });
});

describe('baseline models', () => {
  const problem = fixture.problems[0] as Problem;
  const xTrain = matrix(problem.train.X) as CsrMatrix;
  const yTrain = Int32Array.from(problem.train.y);
  const xTest = matrix(problem.test.X);
  const quick: BaselineParams = {
    multinomialNb: {},
    complementNb: {},
    linearSvm: {},
    logisticRegression: {},
    randomForest: { nEstimators: 5 },
  };

  it.each(BASELINE_KINDS)('%s survives a JSON round trip and refits identically from the same seed', (kind) => {
    const model = fitBaseline(kind, xTrain, yTrain, 3, quick[kind], new Rng(7));
    const restored = JSON.parse(JSON.stringify(model)) as BaselineModel;
    expect(restored.kind).toBe(kind);
    expect(Array.from(predictBaseline(restored, xTest))).toEqual(Array.from(predictBaseline(model, xTest)));
    expect(canonicalJson(fitBaseline(kind, xTrain, yTrain, 3, quick[kind], new Rng(7)))).toBe(canonicalJson(model));
  });

  it('grows the same forest from the sparse and the dense layout of one matrix', () => {
    const sparse = fitBaseline('randomForest', xTrain, yTrain, 3, { nEstimators: 3 }, new Rng(1));
    const dense = fitBaseline('randomForest', toDense(xTrain), yTrain, 3, { nEstimators: 3 }, new Rng(1));
    expect(canonicalJson(dense)).toBe(canonicalJson(sparse));
  });

  it('gives the same linear models for the sparse and dense layouts', () => {
    for (const kind of ['multinomialNb', 'linearSvm', 'logisticRegression'] as const) {
      const a = predictBaseline(fitBaseline(kind, xTrain, yTrain, 3, {}, new Rng(3)), xTest);
      const b = predictBaseline(fitBaseline(kind, toDense(xTrain), yTrain, 3, {}, new Rng(3)), xTest);
      expect(Array.from(b), kind).toEqual(Array.from(a));
    }
  });

  it('reports when the linear solvers stopped', () => {
    const svm = fitBaseline('linearSvm', xTrain, yTrain, 3, { maxIter: 2 }, new Rng(1));
    expect(svm.kind === 'linearSvm' && svm.iterations).toEqual([2, 2, 2]);
    const lr = fitBaseline('logisticRegression', xTrain, yTrain, 3, { maxIter: 3 }, new Rng(1));
    expect(lr.kind === 'logisticRegression' && lr.stopReason).toBe('maxIter');
  });
});

describe('random forest trees', () => {
  // two features; class = x0 > 0.5, except that x1 alone is noise
  const x: DenseMatrix = {
    rows: 6,
    cols: 2,
    data: Float32Array.from([0.1, 5, 0.2, 1, 0.4, 3, 0.6, 2, 0.8, 4, 0.9, 0]),
  };
  const y = Int32Array.from([0, 0, 0, 1, 1, 1]);

  it('splits at the midpoint and fits a separable set exactly', () => {
    const params = { nEstimators: 1, bootstrap: false, maxFeatures: 'all' } as const;
    const model = fitBaseline('randomForest', x, y, 2, params, new Rng(1));
    if (model.kind !== 'randomForest') throw new Error('wrong kind');
    const tree = model.trees[0]!;
    expect(tree.feature[0]).toBe(0);
    expect(tree.threshold[0]).toBe(Math.fround(0.4) / 2 + Math.fround(0.6) / 2);
    expect(tree.feature.filter((f) => f >= 0)).toHaveLength(1);
    expect(Array.from(predictBaseline(model, x))).toEqual(Array.from(y));
  });

  it('stops at maxDepth and at minSamplesSplit', () => {
    const noisy = Int32Array.from([0, 1, 0, 1, 0, 1]);
    const stump = fitBaseline('randomForest', x, noisy, 2, { nEstimators: 4, maxDepth: 1 }, new Rng(2));
    if (stump.kind !== 'randomForest') throw new Error('wrong kind');
    for (const tree of stump.trees) expect(tree.feature.length).toBeLessThanOrEqual(3);
    const unsplit = { nEstimators: 1, minSamplesSplit: 7, bootstrap: false };
    const leaf = fitBaseline('randomForest', x, noisy, 2, unsplit, new Rng(2));
    if (leaf.kind !== 'randomForest') throw new Error('wrong kind');
    expect(leaf.trees[0]!.feature).toEqual([-1]);
    expect(leaf.trees[0]!.value).toEqual([3, 3]);
  });
});

describe('baseline input validation', () => {
  const x: DenseMatrix = { rows: 3, cols: 2, data: Float32Array.from([1, 0, 0, 1, 1, 1]) };
  const y = Int32Array.from([0, 1, 0]);

  it.each([
    ['multinomialNb', { ...x, data: Float32Array.from([1, -0.5, 0, 1, 1, 1]) }, y, 2, 'needs non-negative features'],
    ['linearSvm', x, Int32Array.from([0, 1]), 2, '2 labels for 3 feature rows'],
    ['logisticRegression', x, Int32Array.from([0, 1, 3]), 2, 'label y[2] = 3 is not in [0, 2)'],
    ['randomForest', x, Int32Array.from([0, 0, 0]), 2, 'class 1 has no training rows'],
    ['complementNb', x, y, 1, 'needs nClasses ≥ 2'],
    ['linearSvm', { ...x, data: Float32Array.from([1, NaN, 0, 1, 1, 1]) }, y, 2, 'value NaN at data[1] is not finite'],
    [
      'multinomialNb',
      {
        rows: 3,
        cols: 2,
        indptr: Int32Array.from([0, 1, 2, 3]),
        indices: Int32Array.from([0, 2, 1]),
        data: Float32Array.from([1, 1, 1]),
      },
      y,
      2,
      'column 2 out of range [0, 2) in row 1',
    ],
  ] as const)('%s refuses bad input', (kind, features, labels, nClasses, message) => {
    const run = (): unknown => fitBaseline(kind, features, labels, nClasses, {}, new Rng(1));
    expect(run).toThrow(UlasanError);
    expect(run).toThrow(message);
  });

  it.each([
    ['linearSvm', { C: 0 }, 'linearSvm C must be > 0; got 0'],
    ['logisticRegression', { maxIter: 0.5 }, 'logisticRegression maxIter must be a positive integer; got 0.5'],
    ['randomForest', { nEstimators: 0 }, 'randomForest nEstimators must be an integer ≥ 1; got 0'],
    // a spec read from YAML can hold any string: the type system cannot stop it
    ['randomForest', { maxFeatures: 'auto' }, "maxFeatures must be 'sqrt', 'log2', 'all' or a count; got 'auto'"],
    ['multinomialNb', { alpha: -1 }, 'multinomialNb alpha must be ≥ 0; got -1'],
  ] as const)('%s refuses params %j', (kind, params, message) => {
    expect(() => fitBaseline(kind, x, y, 2, params as BaselineParams[BaselineKind], new Rng(1))).toThrow(message);
  });

  it('refuses to predict features of another width, and unknown kinds', () => {
    const model = fitBaseline('multinomialNb', x, y, 2, {}, new Rng(1));
    expect(() => predictBaseline(model, { rows: 1, cols: 3, data: new Float32Array(3) })).toThrow(
      'multinomialNb was trained on 2 features but got 3; use the same feature artifact',
    );
    expect(() => fitBaseline('svm' as BaselineKind, x, y, 2, {}, new Rng(1))).toThrow("unknown baseline kind 'svm'");
  });
});
