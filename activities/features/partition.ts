/**
 * One partition (train, val, test, or a resampled train) of a features artifact, whatever its layout:
 * padded token ids (token-matrix.ts), a dense float matrix (document vectors) or CSR (TF-IDF), each
 * row with its `label` and `source_row` (-1 for rows a sampler synthesised).
 *
 * The layout is read from the file itself (arrow-io's `ulasan.kind` schema metadata; token-id files
 * written by token-matrix.ts carry none), so the resample, leaky-split, train and evaluate stages need
 * no side channel to know what they hold. Loads apache-arrow: import this module lazily.
 */
import { writeFile } from 'node:fs/promises';
import { RecordBatchReader } from 'apache-arrow';
import type { CsrMatrix, DenseMatrix } from '../../data/matrix';
import { UlasanError } from '../../core/errors';
import { takeRows } from '../resample/matrix';
import { csrFromIPC, csrToIPC, denseFromIPC, denseToIPC, readAligned, tokenMatrixFromIPC, tokenMatrixToIPC, type ArrowMetadata } from './arrow-io';
import { shareOfCopies, takeTokenRows, type TokenMatrix } from './token-matrix';

export type FeatureLayout = 'token-ids' | 'dense' | 'csr';

interface RowInfo {
  labels: Int32Array;
  sourceRows: Int32Array;
  rows: number;
}

export type FeaturePartition =
  | ({ layout: 'token-ids'; matrix: TokenMatrix } & RowInfo)
  | ({ layout: 'dense'; x: DenseMatrix; metadata: ArrowMetadata } & RowInfo)
  | ({ layout: 'csr'; x: CsrMatrix; metadata: ArrowMetadata } & RowInfo);

const KIND_KEY = 'ulasan.kind';

/** The layout of an Arrow IPC feature file, from its schema (no record batch is decoded). */
export function layoutOf(bytes: Uint8Array, file: string): FeatureLayout {
  let kind: string | undefined;
  try {
    const reader = RecordBatchReader.from(bytes);
    reader.open();
    kind = reader.schema.metadata.get(KIND_KEY);
  } catch (err) {
    throw new UlasanError('CorruptArtifact', `${file} is not an Arrow IPC file (${String(err)}).`, {
      file,
    });
  }
  if (kind === undefined || kind === 'token-ids') return 'token-ids';
  if (kind === 'dense' || kind === 'csr') return kind;
  throw new UlasanError('CorruptArtifact', `${file} holds features of unknown kind '${kind}'.`, { file });
}

function rowInfo(columns: Record<string, Int32Array> | undefined, rows: number, file: string): RowInfo {
  const labels = columns?.label;
  const sourceRows = columns?.source_row;
  if (!labels || !sourceRows) {
    throw new UlasanError('CorruptArtifact', `${file} lacks the 'label' or 'source_row' column.`, { file });
  }
  return { labels, sourceRows, rows };
}

/** Reads a partition file; typed arrays are views on the bytes read (no per-row conversion). */
export async function readPartition(path: string): Promise<FeaturePartition> {
  const bytes = await readAligned(path);
  const layout = layoutOf(bytes, path);
  if (layout === 'token-ids') {
    const matrix = tokenMatrixFromIPC(bytes, path);
    return { layout, matrix, labels: matrix.labels, sourceRows: matrix.sourceRows, rows: matrix.rows };
  }
  if (layout === 'dense') {
    const { data, rows, cols, rowColumns, metadata } = denseFromIPC(bytes, path);
    return { layout, x: { data, rows, cols }, metadata, ...rowInfo(rowColumns, rows, path) };
  }
  const { rowColumns, metadata, ...x } = csrFromIPC(bytes, path);
  return { layout, x, metadata, ...rowInfo(rowColumns, x.rows, path) };
}

/** Writes a partition in its layout (same input, same bytes). */
export async function writePartition(path: string, partition: FeaturePartition): Promise<void> {
  await writeFile(path, await partitionToIPC(partition));
}

async function partitionToIPC(partition: FeaturePartition): Promise<Uint8Array> {
  const rowColumns = { source_row: partition.sourceRows, label: partition.labels };
  switch (partition.layout) {
    case 'token-ids':
      return tokenMatrixToIPC(partition.matrix);
    case 'dense': {
      const { data, rows, cols } = partition.x;
      return denseToIPC({ data, rows, cols, rowColumns }, partition.metadata);
    }
    case 'csr':
      return csrToIPC({ ...partition.x, rowColumns }, partition.metadata);
  }
}

/** The given rows, in the given order, in the same layout. */
export function takePartitionRows(partition: FeaturePartition, rows: readonly number[]): FeaturePartition {
  const labels = Int32Array.from(rows, (row) => partition.labels[row]!);
  const sourceRows = Int32Array.from(rows, (row) => partition.sourceRows[row]!);
  const info = { labels, sourceRows, rows: rows.length };
  if (partition.layout === 'token-ids') return { layout: 'token-ids', matrix: takeTokenRows(partition.matrix, rows), ...info };
  const x = takeRows(partition.x, Int32Array.from(rows));
  return partition.layout === 'dense'
    ? { layout: 'dense', x: x as DenseMatrix, metadata: partition.metadata, ...info }
    : { layout: 'csr', x: x as CsrMatrix, metadata: partition.metadata, ...info };
}

/** One string per row that is equal exactly when two rows hold the same features. */
function rowKeys(partition: Exclude<FeaturePartition, { layout: 'token-ids' }>): string[] {
  const keys: string[] = [];
  for (let row = 0; row < partition.rows; row++) {
    if (partition.layout === 'dense') {
      const { data, cols } = partition.x;
      keys.push(data.subarray(row * cols, (row + 1) * cols).join(','));
    } else {
      const { indptr, indices, data } = partition.x;
      const [start, end] = [indptr[row]!, indptr[row + 1]!];
      keys.push(`${indices.subarray(start, end).join(',')}|${data.subarray(start, end).join(',')}`);
    }
  }
  return keys;
}

/** Share of `test` rows whose features equal a `train` row's (exact copies: the leakage measure). */
export function shareOfRowCopies(train: FeaturePartition, test: FeaturePartition): number {
  if (train.layout === 'token-ids' && test.layout === 'token-ids') return shareOfCopies(train.matrix, test.matrix);
  if (test.rows === 0 || train.layout === 'token-ids' || test.layout === 'token-ids') return 0;
  const seen = new Set(rowKeys(train));
  return rowKeys(test).filter((key) => seen.has(key)).length / test.rows;
}
