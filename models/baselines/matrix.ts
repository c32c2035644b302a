/**
 * The two feature layouts the classic baselines take: TF-IDF as CSR, document vectors as dense row-major
 * Float32. Helpers here are the only place that branches on the layout, so each model is written once.
 */
import { isCsr, type CsrMatrix, type DenseMatrix, type FeatureMatrix } from '../../data/matrix';
import { badInput } from '../../core/errors';

export { isCsr, type CsrMatrix, type DenseMatrix, type FeatureMatrix };

/** Calls `visit(column, value)` for every stored entry of row i (every column for dense rows). */
export function forEachInRow(x: FeatureMatrix, i: number, visit: (column: number, value: number) => void): void {
  if (isCsr(x)) {
    for (let p = x.indptr[i] as number, end = x.indptr[i + 1] as number; p < end; p++) {
      visit(x.indices[p] as number, x.data[p] as number);
    }
  } else {
    for (let j = 0, p = i * x.cols; j < x.cols; j++, p++) visit(j, x.data[p] as number);
  }
}

/** Σ_j x[i, j] · w[offset + j]: row i against one weight row stored flat. */
export function rowDot(x: FeatureMatrix, i: number, w: Float64Array, offset: number): number {
  let sum = 0;
  if (isCsr(x)) {
    for (let p = x.indptr[i] as number, end = x.indptr[i + 1] as number; p < end; p++) {
      sum += (x.data[p] as number) * (w[offset + (x.indices[p] as number)] as number);
    }
  } else {
    for (let j = 0, p = i * x.cols; j < x.cols; j++, p++) sum += (x.data[p] as number) * (w[offset + j] as number);
  }
  return sum;
}

/** w[offset + j] += a · x[i, j] for every stored entry of row i. */
export function rowAxpy(x: FeatureMatrix, i: number, a: number, w: Float64Array, offset: number): void {
  if (isCsr(x)) {
    for (let p = x.indptr[i] as number, end = x.indptr[i + 1] as number; p < end; p++) {
      w[offset + (x.indices[p] as number)]! += a * (x.data[p] as number);
    }
  } else {
    for (let j = 0, p = i * x.cols; j < x.cols; j++, p++) w[offset + j]! += a * (x.data[p] as number);
  }
}

/** Σ_j x[i, j]². */
export function rowSquaredNorm(x: FeatureMatrix, i: number): number {
  let sum = 0;
  forEachInRow(x, i, (_, v) => {
    sum += v * v;
  });
  return sum;
}

/** Checks shapes, index ranges and finiteness once, so the models can index without checks. */
export function validateMatrix(x: FeatureMatrix, what: string): void {
  const stage = 'train';
  if (!Number.isInteger(x.rows) || !Number.isInteger(x.cols) || x.rows < 0 || x.cols < 1) {
    const shape = `${x.rows}×${x.cols}`;
    throw badInput(`${what}: rows/cols must be integers with rows ≥ 0, cols ≥ 1; got ${shape}`, { stage });
  }
  if (isCsr(x)) {
    const nnz = x.indptr[x.rows];
    if (x.indptr.length !== x.rows + 1 || x.indptr[0] !== 0 || nnz !== x.indices.length || nnz !== x.data.length) {
      throw badInput(
        `${what}: CSR arrays disagree (indptr has ${x.indptr.length} entries for ${x.rows} rows, ends at ${nnz}; ` +
          `${x.indices.length} indices, ${x.data.length} values)`,
        { stage },
      );
    }
    for (let i = 0; i < x.rows; i++) {
      if ((x.indptr[i + 1] as number) < (x.indptr[i] as number)) {
        throw badInput(`${what}: indptr decreases at row ${i}`, { stage, row: i });
      }
      for (let p = x.indptr[i] as number; p < (x.indptr[i + 1] as number); p++) {
        const j = x.indices[p] as number;
        if (j < 0 || j >= x.cols) {
          throw badInput(`${what}: column ${j} out of range [0, ${x.cols}) in row ${i}`, { stage, row: i });
        }
      }
    }
  } else if (x.data.length !== x.rows * x.cols) {
    throw badInput(`${what}: dense data has ${x.data.length} values, expected ${x.rows}×${x.cols}`, { stage });
  }
  for (let p = 0; p < x.data.length; p++) {
    if (!Number.isFinite(x.data[p])) {
      throw badInput(`${what}: value ${x.data[p]} at data[${p}] is not finite`, { stage });
    }
  }
}

