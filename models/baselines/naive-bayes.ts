/**
 * Multinomial and complement naive Bayes over non-negative features (TF-IDF or counts), with
 * scikit-learn's estimates (`MultinomialNB`, `ComplementNB(norm=False)`, `fit_prior=True`). Feature counts
 * are summed in row order, as scipy's sparse product does, so predictions match sklearn's exactly.
 */
import type { Rng } from '../../data/random';
import { badInput } from '../../core/errors';
import type { FeatureMatrix } from './matrix';
import { forEachInRow, linearScores, softmaxRows, validatePredict, type RowScores, validateTraining } from './matrix';

export interface NaiveBayesParams {
  /**
   * Additive (Laplace/Lidstone) smoothing.
   * @default 1
   */
  alpha?: number;
}

/** A fitted NB model: scores are `featureLogProb · x + classLogPrior`. */
export interface NaiveBayesModel {
  kind: 'multinomialNb' | 'complementNb';
  nClasses: number;
  nFeatures: number;
  alpha: number;
  /** nClasses × nFeatures, row-major. */
  featureLogProb: number[];
  /** Added to the scores (all zeros for complement NB with ≥ 2 classes, as sklearn ignores its prior there). */
  classLogPrior: number[];
}

/** Smallest alpha sklearn allows without `force_alpha` (it clips smaller values to this). */
const MIN_ALPHA = 1e-10;

/** What both fits start from: checked training data, the resolved alpha, and the counts below. */
function fitCounts(x: FeatureMatrix, y: Int32Array, k: number, params: NaiveBayesParams, model: string) {
  validateTraining(x, y, k, model);
  const alpha = resolveAlpha(params, model);
  return { alpha, d: x.cols, ...countFeatures(x, y, k, model) };
}

/** Per-class feature sums and class counts; refuses negative features, which no multinomial model can take. */
function countFeatures(x: FeatureMatrix, y: Int32Array, k: number, model: string): Record<'fc' | 'cc', Float64Array> {
  const d = x.cols;
  const fc = new Float64Array(k * d);
  const cc = new Float64Array(k);
  for (let i = 0; i < x.rows; i++) {
    const offset = (y[i] as number) * d;
    cc[y[i] as number]! += 1;
    forEachInRow(x, i, (j, v) => {
      if (v < 0) {
        throw badInput(`${model} needs non-negative features (counts or TF-IDF); x[${i}, ${j}] = ${v}`, {
          stage: 'train',
          row: i,
        });
      }
      fc[offset + j]! += v;
    });
  }
  return { fc, cc };
}

function resolveAlpha(params: NaiveBayesParams, model: string): number {
  const alpha = params.alpha ?? 1;
  if (!(alpha >= 0)) throw badInput(`${model} alpha must be ≥ 0; got ${alpha}`, { stage: 'train', field: 'alpha' });
  return Math.max(alpha, MIN_ALPHA);
}

/**
 * sklearn `MultinomialNB.fit`: log((N_cj + α) / (N_c + α·d)) and the empirical class log prior.
 * Deterministic; `_rng` is accepted for the common baseline signature.
 */
export function fitMultinomialNb(
  x: FeatureMatrix,
  y: Int32Array,
  nClasses: number,
  params: NaiveBayesParams = {},
  _rng?: Rng,
): NaiveBayesModel {
  const model = 'multinomialNb';
  const { alpha, d, fc, cc } = fitCounts(x, y, nClasses, params, model);
  const featureLogProb = new Array<number>(nClasses * d);
  for (let c = 0; c < nClasses; c++) {
    let total = 0;
    for (let j = 0; j < d; j++) total += (fc[c * d + j] as number) + alpha;
    const logTotal = Math.log(total);
    for (let j = 0; j < d; j++) featureLogProb[c * d + j] = Math.log((fc[c * d + j] as number) + alpha) - logTotal;
  }
  const logN = Math.log(y.length);
  const classLogPrior = Array.from(cc, (count) => Math.log(count) - logN);
  return { kind: model, nClasses, nFeatures: d, alpha, featureLogProb, classLogPrior };
}

/**
 * sklearn `ComplementNB.fit` (norm=False): weights are −log of the smoothed complement-class frequencies,
 * θ̃_cj = (Σ_{c'≠c} N_c'j + α) / Σ_j (Σ_{c'≠c} N_c'j + α). The class prior is not used with ≥ 2 classes.
 */
export function fitComplementNb(
  x: FeatureMatrix,
  y: Int32Array,
  nClasses: number,
  params: NaiveBayesParams = {},
  _rng?: Rng,
): NaiveBayesModel {
  const model = 'complementNb';
  const { alpha, d, fc } = fitCounts(x, y, nClasses, params, model);
  const featureAll = new Float64Array(d);
  for (let c = 0; c < nClasses; c++) for (let j = 0; j < d; j++) featureAll[j]! += fc[c * d + j] as number;
  const featureLogProb = new Array<number>(nClasses * d);
  const comp = new Float64Array(d);
  for (let c = 0; c < nClasses; c++) {
    let total = 0;
    for (let j = 0; j < d; j++) {
      comp[j] = (featureAll[j] as number) + alpha - (fc[c * d + j] as number);
      total += comp[j] as number;
    }
    for (let j = 0; j < d; j++) featureLogProb[c * d + j] = -Math.log((comp[j] as number) / total);
  }
  const classLogPrior = new Array<number>(nClasses).fill(0);
  return { kind: model, nClasses, nFeatures: d, alpha, featureLogProb, classLogPrior };
}

/** Joint log-likelihoods' argmax, and their softmax as class probabilities (sklearn's `predict_proba`). */
export function scoreNaiveBayes(model: NaiveBayesModel, x: FeatureMatrix): RowScores {
  validatePredict(x, model.nFeatures, model.kind);
  const jll = linearScores(x, Float64Array.from(model.featureLogProb), Float64Array.from(model.classLogPrior));
  return { ...jll, scores: softmaxRows(jll.scores, jll.k), kind: 'probability' };
}

export function predictNaiveBayes(model: NaiveBayesModel, x: FeatureMatrix): Int32Array {
  return scoreNaiveBayes(model, x).labels;
}
