import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../data/random';
import { UlasanError } from '../../core/errors';
import { loadVectors, toMatrix } from './fixtures/vectors';
import { closeKnnThreads, kNearest, kNearestWithin } from './knn';
import { type CsrMatrix, type DenseMatrix, type FeatureMatrix, isCsr, rowsOfClass, takeRows } from './matrix';
import { INTERPOLATED, type ResampleResult, SMOOTHED_BOOTSTRAP } from './result';
import { parseSamplerSpec, resample, type SamplerInput } from './sampler';
import { checkSamplerForFeatureSpace } from './feature-space';
import { encodeSmoteNc, smoteNcEncoding } from './smote-nc';
import { SamplerSpecSchema } from './spec';

afterAll(() => closeKnnThreads());

const vectors = loadVectors();
const binaryDense = vectors.datasets['binary-dense']!;
const multiclass = vectors.datasets['multiclass-dense']!;
const binarySparse = vectors.datasets['binary-sparse']!;
const separated = vectors.datasets['separated-dense']!;

function input(data: typeof binaryDense, featureSpace: SamplerInput['featureSpace'] = 'doc-vectors'): SamplerInput {
  const x = toMatrix(data.x);
  return { x, y: Int32Array.from(data.y), featureSpace: isCsr(x) ? 'tfidf' : featureSpace };
}

function row(x: FeatureMatrix, r: number): Float64Array {
  const out = new Float64Array(x.cols);
  if (isCsr(x)) for (let p = x.indptr[r] as number; p < (x.indptr[r + 1] as number); p++) out[x.indices[p] as number] = x.data[p] as number;
  else for (let c = 0; c < x.cols; c++) out[c] = x.data[r * x.cols + c] as number;
  return out;
}

/** The output row of a given row id (an input row or a generated one kept in the output). */
function vectorOfId(inputX: FeatureMatrix, result: ResampleResult, id: number): Float64Array {
  if (id < result.origin.inputRows) return row(inputX, id);
  const at = result.origin.rowId.indexOf(id);
  expect(at).toBeGreaterThanOrEqual(0);
  return row(result.x, at);
}

/** Asserts every generated output row lies on its base → neighbour segment at its recorded gap. */
function expectOnSegments(inputX: FeatureMatrix, result: ResampleResult, columns?: number[]): number {
  const { rowId, inputRows, generated } = result.origin;
  let checked = 0;
  rowId.forEach((id, at) => {
    if (id < inputRows) return;
    const g = id - inputRows;
    expect(generated.kind[g]).toBe(INTERPOLATED);
    const gap = generated.gap[g] as number;
    expect(gap).toBeGreaterThanOrEqual(0);
    expect(gap).toBeLessThan(1);
    const a = vectorOfId(inputX, result, generated.base[g] as number);
    const b = vectorOfId(inputX, result, generated.neighbour[g] as number);
    const got = row(result.x, at);
    for (const c of columns ?? a.keys()) {
      const want = (a[c] as number) + gap * ((b[c] as number) - (a[c] as number));
      expect(Math.abs((got[c] as number) - want)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(want)));
      // on the segment: between the two endpoints
      expect(got[c]).toBeGreaterThanOrEqual(Math.min(a[c] as number, b[c] as number) - 1e-6);
      expect(got[c]).toBeLessThanOrEqual(Math.max(a[c] as number, b[c] as number) + 1e-6);
    }
    expect(result.y[at]).toBe(generated.label[g]);
    checked++;
  });
  return checked;
}

/** k nearest same-class rows (input row ids) of each row of a class. */
function sameClassNeighbours(x: FeatureMatrix, y: Int32Array, label: number, k: number): Map<number, number[]> {
  const rows = rowsOfClass(y, label);
  const nn = kNearestWithin(takeRows(x, rows), k, 'euclidean', 1);
  return new Map(Array.from(rows, (r, i) => [r, Array.from(nn.indices.subarray(i * k, i * k + k), (p) => rows[p] as number)]));
}

