/**
 * Every Arrow codec, write → read → equal, over drawn shapes (0 rows, 1 row, empty rows, wide rows),
 * value ranges (all int32, all float32 bit patterns) and inputs that are views: subarrays with byte
 * offsets, several arrays carved from one shared buffer (overlapping or touching, as after reading a
 * file), and CSR `indptr` sub-ranges. A file the writer produces must read back as what went in
 * (issue 19: a CSR read from a file and written back lost its indices).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  csrFromIPC,
  csrToIPC,
  denseFromIPC,
  denseToIPC,
  type CsrWithRows,
  type DenseWithRows,
  tokenMatrixFromIPC,
  tokenMatrixToIPC,
  type TokenMatrix,
} from './arrow-io';


const RUNS = { numRuns: 150 };

/** Bytes of a typed array's own range: equality of these is bit equality (NaN payloads, -0 included). */
const bytesOf = (array: Int32Array | Float32Array): number[] => Array.from(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));

/**
 * Where each array goes: `own` (a fresh buffer), `offset` (a view after `pad` junk elements of a larger
 * buffer), or `shared` (every array of the draw carved from one buffer, in order, `pad` apart; pad 0
 * makes them touch, as the columns of a file read back do).
 */
type Placement = { mode: 'own' } | { mode: 'offset'; pad: number } | { mode: 'shared'; pad: number };
const placement: fc.Arbitrary<Placement> = fc.oneof(
  fc.constant<Placement>({ mode: 'own' }),
  fc.record({ mode: fc.constant('offset' as const), pad: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ mode: fc.constant('shared' as const), pad: fc.integer({ min: 0, max: 3 }) }),
);

type Typed = Int32Array | Float32Array;

/** Copies `arrays` into the placement's buffers; junk elements around them are 0x7f bytes. */
function place<T extends Typed[]>(arrays: [...T], where: Placement): T {
  if (where.mode === 'own') return arrays.map((a) => a.slice()) as T;
  if (where.mode === 'offset') {
    return arrays.map((a) => {
      const buffer = new ArrayBuffer((a.length + 2 * where.pad) * 4);
      new Uint8Array(buffer).fill(0x7f);
      const view = new (a.constructor as Int32ArrayConstructor)(buffer, where.pad * 4, a.length);
      view.set(a as Int32Array);
      return view;
    }) as T;
  }
  const total = arrays.reduce((sum, a) => sum + a.length + where.pad, where.pad);
  const buffer = new ArrayBuffer(total * 4);
  new Uint8Array(buffer).fill(0x7f);
  let at = where.pad;
  return arrays.map((a) => {
    const view = new (a.constructor as Int32ArrayConstructor)(buffer, at * 4, a.length);
    view.set(a as Int32Array);
    at += a.length + where.pad;
    return view;
  }) as T;
}

const int32s = (length: number) => fc.array(fc.integer(), { minLength: length, maxLength: length }).map((v) => Int32Array.from(v));
const float32s = (length: number) =>
  fc.array(fc.integer(), { minLength: length, maxLength: length }).map((bits) => new Float32Array(Int32Array.from(bits).buffer));

/** 0 rows, 1 row, a few, and the occasional wide row. */
const shape = fc.record({
  rows: fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 2, max: 7 })),
  width: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 200, max: 700 })),
});

const ROW_COLUMN_NAMES = ['source_row', 'label', 'fold'];
/** 0 to 3 extra Int32 row columns; `same` makes them all one view (a caller passing one array twice). */
const rowColumnsFor = (rows: number) =>
  fc.record({ count: fc.integer({ min: 0, max: 3 }), same: fc.boolean(), values: fc.array(int32s(rows), { minLength: 3, maxLength: 3 }) });

