/**
 * Classic baselines over TF-IDF (CSR) or document vectors (dense): one `fit` / `predict` pair per model,
 * pure functions over typed arrays, models as plain JSON-serialisable objects tagged with `kind`.
 */
import type { Rng } from '../../data/random';
import { badInput } from '../../core/errors';
import type { FeatureMatrix, RowScores } from './matrix';
import type { LinearSvmModel, LinearSvmParams } from './linear-svm';
import { fitLinearSvm, scoreLinearSvm } from './linear-svm';
import type { LogisticRegressionModel, LogisticRegressionParams } from './logistic-regression';
import { fitLogisticRegression, scoreLogisticRegression } from './logistic-regression';
import type { NaiveBayesModel, NaiveBayesParams } from './naive-bayes';
import { fitComplementNb, fitMultinomialNb, scoreNaiveBayes } from './naive-bayes';
import type { RandomForestModel, RandomForestParams } from './random-forest';
import { fitRandomForest, scoreRandomForest } from './random-forest';

export type { CsrMatrix, DenseMatrix, FeatureMatrix, RowScores } from './matrix';
export type { LinearSvmModel, LinearSvmParams } from './linear-svm';
export type { LogisticRegressionModel, LogisticRegressionParams } from './logistic-regression';
export type { NaiveBayesModel, NaiveBayesParams } from './naive-bayes';
export type { RandomForestModel, RandomForestParams, TreeState } from './random-forest';

/** Hyperparameters of each baseline, by kind. */
export interface BaselineParams {
  multinomialNb: NaiveBayesParams;
  complementNb: NaiveBayesParams;
  linearSvm: LinearSvmParams;
  logisticRegression: LogisticRegressionParams;
  randomForest: RandomForestParams;
}

export type BaselineKind = keyof BaselineParams;

export type BaselineModel = NaiveBayesModel | LinearSvmModel | LogisticRegressionModel | RandomForestModel;

export const BASELINE_KINDS: readonly BaselineKind[] = [
  'multinomialNb',
  'complementNb',
  'linearSvm',
  'logisticRegression',
  'randomForest',
];

/**
 * Fits one baseline. `y[i]` in [0, nClasses) labels row i of `x`; `rng` seeds the random ones (linear SVM
 * visiting order, random forest bootstrap and feature draws); NB and logistic regression ignore it.
 */
export function fitBaseline<K extends BaselineKind>(
  kind: K,
  x: FeatureMatrix,
  y: Int32Array,
  nClasses: number,
  params: BaselineParams[K],
  rng: Rng,
): BaselineModel {
  switch (kind) {
    case 'multinomialNb':
      return fitMultinomialNb(x, y, nClasses, params as NaiveBayesParams);
    case 'complementNb':
      return fitComplementNb(x, y, nClasses, params as NaiveBayesParams);
    case 'linearSvm':
      return fitLinearSvm(x, y, nClasses, params as LinearSvmParams, rng);
    case 'logisticRegression':
      return fitLogisticRegression(x, y, nClasses, params as LogisticRegressionParams);
    case 'randomForest':
      return fitRandomForest(x, y, nClasses, params as RandomForestParams, rng);
  }
  throw badInput(`unknown baseline kind '${String(kind)}'; expected one of ${BASELINE_KINDS.join(', ')}`, {
    stage: 'train',
    field: 'kind',
  });
}

/**
 * Class scores and class indices for every row of `x` with a model from `fitBaseline` (or read back from
 * JSON): probabilities where the model has them (NB, logistic regression, random forest), decision scores
 * for the linear SVM.
 */
export function scoreBaseline(model: BaselineModel, x: FeatureMatrix): RowScores {
  switch (model.kind) {
    case 'multinomialNb':
    case 'complementNb':
      return scoreNaiveBayes(model, x);
    case 'linearSvm':
      return scoreLinearSvm(model, x);
    case 'logisticRegression':
      return scoreLogisticRegression(model, x);
    case 'randomForest':
      return scoreRandomForest(model, x);
  }
}

/** Predicts class indices for every row of `x` with a model from `fitBaseline` (or read back from JSON). */
export function predictBaseline(model: BaselineModel, x: FeatureMatrix): Int32Array {
  return scoreBaseline(model, x).labels;
}