describe('SMOTE', () => {
  it.each([
    ['dense', binaryDense],
    ['CSR', binarySparse],
  ] as const)('puts every new %s row on the segment to one of its k nearest same-class neighbours', (_, data) => {
    const { x, y, featureSpace } = input(data);
    const result = resample({ x, y, featureSpace }, { method: 'smote' }, new Rng(5));
    const neighbours = sameClassNeighbours(x, y, 0, 5);
    expect(expectOnSegments(x, result)).toBe(result.summary.generated);
    const { generated } = result.origin;
    generated.base.forEach((base, g) => expect(neighbours.get(base)).toContain(generated.neighbour[g]));
    expect(result.summary).toMatchObject({ method: 'smote', generated: result.y.length - x.rows, duplicated: 0, removed: 0 });
    expect(Array.from(result.origin.source.subarray(0, x.rows))).toEqual(Array.from({ length: x.rows }, (_, i) => i));
    expect(Array.from(result.origin.source.subarray(x.rows)).every((s) => s === -1)).toBe(true);
  });

  it('is deterministic under a seed and varies with it', () => {
    const data = input(multiclass);
    const a = resample(data, { method: 'smote' }, new Rng(9));
    const b = resample(data, { method: 'smote' }, new Rng(9));
    const c = resample(data, { method: 'smote' }, new Rng(10));
    expect(Buffer.from((a.x as DenseMatrix).data.buffer)).toEqual(Buffer.from((b.x as DenseMatrix).data.buffer));
    expect(Array.from(a.origin.generated.gap)).toEqual(Array.from(b.origin.generated.gap));
    expect(Array.from(a.origin.generated.gap)).not.toEqual(Array.from(c.origin.generated.gap));
  });

  it('offers cosine neighbours on sparse rows', () => {
    const { x, y } = input(binarySparse);
    const result = resample({ x, y, featureSpace: 'tfidf' }, { method: 'smote', metric: 'cosine', kNeighbors: 3 }, new Rng(1));
    const rows = rowsOfClass(y, 0);
    const nn = kNearestWithin(takeRows(x, rows), 3, 'cosine');
    const allowed = new Map(Array.from(rows, (r, i) => [r, Array.from(nn.indices.subarray(i * 3, i * 3 + 3), (p) => rows[p])]));
    result.origin.generated.base.forEach((base, g) => expect(allowed.get(base)).toContain(result.origin.generated.neighbour[g]));
    expect(expectOnSegments(x, result)).toBe(20);
  });

  it('refuses a class smaller than kNeighbors + 1 and says what to change', () => {
    const { x, y } = input(binaryDense);
    expect(() => resample({ x, y, featureSpace: 'doc-vectors' }, { method: 'smote', kNeighbors: 12 }, new Rng(1))).toThrow(
      'kNeighbors=12 needs at least 13 rows in class 0 (the sample and 12 neighbours), which has 12; lower kNeighbors to at most 11, or use random-over for this data.',
    );
  });
});

