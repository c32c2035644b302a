/** Soft voting: probabilities as given or from margins (softmax), the mean probability decides, ties to the lower class. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { probabilities, softVote } from './ensemble-compute';

describe('soft voting', () => {
  it('turns margins into probabilities that sum to 1 and keep their order', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 3, maxLength: 3 }), (margins) => {
        const p = probabilities({ labels: new Int32Array(1), scores: Float64Array.from(margins), k: 3, kind: 'decision' });
        expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
        for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) if (margins[a]! > margins[b]!) expect(p[a]!).toBeGreaterThanOrEqual(p[b]!);
      }),
    );
    const given = Float64Array.from([0.2, 0.8]);
    expect(probabilities({ labels: new Int32Array(1), scores: given, k: 2, kind: 'probability' })).toBe(given);
  });

  it('picks the class with the highest mean probability, where a single voter would have chosen otherwise', () => {
    const a = Float64Array.from([0.6, 0.4, /* row 2 */ 0.5, 0.5]);
    const b = Float64Array.from([0.1, 0.9, /* row 2 */ 0.5, 0.5]);
    const c = Float64Array.from([0.55, 0.45, /* row 2 */ 0.5, 0.5]);
    expect([...softVote([a, b, c], 2, 2)]).toEqual([1, 0]);
    expect([...softVote([a], 2, 2)]).toEqual([0, 0]);
  });
});
