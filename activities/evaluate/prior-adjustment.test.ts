import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { softmaxRows, type RowScores } from '../../models/baselines/matrix';
import { confusionCounts } from './metrics';
import { applyPriorAdjustment, macroF1OfCounts, tunePriorAdjustment } from './prior-adjustment';

/** Rows of k scores each (decision margins, or probabilities made from them), with a true class per row. */
const tuningData = fc.integer({ min: 2, max: 4 }).chain((k) =>
  fc.record({
    k: fc.constant(k),
    kind: fc.constantFrom('decision' as const, 'probability' as const),
    rows: fc.array(
      fc.record({
        label: fc.integer({ min: 0, max: k - 1 }),
        // a coarse grid makes ties between rows and between classes common
        scores: fc.array(fc.integer({ min: -8, max: 8 }).map((v) => v / 4), { minLength: k, maxLength: k }),
      }),
      { minLength: 1, maxLength: 60 },
    ),
  }),
);

function rowScores({ k, kind, rows }: { k: number; kind: 'decision' | 'probability'; rows: { scores: number[] }[] }): RowScores {
  const margins = Float64Array.from(rows.flatMap((r) => r.scores));
  // probabilities: the softmax of the margins
  return { labels: new Int32Array(rows.length), scores: kind === 'probability' ? softmaxRows(margins, k) : margins, k, kind };
}

const macroF1 = (labels: Int32Array, predicted: Int32Array, k: number) => macroF1OfCounts(confusionCounts(labels, predicted, k), k);

describe('tunePriorAdjustment', () => {
  it('is never worse than no adjustment on the rows it is tuned on, and is deterministic', () => {
    fc.assert(
      fc.property(tuningData, (data) => {
        const scores = rowScores(data);
        const labels = Int32Array.from(data.rows, (r) => r.label);
        const offsets = tunePriorAdjustment(scores, labels);
        expect(offsets.length).toBe(data.k);
        expect(offsets[0]).toBe(0);
        expect(Array.from(offsets).every(Number.isFinite)).toBe(true);
        const before = macroF1(labels, applyPriorAdjustment(scores, new Float64Array(data.k)).labels, data.k);
        const after = macroF1(labels, applyPriorAdjustment(scores, offsets).labels, data.k);
        expect(after).toBeGreaterThanOrEqual(before);
        expect(Array.from(tunePriorAdjustment(scores, labels))).toEqual(Array.from(offsets));
      }),
      { numRuns: 300 },
    );
  });

  it('finds the best offset of a binary model: no offset tried on a grid does better', () => {
    fc.assert(
      fc.property(tuningData.filter((d) => d.k === 2), fc.array(fc.integer({ min: -40, max: 40 }), { minLength: 1, maxLength: 20 }), (data, tries) => {
        const scores = rowScores(data);
        const labels = Int32Array.from(data.rows, (r) => r.label);
        const tuned = macroF1(labels, applyPriorAdjustment(scores, tunePriorAdjustment(scores, labels)).labels, 2);
        for (const t of tries) expect(tuned).toBeGreaterThanOrEqual(macroF1(labels, applyPriorAdjustment(scores, [0, t / 8]).labels, 2));
      }),
      { numRuns: 200 },
    );
  });

  it('moves the boundary towards a class the model under-predicts', () => {
    // Binary decision scores: positives score 0.1..0.4 below zero (all predicted negative), negatives lower.
    const margins = [-0.9, -0.8, -0.7, -0.6, -0.5, -0.4, -0.3, -0.2, -0.1, -0.05];
    const labels = Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    const scores: RowScores = { labels: new Int32Array(10), scores: Float64Array.from(margins.flatMap((s) => [-s, s])), k: 2, kind: 'decision' };
    const offsets = tunePriorAdjustment(scores, labels);
    const adjusted = applyPriorAdjustment(scores, offsets);
    expect(Array.from(adjusted.labels)).toEqual(Array.from(labels));
    expect(macroF1(labels, adjusted.labels, 2)).toBe(1);
    expect(offsets[1]).toBeGreaterThan(0);
  });

  it('tunes any metric of the confusion counts it is given', () => {
    // accuracy: three class-0 rows scored as class 1 below the one class-1 row; a shift towards 0 gets all five
    const labels = Int32Array.from([0, 0, 0, 0, 1]);
    const scores: RowScores = { labels: new Int32Array(5), scores: Float64Array.from([0.4, 0.6, 0.45, 0.55, 0.3, 0.7, 0.9, 0.1, 0.2, 0.8]), k: 2, kind: 'probability' };
    const accuracy = (counts: Float64Array) => (counts[0]! + counts[3]!) / 5;
    const offsets = tunePriorAdjustment(scores, labels, accuracy);
    expect(accuracy(confusionCounts(labels, applyPriorAdjustment(scores, offsets).labels, 2))).toBe(1);
  });
});

describe('applyPriorAdjustment', () => {
  it('keeps probabilities summing to one and classes at the argmax of the shifted scores', () => {
    const scores: RowScores = { labels: Int32Array.from([0, 1]), scores: Float64Array.from([0.6, 0.3, 0.1, 0.2, 0.5, 0.3]), k: 3, kind: 'probability' };
    const adjusted = applyPriorAdjustment(scores, [0, 0, Math.log(4)]);
    expect(adjusted.scores[0]! + adjusted.scores[1]! + adjusted.scores[2]!).toBeCloseTo(1, 12);
    expect(adjusted.scores[2]).toBeCloseTo(0.4 / 1.3, 12);
    expect(Array.from(adjusted.labels)).toEqual([0, 2]);
  });
});
