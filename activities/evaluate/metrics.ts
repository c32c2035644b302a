/**
 * Classification metrics with scikit-learn's definitions (`accuracy_score`, `balanced_accuracy_score`,
 * `precision_recall_fscore_support`, `confusion_matrix`) and imbalanced-learn's `geometric_mean_score`.
 * `fixtures/sklearn-vectors.json` holds the peer's numbers for ~30 cases; the tests compare to 1e-12.
 *
 * Zero division follows sklearn's default `zero_division="warn"`: an ill-defined ratio is 0.0 and a line
 * saying which metric, which class and why goes into `warnings`. Every number is finite, so the result
 * can be written with canonical JSON. Sums run in class order, so the bytes never depend on the host.
 */
import { badInput } from '../../core/errors';
import { accuracyAndMacroF1, confusionCounts, f1Of, marginals } from '../../models/class-scores';

// The count-based core lives in models/ (the fit loop's validation scores use it too); re-exported for the stage.
export { accuracyAndMacroF1, confusionCounts };

/** Precision, recall, F1 and support of one class. */
export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Rows whose true class is this one. */
  support: number;
}

/** An average over classes, as in the `macro avg` / `weighted avg` rows of `classification_report`. */
export interface AveragedMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** All rows (the report's support column for average rows). */
  support: number;
}

export interface ClassificationMetrics {
  /** Rows scored. */
  n: number;
  classes: string[];
  accuracy: number;
  /**
   * sklearn `balanced_accuracy_score(adjusted=False)`: the mean recall over the classes present in
   * `yTrue`. A class that is predicted but absent from `yTrue` is left out (sklearn warns); a class absent
   * from both vectors is left out too, because sklearn only sees the labels the vectors contain.
   */
  balancedAccuracy: number;
  /**
   * imblearn `geometric_mean_score(labels=classes, average="multiclass")`: the geometric mean of the
   * per-class recalls over every class in `classes`. A recall of exactly 0 (a class never hit, or absent
   * from `yTrue`) is replaced by `gMeanCorrection` (imblearn's `correction`, 0 by default), so by default
   * one missed class makes the G-mean 0.
   */
  gMean: number;
  /** One entry per class, in `classes` order. */
  perClass: ClassMetrics[];
  macro: AveragedMetrics;
  /** Averages weighted by support. */
  weighted: AveragedMetrics;
  /** `confusionMatrix[t][p]` = rows of true class t predicted as p, in `classes` order. */
  confusionMatrix: number[][];
  /** Every metric that was ill-defined and set to 0.0 (or dropped), one line each. */
  warnings: string[];
}

export interface MetricsOptions {
  /**
   * Value that replaces a zero per-class recall in the G-mean (imblearn's `correction`).
   * @default 0
   */
  gMeanCorrection?: number;
}

/** Checks the two label vectors against `classes`; throws BadInput naming the first bad row. */
export function validateLabels(yTrue: Int32Array, yPred: Int32Array, classes: readonly string[]): void {
  const stage = 'evaluate';
  if (classes.length === 0) throw badInput('metrics need at least one class name; got an empty class list', { stage });
  if (new Set(classes).size !== classes.length) {
    throw badInput(`class names must be unique; got ${JSON.stringify(classes)}`, { stage, field: 'classes' });
  }
  if (yTrue.length !== yPred.length) {
    throw badInput(
      `yTrue has ${yTrue.length} rows but yPred has ${yPred.length}; score predictions for exactly the labelled rows`,
      { stage },
    );
  }
  if (yTrue.length === 0) throw badInput('no rows to score: yTrue and yPred are empty', { stage });
  for (const [field, y] of [
    ['yTrue', yTrue],
    ['yPred', yPred],
  ] as const) {
    for (let i = 0; i < y.length; i++) {
      const v = y[i] as number;
      if (v < 0 || v >= classes.length) {
        throw badInput(`${field}[${i}] = ${v} is not a class index in [0, ${classes.length}); check the class list`, {
          stage,
          field,
          row: i,
        });
      }
    }
  }
}

function sumOf(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  return sum;
}

