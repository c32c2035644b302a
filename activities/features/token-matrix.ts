/**
 * Padded token-id matrices as Arrow IPC files: columns `source_row` (Int32), `label` (Int32) and
 * `ids` (FixedSizeList<Int32>[seqLen]). The ids of all rows are one contiguous Int32 buffer, so a
 * reader maps them into an `Int32Array` without per-row conversion, and pyarrow/DuckDB read the file as is.
 */
import { writeFile } from 'node:fs/promises';
import { UlasanError } from '../../core/errors';

export interface TokenMatrix {
  /** Row-major ids, `rows × seqLen`. */
  ids: Int32Array;
  labels: Int32Array;
  sourceRows: Int32Array;
  rows: number;
  seqLen: number;
}

export async function tokenMatrixToIPC(matrix: TokenMatrix): Promise<Uint8Array> {
  const { Field, FixedSizeList, Int32, Table, makeData, makeVector } = await import('apache-arrow');
  const { tableToFileBytes } = await import('./arrow-io');
  const { ids, labels, sourceRows, rows, seqLen } = matrix;
  const child = makeData({ type: new Int32(), length: rows * seqLen, data: ids });
  const type = new FixedSizeList(seqLen, new Field('id', new Int32(), false));
  const table = new Table({
    source_row: makeVector(makeData({ type: new Int32(), length: rows, data: sourceRows })),
    label: makeVector(makeData({ type: new Int32(), length: rows, data: labels })),
    ids: makeVector(makeData({ type, length: rows, nullCount: 0, child })),
  });
  return tableToFileBytes(table);
}

/** Reads a token matrix with arrow-io's token-id reader (views on `bytes`; 0 rows and several batches included). */
export async function tokenMatrixFromIPC(bytes: Uint8Array, file = 'token matrix'): Promise<TokenMatrix> {
  const { tokenIdsFromIPC } = await import('./arrow-io');
  const { ids, rows, length, rowColumns } = tokenIdsFromIPC(bytes, file);
  const labels = rowColumns?.label;
  const sourceRows = rowColumns?.source_row;
  if (!labels || !sourceRows) {
    throw new UlasanError('CorruptArtifact', `${file} lacks the 'label' or 'source_row' column.`, { file });
  }
  return { ids, labels, sourceRows, rows, seqLen: length };
}

export async function writeTokenMatrix(path: string, matrix: TokenMatrix): Promise<void> {
  await writeFile(path, await tokenMatrixToIPC(matrix));
}

export async function readTokenMatrix(path: string): Promise<TokenMatrix> {
  const { readAligned } = await import('./arrow-io');
  return tokenMatrixFromIPC(await readAligned(path), path);
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
