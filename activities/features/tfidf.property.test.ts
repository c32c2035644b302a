/**
 * transformTfidf's typed-array loop against the definition written plainly (count each document's n-grams in a
 * map, keep the known ones in column order, weight tf × idf in float64, normalise, round to float32): the
 * matrices must be equal bit for bit, whatever the documents and options, so the fast path changes no stored byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitTfidf, forEachTerm, transformTfidf, type CsrMatrix, type TfidfModel, type TfidfOptions } from './tfidf';

function plainTransform(model: TfidfModel, documents: readonly (readonly string[])[]): CsrMatrix {
  const column = new Map(model.vocabulary.map((term, j) => [term, j]));
  const { sublinearTf, norm } = model.options;
  const indptr = [0];
  const indices: number[] = [];
  const values: number[] = [];
  for (const doc of documents) {
    const counts = new Map<string, number>();
    forEachTerm(doc, model.options, (term) => counts.set(term, (counts.get(term) ?? 0) + 1));
    const row = [...counts]
      .filter(([term]) => column.has(term))
      .map(
        ([term, count]) =>
          [column.get(term)!, (sublinearTf ? Math.log(count) + 1 : count) * model.idf[column.get(term)!]!] as const,
      )
      .sort((a, b) => a[0] - b[0]);
    const sum = row.reduce((s, [, v]) => s + (norm === 'l2' ? v * v : Math.abs(v)), 0);
    const length = norm === 'none' ? 1 : norm === 'l2' ? Math.sqrt(sum) : sum;
    const scale = length > 0 ? 1 / length : 1;
    for (const [j, v] of row) {
      indices.push(j);
      values.push(v * scale);
    }
    indptr.push(indices.length);
  }
  return {
    indptr: Int32Array.from(indptr),
    indices: Int32Array.from(indices),
    data: Float32Array.from(values),
    rows: documents.length,
    cols: model.vocabulary.length,
  };
}

/** Tokens from a small alphabet, so documents share and repeat terms; '' is the empty token a double space makes. */
const token = fc.constantFrom(
  '',
  'a',
  'b',
  'c',
  'ab',
  'ba',
  'nya',
  'é',
  '𝒜',
  ...Array.from({ length: 40 }, (_, i) => `t${i}`),
);
const documents = fc.array(fc.array(token, { maxLength: 60 }), { maxLength: 12 });
const options: fc.Arbitrary<TfidfOptions> = fc.record({
  ngramRange: fc.constantFrom<[number, number]>([1, 1], [1, 2], [2, 3], [1, 3]),
  analyzer: fc.constantFrom('word', 'char_wb'),
  sublinearTf: fc.boolean(),
  smoothIdf: fc.boolean(),
  norm: fc.constantFrom('l2', 'l1', 'none'),
});

describe('transformTfidf', () => {
  it('equals the plain per-document definition bit for bit', () => {
    fc.assert(
      fc.property(documents, documents, options, (train, test, opts) => {
        fc.pre(train.some((doc) => doc.length >= opts.ngramRange![1]));
        const model = fitTfidf(train, opts);
        for (const docs of [train, test]) {
          const fast = transformTfidf(model, docs);
          const plain = plainTransform(model, docs);
          expect([fast.rows, fast.cols]).toEqual([plain.rows, plain.cols]);
          expect(fast.indptr).toEqual(plain.indptr);
          expect(fast.indices).toEqual(plain.indices);
          expect(Buffer.from(fast.data.buffer, fast.data.byteOffset, fast.data.byteLength)).toEqual(
            Buffer.from(plain.data.buffer),
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});