function mean(values: ArrayLike<number>): number {
  return sumOf(values) / values.length;
}

/** imblearn's G-mean: exp(mean(log r)) as scipy's `gmean` computes it; log(0) = -Infinity gives 0. */
function geometricMean(recalls: Float64Array, correction: number): number {
  let logSum = 0;
  for (const r of recalls) logSum += Math.log(r === 0 ? correction : r);
  return Math.exp(logSum / recalls.length);
}

/**
 * All metrics for one prediction vector. `yTrue[i]`, `yPred[i]` are indices into `classes`; classes that
 * occur in neither vector still get a row and column in the confusion matrix and a (zero) entry per class.
 */
export function classificationMetrics(
  yTrue: Int32Array,
  yPred: Int32Array,
  classes: readonly string[],
  options: MetricsOptions = {},
): ClassificationMetrics {
  validateLabels(yTrue, yPred, classes);
  const k = classes.length;
  const counts = confusionCounts(yTrue, yPred, k);
  const { tp, trueSum, predSum } = marginals(counts, k);
  const warnings: string[] = [];
  const precision = new Float64Array(k);
  const recall = new Float64Array(k);
  const perClass: ClassMetrics[] = classes.map((label, c) => {
    const hits = tp[c] as number;
    const predicted = predSum[c] as number;
    const support = trueSum[c] as number;
    if (predicted === 0) warnings.push(`precision of class '${label}' is ill-defined (no predicted rows); set to 0.0`);
    if (support === 0) warnings.push(`recall of class '${label}' is ill-defined (no true rows); set to 0.0`);
    if (predicted === 0 && support === 0) {
      warnings.push(`F1 of class '${label}' is ill-defined (no true nor predicted rows); set to 0.0`);
    }
    precision[c] = predicted === 0 ? 0 : hits / predicted;
    recall[c] = support === 0 ? 0 : hits / support;
    return { label, precision: precision[c] as number, recall: recall[c] as number, f1: 0, support };
  });
  for (const m of perClass) m.f1 = f1Of(m.precision, m.recall);
  const n = yTrue.length;

  const presentRecalls = perClass.filter((m) => m.support > 0).map((m) => m.recall);
  const predictedOnly = classes.filter((_, c) => trueSum[c] === 0 && (predSum[c] as number) > 0);
  if (predictedOnly.length > 0) {
    const names = predictedOnly.map((label) => `'${label}'`).join(', ');
    warnings.push(`balanced accuracy leaves out classes predicted but absent from yTrue: ${names}`);
  }
  const correction = options.gMeanCorrection ?? 0;
  if (!(correction >= 0 && correction <= 1)) {
    throw badInput(`gMeanCorrection must be in [0, 1]; got ${correction}`, {
      stage: 'evaluate',
      field: 'gMeanCorrection',
    });
  }
  const zeroRecalls = perClass.filter((m) => m.recall === 0).map((m) => `'${m.label}'`);
  if (zeroRecalls.length > 0) {
    warnings.push(`G-mean uses ${correction} for the zero recall of ${zeroRecalls.join(', ')}`);
  }

  return {
    n,
    classes: [...classes],
    accuracy: sumOf(tp) / n,
    balancedAccuracy: mean(presentRecalls),
    gMean: geometricMean(recall, correction),
    perClass,
    macro: {
      precision: mean(precision),
      recall: mean(recall),
      f1: mean(perClass.map((m) => m.f1)),
      support: n,
    },
    weighted: {
      precision: weightedMean(precision, trueSum),
      recall: weightedMean(recall, trueSum),
      f1: weightedMean(
        perClass.map((m) => m.f1),
        trueSum,
      ),
      support: n,
    },
    confusionMatrix: classes.map((_, t) => Array.from(counts.subarray(t * k, (t + 1) * k))),
    warnings,
  };
}

/** numpy's `average(values, weights)`: sum(v·w) / sum(w), in class order. */
function weightedMean(values: ArrayLike<number>, weights: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < weights.length; i++) {
    num += (values[i] as number) * (weights[i] as number);
    den += weights[i] as number;
  }
  return num / den;
}