function withRowColumns(drawn: { count: number; same: boolean; values: Int32Array[] }, placed: Int32Array[]): Record<string, Int32Array> | undefined {
  if (drawn.count === 0) return undefined;
  const names = ROW_COLUMN_NAMES.slice(0, drawn.count);
  return Object.fromEntries(names.map((name, i) => [name, drawn.same ? placed[0]! : placed[i]!]));
}

function expectRowColumns(actual: Record<string, Int32Array> | undefined, expected: Record<string, Int32Array> | undefined): void {
  expect(Object.keys(actual ?? {})).toEqual(Object.keys(expected ?? {}));
  for (const [name, values] of Object.entries(expected ?? {})) expect(bytesOf(actual![name]!)).toEqual(bytesOf(values));
}

describe('token-matrix codec', () => {
  it('reads back what it wrote, whatever the shape, values and views', async () => {
    const draw = shape.chain(({ rows, width }) =>
      fc.record({ rows: fc.constant(rows), width: fc.constant(width), ids: int32s(rows * width), labels: int32s(rows), source: int32s(rows), where: placement, same: fc.boolean() }),
    );
    await fc.assert(
      fc.asyncProperty(draw, async ({ rows, width, ids, labels, source, where, same }) => {
        const [placedIds, placedLabels, placedSource] = place([ids, labels, source], where);
        const matrix: TokenMatrix = { ids: placedIds!, labels: placedLabels!, sourceRows: same ? placedLabels! : placedSource!, rows, seqLen: width };
        const back = tokenMatrixFromIPC(tokenMatrixToIPC(matrix));
        expect([back.rows, back.seqLen]).toEqual([rows, width]);
        expect(bytesOf(back.ids)).toEqual(bytesOf(ids));
        expect(bytesOf(back.labels)).toEqual(bytesOf(labels));
        expect(bytesOf(back.sourceRows)).toEqual(bytesOf(same ? labels : source));
      }),
      RUNS,
    );
  });
});

describe('dense codec', () => {
  it('reads back what it wrote, with and without words, counts and row columns', () => {
    const draw = shape.chain(({ rows, width }) =>
      fc.record({
        rows: fc.constant(rows),
        width: fc.constant(width),
        values: float32s(rows * width),
        words: fc.option(fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }), { minLength: rows, maxLength: rows }), { nil: undefined }),
        counts: fc.option(int32s(rows), { nil: undefined }),
        extra: rowColumnsFor(rows),
        where: placement,
      }),
    );
    fc.assert(
      fc.property(draw, ({ rows, width, values, words, counts, extra, where }) => {
        const [placedValues, ...rest] = place([values, ...extra.values, ...(counts ? [counts] : [])], where);
        const matrix: DenseWithRows = { data: placedValues as Float32Array, rows, cols: width };
        if (words) matrix.words = words;
        if (counts) matrix.counts = rest[3] as Int32Array;
        const rowColumns = withRowColumns(extra, rest.slice(0, 3) as Int32Array[]);
        if (rowColumns) matrix.rowColumns = rowColumns;
        const back = denseFromIPC(denseToIPC(matrix));
        expect([back.rows, back.cols]).toEqual([rows, width]);
        expect(bytesOf(back.data)).toEqual(bytesOf(values));
        expect(back.words).toEqual(words);
        expect(back.counts ? bytesOf(back.counts) : undefined).toEqual(counts ? bytesOf(counts) : undefined);
        expectRowColumns(back.rowColumns, rowColumns);
      }),
      RUNS,
    );
  });
});

