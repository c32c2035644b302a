/**
 * Padded token-id matrices as Arrow IPC files: columns `source_row` (Int32), `label` (Int32) and
 * `ids` (FixedSizeList<Int32>[seqLen]). The ids of all rows are one contiguous Int32 buffer, so a
 * reader maps them into an `Int32Array` without per-row conversion, and pyarrow/DuckDB read the file as is.
 */
import { readFile, writeFile } from 'node:fs/promises';
// apache-arrow loads on first use, so cache-hit runs never load it.
import type { FixedSizeList } from 'apache-arrow';
import { UlasanError } from '../errors';

export interface TokenMatrix {
  /** Row-major ids, `rows × seqLen`. */
  ids: Int32Array;
  labels: Int32Array;
  sourceRows: Int32Array;
  rows: number;
  seqLen: number;
}

export async function tokenMatrixToIPC(matrix: TokenMatrix): Promise<Uint8Array> {
  const { Field, FixedSizeList, Int32, Table, makeData, makeVector, tableToIPC } = await import('apache-arrow');
  const { ids, labels, sourceRows, rows, seqLen } = matrix;
  const child = makeData({ type: new Int32(), length: rows * seqLen, data: ids });
  const type = new FixedSizeList(seqLen, new Field('id', new Int32(), false));
  const table = new Table({
    source_row: makeVector(makeData({ type: new Int32(), length: rows, data: sourceRows })),
    label: makeVector(makeData({ type: new Int32(), length: rows, data: labels })),
    ids: makeVector(makeData({ type, length: rows, nullCount: 0, child })),
  });
  return tableToIPC(table, 'file');
}

/** One contiguous typed array for a column, copying only when Arrow split it into several batches. */
function contiguousInt32(chunks: readonly { values: Int32Array; offset: number; length: number }[], width: number): Int32Array {
  if (chunks.length === 1) {
    const only = chunks[0]!;
    return only.values.subarray(only.offset * width, (only.offset + only.length) * width);
  }
  const total = chunks.reduce((sum, c) => sum + c.length * width, 0);
  const out = new Int32Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c.values.subarray(c.offset * width, (c.offset + c.length) * width), at);
    at += c.length * width;
  }
  return out;
}

export async function tokenMatrixFromIPC(bytes: Uint8Array, file = 'token matrix'): Promise<TokenMatrix> {
  const { FixedSizeList, tableFromIPC } = await import('apache-arrow');
  const table = tableFromIPC(bytes);
  const idsColumn = table.getChild('ids');
  const type = idsColumn?.type as FixedSizeList | undefined;
  if (!idsColumn || !(type instanceof FixedSizeList)) {
    throw new UlasanError('CorruptArtifact', `${file} has no FixedSizeList column 'ids'.`, { file });
  }
  const seqLen = type.listSize;
  const int32 = (name: string, width: number): Int32Array => {
    const column = table.getChild(name);
    if (!column) throw new UlasanError('CorruptArtifact', `${file} has no column '${name}'.`, { file });
    const chunks = column.data.map((d) => {
      const values = (width === 1 ? d.values : d.children[0]!.values) as Int32Array;
      return { values, offset: d.offset, length: d.length };
    });
    return contiguousInt32(chunks, width);
  };
  return { ids: int32('ids', seqLen), labels: int32('label', 1), sourceRows: int32('source_row', 1), rows: table.numRows, seqLen };
}

export async function writeTokenMatrix(path: string, matrix: TokenMatrix): Promise<void> {
  await writeFile(path, await tokenMatrixToIPC(matrix));
}

export async function readTokenMatrix(path: string): Promise<TokenMatrix> {
  return tokenMatrixFromIPC(new Uint8Array(await readFile(path)), path);
}

const rowKey = (m: TokenMatrix, row: number) => m.ids.subarray(row * m.seqLen, (row + 1) * m.seqLen).join(',');

/** Share of `test` rows whose token sequence also occurs in `train` (exact copies: the leakage measure). */
export function shareOfCopies(train: TokenMatrix, test: TokenMatrix): number {
  if (test.rows === 0) return 0;
  const seen = new Set<string>();
  for (let row = 0; row < train.rows; row++) seen.add(rowKey(train, row));
  let copies = 0;
  for (let row = 0; row < test.rows; row++) if (seen.has(rowKey(test, row))) copies++;
  return copies / test.rows;
}

/** The given rows of a token matrix, in the given order (a copy). */
export function takeTokenRows(m: TokenMatrix, rows: readonly number[]): TokenMatrix {
  const ids = new Int32Array(rows.length * m.seqLen);
  rows.forEach((row, i) => ids.set(m.ids.subarray(row * m.seqLen, (row + 1) * m.seqLen), i * m.seqLen));
  const pick = (column: Int32Array) => Int32Array.from(rows, (row) => column[row]!);
  return { ids, labels: pick(m.labels), sourceRows: pick(m.sourceRows), rows: rows.length, seqLen: m.seqLen };
}