describe('Borderline-SMOTE', () => {
  it('borderline-1 generates only from samples in danger, towards same-class neighbours', () => {
    const { x, y } = input(multiclass);
    const result = resample({ x, y, featureSpace: 'doc-vectors' }, { method: 'borderline-smote' }, new Rng(2));
    const danger = result.diagnostics.danger!;
    for (const label of [0, 1]) {
      const neighbours = sameClassNeighbours(x, y, label, 5);
      const inDanger = new Set(danger.get(label));
      const { generated } = result.origin;
      generated.label.forEach((l, g) => {
        if (l !== label) return;
        expect(inDanger.has(generated.base[g] as number)).toBe(true);
        expect(neighbours.get(generated.base[g] as number)).toContain(generated.neighbour[g]);
      });
    }
    expect(expectOnSegments(x, result)).toBe(35 + 20);
    expect(result.summary.classes.map((c) => c.danger)).toEqual([danger.get(0)!.length, danger.get(1)!.length]);
  });

  it('borderline-2 interpolates towards neighbours of any class, at most half way towards another class', () => {
    const { x, y } = input(binaryDense);
    const result = resample({ x, y, featureSpace: 'doc-vectors' }, { method: 'borderline-smote', kind: 'borderline-2' }, new Rng(3));
    const inDanger = result.diagnostics.danger!.get(0)!;
    const nn = kNearest(x, takeRows(x, inDanger), { k: 5, exclude: inDanger });
    const allowed = new Map(Array.from(inDanger, (r, i) => [r, Array.from(nn.indices.subarray(i * 5, i * 5 + 5))]));
    const { generated } = result.origin;
    let crossClass = 0;
    generated.base.forEach((base, g) => {
      expect(allowed.get(base)).toContain(generated.neighbour[g]);
      if (y[generated.neighbour[g] as number] !== 0) {
        crossClass++;
        expect(generated.gap[g]).toBeLessThan(0.5);
      }
    });
    expect(crossClass).toBeGreaterThan(0);
    expect(expectOnSegments(x, result)).toBe(36);
    expect(result.summary.after).toEqual([48, 48]);
  });

  it('generates nothing for a class with no sample in danger, and says so', () => {
    const { x, y } = input(separated);
    const result = resample({ x, y, featureSpace: 'doc-vectors' }, { method: 'borderline-smote' }, new Rng(4));
    expect(result.summary.generated).toBe(0);
    expect(result.summary.noOp).toMatch(/no sample of class 0 is in danger/);
    expect(result.x).toBe(x);
  });
});

describe('ADASYN', () => {
  it('generates each sample its share, towards its same-class neighbours', () => {
    const { x, y } = input(multiclass);
    const result = resample({ x, y, featureSpace: 'doc-vectors' }, { method: 'adasyn' }, new Rng(6));
    const plans = result.diagnostics.adasynCounts!;
    for (const [label, counts] of plans) {
      const rows = rowsOfClass(y, label);
      const perBase = new Map<number, number>();
      result.origin.generated.base.forEach((b) => perBase.set(b, (perBase.get(b) ?? 0) + 1));
      rows.forEach((r, i) => expect(perBase.get(r) ?? 0).toBe(counts[i]));
      const neighbours = sameClassNeighbours(x, y, label, 5);
      result.origin.generated.base.forEach((b, g) => {
        if (y[b] === label) expect(neighbours.get(b)).toContain(result.origin.generated.neighbour[g]);
      });
    }
    expect(expectOnSegments(x, result)).toBe(result.summary.generated);
    expect(result.summary.classes.find((c) => c.label === 1)?.note).toMatch(/rounding per-sample shares gives 23 rows instead of 20/);
  });

  it('returns a no-op with the reason where imbalanced-learn raises', () => {
    const { x, y } = input(separated);
    const result = resample({ x, y, featureSpace: 'doc-vectors' }, { method: 'adasyn' }, new Rng(1));
    expect(result.x).toBe(x);
    expect(Array.from(result.y)).toEqual(Array.from(y));
    expect(result.summary).toMatchObject({ generated: 0, removed: 0, duplicated: 0, before: [9, 31], after: [9, 31] });
    expect(result.summary.noOp).toMatch(/no sample of class 0 has a neighbour of another class among its 5 nearest/);
    expect(result.origin.generated.kind.length).toBe(0);
  });
});

