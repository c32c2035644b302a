import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
  readCsr,
  readDense,
  readTokenIds,
  tokenIdsFromIPC,
  tokenIdsToIPC,
  writeCsr,
  writeDense,
  writeTokenIds,
  type DenseMatrix,
  type TokenIdMatrix,
} from './arrow-io';
import type { CsrMatrix } from './tfidf';

const rng = new Rng(5);
const tokenIds: TokenIdMatrix = { ids: Int32Array.from({ length: 7 * 16 }, () => rng.int(5000)), rows: 7, length: 16 };
const wordVectors: DenseMatrix = {
  values: Float32Array.from({ length: 4 * 3 }, () => rng.next() - 0.5),
  rows: 4,
  dim: 3,
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
  it('round-trip through a file, with metadata', async () => {
    const path = join(dir, 'ids.arrow');
    await writeTokenIds(path, tokenIds, { padding: 'post', vocabSize: '5000' });
    const back = await readTokenIds(path);
    expect(Array.from(back.ids)).toEqual(Array.from(tokenIds.ids));
    expect([back.rows, back.length]).toEqual([7, 16]);
    expect(back.metadata).toEqual({ padding: 'post', vocabSize: '5000' });
    expect(back.rowColumns).toBeUndefined();
  });

  it('carry extra per-row Int32 columns such as source row and label', () => {
    const rowColumns = {
      source_row: Int32Array.from([4, 0, 9, 2, 7, 1, 3]),
      label: Int32Array.from([1, 0, 1, 1, 0, 0, 1]),
    };
    const bytes = tokenIdsToIPC({ ...tokenIds, rowColumns });
    const back = tokenIdsFromIPC(bytes);
    expect(Object.keys(back.rowColumns ?? {})).toEqual(['source_row', 'label']);
    expect(Array.from(back.rowColumns?.source_row ?? [])).toEqual(Array.from(rowColumns.source_row));
    expect(Array.from(back.rowColumns?.label ?? [])).toEqual(Array.from(rowColumns.label));
    expect(back.rowColumns?.label?.buffer).toBe(bytes.buffer);
    expect(Array.from(back.ids)).toEqual(Array.from(tokenIds.ids));
    expect(() => tokenIdsToIPC({ ...tokenIds, rowColumns: { label: new Int32Array(3) } })).toThrow(
      "matrix has 7 rows but 3 'label' values; pass one per row",
    );
    expect(() => tokenIdsToIPC({ ...tokenIds, rowColumns: { ids: new Int32Array(7) } })).toThrow('clashes');
  });

  it('read back as a view on the file bytes, not a copy', () => {
    const bytes = tokenIdsToIPC(tokenIds);
    const back = tokenIdsFromIPC(bytes);
    expect(back.ids.buffer).toBe(bytes.buffer);
  });

  it('write the same bytes for the same input', async () => {
    await writeTokenIds(join(dir, 'a.arrow'), tokenIds, { b: '2', a: '1' });
    await writeTokenIds(join(dir, 'b.arrow'), { ...tokenIds, ids: tokenIds.ids.slice() }, { a: '1', b: '2' });
    expect((await readFile(join(dir, 'a.arrow'))).equals(await readFile(join(dir, 'b.arrow')))).toBe(true);
  });

  it('join several record batches from other writers into one matrix', () => {
    const type = new FixedSizeList(2, new Field('item', new Int32(), false));
    const schema = new Schema([new Field('ids', type, false)]);
    const batch = (values: number[]) =>
      new RecordBatch(
        schema,
        makeData({
          type: new Struct(schema.fields),
          length: values.length / 2,
          nullCount: 0,
          children: [
            makeData({
              type,
              length: values.length / 2,
              nullCount: 0,
              child: makeData({ type: new Int32(), length: values.length, data: Int32Array.from(values) }),
            }),
          ],
        }),
      );
    const bytes = tableToIPC(new Table(schema, [batch([1, 2, 3, 4]), batch([5, 6])]), 'file');
    const back = tokenIdsFromIPC(bytes);
    expect(Array.from(back.ids)).toEqual([1, 2, 3, 4, 5, 6]);
    expect([back.rows, back.length]).toEqual([3, 2]);
  });

  it('refuse a matrix whose size does not match its shape', () => {
    expect(() => tokenIdsToIPC({ ids: new Int32Array(5), rows: 2, length: 3 })).toThrow(
      'token ids: 5 values do not fill 2 rows × 3; pass rows × width values',
    );
  });
});

describe('dense matrices', () => {
  it('round-trip word vectors with their words', async () => {
    const path = join(dir, 'vectors.arrow');
    await writeDense(path, wordVectors, { model: 'word2vec' });
    const back = await readDense(path);
    expect(Array.from(back.values)).toEqual(Array.from(wordVectors.values));
    expect(back.words).toEqual(wordVectors.words);
    expect(Array.from(back.counts ?? [])).toEqual([40, 31, 31, 2]);
    expect([back.rows, back.dim]).toEqual([4, 3]);
    expect(back.metadata).toEqual({ model: 'word2vec' });
  });

  it('round-trip document vectors without words, as a view', () => {
    const label = Int32Array.from([0, 1]);
    const docs: DenseMatrix = { values: wordVectors.values, rows: 2, dim: 6, rowColumns: { label } };
    const bytes = denseToIPC(docs);
    const back = denseFromIPC(bytes);
    expect(back.words).toBeUndefined();
    expect(back.counts).toBeUndefined();
    expect(Array.from(back.rowColumns?.label ?? [])).toEqual([0, 1]);
    expect(Array.from(back.values)).toEqual(Array.from(docs.values));
    expect(back.values.buffer).toBe(bytes.buffer);
  });

  it('write the same bytes for the same input', () => {
    expect(Buffer.from(denseToIPC(wordVectors)).equals(Buffer.from(denseToIPC({ ...wordVectors })))).toBe(true);
  });

  it('refuse to read another kind of feature file', () => {
    expect(() => denseFromIPC(tokenIdsToIPC(tokenIds), 'ids.arrow')).toThrow(
      'ids.arrow holds ulasan token-ids features, not dense; pass the right file',
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
