/**
 * Linear SVM with scikit-learn `LinearSVC` semantics: L2-regularised squared hinge loss, one-vs-rest, the
 * intercept learned as the weight of a constant feature (`intercept_scaling`) and so regularised too.
 * Solved in the dual by coordinate descent with shrinking, as liblinear's `solve_l2r_l1l2_svc` does
 * (Hsieh et al., ICML 2008), visiting rows in a random order drawn from the seeded `Rng`.
 */
import type { Rng } from '../../data/random';
import { badInput } from '../../core/errors';
import type { FeatureMatrix } from './matrix';
import {
  balancedClassWeights,
  resolveClassWeight,
  linearScores,
  rowAxpy,
  rowDot,
  rowSquaredNorm,
  validatePredict,
  validateTraining,
  type ClassWeightMode,
  type RowScores,
} from './matrix';

export interface LinearSvmParams {
  /**
   * Inverse regularisation strength.
   * @default 1
   */
  C?: number;
  /**
   * Stop when the projected-gradient spread of a full pass falls to this (liblinear's eps).
   * @default 0.0001
   */
  tol?: number;
  /**
   * Passes over the rows per binary problem.
   * @default 1000
   */
  maxIter?: number;
  /**
   * Value of the constant feature whose weight is the intercept; 0 fits no intercept.
   * @default 1
   */
  interceptScaling?: number;
  /**
   * 'balanced' multiplies C by n / (classes · count) for the rows of each class, as liblinear does for
   * sklearn's `class_weight='balanced'`: in a one-vs-rest problem only the positive class's rows are
   * reweighted (the rest keep C); with two classes both are.
   * @default 'none'
   */
  classWeight?: ClassWeightMode;
}

/** Resolved params: `classWeight` appears only when 'balanced', so unweighted models keep their JSON. */
type ResolvedParams = Required<Omit<LinearSvmParams, 'classWeight'>> & { classWeight?: 'balanced' };

export interface LinearSvmModel {
  kind: 'linearSvm';
  nClasses: number;
  nFeatures: number;
  params: ResolvedParams;
  /** One weight row (class 1 vs 0) for two classes, else one per class; row-major, nFeatures wide. */
  weights: number[];
  bias: number[];
  /** Passes each binary problem took; equal to maxIter means it stopped unconverged (sklearn warns). */
  iterations: number[];
}

function resolve(params: LinearSvmParams): ResolvedParams {
  const resolved: ResolvedParams = {
    C: params.C ?? 1,
    tol: params.tol ?? 1e-4,
    maxIter: params.maxIter ?? 1000,
    interceptScaling: params.interceptScaling ?? 1,
    ...resolveClassWeight(params.classWeight, 'linearSvm'),
  };
  const bad = (field: string, value: number, rule: string): never => {
    throw badInput(`linearSvm ${field} must be ${rule}; got ${value}`, { stage: 'train', field });
  };
  if (!(resolved.C > 0)) bad('C', resolved.C, '> 0');
  if (!(resolved.tol > 0)) bad('tol', resolved.tol, '> 0');
  if (!Number.isInteger(resolved.maxIter) || resolved.maxIter < 1) {
    bad('maxIter', resolved.maxIter, 'a positive integer');
  }
  if (!(resolved.interceptScaling >= 0)) bad('interceptScaling', resolved.interceptScaling, '≥ 0');
  return resolved;
}

/** One binary problem: labels ±1 and the cost of each side (liblinear's Cp and Cn). */
interface BinaryProblem {
  sign: Float64Array;
  costPositive: number;
  costNegative: number;
}

/**
 * Dual coordinate descent for one binary problem (labels ±1). Minimises
 * ½‖w‖² + Σ Cᵢ max(0, 1 − yᵢ wᵀxᵢ)² over w = (weights, bias·s), s being the intercept scaling and Cᵢ
 * the cost of row i's side. `norms` holds ‖xᵢ‖². Returns the pass count.
 */
