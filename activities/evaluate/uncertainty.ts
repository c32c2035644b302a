/**
 * How much a test-set score could move: seeded bootstrap percentile intervals for accuracy and macro-F1,
 * and McNemar's test between two models scored on the same rows. Reference values for the p-values and
 * percentiles come from scipy/numpy (`fixtures/uncertainty-vectors.json`).
 */
import type { Rng } from '../../data/random';
import { badInput } from '../../core/errors';
import { accuracyAndMacroF1, confusionCounts } from './metrics';

export interface BootstrapOptions {
  /**
   * Resamples of the test rows (each draws n rows with replacement).
   * @default 1000
   */
  resamples?: number;
  /**
   * Two-sided coverage of the interval.
   * @default 0.95
   */
  confidence?: number;
}

/** A point estimate on all rows and the percentile interval around it. */
export interface ConfidenceInterval {
  estimate: number;
  low: number;
  high: number;
}

export interface BootstrapResult {
  resamples: number;
  confidence: number;
  /** Always `percentile`: the interval is the (1±confidence)/2 quantiles of the resampled scores. */
  method: 'percentile';
  accuracy: ConfidenceInterval;
  /** Macro-F1 over every class; a class absent from a resample scores F1 = 0 there, as in sklearn. */
  macroF1: ConfidenceInterval;
}

/**
 * numpy's default `percentile` (method "linear") of values sorted ascending; q in [0, 100]. Interpolates
 * the way numpy's `_lerp` does (from the upper neighbour when the fraction is ≥ 0.5), so the bits agree.
 */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw badInput('percentile of an empty list', { stage: 'evaluate' });
  const index = (n - 1) * (q / 100);
  const below = Math.floor(index);
  const t = index - below;
  const a = sorted[below] as number;
  const b = sorted[Math.min(below + 1, n - 1)] as number;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * Bootstrap percentile intervals for accuracy and macro-F1. Draws every resample from `rng` in order, so a
 * given seed always gives the same interval; pass `rng.fork('bootstrap')` to keep other streams unaffected.
 */
export function bootstrapCi(
  yTrue: Int32Array,
  yPred: Int32Array,
  nClasses: number,
  rng: Rng,
  options: BootstrapOptions = {},
): BootstrapResult {
  const resamples = options.resamples ?? 1000;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw badInput(`bootstrap resamples must be a positive integer; got ${resamples}`, {
      stage: 'evaluate',
      field: 'resamples',
    });
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw badInput(`bootstrap confidence must be in (0, 1); got ${confidence}`, {
      stage: 'evaluate',
      field: 'confidence',
    });
  }
  if (yTrue.length === 0 || yTrue.length !== yPred.length) {
    throw badInput(`bootstrap needs equal, non-empty label vectors; got ${yTrue.length} and ${yPred.length} rows`, {
      stage: 'evaluate',
    });
  }
  const n = yTrue.length;
  const accuracy = new Float64Array(resamples);
  const macroF1 = new Float64Array(resamples);
  const rows = new Int32Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) rows[i] = rng.int(n);
    const scores = accuracyAndMacroF1(confusionCounts(yTrue, yPred, nClasses, rows), nClasses);
    accuracy[r] = scores.accuracy;
    macroF1[r] = scores.macroF1;
  }
  const full = accuracyAndMacroF1(confusionCounts(yTrue, yPred, nClasses), nClasses);
  const interval = (values: Float64Array, estimate: number): ConfidenceInterval => {
    values.sort();
    return {
      estimate,
      low: percentile(values, ((1 - confidence) / 2) * 100),
      high: percentile(values, ((1 + confidence) / 2) * 100),
    };
  };
  return {
    resamples,
    confidence,
    method: 'percentile',
    accuracy: interval(accuracy, full.accuracy),
    macroF1: interval(macroF1, full.macroF1),
  };
}

export interface McNemarOptions {
  /**
   * Use the exact binomial test when the discordant count b + c is below this, else the chi-square
   * test with continuity correction.
   * @default 25
   */
  exactBelow?: number;
}

