import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, FixedSizeList, Int32, RecordBatch, Schema, Struct, Table, makeData, tableToIPC } from 'apache-arrow';
import { Rng } from '../../data/random';
import {
  csrFromIPC,
  csrToIPC,
  denseFromIPC,
  denseToIPC,
  readDense,
  tokenMatrixFromIPC,
  tokenMatrixToIPC,
  writeDense,
  type DenseWithRows,
  type TokenMatrix,
} from './arrow-io';
import type { CsrMatrix } from './tfidf';
import { readTokenMatrix, writeTokenMatrix } from './token-matrix';
import { readCsr, writeCsr } from './testing/csr-files';

const rng = new Rng(5);
const tokenIds: TokenMatrix = {
  ids: Int32Array.from({ length: 7 * 16 }, () => rng.int(5000)),
  sourceRows: Int32Array.from([4, 0, 9, 2, 7, 1, 3]),
  labels: Int32Array.from([1, 0, 1, 1, 0, 0, 1]),
  rows: 7,
  seqLen: 16,
};
const wordVectors: DenseWithRows = {
  data: Float32Array.from({ length: 4 * 3 }, () => rng.next() - 0.5),
  rows: 4,
  cols: 3,
  words: ['bagus', 'aplikasi', 'dokter', 'café'],
  counts: Int32Array.from([40, 31, 31, 2]),
};
const csr: CsrMatrix = {
  indptr: Int32Array.from([0, 2, 2, 5, 6]),
  indices: Int32Array.from([1, 7, 0, 3, 9, 4]),
  data: Float32Array.from([0.6, 0.8, 0.1, 0.2, 0.3, 1]),
  rows: 4,
  cols: 10,
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ulasan-arrow-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('token-id matrices', () => {
  it('round-trip through a file with their labels and source rows', async () => {
    const path = join(dir, 'ids.arrow');
    await writeTokenMatrix(path, tokenIds);
    const back = await readTokenMatrix(path);
    expect(Array.from(back.ids)).toEqual(Array.from(tokenIds.ids));
    expect([back.rows, back.seqLen]).toEqual([7, 16]);
    expect(Array.from(back.sourceRows)).toEqual(Array.from(tokenIds.sourceRows));
    expect(Array.from(back.labels)).toEqual(Array.from(tokenIds.labels));
  });

  it('read back as views on the file bytes, not copies', () => {
    const bytes = tokenMatrixToIPC(tokenIds);
    const back = tokenMatrixFromIPC(bytes);
    expect(back.ids.buffer).toBe(bytes.buffer);
    expect(back.labels.buffer).toBe(bytes.buffer);
  });

  it('write the same bytes for the same input', () => {
    const again = tokenMatrixToIPC({ ...tokenIds, ids: tokenIds.ids.slice() });
    expect(Buffer.from(again).equals(Buffer.from(tokenMatrixToIPC(tokenIds)))).toBe(true);
  });

  it('refuse a file without labels or source rows', () => {
    const ids = makeData({ type: new Int32(), length: 4, data: Int32Array.from([1, 2, 3, 4]) });
    const type = new FixedSizeList(2, new Field('item', new Int32(), false));
    const schema = new Schema([new Field('ids', type, false)]);
    const struct = makeData({ type: new Struct(schema.fields), length: 2, nullCount: 0, children: [makeData({ type, length: 2, nullCount: 0, child: ids })] });
    const bytes = tableToIPC(new Table(schema, [new RecordBatch(schema, struct)]), 'file');
    expect(() => tokenMatrixFromIPC(bytes, 'ids.arrow')).toThrow("ids.arrow lacks the 'label' or 'source_row' column.");
  });

  it('join several record batches from other writers into one matrix', () => {
    const type = new FixedSizeList(2, new Field('item', new Int32(), false));
    const int32 = (values: number[]) => makeData({ type: new Int32(), length: values.length, nullCount: 0, data: Int32Array.from(values) });
    const schema = new Schema([new Field('source_row', new Int32(), false), new Field('label', new Int32(), false), new Field('ids', type, false)]);
    const batch = (values: number[], rows: number[]) =>
      new RecordBatch(
        schema,
        makeData({
          type: new Struct(schema.fields),
          length: rows.length,
          nullCount: 0,
          children: [int32(rows), int32(rows.map((row) => row % 2)), makeData({ type, length: rows.length, nullCount: 0, child: int32(values) })],
        }),
      );
    const bytes = tableToIPC(new Table(schema, [batch([1, 2, 3, 4], [0, 1]), batch([5, 6], [2])]), 'file');
    const back = tokenMatrixFromIPC(bytes);
    expect(Array.from(back.ids)).toEqual([1, 2, 3, 4, 5, 6]);
    expect([back.rows, back.seqLen]).toEqual([3, 2]);
    expect(Array.from(back.sourceRows)).toEqual([0, 1, 2]);
    expect(Array.from(back.labels)).toEqual([0, 1, 0]);
  });

  it('refuse a matrix whose size does not match its shape', () => {
    const rows = new Int32Array(2);
    expect(() => tokenMatrixToIPC({ ids: new Int32Array(5), labels: rows, sourceRows: rows, rows: 2, seqLen: 3 })).toThrow(
      'token ids: 5 values do not fill 2 rows × 3; pass rows × width values',
    );
    expect(() => tokenMatrixToIPC({ ...tokenIds, labels: new Int32Array(3) })).toThrow('matrix has 7 rows but 3 labels; pass one per row');
  });
});

describe('dense matrices', () => {
  it('round-trip word vectors with their words', async () => {
    const path = join(dir, 'vectors.arrow');
    await writeDense(path, wordVectors, { model: 'word2vec' });
    const back = await readDense(path);
    expect(Array.from(back.data)).toEqual(Array.from(wordVectors.data));
    expect(back.words).toEqual(wordVectors.words);
    expect(Array.from(back.counts ?? [])).toEqual([40, 31, 31, 2]);
    expect([back.rows, back.cols]).toEqual([4, 3]);
    expect(back.metadata).toEqual({ model: 'word2vec' });
  });

  it('round-trip document vectors without words, as a view', () => {
    const label = Int32Array.from([0, 1]);
    const docs: DenseWithRows = { data: wordVectors.data, rows: 2, cols: 6, rowColumns: { label } };
    const bytes = denseToIPC(docs);
    const back = denseFromIPC(bytes);
    expect(back.words).toBeUndefined();
    expect(back.counts).toBeUndefined();
    expect(Array.from(back.rowColumns?.label ?? [])).toEqual([0, 1]);
    expect(Array.from(back.data)).toEqual(Array.from(docs.data));
    expect(back.data.buffer).toBe(bytes.buffer);
  });

  it('write the same bytes for the same input', () => {
    expect(Buffer.from(denseToIPC(wordVectors)).equals(Buffer.from(denseToIPC({ ...wordVectors })))).toBe(true);
  });

  it('refuse to read another kind of feature file', () => {
    expect(() => csrFromIPC(denseToIPC(wordVectors), 'vectors.arrow')).toThrow(
      'vectors.arrow holds ulasan dense features, not csr; pass the right file',
    );
  });
});

describe('CSR matrices', () => {
  it('round-trip through a file, with list offsets as indptr', async () => {
    const path = join(dir, 'tfidf.arrow');
    await writeCsr(path, csr, { vectorizer: 'tfidf' });
    const back = await readCsr(path);
    expect(Array.from(back.indptr)).toEqual(Array.from(csr.indptr));
    expect(Array.from(back.indices)).toEqual(Array.from(csr.indices));
    expect(Array.from(back.data)).toEqual(Array.from(csr.data));
    expect([back.rows, back.cols]).toEqual([4, 10]);
    expect(back.metadata).toEqual({ vectorizer: 'tfidf' });
  });

  it('read back as views on the bytes', () => {
    const bytes = csrToIPC(csr);
    const back = csrFromIPC(bytes);
    for (const array of [back.indptr, back.indices, back.data]) expect(array.buffer).toBe(bytes.buffer);
  });

  it('write the same bytes for the same input', () => {
    expect(Buffer.from(csrToIPC(csr)).equals(Buffer.from(csrToIPC({ ...csr, data: csr.data.slice() })))).toBe(true);
  });

  it('refuse an inconsistent matrix and damaged bytes', async () => {
    expect(() => csrToIPC({ ...csr, rows: 3 })).toThrow('CSR matrix is inconsistent');
    const path = join(dir, 'broken.arrow');
    await writeFile(path, csrToIPC(csr).subarray(0, 100));
    await expect(readCsr(path)).rejects.toMatchObject({ type: 'CorruptArtifact', context: { file: path } });
  });
});
