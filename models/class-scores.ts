/**
 * Accuracy and macro-F1 from a confusion-count matrix, with scikit-learn's definitions, below the stages so
 * models/ can use them: the evaluate stage's full metrics (activities/evaluate/metrics.ts) and its bootstrap
 * count through here. The fit loop's validation macro-F1 (models/fit.ts) does not yet: see its comment.
 */

/** Counts `matrix[t * k + p]` over all rows, or over `rows` (a bootstrap resample) when given. */
export function confusionCounts(
  yTrue: Int32Array,
  yPred: Int32Array,
  nClasses: number,
  rows?: Int32Array,
): Float64Array {
  const counts = new Float64Array(nClasses * nClasses);
  if (rows === undefined) {
    for (let i = 0; i < yTrue.length; i++) counts[(yTrue[i] as number) * nClasses + (yPred[i] as number)]! += 1;
  } else {
    for (const i of rows) counts[(yTrue[i] as number) * nClasses + (yPred[i] as number)]! += 1;
  }
  return counts;
}

/** Per-class sums of a k×k count matrix: true (row) totals, predicted (column) totals, diagonal. */
export function marginals(counts: Float64Array, k: number): Record<'tp' | 'trueSum' | 'predSum', Float64Array> {
  const tp = new Float64Array(k);
  const trueSum = new Float64Array(k);
  const predSum = new Float64Array(k);
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const c = counts[t * k + p] as number;
      trueSum[t]! += c;
      predSum[p]! += c;
    }
    tp[t] = counts[t * k + t] as number;
  }
  return { tp, trueSum, predSum };
}

/** sklearn's F-beta for beta = 1, computed from precision and recall in the same order (0 when both are 0). */
export function f1Of(precision: number, recall: number): number {
  const denom = precision + recall;
  return (2 * precision * recall) / (denom === 0 ? 1 : denom);
}

/** Accuracy and macro-F1 from a count matrix, without building a report (the bootstrap calls this 1000×). */
export function accuracyAndMacroF1(counts: Float64Array, k: number): { accuracy: number; macroF1: number } {
  const { tp, trueSum, predSum } = marginals(counts, k);
  let correct = 0;
  let total = 0;
  let f1Sum = 0;
  for (let c = 0; c < k; c++) {
    correct += tp[c] as number;
    total += trueSum[c] as number;
    const pd = predSum[c] as number;
    const td = trueSum[c] as number;
    f1Sum += f1Of(pd === 0 ? 0 : (tp[c] as number) / pd, td === 0 ? 0 : (tp[c] as number) / td);
  }
  return { accuracy: correct / total, macroF1: f1Sum / k };
}