export interface McNemarResult {
  /** Rows model A got right and model B got wrong. */
  b: number;
  /** Rows model A got wrong and model B got right. */
  c: number;
  /**
   * `exact-binomial`: two-sided, p = min(1, 2·P(X ≤ min(b, c))) for X ~ Binomial(b + c, 1/2); statistic =
   * min(b, c). `chi-square-corrected`: statistic = (|b − c| − 1)² / (b + c), p from χ² with 1 degree of
   * freedom. Both as statsmodels' `mcnemar(table, exact=..., correction=True)` defines them.
   */
  method: 'exact-binomial' | 'chi-square-corrected';
  statistic: number;
  pValue: number;
}

/** McNemar's test from the two discordant counts. */
export function mcnemarFromCounts(b: number, c: number, options: McNemarOptions = {}): McNemarResult {
  for (const [field, v] of [
    ['b', b],
    ['c', c],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) {
      throw badInput(`McNemar count ${field} must be a non-negative integer; got ${v}`, { stage: 'evaluate', field });
    }
  }
  const n = b + c;
  if (n < (options.exactBelow ?? 25)) {
    const k = Math.min(b, c);
    return { b, c, method: 'exact-binomial', statistic: k, pValue: Math.min(1, 2 * binomialHalfCdf(k, n)) };
  }
  const statistic = (Math.abs(b - c) - 1) ** 2 / n;
  return { b, c, method: 'chi-square-corrected', statistic, pValue: chiSquare1Sf(statistic) };
}

/** McNemar's test between two prediction vectors for the same rows. */
export function mcnemar(
  yTrue: Int32Array,
  predA: Int32Array,
  predB: Int32Array,
  options: McNemarOptions = {},
): McNemarResult {
  if (predA.length !== yTrue.length || predB.length !== yTrue.length) {
    throw badInput(
      `McNemar needs both models scored on the same rows; ` +
        `got ${yTrue.length} labels, ${predA.length} and ${predB.length} predictions`,
      { stage: 'evaluate' },
    );
  }
  let b = 0;
  let c = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const aRight = predA[i] === yTrue[i];
    const bRight = predB[i] === yTrue[i];
    if (aRight && !bRight) b++;
    else if (!aRight && bRight) c++;
  }
  return mcnemarFromCounts(b, c, options);
}

/**
 * P(X ≤ k) for X ~ Binomial(n, 1/2). Below n = 54 every coefficient is an integer under 2^53, so the sum is
 * exact; up to n = 1000 it stays within a few ulps (2^1000 is still a finite double).
 */
function binomialHalfCdf(k: number, n: number): number {
  if (n > 1000) {
    throw badInput(`exact McNemar sums 2^n terms directly and stops at b + c = 1000; got ${n}: lower exactBelow`, {
      stage: 'evaluate',
      field: 'exactBelow',
    });
  }
  let coefficient = 1;
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += coefficient;
    coefficient = (coefficient * (n - i)) / (i + 1);
  }
  return sum / 2 ** n;
}

/** Survival function of χ² with 1 degree of freedom: Q(1/2, x/2), the regularized upper incomplete gamma. */
export function chiSquare1Sf(x: number): number {
  if (x <= 0) return 1;
  return upperGammaHalf(x / 2);
}

const LOG_GAMMA_HALF = 0.5 * Math.log(Math.PI);
const EPS = 1e-17;

/** Q(1/2, x): series for P below x = 1.5, Lentz's continued fraction above (Numerical Recipes §6.2). */
function upperGammaHalf(x: number): number {
  const a = 0.5;
  const front = Math.exp(-x + a * Math.log(x) - LOG_GAMMA_HALF);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let ap = a + 1; Math.abs(term) > Math.abs(sum) * EPS; ap++) {
      term *= x / ap;
      sum += term;
    }
    return 1 - sum * front;
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) <= EPS) break;
  }
  return front * h;
}