/** A CSR of `rows` rows (some empty) over `cols` columns, as plain arrays. */
const csrParts = fc
  .record({ rows: fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 2, max: 9 })), cols: fc.integer({ min: 1, max: 5000 }) })
  .chain(({ rows, cols }) =>
    fc.record({
      rows: fc.constant(rows),
      cols: fc.constant(cols),
      // Row lengths: empty rows, short ones, and the occasional wide one.
      lengths: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 100, max: 400 })), { minLength: rows, maxLength: rows }),
    }),
  )
  .chain(({ rows, cols, lengths }) => {
    const nnz = lengths.reduce((sum, n) => sum + n, 0);
    return fc.record({
      rows: fc.constant(rows),
      cols: fc.constant(cols),
      indptr: fc.constant(Int32Array.from([0, ...lengths.map((_, i) => lengths.slice(0, i + 1).reduce((s, n) => s + n, 0))])),
      indices: fc.array(fc.integer({ min: 0, max: cols - 1 }), { minLength: nnz, maxLength: nnz }).map((v) => Int32Array.from(v)),
      data: float32s(nnz),
      extra: rowColumnsFor(rows),
      where: placement,
      // A row range [from, from + count) of the matrix, passed as an indptr sub-range over the whole indices/data.
      range: fc.record({ from: fc.nat(), count: fc.nat() }),
    });
  });

describe('CSR codec', () => {
  it('reads back what it wrote, with views, shared buffers and row columns', () => {
    fc.assert(
      fc.property(csrParts, ({ rows, cols, indptr, indices, data, extra, where }) => {
        const [placedIndptr, placedIndices, placedData, ...placedColumns] = place([indptr, indices, data, ...extra.values], where);
        const matrix: CsrWithRows = { indptr: placedIndptr!, indices: placedIndices!, data: placedData as Float32Array, rows, cols };
        const rowColumns = withRowColumns(extra, placedColumns as Int32Array[]);
        if (rowColumns) matrix.rowColumns = rowColumns;
        const back = csrFromIPC(csrToIPC(matrix, { vectorizer: 'tfidf' }));
        expect([back.rows, back.cols]).toEqual([rows, cols]);
        expect(Array.from(back.indptr)).toEqual(Array.from(indptr));
        expect(bytesOf(back.indices)).toEqual(bytesOf(indices));
        expect(bytesOf(back.data)).toEqual(bytesOf(data));
        expectRowColumns(back.rowColumns, rowColumns);
        expect(back.metadata).toEqual({ vectorizer: 'tfidf' });
      }),
      RUNS,
    );
  });

  it('writes a row range given as an indptr sub-range over the whole indices and values', () => {
    fc.assert(
      fc.property(csrParts, ({ rows, cols, indptr, indices, data, where, range }) => {
        const from = rows === 0 ? 0 : range.from % (rows + 1);
        const count = range.count % (rows - from + 1);
        const [placedIndptr, placedIndices, placedData] = place([indptr, indices, data], where);
        const sub = placedIndptr!.subarray(from, from + count + 1);
        const back = csrFromIPC(csrToIPC({ indptr: sub, indices: placedIndices!, data: placedData as Float32Array, rows: count, cols }));
        const [start, end] = [indptr[from]!, indptr[from + count]!];
        expect(back.rows).toBe(count);
        expect(Array.from(back.indptr)).toEqual(Array.from(indptr.subarray(from, from + count + 1), (offset) => offset - start));
        expect(bytesOf(back.indices)).toEqual(bytesOf(indices.subarray(start, end)));
        expect(bytesOf(back.data)).toEqual(bytesOf(data.subarray(start, end)));
      }),
      RUNS,
    );
  });

  it('writes back a CSR read from a file unchanged (the layout of issue 19: indptr right before indices)', () => {
    // An odd row count makes indptr a multiple of 8 bytes long, so no padding separates it from indices.
    fc.assert(
      fc.property(csrParts.filter(({ rows, indptr }) => rows % 2 === 1 && indptr[rows]! > 0), ({ rows, cols, indptr, indices, data, extra }) => {
        const labels = extra.values[0]!;
        const first = csrToIPC({ indptr, indices, data, rows, cols, rowColumns: { source_row: extra.values[1]!, label: labels } });
        const read = csrFromIPC(first);
        expect(read.indices.byteOffset).toBe(read.indptr.byteOffset + read.indptr.byteLength);
        const again = csrToIPC(read, read.metadata);
        expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});