function solveBinary(
  x: FeatureMatrix,
  { sign, costPositive, costNegative }: BinaryProblem,
  p: ResolvedParams,
  rng: Rng,
  w: Float64Array,
  norms: Float64Array,
): number {
  const n = x.rows;
  const d = x.cols;
  const s = p.interceptScaling;
  // squared hinge: the dual gains 1/(2Cᵢ) on the diagonal and loses the upper bound
  const diag = Float64Array.from(sign, (yi) => 0.5 / (yi > 0 ? costPositive : costNegative));
  // diagonal of the dual Hessian: ‖xᵢ‖² + s² (the constant feature) + 1/(2Cᵢ)
  const qd = Float64Array.from(norms, (norm, i) => norm + (s ** 2 + (diag[i] as number)));
  const alpha = new Float64Array(n);
  const index = Int32Array.from({ length: n }, (_, i) => i);
  let active = n;
  let pgMaxOld = Infinity;
  let iter = 0;
  while (iter < p.maxIter) {
    let pgMaxNew = -Infinity;
    let pgMinNew = Infinity;
    for (let t = 0; t < active; t++) {
      const u = t + rng.int(active - t);
      const swap = index[t] as number;
      index[t] = index[u] as number;
      index[u] = swap;
    }
    for (let t = 0; t < active; t++) {
      const i = index[t] as number;
      const yi = sign[i] as number;
      const g = yi * (rowDot(x, i, w, 0) + (w[d] as number) * s) - 1 + (alpha[i] as number) * (diag[i] as number);
      let pg = 0;
      if (alpha[i] === 0) {
        if (g > pgMaxOld) {
          // shrink: this row sits at the bound and its gradient says it will stay there
          active--;
          index[t] = index[active] as number;
          index[active] = i;
          t--;
          continue;
        }
        if (g < 0) pg = g;
      } else {
        pg = g;
      }
      if (pg > pgMaxNew) pgMaxNew = pg;
      if (pg < pgMinNew) pgMinNew = pg;
      if (Math.abs(pg) > 1e-12) {
        const old = alpha[i] as number;
        alpha[i] = Math.max(old - g / (qd[i] as number), 0);
        const step = ((alpha[i] as number) - old) * yi;
        rowAxpy(x, i, step, w, 0);
        w[d]! += step * s;
      }
    }
    iter++;
    if (pgMaxNew - pgMinNew <= p.tol) {
      if (active === n) break;
      // converged on the shrunk set: check once more on every row
      active = n;
      pgMaxOld = Infinity;
      continue;
    }
    pgMaxOld = pgMaxNew > 0 ? pgMaxNew : Infinity;
  }
  return iter;
}

/** sklearn `LinearSVC(penalty='l2', loss='squared_hinge', dual=True, multi_class='ovr')`. */
export function fitLinearSvm(
  x: FeatureMatrix,
  y: Int32Array,
  nClasses: number,
  params: LinearSvmParams,
  rng: Rng,
): LinearSvmModel {
  validateTraining(x, y, nClasses, 'linearSvm');
  const p = resolve(params);
  const d = x.cols;
  const norms = Float64Array.from({ length: x.rows }, (_, i) => rowSquaredNorm(x, i));
  const cost = p.classWeight === 'balanced' ? balancedClassWeights(y, nClasses).map((weight) => p.C * weight) : new Float64Array(nClasses).fill(p.C);
  const problems = nClasses === 2 ? [1] : Array.from({ length: nClasses }, (_, c) => c);
  const weights: number[] = [];
  const bias: number[] = [];
  const iterations: number[] = [];
  for (const positive of problems) {
    const sign = Float64Array.from(y, (c) => (c === positive ? 1 : -1));
    // liblinear: two classes weigh both sides; one-vs-rest weighs the positive class only, the rest keep C
    const costNegative = nClasses === 2 ? (cost[0] as number) : p.C;
    const problem = { sign, costPositive: cost[positive] as number, costNegative };
    const w = new Float64Array(d + 1);
    iterations.push(solveBinary(x, problem, p, rng.fork(`ovr-${positive}`), w, norms));
    for (let j = 0; j < d; j++) weights.push(w[j] as number);
    bias.push((w[d] as number) * p.interceptScaling);
  }
  return { kind: 'linearSvm', nClasses, nFeatures: d, params: p, weights, bias, iterations };
}

/** Decision scores (sklearn's `decision_function`; a linear SVM has no probabilities) and their classes. */
export function scoreLinearSvm(model: LinearSvmModel, x: FeatureMatrix): RowScores {
  validatePredict(x, model.nFeatures, model.kind);
  return linearScores(x, Float64Array.from(model.weights), Float64Array.from(model.bias));
}

export function predictLinearSvm(model: LinearSvmModel, x: FeatureMatrix): Int32Array {
  return scoreLinearSvm(model, x).labels;
}
