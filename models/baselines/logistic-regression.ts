/**
 * L2-regularised logistic regression as scikit-learn 1.2's `LogisticRegression(solver='lbfgs')` fits it:
 * minimise Σᵢ lossᵢ + ‖W‖² / (2C) with the intercepts unpenalised, by L-BFGS. Two classes: one binary
 * logistic model (sklearn's 'auto' picks OvR there); more: multinomial softmax over all classes.
 */
import type { Rng } from '../../data/random';
import { badInput } from '../../core/errors';
import type { LbfgsResult } from './lbfgs';
import { minimizeLbfgs } from './lbfgs';
import type { FeatureMatrix } from './matrix';
import {
  balancedClassWeights,
  resolveClassWeight,
  linearScores,
  rowAxpy,
  rowDot,
  softmaxRows,
  validatePredict,
  validateTraining,
  type ClassWeightMode,
  type RowScores,
} from './matrix';

export interface LogisticRegressionParams {
  /**
   * Inverse regularisation strength.
   * @default 1
   */
  C?: number;
  /**
   * L-BFGS iterations.
   * @default 100
   */
  maxIter?: number;
  /**
   * Gradient tolerance (max absolute component of the gradient of the summed loss).
   * @default 0.0001
   */
  tol?: number;
  /**
   * 'balanced' weighs each row's loss by n / (classes · count of its class), as sklearn's
   * `class_weight='balanced'` does.
   * @default 'none'
   */
  classWeight?: ClassWeightMode;
}

/** Resolved params: `classWeight` appears only when 'balanced', so unweighted models keep their JSON. */
type ResolvedParams = Required<Omit<LogisticRegressionParams, 'classWeight'>> & { classWeight?: 'balanced' };

export interface LogisticRegressionModel {
  kind: 'logisticRegression';
  nClasses: number;
  nFeatures: number;
  params: ResolvedParams;
  /** One weight row for two classes (class 1's log-odds), else one per class; row-major. */
  weights: number[];
  bias: number[];
  iterations: number;
  /** Why L-BFGS stopped: 'maxIter' is sklearn's ConvergenceWarning. */
  stopReason: LbfgsResult['reason'];
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/**
 * Summed loss and gradient for `rowsOfW` weight rows laid out as [W (rowsOfW × d) | b (rowsOfW)]:
 * binary logistic when rowsOfW = 1, softmax cross-entropy otherwise; row i's loss times its class's
 * weight (all 1 unweighted: multiplying by 1 is exact, so unweighted fits are unchanged).
 */
function lossAndGradient(x: FeatureMatrix, y: Int32Array, rowsOfW: number, C: number, classWeights: Float64Array) {
  const d = x.cols;
  const z = new Float64Array(rowsOfW);
  return (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < x.rows; i++) {
      for (let c = 0; c < rowsOfW; c++) z[c] = rowDot(x, i, theta, c * d) + (theta[rowsOfW * d + c] as number);
      const yi = y[i] as number;
      const weight = classWeights[yi] as number;
      if (rowsOfW === 1) {
        const zi = z[0] as number;
        loss += weight * (softplus(zi) - yi * zi);
        const r = weight * (1 / (1 + Math.exp(-zi)) - yi);
        rowAxpy(x, i, r, grad, 0);
        grad[d]! += r;
        continue;
      }
      let max = -Infinity;
      for (const v of z) max = Math.max(max, v);
      let sum = 0;
      for (let c = 0; c < rowsOfW; c++) sum += Math.exp((z[c] as number) - max);
      const logSum = max + Math.log(sum);
      loss += weight * (logSum - (z[yi] as number));
      for (let c = 0; c < rowsOfW; c++) {
        const r = weight * (Math.exp((z[c] as number) - logSum) - (c === yi ? 1 : 0));
        rowAxpy(x, i, r, grad, c * d);
        grad[rowsOfW * d + c]! += r;
      }
    }
    let penalty = 0;
    for (let j = 0; j < rowsOfW * d; j++) {
      const w = theta[j] as number;
      penalty += w * w;
      grad[j]! += w / C;
    }
    return loss + penalty / (2 * C);
  };
}

function resolve(params: LogisticRegressionParams): ResolvedParams {
  const p: ResolvedParams = {
    C: params.C ?? 1,
    maxIter: params.maxIter ?? 100,
    tol: params.tol ?? 1e-4,
    ...resolveClassWeight(params.classWeight, 'logisticRegression'),
  };
  const bad = (field: string, value: number, rule: string): never => {
    throw badInput(`logisticRegression ${field} must be ${rule}; got ${value}`, { stage: 'train', field });
  };
  if (!(p.C > 0)) bad('C', p.C, '> 0');
  if (!Number.isInteger(p.maxIter) || p.maxIter < 1) bad('maxIter', p.maxIter, 'a positive integer');
  if (!(p.tol > 0)) bad('tol', p.tol, '> 0');
  return p;
}

/** Deterministic (starts from zero weights); `_rng` is accepted for the common baseline signature. */
export function fitLogisticRegression(
  x: FeatureMatrix,
  y: Int32Array,
  nClasses: number,
  params: LogisticRegressionParams = {},
  _rng?: Rng,
): LogisticRegressionModel {
  validateTraining(x, y, nClasses, 'logisticRegression');
  const p = resolve(params);
  const d = x.cols;
  const rowsOfW = nClasses === 2 ? 1 : nClasses;
  const weights = p.classWeight === 'balanced' ? balancedClassWeights(y, nClasses) : new Float64Array(nClasses).fill(1);
  const result = minimizeLbfgs(lossAndGradient(x, y, rowsOfW, p.C, weights), new Float64Array(rowsOfW * (d + 1)), {
    maxIter: p.maxIter,
    gtol: p.tol,
  });
  return {
    kind: 'logisticRegression',
    nClasses,
    nFeatures: d,
    params: p,
    weights: Array.from(result.x.subarray(0, rowsOfW * d)),
    bias: Array.from(result.x.subarray(rowsOfW * d)),
    iterations: result.iterations,
    stopReason: result.reason,
  };
}

/**
 * Class probabilities as sklearn's `predict_proba`: [1 − σ(s), σ(s)] for a binary model (one weight row),
 * the softmax of the scores otherwise; classes from the scores, as `predict`.
 */
export function scoreLogisticRegression(model: LogisticRegressionModel, x: FeatureMatrix): RowScores {
  validatePredict(x, model.nFeatures, model.kind);
  const linear = linearScores(x, Float64Array.from(model.weights), Float64Array.from(model.bias));
  const { scores } = linear;
  if (model.bias.length > 1) return { ...linear, scores: softmaxRows(scores, linear.k), kind: 'probability' };
  for (let i = 0; i < scores.length; i += 2) {
    const p = 1 / (1 + Math.exp(-(scores[i + 1] as number)));
    scores[i] = 1 - p;
    scores[i + 1] = p;
  }
  return { ...linear, kind: 'probability' };
}

export function predictLogisticRegression(model: LogisticRegressionModel, x: FeatureMatrix): Int32Array {
  return scoreLogisticRegression(model, x).labels;
}
