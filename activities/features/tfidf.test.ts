import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tfidfBlockOptions, type TfidfParams } from './features';
import {
  compareCodePoints,
  fitTfidf,
  fitTransformTfidf,
  tfidfBlocksFromJson,
  tfidfBlocksToJson,
  tfidfModelFromJson,
  tfidfModelToJson,
  transformTfidf,
  transformTfidfBlocks,
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
interface Case {
  name: string;
  options: TfidfOptions;
  vocabulary: string[];
  idf: number[];
  train: JsonCsr;
  test: JsonCsr;
}

const reference = JSON.parse(readFileSync(new URL('./tfidf.sklearn.json', import.meta.url), 'utf8')) as {
  sklearn: string;
  train: string[][];
  test: string[][];
  cases: Case[];
  /** TfidfVectorizer(analyzer='char_wb', lowercase=False) on the space-joined char_train/char_test tokens. */
  char_train: string[][];
  char_test: string[][];
  char_cases: Case[];
  /** FeatureUnion of a word and a char_wb vectorizer on char_train/char_test. */
  union_cases: { name: string; params: Omit<TfidfParams, 'kind' | 'analyzer'>; vocabularies: string[][]; train: JsonCsr; test: JsonCsr }[];
};

function expectCsrClose(actual: CsrMatrix, expected: JsonCsr): void {
  expect([actual.rows, actual.cols]).toEqual([expected.rows, expected.cols]);
  expect(Array.from(actual.indptr)).toEqual(expected.indptr);
  expect(Array.from(actual.indices)).toEqual(expected.indices);
  expect(actual.data.length).toBe(expected.data.length);
  expected.data.forEach((value, i) => expect(Math.abs((actual.data[i] as number) - value)).toBeLessThan(1e-6));
}

function expectCase(expected: Case, train: string[][], test: string[][]): void {
  const { model, matrix } = fitTransformTfidf(train, expected.options);
  expect(model.vocabulary).toEqual(expected.vocabulary);
  expect(model.idf.length).toBe(expected.idf.length);
  expected.idf.forEach((value, j) => expect(Math.abs((model.idf[j] as number) - value)).toBeLessThan(1e-12));
  expectCsrClose(matrix, expected.train);
  expectCsrClose(transformTfidf(model, test), expected.test);
}

describe(`TF-IDF parity with scikit-learn ${reference.sklearn}`, () => {
  it.each(reference.cases.map((c) => [c.name, c] as const))('%s', (_name, expected) => {
    expectCase(expected, reference.train, reference.test);
  });

  it.each(reference.char_cases.map((c) => [c.name, c] as const))('%s', (_name, expected) => {
    expectCase(expected, reference.char_train, reference.char_test);
  });

  it.each(reference.union_cases.map((c) => [c.name, c] as const))('word+char_wb union %s', (_name, expected) => {
    const params: TfidfParams = { kind: 'tfidf', analyzer: 'word+char_wb', ...expected.params };
    const models = tfidfBlockOptions(params).map((options) => fitTfidf(reference.char_train, options));
    expect(models.map((model) => model.vocabulary)).toEqual(expected.vocabularies);
    expectCsrClose(transformTfidfBlocks(models, reference.char_train), expected.train);
    const restored = tfidfBlocksFromJson(JSON.parse(JSON.stringify(tfidfBlocksToJson(models))));
    expectCsrClose(transformTfidfBlocks(restored, reference.char_test), expected.test);
  });

  it('cuts char_wb n-grams in code points, padded words shorter than n once', () => {
    const model = fitTfidf([['𝒜b', 'a']], { analyzer: 'char_wb', ngramRange: [3, 4] });
    expect(model.vocabulary).toEqual([' a ', ' 𝒜b', ' 𝒜b ', '𝒜b ']);
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

  it('writes a word model without an analyzer, as before char_wb existed', () => {
    const json = tfidfModelToJson(fitTfidf([['a', 'b']]));
    expect(Object.keys(json.options)).not.toContain('analyzer');
    expect(tfidfModelToJson(fitTfidf([['a', 'b']], { analyzer: 'char_wb' })).options.analyzer).toBe('char_wb');
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