describe('SMOTE-NC', () => {
  it('interpolates continuous columns and takes the most frequent category among the k neighbours', () => {
    const v = vectors.smoteNc;
    const x: DenseMatrix = { data: Float32Array.from(v.x.data), rows: v.x.rows, cols: v.x.cols };
    const y = Int32Array.from(v.y);
    const result = resample({ x, y, featureSpace: 'doc-vectors' }, { method: 'smote-nc', categoricalFeatures: [1, 3] }, new Rng(8));
    expect(expectOnSegments(x, result, [0, 2, 4])).toBe(20);
    const encoding = smoteNcEncoding(x, y, [10, 30], [1, 3]);
    const rows = rowsOfClass(y, 0);
    const nn = kNearestWithin(encodeSmoteNc(x, rows, encoding), 5);
    const { generated, rowId, inputRows } = result.origin;
    rowId.forEach((id, at) => {
      if (id < inputRows) return;
      const base = generated.base[id - inputRows] as number;
      const position = rows.indexOf(base);
      const neighbourRows = Array.from(nn.indices.subarray(position * 5, position * 5 + 5), (p) => rows[p] as number);
      expect(neighbourRows).toContain(generated.neighbour[id - inputRows]);
      for (const c of [1, 3]) {
        const tally = new Map<number, number>();
        for (const r of neighbourRows) tally.set(x.data[r * 5 + c] as number, (tally.get(x.data[r * 5 + c] as number) ?? 0) + 1);
        const top = Math.max(...tally.values());
        expect(tally.get(result.x.data[at * 5 + c] as number)).toBe(top);
      }
    });
  });

  it('refuses sparse input and all-categorical columns', () => {
    const sparse = input(binarySparse);
    expect(() => resample({ ...sparse, featureSpace: 'doc-vectors' }, { method: 'smote-nc', categoricalFeatures: [0] }, new Rng(1))).toThrow(
      /smote-nc needs dense continuous \+ categorical columns/,
    );
    const { x, y } = input(binaryDense);
    expect(() => resample({ x, y, featureSpace: 'doc-vectors' }, { method: 'smote-nc', categoricalFeatures: [0, 1, 2, 3] }, new Rng(1))).toThrow(
      /needs some continuous columns/,
    );
  });
});

describe('random samplers', () => {
  it('random-over keeps every row and appends bootstrap copies of the class', () => {
    const { x, y } = input(multiclass);
    const result = resample({ x, y, featureSpace: 'doc-vectors' }, { method: 'random-over' }, new Rng(1));
    expect(result.summary).toMatchObject({ after: [45, 45, 45], generated: 0, duplicated: 35 + 20, removed: 0 });
    const source = Array.from(result.origin.source);
    expect(source.slice(0, x.rows)).toEqual(Array.from({ length: x.rows }, (_, i) => i));
    source.slice(x.rows).forEach((s, i) => {
      expect(y[s]).toBe(result.y[x.rows + i]);
      expect(Array.from(row(result.x, x.rows + i))).toEqual(Array.from(row(x, s)));
    });
  });

  it('random-over with shrinkage draws a smoothed bootstrap around the drawn rows (dense only)', () => {
    const { x, y } = input(binaryDense);
    const result = resample({ x, y, featureSpace: 'doc-vectors' }, { method: 'random-over', shrinkage: 0.5 }, new Rng(1));
    expect(result.summary).toMatchObject({ after: [48, 48], generated: 36, duplicated: 0 });
    expect(Array.from(result.origin.generated.kind).every((k) => k === SMOOTHED_BOOTSTRAP)).toBe(true);
    expect(Array.from(result.origin.generated.neighbour).every((n) => n === -1)).toBe(true);
    const sparse = input(binarySparse);
    expect(() => resample(sparse, { method: 'random-over', shrinkage: 0.5 }, new Rng(1))).toThrow(/shrinkage adds Gaussian noise/);
  });

  it('random-under keeps distinct rows of the targeted classes and every row of the others, in input order', () => {
    const { x, y } = input(multiclass);
    const result = resample({ x, y, featureSpace: 'doc-vectors' }, { method: 'random-under', samplingStrategy: { '2': 20 } }, new Rng(2));
    expect(result.summary).toMatchObject({ after: [10, 25, 20], removed: 25, duplicated: 0, generated: 0 });
    const source = Array.from(result.origin.source);
    expect(source.slice(0, 35)).toEqual(Array.from({ length: 35 }, (_, i) => i));
    expect(new Set(source.slice(35)).size).toBe(20);
    source.slice(35).forEach((s) => expect(y[s]).toBe(2));
    // 44 draws with replacement from 45 rows repeat some row with probability 1 - 45!/45^45 ≈ 1
    const withReplacement = resample(
      { x, y, featureSpace: 'doc-vectors' },
      { method: 'random-under', replacement: true, samplingStrategy: { '2': 44 } },
      new Rng(2),
    );
    expect(withReplacement.summary.after).toEqual([10, 25, 44]);
    expect(withReplacement.summary.duplicated).toBeGreaterThan(0);
    expect(withReplacement.summary.removed).toBe(1 + withReplacement.summary.duplicated);
  });
});

