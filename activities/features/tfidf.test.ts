import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compareCodePoints,
  fitTfidf,
  fitTransformTfidf,
  tfidfModelFromJson,
  tfidfModelToJson,
  transformTfidf,
  type CsrMatrix,
  type TfidfOptions,
} from './tfidf';

interface JsonCsr {
  indptr: number[];
  indices: number[];
  data: number[];
  rows: number;
  cols: number;
}

/** Made by tfidf-sklearn.py with scikit-learn's TfidfVectorizer. */
const reference = JSON.parse(readFileSync(new URL('./tfidf.sklearn.json', import.meta.url), 'utf8')) as {
  sklearn: string;
  train: string[][];
  test: string[][];
  cases: { name: string; options: TfidfOptions; vocabulary: string[]; idf: number[]; train: JsonCsr; test: JsonCsr }[];
};

function expectCsrClose(actual: CsrMatrix, expected: JsonCsr): void {
  expect([actual.rows, actual.cols]).toEqual([expected.rows, expected.cols]);
  expect(Array.from(actual.indptr)).toEqual(expected.indptr);
  expect(Array.from(actual.indices)).toEqual(expected.indices);
  expect(actual.data.length).toBe(expected.data.length);
  expected.data.forEach((value, i) => expect(Math.abs((actual.data[i] as number) - value)).toBeLessThan(1e-6));
}

describe(`TF-IDF parity with scikit-learn ${reference.sklearn}`, () => {
  it.each(reference.cases.map((c) => [c.name, c] as const))('%s', (_name, expected) => {
    const { model, matrix } = fitTransformTfidf(reference.train, expected.options);
    expect(model.vocabulary).toEqual(expected.vocabulary);
    expect(model.idf.length).toBe(expected.idf.length);
    expected.idf.forEach((value, j) => expect(Math.abs((model.idf[j] as number) - value)).toBeLessThan(1e-12));
    expectCsrClose(matrix, expected.train);
    expectCsrClose(transformTfidf(model, reference.test), expected.test);
  });

  it('covers options that change the output', () => {
    const vocabularies = new Set(reference.cases.map((c) => c.vocabulary.join('|')));
    expect(vocabularies.size).toBeGreaterThanOrEqual(4);
  });
});

describe('fitTfidf', () => {
  it('transforms unseen texts with the training vocabulary and idf only', () => {
    const model = fitTfidf([['a', 'b'], ['a']]);
    const matrix = transformTfidf(model, [['c', 'c'], ['b', 'c']]);
    expect(Array.from(matrix.indptr)).toEqual([0, 0, 1]);
    expect(Array.from(matrix.indices)).toEqual([1]);
    expect(Array.from(matrix.data)).toEqual([1]);
  });

  it('refuses options that prune every term, saying what to change', () => {
    expect(() => fitTfidf([['a'], ['b']], { minDf: 3 })).toThrow(
      'tfidf: after pruning (minDf 3, maxDf 1) no terms remain of 2; lower minDf or raise maxDf',
    );
    expect(() => fitTfidf([[], []])).toThrow('tfidf: the 2 training documents hold no tokens');
    expect(() => fitTfidf([['a']], { minDf: 1.5 })).toThrow(
      'tfidf minDf must be an integer >= 1 or a fraction in (0, 1), got 1.5',
    );
    expect(() => fitTfidf([['a']], { ngramRange: [2, 1] })).toThrow(
      'tfidf ngramRange must be two integers 1 <= min <= max, got [2, 1]',
    );
  });

  it('round-trips through JSON exactly', () => {
    const model = fitTfidf(reference.train, { ngramRange: [1, 2], sublinearTf: true });
    const back = tfidfModelFromJson(JSON.parse(JSON.stringify(tfidfModelToJson(model))));
    expect(back.vocabulary).toEqual(model.vocabulary);
    expect(Array.from(back.idf)).toEqual(Array.from(model.idf));
    expect(back.options).toEqual(model.options);
  });
});

describe('compareCodePoints', () => {
  it('orders like Python, past the Basic Multilingual Plane too', () => {
    // U+FF5A (fullwidth z) < U+1D49C (script A) in code points, though not in UTF-16 units.
    expect(['𝒜', 'ｚ', 'z', 'é', 'a'].sort(compareCodePoints)).toEqual(['a', 'z', 'é', 'ｚ', '𝒜']);
    expect(['ab', 'a', 'b'].sort(compareCodePoints)).toEqual(['a', 'ab', 'b']);
  });
});
