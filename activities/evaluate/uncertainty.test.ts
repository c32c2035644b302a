import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../data/canonical';
import { Rng } from '../../data/random';
import { classificationMetrics } from './metrics';
import { bootstrapCi, chiSquare1Sf, mcnemar, mcnemarFromCounts, percentile } from './uncertainty';

/** fixtures/uncertainty-vectors.json, made by fixtures/make-vectors.py with scipy 1.10 / numpy 1.24. */
const vectors = JSON.parse(readFileSync(new URL('./fixtures/uncertainty-vectors.json', import.meta.url), 'utf8')) as {
  mcnemar: { b: number; c: number; exact_p: number; chi2_statistic: number; chi2_p: number }[];
  percentile: { values: number[]; q: number[]; percentile: number[] }[];
};

function relativeError(actual: number, expected: number): number {
  return expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
}

describe('McNemar matches scipy', () => {
  it.each(vectors.mcnemar.map((v) => [v.b, v.c, v] as const))('b=%i c=%i', (b, c, v) => {
    const n = b + c;
    if (n <= 1000) {
      const exact = mcnemarFromCounts(b, c, { exactBelow: Infinity });
      expect(exact.method).toBe('exact-binomial');
      expect(exact.statistic).toBe(Math.min(b, c));
      expect(relativeError(exact.pValue, v.exact_p), `exact ${exact.pValue} vs ${v.exact_p}`).toBeLessThan(1e-12);
    }
    if (n > 0) {
      const chi = mcnemarFromCounts(b, c, { exactBelow: 0 });
      expect(chi.method).toBe('chi-square-corrected');
      expect(relativeError(chi.statistic, v.chi2_statistic)).toBeLessThan(1e-15);
      expect(relativeError(chi.pValue, v.chi2_p), `chi2 ${chi.pValue} vs ${v.chi2_p}`).toBeLessThan(1e-12);
    }
    const auto = mcnemarFromCounts(b, c);
    expect(auto.method).toBe(n < 25 ? 'exact-binomial' : 'chi-square-corrected');
  });

  it('gives p = 1 when the two models never disagree', () => {
    expect(mcnemarFromCounts(0, 0)).toEqual({ b: 0, c: 0, method: 'exact-binomial', statistic: 0, pValue: 1 });
  });

  it('counts discordant rows from prediction vectors', () => {
    const yTrue = Int32Array.from([0, 1, 2, 0, 1, 2, 0]);
    const predA = Int32Array.from([0, 1, 2, 1, 1, 0, 0]); // wrong on rows 3, 5
    const predB = Int32Array.from([0, 0, 0, 0, 1, 0, 1]); // wrong on rows 1, 2, 5, 6
    const result = mcnemar(yTrue, predA, predB);
    expect([result.b, result.c]).toEqual([3, 1]);
    expect(result.pValue).toBe(mcnemarFromCounts(3, 1).pValue);
    expect(result.pValue).toBeCloseTo(0.625, 15); // 2 · (1 + 4) / 16
  });

  it('refuses vectors of different lengths and bad counts', () => {
    expect(() => mcnemar(Int32Array.of(0, 1), Int32Array.of(0), Int32Array.of(0, 1))).toThrow(
      'McNemar needs both models scored on the same rows; got 2 labels, 1 and 2 predictions',
    );
    expect(() => mcnemarFromCounts(-1, 2)).toThrow('McNemar count b must be a non-negative integer; got -1');
    expect(() => mcnemarFromCounts(600, 600, { exactBelow: Infinity })).toThrow('lower exactBelow');
  });

  it('chi-square survival function is 1 at 0 and the known 5% point', () => {
    expect(chiSquare1Sf(0)).toBe(1);
    expect(chiSquare1Sf(3.841458820694124)).toBeCloseTo(0.05, 14);
  });
});

describe('percentile matches numpy (method "linear")', () => {
  it.each(vectors.percentile.map((v) => [v.values.length, v] as const))('n=%i', (_n, v) => {
    const sorted = Float64Array.from(v.values).sort();
    v.q.forEach((q, i) => expect(percentile(sorted, q)).toBe(v.percentile[i]));
  });
});

describe('bootstrapCi', () => {
  const rng = new Rng(11);
  const n = 400;
  const yTrue = Int32Array.from({ length: n }, () => rng.int(3));
  const yPred = yTrue.map((y) => (rng.next() < 0.75 ? y : rng.int(3)));
  const classes = ['neg', 'neu', 'pos'];

  it('is reproducible from the seed and brackets the point estimate', () => {
    const a = bootstrapCi(yTrue, yPred, 3, new Rng(5));
    const b = bootstrapCi(yTrue, yPred, 3, new Rng(5));
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    const full = classificationMetrics(yTrue, yPred, classes);
    expect(a.accuracy.estimate).toBe(full.accuracy);
    expect(a.macroF1.estimate).toBe(full.macro.f1);
    for (const ci of [a.accuracy, a.macroF1]) {
      expect(ci.low).toBeLessThan(ci.estimate);
      expect(ci.high).toBeGreaterThan(ci.estimate);
    }
    expect(a).toMatchObject({ resamples: 1000, confidence: 0.95, method: 'percentile' });
    expect(canonicalJson(bootstrapCi(yTrue, yPred, 3, new Rng(6)))).not.toBe(canonicalJson(a));
  });

  it('has about the normal-approximation width for accuracy', () => {
    const { accuracy } = bootstrapCi(yTrue, yPred, 3, new Rng(1), { resamples: 2000 });
    const p = accuracy.estimate;
    const normalWidth = 2 * 1.959964 * Math.sqrt((p * (1 - p)) / n);
    expect(accuracy.high - accuracy.low).toBeGreaterThan(0.8 * normalWidth);
    expect(accuracy.high - accuracy.low).toBeLessThan(1.2 * normalWidth);
  });

  it('narrows with the confidence level and collapses when every prediction is right', () => {
    const wide = bootstrapCi(yTrue, yPred, 3, new Rng(2), { resamples: 300, confidence: 0.99 });
    const narrow = bootstrapCi(yTrue, yPred, 3, new Rng(2), { resamples: 300, confidence: 0.5 });
    expect(wide.accuracy.high - wide.accuracy.low).toBeGreaterThan(narrow.accuracy.high - narrow.accuracy.low);
    const perfect = bootstrapCi(yTrue, yTrue, 3, new Rng(3), { resamples: 50 });
    expect(perfect.accuracy).toEqual({ estimate: 1, low: 1, high: 1 });
    expect(perfect.macroF1).toEqual({ estimate: 1, low: 1, high: 1 });
  });

  it('refuses bad options', () => {
    expect(() => bootstrapCi(yTrue, yPred, 3, new Rng(1), { resamples: 0 })).toThrow(
      'bootstrap resamples must be a positive integer; got 0',
    );
    expect(() => bootstrapCi(yTrue, yPred, 3, new Rng(1), { confidence: 1 })).toThrow(
      'bootstrap confidence must be in (0, 1); got 1',
    );
    expect(() => bootstrapCi(Int32Array.of(), Int32Array.of(), 3, new Rng(1))).toThrow('non-empty');
  });
});