describe('chains', () => {
  it('SMOTE then ADASYN: every generated row traces to its parents, including generated ones', () => {
    const { x, y } = input(binaryDense);
    const result = resample(
      { x, y, featureSpace: 'doc-vectors' },
      { method: 'chain', steps: [{ method: 'smote', samplingStrategy: 0.5 }, { method: 'adasyn' }] },
      new Rng(12),
    );
    const steps = result.summary.steps!;
    expect(steps.map((s) => s.method)).toEqual(['smote', 'adasyn']);
    expect(steps[0]!.after).toEqual([24, 48]);
    expect(steps[1]!.before).toEqual([24, 48]);
    expect(result.summary.before).toEqual([12, 48]);
    expect(result.summary.after).toEqual(steps[1]!.after);
    expect(result.summary.generated).toBe(steps[0]!.generated + steps[1]!.generated);
    const { generated } = result.origin;
    expect(Array.from(new Set(generated.step))).toEqual([0, 1]);
    // some ADASYN rows are built from SMOTE rows: their base or neighbour id is a generated one
    const fromGenerated = Array.from(generated.step).filter((s, g) => s === 1 && ((generated.base[g] as number) >= x.rows || (generated.neighbour[g] as number) >= x.rows));
    expect(fromGenerated.length).toBeGreaterThan(0);
    expect(expectOnSegments(x, result)).toBe(result.summary.generated);
  });

  it('keeps the row accounting of every step and of the chain: out = in − removed + duplicated + generated', () => {
    const { x, y } = input(multiclass);
    const steps = [
      { method: 'random-over' as const },
      { method: 'random-under' as const, samplingStrategy: { '0': 20, '1': 30 } },
      { method: 'smote' as const },
    ];
    const result = resample({ x, y, featureSpace: 'doc-vectors' }, { method: 'chain', steps }, new Rng(21));
    const rows = (counts: number[]): number => counts.reduce((s, n) => s + n, 0);
    for (const s of [...result.summary.steps!, result.summary]) {
      expect(rows(s.after)).toBe(rows(s.before) - s.removed + s.duplicated + s.generated);
    }
    expect(result.summary.steps!.map((s) => s.after)).toEqual([
      [45, 45, 45],
      [20, 30, 45],
      [45, 45, 45],
    ]);
    expect(result.summary.steps![1]!.removed).toBe(25 + 15 + 0);
    // the chain's copies are input rows; duplicates of them survive the under-sampling
    const copies = Array.from(result.origin.source).filter((s) => s >= 0);
    expect(result.summary.duplicated).toBe(copies.length - new Set(copies).size);
    expect(result.summary.removed).toBe(x.rows - new Set(copies).size);
    expect(expectOnSegments(x, result)).toBe(result.summary.generated);
  });

  it('reports a chain of no-ops as a no-op', () => {
    const { x, y } = input(separated);
    const result = resample({ x, y, featureSpace: 'doc-vectors' }, { method: 'chain', steps: [{ method: 'none' }, { method: 'adasyn' }] }, new Rng(1));
    expect(result.summary.noOp).toMatch(/every chain step was a no-op: method 'none'.*\| adasyn: no sample of class 0/);
  });
});