/** Validates a training set: matrix, one label per row, labels in [0, nClasses), every class present. */
export function validateTraining(x: FeatureMatrix, y: Int32Array, nClasses: number, model: string): void {
  const stage = 'train';
  validateMatrix(x, `${model} training features`);
  if (!Number.isInteger(nClasses) || nClasses < 2) {
    throw badInput(`${model} needs nClasses ≥ 2; got ${nClasses}`, { stage, field: 'nClasses' });
  }
  if (y.length !== x.rows) {
    throw badInput(`${model}: ${y.length} labels for ${x.rows} feature rows`, { stage });
  }
  const seen = new Int32Array(nClasses);
  for (let i = 0; i < y.length; i++) {
    const c = y[i] as number;
    if (c < 0 || c >= nClasses) {
      throw badInput(`${model}: label y[${i}] = ${c} is not in [0, ${nClasses})`, { stage, row: i });
    }
    seen[c]!++;
  }
  const missing = [...seen.keys()].filter((c) => seen[c] === 0);
  if (missing.length > 0) {
    throw badInput(`${model}: class ${missing.join(', ')} has no training rows; every class needs at least one`, {
      stage,
    });
  }
}

/** How a baseline weighs classes: alike, or sklearn's `class_weight='balanced'`. */
export type ClassWeightMode = 'none' | 'balanced';

/** `{classWeight: 'balanced'}` or nothing (unweighted params keep their JSON); anything else is refused. */
export function resolveClassWeight(value: unknown, model: string): { classWeight?: 'balanced' } {
  if (value === 'balanced') return { classWeight: 'balanced' };
  if (value === undefined || value === 'none') return {};
  throw badInput(`${model} classWeight must be 'none' or 'balanced'; got ${String(value)}`, { stage: 'train', field: 'classWeight' });
}

/**
 * scikit-learn's `compute_class_weight('balanced')`: n / (classes · count of the class), in float64; a class
 * with no rows gets 0.
 */
export function balancedClassWeights(y: Int32Array, nClasses: number): Float64Array {
  const counts = new Float64Array(nClasses);
  for (const label of y) counts[label]! += 1;
  return counts.map((count) => (count === 0 ? 0 : y.length / (nClasses * count)));
}

/** Checks that a matrix to predict has the width the model was trained on. */
export function validatePredict(x: FeatureMatrix, nFeatures: number, model: string): void {
  validateMatrix(x, `${model} features to predict`);
  if (x.cols !== nFeatures) {
    throw badInput(`${model} was trained on ${nFeatures} features but got ${x.cols}; use the same feature artifact`, {
      stage: 'train',
    });
  }
}

/** Index of the largest score among `scores[offset .. offset + k)`; ties go to the lowest index, as numpy's argmax. */
export function argmax(scores: ArrayLike<number>, offset: number, k: number): number {
  let best = 0;
  for (let c = 1; c < k; c++) if ((scores[offset + c] as number) > (scores[offset + best] as number)) best = c;
  return best;
}

/** Class scores of every row, `rows × k` row-major, and the class each row is given. */
export interface RowScores {
  labels: Int32Array;
  scores: Float64Array;
  /** Columns of `scores` (the number of classes). */
  k: number;
  /** `probability`: each row sums to 1 (sklearn's `predict_proba`); `decision`: margins (`decision_function`). */
  kind: 'probability' | 'decision';
}

/**
 * Linear scores `W x + b` (W flat, k rows of `cols`) and their classes: argmax for k > 1, and for one weight
 * row (a binary model) class 1 when the score is positive, as sklearn's `decision_function > 0`. A binary
 * model's scores come back as two columns `[-s, s]`, so every model has one column per class.
 */
export function linearScores(x: FeatureMatrix, weights: Float64Array, bias: Float64Array): RowScores {
  const k = bias.length;
  const labels = new Int32Array(x.rows);
  const scores = new Float64Array(x.rows * Math.max(2, k));
  for (let i = 0; i < x.rows; i++) {
    if (k === 1) {
      const s = rowDot(x, i, weights, 0) + (bias[0] as number);
      scores[2 * i] = -s;
      scores[2 * i + 1] = s;
      labels[i] = s > 0 ? 1 : 0;
      continue;
    }
    for (let c = 0; c < k; c++) scores[i * k + c] = rowDot(x, i, weights, c * x.cols) + (bias[c] as number);
    labels[i] = argmax(scores, i * k, k);
  }
  return { labels, scores, k: Math.max(2, k), kind: 'decision' };
}

/** Softmax of each row of `scores` in place (max subtracted first): log-likelihoods or logits to probabilities. */
export function softmaxRows(scores: Float64Array, k: number): Float64Array {
  for (let offset = 0; offset < scores.length; offset += k) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, scores[offset + c] as number);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += scores[offset + c] = Math.exp((scores[offset + c] as number) - max);
    for (let c = 0; c < k; c++) scores[offset + c]! /= sum;
  }
  return scores;
}
