import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../data/random';
import { UlasanError } from '../../core/errors';
import { loadVectors, toMatrix } from './fixtures/vectors';
import { closeKnnThreads, kNearest, kNearestWithin, type Metric } from './knn';
import { type CsrMatrix, type DenseMatrix, type FeatureMatrix, isCsr, rowsOfClass, takeRows } from './matrix';

afterAll(() => closeKnnThreads());

function randomDense(rng: Rng, rows: number, cols: number): DenseMatrix {
  return { data: Float32Array.from({ length: rows * cols }, () => rng.next() * 2 - 1), rows, cols };
}

function randomCsr(rng: Rng, rows: number, cols: number, density: number): CsrMatrix {
  const indptr = [0];
  const indices: number[] = [];
  const data: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (rng.next() < density) {
        indices.push(c);
        data.push(rng.next());
      }
    }
    indptr.push(indices.length);
  }
  return { indptr: Int32Array.from(indptr), indices: Int32Array.from(indices), data: Float32Array.from(data), rows, cols };
}

function rowOf(x: FeatureMatrix, r: number): Float64Array {
  const out = new Float64Array(x.cols);
  if (isCsr(x)) {
    for (let p = x.indptr[r] as number; p < (x.indptr[r + 1] as number); p++) out[x.indices[p] as number] = x.data[p] as number;
  } else {
    for (let c = 0; c < x.cols; c++) out[c] = x.data[r * x.cols + c] as number;
  }
  return out;
}

/** Float64 brute force, sorted by (distance, index). */
function naive(ref: FeatureMatrix, query: FeatureMatrix, k: number, metric: Metric, exclude?: Int32Array): number[][] {
  const refs = Array.from({ length: ref.rows }, (_, r) => rowOf(ref, r));
  return Array.from({ length: query.rows }, (_, q) => {
    const a = rowOf(query, q);
    const na = Math.sqrt(a.reduce((s, v) => s + v * v, 0));
    return refs
      .map((b, r) => {
        let d = 0;
        if (metric === 'euclidean') b.forEach((v, c) => (d += (v - (a[c] as number)) ** 2));
        else {
          const nb = Math.sqrt(b.reduce((s, v) => s + v * v, 0));
          const dot = b.reduce((s, v, c) => s + v * (a[c] as number), 0);
          d = na > 0 && nb > 0 ? 1 - dot / (na * nb) : 1;
        }
        return { d, r };
      })
      .filter(({ r }) => !exclude || exclude[q] !== r)
      .sort((u, v) => u.d - v.d || u.r - v.r)
      .slice(0, k)
      .map(({ r }) => r);
  });
}

const rowsOf = (indices: Int32Array, k: number): number[][] =>
  Array.from({ length: indices.length / k }, (_, q) => Array.from(indices.subarray(q * k, (q + 1) * k)));

describe('kNearest', () => {
  it.each(['euclidean', 'cosine'] as const)('matches float64 brute force on dense rows (%s)', (metric) => {
    const rng = new Rng(1);
    const ref = randomDense(rng, 203, 13);
    const query = randomDense(rng, 70, 13);
    const got = kNearest(ref, query, { k: 7, metric, threads: 1 });
    expect(rowsOf(got.indices, 7)).toEqual(naive(ref, query, 7, metric));
  });

  it.each(['euclidean', 'cosine'] as const)('matches float64 brute force on CSR rows without densifying (%s)', (metric) => {
    const rng = new Rng(2);
    const x = randomCsr(rng, 150, 60, 0.08);
    const got = kNearestWithin(x, 6, metric);
    const exclude = Int32Array.from({ length: x.rows }, (_, i) => i);
    expect(rowsOf(got.indices, 6)).toEqual(naive(x, x, 6, metric, exclude));
  });

  it('leaves out the excluded row and breaks exact ties by the lower index', () => {
    // rows 0, 2, 3 and 5 are identical; every other row is far away
    const base = [0.5, -1, 2];
    const rows = [base, [9, 9, 9], base, base, [-9, 4, 1], base, [7, -7, 0]];
    const x: DenseMatrix = { data: Float32Array.from(rows.flat()), rows: rows.length, cols: 3 };
    const got = kNearestWithin(x, 3, 'euclidean', 1);
    expect(rowsOf(got.indices, 3)[3]).toEqual([0, 2, 5]);
    expect(rowsOf(got.indices, 3)[0]).toEqual([2, 3, 5]);
    expect(Array.from(got.distances.subarray(9, 12))).toEqual([0, 0, 0]);
  });

  it('gives the same neighbours with worker threads as without', () => {
    const rng = new Rng(3);
    const ref = randomDense(rng, 2000, 40);
    const query = randomDense(rng, 500, 40);
    const exclude = Int32Array.from({ length: 500 }, (_, i) => i * 3);
    const one = kNearest(ref, query, { k: 9, exclude, threads: 1 });
    const two = kNearest(ref, query, { k: 9, exclude, threads: 2 });
    expect(Array.from(two.indices)).toEqual(Array.from(one.indices));
    expect(Array.from(two.distances)).toEqual(Array.from(one.distances));
    // spot-check against brute force
    const sample = takeRows(query, Int32Array.from([0, 123, 499]));
    const expected = naive(ref, sample, 9, 'euclidean', Int32Array.from([0, 369, 1497]));
    expect([0, 123, 499].map((q) => Array.from(one.indices.subarray(q * 9, q * 9 + 9)))).toEqual(expected);
  });

  it('refuses more neighbours than candidate rows, saying how many there are', () => {
    const x = randomDense(new Rng(4), 5, 2);
    expect(() => kNearestWithin(x, 5)).toThrow(UlasanError);
    expect(() => kNearestWithin(x, 5)).toThrow(/asked for 5 neighbours among 4 candidate rows/);
  });
});

describe('kNearest against scikit-learn NearestNeighbors', () => {
  const vectors = loadVectors();
  for (const [name, data] of Object.entries(vectors.datasets)) {
    it(`finds sklearn's neighbours and distances on ${name}`, () => {
      const x = toMatrix(data.x);
      const within = kNearestWithin(x, 5, 'euclidean', 1);
      // sklearn queried with the fitted rows returns each row first; imblearn drops that column
      expect(rowsOf(within.indices, 5)).toEqual(data.knn.within.indices.map((row) => row.slice(1)));
      data.knn.within.distances.forEach((row, q) =>
        row.slice(1).forEach((d, j) => expect(within.distances[q * 5 + j]).toBeCloseTo(d, 4)),
      );
      const y = Int32Array.from(data.y);
      const rows = rowsOfClass(y, data.knn.classAgainstAll.label);
      const against = kNearest(x, takeRows(x, rows), { k: 6, threads: 1 });
      expect(rowsOf(against.indices, 6)).toEqual(data.knn.classAgainstAll.indices);
    });
  }
});