describe('feature spaces', () => {
  const tokenIds = (): SamplerInput => {
    const rng = new Rng(3);
    const rows = 30;
    const data = Float32Array.from({ length: rows * 8 }, () => 1 + rng.int(50));
    const y = Int32Array.from({ length: rows }, (_, i) => (i < 8 ? 0 : 1));
    return { x: { data, rows, cols: 8 }, y, featureSpace: 'token-ids' };
  };

  it('checks specs as written, before any data is loaded', () => {
    expect(checkSamplerForFeatureSpace({ method: 'random-over' }, 'tfidf')).toBeUndefined();
    expect(checkSamplerForFeatureSpace({ method: 'smote', allowOnTokenIds: true }, 'token-ids')?.code).toBe('interpolated-token-ids');
    expect(() => checkSamplerForFeatureSpace({ method: 'smote-nc', categoricalFeatures: [0] }, 'tfidf')).toThrow(UlasanError);
    expect(() => checkSamplerForFeatureSpace({ method: 'random-over', shrinkage: 1 }, 'token-ids')).toThrow(/corrupts token ids/);
    expect(() => checkSamplerForFeatureSpace({ method: 'none' }, 'images' as never)).toThrow(/Unknown feature space 'images'/);
  });

  it('allows random over/under-sampling on token ids, unflagged', () => {
    const result = resample(tokenIds(), { method: 'random-over' }, new Rng(1));
    expect(result.flag).toBeUndefined();
    expect(Array.from((result.x as DenseMatrix).data).every((v) => Number.isInteger(v))).toBe(true);
  });

  it('refuses SMOTE on token ids unless allowOnTokenIds, and then flags the result', () => {
    expect(() => resample(tokenIds(), { method: 'smote' }, new Rng(1))).toThrow(/set allowOnTokenIds: true to reproduce a published setup/);
    expect(() =>
      resample(tokenIds(), { method: 'chain', steps: [{ method: 'random-under' }, { method: 'adasyn' }] }, new Rng(1)),
    ).toThrow(/chain step 1 \(adasyn\) interpolates between rows/);
    const result = resample(tokenIds(), { method: 'smote', allowOnTokenIds: true }, new Rng(1));
    expect(result.flag?.code).toBe('interpolated-token-ids');
    expect(result.summary.after).toEqual([22, 22]);
  });
});

describe('sampler spec', () => {
  it("fills in imbalanced-learn's defaults", () => {
    expect(SamplerSpecSchema.parse({ method: 'borderline-smote' })).toEqual({
      method: 'borderline-smote',
      samplingStrategy: 'auto',
      metric: 'euclidean',
      allowOnTokenIds: false,
      kNeighbors: 5,
      mNeighbors: 10,
      kind: 'borderline-1',
    });
    expect(SamplerSpecSchema.parse({ method: 'adasyn' })).toMatchObject({ nNeighbors: 5 });
    expect(SamplerSpecSchema.parse({ method: 'random-under' })).toMatchObject({ replacement: false });
    expect(SamplerSpecSchema.parse({ method: 'random-over' })).toMatchObject({ shrinkage: null });
  });

  it('refuses bad specs naming the field', () => {
    const refused = (spec: unknown): UlasanError => {
      try {
        parseSamplerSpec(spec as never);
      } catch (error) {
        return error as UlasanError;
      }
      throw new Error('spec was accepted');
    };
    expect(refused({ method: 'smote', kNeighbours: 5 }).message).toMatch(/Unrecognized key: "kNeighbours"/);
    expect(refused({ method: 'smote', samplingStrategy: 1.5 }).context.field).toBe('samplingStrategy');
    expect(refused({ method: 'chain', steps: [{ method: 'smote', kNeighbors: 0 }] }).context.field).toBe('steps.0.kNeighbors');
    expect(refused({ method: 'tomek' }).type).toBe('BadInput');
  });

  it('refuses labels and shapes that do not match', () => {
    const { x } = input(binaryDense);
    expect(() => resample({ x, y: new Int32Array(3), featureSpace: 'doc-vectors' }, { method: 'none' }, new Rng(1))).toThrow(
      /Labels have 3 entries but the feature matrix has 60 rows/,
    );
    const csr: CsrMatrix = { indptr: Int32Array.from([0, 2]), indices: Int32Array.from([3, 1]), data: Float32Array.from([1, 2]), rows: 1, cols: 4 };
    expect(() => resample({ x: csr, y: new Int32Array(1), featureSpace: 'tfidf' }, { method: 'none' }, new Rng(1))).toThrow(/unsorted/);
  });
});
