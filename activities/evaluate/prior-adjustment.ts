/**
 * Post-hoc class-prior adjustment: one offset per class added to a model's log-probabilities (or decision
 * scores), the class then being the argmax again. Tuned on held-out rows for the selection metric (the rare
 * neutral class is where macro-F1 is won or lost, and a model fitted for log-loss or margins rarely puts
 * its boundary where macro-F1 peaks). Pure functions: the train stage tunes on the validation split and
 * stores the offsets in the model artifact (`prior-adjustment.json`), and `scoreStoredModel` applies them,
 * so evaluate and predict give the same classes; cross-validation can tune on folds with the same code.
 */
import { argmax, softmaxRows, type RowScores } from '../../models/baselines/matrix';
import { accuracyAndMacroF1, confusionCounts } from './metrics';

/** A metric of a k×k confusion count matrix (`counts[t * k + p]`), higher is better. */
export type CountsMetric = (counts: Float64Array, k: number) => number;

export const macroF1OfCounts: CountsMetric = (counts, k) => accuracyAndMacroF1(counts, k).macroF1;

/** What a tuned adjustment is stored as (the model artifact's `prior-adjustment.json`). */
export interface PriorAdjustment {
  /** Added to class c's log-probability (probability models) or decision score (`space`). Class 0's is 0. */
  offsets: number[];
  space: 'log-probability' | 'decision';
  /** 'val' (tuned on the validation split) or 'given' (tuned elsewhere and passed in). */
  tunedOn: string;
  /** The validation split's metric without and with the offsets, when it has rows. */
  metric?: string;
  before?: number;
  after?: number;
}

/** Coordinate-ascent passes over the classes; each pass is an exact line search per class. */
const MAX_PASSES = 8;

/** The scores offsets are added to: log-probabilities for probability models, else the scores themselves. */
function adjustable(scores: RowScores): Float64Array {
  return scores.kind === 'probability' ? scores.scores.map((p) => Math.log(p)) : Float64Array.from(scores.scores);
}

function labelsWith(base: Float64Array, k: number, offsets: ArrayLike<number>): Int32Array {
  const rows = base.length / k;
  const labels = new Int32Array(rows);
  const row = new Float64Array(k);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < k; c++) row[c] = (base[i * k + c] as number) + (offsets[c] as number);
    labels[i] = argmax(row, 0, k);
  }
  return labels;
}

/**
 * Offsets (one per class, class 0's fixed at 0: only differences matter) that maximise `metric` of the
 * adjusted argmax on these rows. Coordinate ascent: for each class in turn, every offset at which some row
 * changes class is a breakpoint, and the metric is evaluated once per interval between breakpoints (at
 * its midpoint) by moving rows one at a time through the confusion counts. A move is kept only when the
 * metric, recomputed from scratch with the new offsets, is strictly higher, so the result is never worse
 * than no adjustment on these rows. Deterministic: no randomness, ties go to the offset nearest the
 * current one.
 */
export function tunePriorAdjustment(scores: RowScores, labels: Int32Array, metric: CountsMetric = macroF1OfCounts): Float64Array {
  const { k } = scores;
  const base = adjustable(scores);
  const offsets = new Float64Array(k);
  let best = metric(confusionCounts(labels, labelsWith(base, k, offsets), k), k);
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let improved = false;
    for (let c = 1; c < k; c++) {
      const candidate = bestOffsetFor(c, base, k, labels, offsets, metric);
      if (candidate === offsets[c]) continue;
      const trial = Float64Array.from(offsets);
      trial[c] = candidate;
      const score = metric(confusionCounts(labels, labelsWith(base, k, trial), k), k);
      if (score > best) {
        best = score;
        offsets[c] = candidate;
        improved = true;
      }
    }
    if (!improved) break;
  }
  return offsets;
}

/** Exact line search over class c's offset with the others fixed (see tunePriorAdjustment). */
function bestOffsetFor(c: number, base: Float64Array, k: number, labels: Int32Array, offsets: Float64Array, metric: CountsMetric): number {
  const rows = labels.length;
  // Each row's best other class, and the offset of c above which the row becomes c.
  const other = new Int32Array(rows);
  const flipAt = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let o = c === 0 ? 1 : 0;
    for (let j = 0; j < k; j++) {
      if (j !== c && (base[i * k + j] as number) + (offsets[j] as number) > (base[i * k + o] as number) + (offsets[o] as number)) o = j;
    }
    other[i] = o;
    flipAt[i] = (base[i * k + o] as number) + (offsets[o] as number) - (base[i * k + c] as number);
  }
  const order = Int32Array.from({ length: rows }, (_, i) => i).sort((a, b) => (flipAt[a] as number) - (flipAt[b] as number));
  const finite = Array.from(order).filter((i) => Number.isFinite(flipAt[i]));
  // Below every breakpoint only rows whose other classes all score -Infinity are c; each breakpoint
  // passed moves its rows to c.
  const start = other.map((o, i) => (flipAt[i] === -Infinity ? c : o));
  const counts = confusionCounts(labels, start, k);
  const current = offsets[c] as number;
  let bestOffset = current;
  let bestScore = -Infinity;
  const consider = (offset: number) => {
    const score = metric(counts, k);
    if (score > bestScore || (score === bestScore && Math.abs(offset - current) < Math.abs(bestOffset - current))) {
      bestScore = score;
      bestOffset = offset;
    }
  };
  const first = finite.length > 0 ? (flipAt[finite[0] as number] as number) : 0;
  consider(first - 1);
  for (let p = 0; p < finite.length; ) {
    const at = flipAt[finite[p] as number] as number;
    for (; p < finite.length && flipAt[finite[p] as number] === at; p++) {
      const i = finite[p] as number;
      counts[(labels[i] as number) * k + (other[i] as number)]! -= 1;
      counts[(labels[i] as number) * k + c]! += 1;
    }
    const next = p < finite.length ? (flipAt[finite[p] as number] as number) : at + 2;
    consider((at + next) / 2);
  }
  return bestOffset;
}

/**
 * Scores with the offsets applied: probabilities stay probabilities (softmax of the shifted
 * log-probabilities), decision scores are shifted; each row's class is the new argmax (ties to the lowest).
 */
export function applyPriorAdjustment(scores: RowScores, offsets: ArrayLike<number>): RowScores {
  const { k, kind } = scores;
  const shifted = adjustable(scores);
  for (let p = 0; p < shifted.length; p++) shifted[p]! += offsets[p % k] as number;
  const labels = labelsWith(shifted, k, new Float64Array(k));
  return { labels, scores: kind === 'decision' ? shifted : softmaxRows(shifted, k), k, kind };
}
