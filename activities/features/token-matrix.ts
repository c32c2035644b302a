/**
 * Padded token-id matrices in files (the codec is arrow-io.ts's `tokenMatrixToIPC` / `tokenMatrixFromIPC`),
 * and the row operations the stages share: exact-copy share (leakage) and row selection.
 */
import { writeFile } from 'node:fs/promises';
import { readAligned, tokenMatrixFromIPC, tokenMatrixToIPC, type TokenMatrix } from './arrow-io';

export { tokenMatrixFromIPC, tokenMatrixToIPC, type TokenMatrix };

export async function writeTokenMatrix(path: string, matrix: TokenMatrix): Promise<void> {
  await writeFile(path, tokenMatrixToIPC(matrix));
}

export async function readTokenMatrix(path: string): Promise<TokenMatrix> {
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
