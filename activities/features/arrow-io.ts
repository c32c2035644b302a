/**
 * Feature artifacts as Arrow IPC files (the "file" format, `.arrow`), written with `apache-arrow`
 * so pyarrow (`pyarrow.ipc.open_file`), DuckDB (its `arrow` extension, or via pyarrow) and other
 * Arrow tools read them as they are, and the train activity maps them into typed arrays without
 * per-row conversion.
 *
 * Layouts (one record batch per file, no nulls, no compression):
 * - token ids: `ids: FixedSizeList<Int32>[L]`, a row per text. A fixed-size list's values are one
 *   contiguous Int32 buffer of rows × L, so the reader hands back that buffer as the row-major id
 *   matrix. (One column per position would need L column buffers stitched together.)
 * - dense matrix (word vectors, document vectors): `vector: FixedSizeList<Float32>[dim]`, plus
 *   `word: Utf8` and `count: Int32` for word vectors; again one contiguous rows × dim buffer.
 * - both may carry extra per-row Int32 columns (`rowColumns`, e.g. `source_row`, `label`), each a
 *   plain Int32 column read back as a view.
 * - CSR: a row per document with `indices: List<Int32>` and `data: List<Float32>`. A list column's
 *   offsets buffer is exactly CSR `indptr` and its values buffer is `indices` (or `data`), so CSR
 *   goes in and out without copying. The column count lives in the schema metadata as `cols`.
 *   Extra per-row Int32 columns (`rowColumns`) come before the two lists, as for the other layouts.
 * Every schema carries `ulasan.kind` (token-ids | dense | csr) and any metadata the caller adds.
 *
 * Readers return typed arrays that are views on the bytes read from disk (the bytes are first
 * placed on an 8-byte boundary, so Arrow never has to copy a misaligned buffer). Files from other
 * writers with several record batches are concatenated, which copies. Writing the same input twice
 * gives the same bytes: nothing time- or host-dependent goes into the file.
 */
import { readFile, writeFile } from 'node:fs/promises';
import {
  AsyncByteQueue,
  Field,
  FixedSizeList,
  Float32,
  Int32,
  List,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  Table,
  Utf8,
  makeData,
  makeVector,
  tableFromIPC,
  vectorFromArray,
  type Data,
  type DataType,
} from 'apache-arrow';
import { UlasanError, badInput } from '../../core/errors';
import type { CsrMatrix, DenseMatrix } from '../../data/matrix';

/**
 * A padded token-id matrix with its rows' labels and source rows: columns `source_row` (Int32), `label`
 * (Int32) and `ids` (FixedSizeList<Int32>[seqLen]), the ids of all rows one contiguous Int32 buffer.
 */
export interface TokenMatrix {
  /** Row-major ids, `rows × seqLen`. */
  ids: Int32Array;
  labels: Int32Array;
  sourceRows: Int32Array;
  rows: number;
  seqLen: number;
}

/** data/matrix.ts's dense matrix as a file holds it; for word vectors `words[r]` names row `r` and `counts[r]` is its corpus count. */
export interface DenseWithRows extends DenseMatrix {
  words?: string[];
  counts?: Int32Array;
  /** Extra Int32 columns, one value per row (e.g. `source_row`, `label` beside document vectors). */
  rowColumns?: Record<string, Int32Array>;
}

/** String key/value pairs stored in the Arrow schema (e.g. padding side, vocabulary size, model params). */
export type ArrowMetadata = Record<string, string>;

type Kind = 'token-ids' | 'dense' | 'csr';
const DENSE_COLUMNS = ['word', 'count', 'vector'];
const CSR_COLUMNS = ['indices', 'data'];
const KIND_KEY = 'ulasan.kind';
const STAGE = 'features';

// ---- token ids ---------------------------------------------------------------------------------

/** The one token-matrix codec: the features, resample and semi stages write with it (no schema metadata). */
export function tokenMatrixToIPC(matrix: TokenMatrix): Uint8Array {
  const { ids, labels, sourceRows, rows, seqLen } = matrix;
  checkShape('token ids', ids.length, rows, seqLen);
  checkRows('labels', labels.length, rows);
  checkRows('source rows', sourceRows.length, rows);
  const child = makeData({ type: new Int32(), length: rows * seqLen, data: ids });
  const type = new FixedSizeList(seqLen, new Field('id', new Int32(), false));
  const table = new Table({
    source_row: makeVector(makeData({ type: new Int32(), length: rows, data: sourceRows })),
    label: makeVector(makeData({ type: new Int32(), length: rows, data: labels })),
    ids: makeVector(makeData({ type, length: rows, nullCount: 0, child })),
  });
  return tableToFileBytes(table);
}

/** Reads a token matrix: views on `bytes` (one batch), concatenated copies when another writer made several. */
export function tokenMatrixFromIPC(bytes: Uint8Array, file = 'token matrix'): TokenMatrix {
  const table = fromIPC(bytes, 'token-ids', file);
  const { values, rows, width } = readFixedSizeList(table, 'ids', Int32Array, file);
  if (!table.getChild('label') || !table.getChild('source_row')) {
    throw new UlasanError('CorruptArtifact', `${file} lacks the 'label' or 'source_row' column.`, { file });
  }
  return { ids: values, labels: readInt32(table, 'label', file), sourceRows: readInt32(table, 'source_row', file), rows, seqLen: width };
}

// ---- dense float matrices -----------------------------------------------------------------------

export function denseToIPC(matrix: DenseWithRows, metadata: ArrowMetadata = {}): Uint8Array {
  const { data: values, rows, cols: dim, words, counts } = matrix;
  checkShape('dense matrix', values.length, rows, dim);
  const columns: [Field, Data][] = [];
  if (words) {
    checkRows('words', words.length, rows);
    const wordData = vectorFromArray(words, new Utf8()).data[0] as Data<Utf8>;
    columns.push([new Field('word', new Utf8(), false), wordData]);
  }
  if (counts) {
    checkRows('counts', counts.length, rows);
    const countData = makeData({ type: new Int32(), length: rows, nullCount: 0, data: counts });
    columns.push([new Field('count', new Int32(), false), countData]);
  }
  columns.push(...int32Columns(matrix.rowColumns, rows, DENSE_COLUMNS));
  const vector = fixedSizeList(new Float32(), values, rows, dim);
  columns.push([new Field('vector', vector.type, false), vector]);
  return toIPC(columns, 'dense', metadata);
}

export function denseFromIPC(bytes: Uint8Array, file?: string): DenseWithRows & { metadata: ArrowMetadata } {
  const table = fromIPC(bytes, 'dense', file);
  const { values, rows, width } = readFixedSizeList(table, 'vector', Float32Array, file);
  const wordColumn = table.getChild('word');
  const words = wordColumn ? (Array.from(wordColumn) as string[]) : undefined;
  const counts = table.getChild('count') ? readInt32(table, 'count', file) : undefined;
  const rowColumns = readRowColumns(table, DENSE_COLUMNS, file);
  return {
    data: values,
    rows,
    cols: width,
    ...(words ? { words } : {}),
    ...(counts ? { counts } : {}),
    ...(rowColumns ? { rowColumns } : {}),
    metadata: userMetadata(table),
  };
}

export async function writeDense(path: string, matrix: DenseWithRows, metadata?: ArrowMetadata): Promise<void> {
  await writeFile(path, denseToIPC(matrix, metadata));
}

export async function readDense(path: string): Promise<DenseWithRows & { metadata: ArrowMetadata }> {
  return denseFromIPC(await readAligned(path), path);
}

// ---- CSR ----------------------------------------------------------------------------------------

/** A CSR matrix with optional extra Int32 columns, one value per row (e.g. `source_row`, `label`). */
export type CsrWithRows = CsrMatrix & { rowColumns?: Record<string, Int32Array> };

export function csrToIPC(matrix: CsrWithRows, metadata: ArrowMetadata = {}): Uint8Array {
  const { indptr, indices, data, rows, cols } = matrix;
  const nnz = indices.length;
  if (indptr.length !== rows + 1 || !isRowRange(indptr, nnz) || data.length !== nnz) {
    throw badInput(
      `CSR matrix is inconsistent: rows ${rows}, indptr length ${indptr.length} (first ${indptr[0]}, last ${indptr[rows]}), ${nnz} indices, ${data.length} values`,
      { stage: STAGE, field: 'indptr' },
    );
  }
  const indexChild = makeData({ type: new Int32(), length: nnz, nullCount: 0, data: indices });
  const valueChild = makeData({ type: new Float32(), length: nnz, nullCount: 0, data });
  const indexData = listData(new Int32(), indexChild, indptr);
  const valueData = listData(new Float32(), valueChild, indptr);
  return toIPC(
    [
      ...int32Columns(matrix.rowColumns, rows, CSR_COLUMNS),
      [new Field('indices', indexData.type, false), indexData],
      [new Field('data', valueData.type, false), valueData],
    ],
    'csr',
    { ...metadata, cols: String(cols) },
  );
}

export function csrFromIPC(bytes: Uint8Array, file?: string): CsrWithRows & { metadata: ArrowMetadata } {
  const table = fromIPC(bytes, 'csr', file);
  const meta = userMetadata(table);
  const cols = Number(meta.cols);
  if (!Number.isInteger(cols) || cols < 0) {
    throw corrupt(`CSR file has no valid 'cols' metadata (got ${meta.cols})`, file);
  }
  const rest = Object.fromEntries(Object.entries(meta).filter(([key]) => key !== 'cols'));
  const indices = readList(table, 'indices', Int32Array, file);
  const data = readList(table, 'data', Float32Array, file);
  if (!sameOffsets(indices.offsets, data.offsets)) {
    throw corrupt(`CSR columns 'indices' and 'data' have different row lengths`, file);
  }
  const rowColumns = readRowColumns(table, CSR_COLUMNS, file);
  return {
    indptr: indices.offsets,
    indices: indices.values,
    data: data.values,
    rows: table.numRows,
    cols,
    ...(rowColumns ? { rowColumns } : {}),
    metadata: rest,
  };
}

// ---- helpers ------------------------------------------------------------------------------------

function int32Columns(rowColumns: Record<string, Int32Array> | undefined, rows: number, reserved: string[]) {
  return Object.entries(rowColumns ?? {}).map(([name, values]): [Field, Data] => {
    if (reserved.includes(name)) {
      throw badInput(`row column '${name}' clashes with a built-in column (${reserved.join(', ')}); rename it`, {
        stage: STAGE,
        field: name,
      });
    }
    checkRows(`'${name}' values`, values.length, rows);
    const data = makeData({ type: new Int32(), length: rows, nullCount: 0, data: values });
    return [new Field(name, new Int32(), false), data];
  });
}

/** Every Int32 column besides the built-in ones, or undefined when there are none. */
function readRowColumns(table: Table, reserved: string[], file?: string): Record<string, Int32Array> | undefined {
  const names = table.schema.fields.map((field) => field.name).filter((name) => !reserved.includes(name));
  if (names.length === 0) return undefined;
  return Object.fromEntries(names.map((name) => [name, readInt32(table, name, file)]));
}

function checkRows(what: string, actual: number, rows: number): void {
  if (actual !== rows) {
    throw badInput(`matrix has ${rows} rows but ${actual} ${what}; pass one per row`, {
      stage: STAGE,
      field: what,
    });
  }
}

/** A plain Int32 column as one typed array (a view when there is one batch). */
function readInt32(table: Table, name: string, file?: string): Int32Array {
  const column = table.getChild(name);
  // Read-back types are generic `Int_` instances, so check the values' class, not the type's.
  if (!column || !column.data.every((data) => (data.values as unknown) instanceof Int32Array)) {
    throw corrupt(`column '${name}' is missing or not int32`, file);
  }
  const parts = column.data.map((data) => {
    if (data.nullCount > 0) throw corrupt(`column '${name}' has nulls`, file);
    return (data.values as Int32Array).subarray(data.offset, data.offset + data.length);
  });
  return concat(parts, Int32Array);
}

function checkShape(what: string, actual: number, rows: number, width: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(width) || rows < 0 || width < 1 || actual !== rows * width) {
    throw badInput(`${what}: ${actual} values do not fill ${rows} rows × ${width}; pass rows × width values`, {
      stage: STAGE,
    });
  }
}

function fixedSizeList(type: Int32 | Float32, values: Int32Array | Float32Array, rows: number, width: number): Data {
  const child =
    type instanceof Int32
      ? makeData({ type, length: rows * width, nullCount: 0, data: values as Int32Array })
      : makeData({ type, length: rows * width, nullCount: 0, data: values as Float32Array });
  const listType = new FixedSizeList(width, new Field('item', type, false));
  return makeData({ type: listType, length: rows, nullCount: 0, child });
}

/** A list column over `child` whose offsets buffer is `offsets` itself (CSR indptr), not a copy. */
function listData(type: Int32 | Float32, child: Data, offsets: Int32Array): Data {
  const listType: List = new List(new Field('item', type, false));
  return makeData({ type: listType, length: offsets.length - 1, nullCount: 0, valueOffsets: offsets, child });
}

function toIPC(columns: [Field, Data][], kind: Kind, metadata: ArrowMetadata): Uint8Array {
  // Sorted keys: the schema metadata is a map, and its order is written to the file.
  const entries = Object.entries({ ...metadata, [KIND_KEY]: kind }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const schema = new Schema(
    columns.map(([field]) => field),
    new Map(entries),
  );
  const rows = columns[0]?.[1].length ?? 0;
  const struct = makeData({
    type: new Struct(schema.fields),
    length: rows,
    nullCount: 0,
    children: columns.map(([, data]) => data),
  });
  return tableToFileBytes(new Table(schema, [new RecordBatch(schema, struct)]));
}

/**
 * The writer's chunks joined exactly as written. apache-arrow's own join (`tableToIPC` →
 * `joinUint8Arrays`) merges consecutive chunks that are views of one ArrayBuffer when their ranges
 * touch or overlap, keeping the wrong length when the second starts inside the first: CSR read from a
 * file (indptr right before indices in one buffer), written back with indptr once per list column,
 * lost its whole indices buffer and the file's body came out shorter than its header (issue 19).
 */
class ExactByteSink extends AsyncByteQueue {
  joined(): Uint8Array {
    const chunks = this._values;
    const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    return out;
  }
}

/** A table as Arrow IPC file bytes; use this, never `tableToIPC`, for anything written to the store. */
function tableToFileBytes(table: Table): Uint8Array {
  const sink = new ExactByteSink();
  const writer = new RecordBatchFileWriter();
  writer.reset(sink);
  writer.writeAll(table);
  return sink.joined();
}

function fromIPC(bytes: Uint8Array, kind: Kind, file?: string): Table {
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (err) {
    throw corrupt(`cannot read it as Arrow IPC (${String(err)})`, file);
  }
  const actual = table.schema.metadata.get(KIND_KEY);
  if (actual !== undefined && actual !== kind) {
    throw badInput(`${file ?? 'Arrow IPC'} holds ulasan ${actual} features, not ${kind}; pass the right file`, {
      stage: STAGE,
      ...(file ? { file } : {}),
    });
  }
  return table;
}

function userMetadata(table: Table): ArrowMetadata {
  const out: ArrowMetadata = {};
  for (const [key, value] of table.schema.metadata) if (key !== KIND_KEY) out[key] = value;
  return out;
}

type TypedArrayConstructor<A> = { new (length: number): A; BYTES_PER_ELEMENT: number };

/** The fixed-size-list column's values as one row-major typed array (a view when there is one batch). */
function readFixedSizeList<A extends Int32Array | Float32Array>(
  table: Table,
  name: string,
  ctor: TypedArrayConstructor<A>,
  file?: string,
): { values: A; rows: number; width: number } {
  const column = table.getChild(name);
  const type = column?.type as DataType | undefined;
  if (!column || !(type instanceof FixedSizeList)) {
    throw corrupt(`column '${name}' is missing or not a fixed-size list`, file);
  }
  const width = type.listSize;
  const parts = column.data.map((data) => {
    const child = data.children[0];
    if (data.nullCount > 0 || !child || child.nullCount > 0) throw corrupt(`column '${name}' has nulls`, file);
    const values = child.values as unknown;
    if (!(values instanceof (ctor as unknown as typeof Int32Array))) {
      throw corrupt(`column '${name}' holds ${String(child.type)}, expected ${ctor.name.replace('Array', '')}`, file);
    }
    const start = (data.offset + child.offset) * width;
    return (values as A).subarray(start, start + data.length * width) as A;
  });
  return { values: concat(parts, ctor), rows: column.length, width };
}

/** A list column's offsets (rebased to 0) and values; views when there is one batch with offset 0. */
function readList<A extends Int32Array | Float32Array>(
  table: Table,
  name: string,
  ctor: TypedArrayConstructor<A>,
  file?: string,
): { offsets: Int32Array; values: A } {
  const column = table.getChild(name);
  if (!column || !(column.type instanceof List)) throw corrupt(`column '${name}' is missing or not a list`, file);
  const offsets = new Int32Array(column.length + 1);
  const valueParts: A[] = [];
  let row = 0;
  let base = 0;
  for (const data of column.data) {
    const child = data.children[0];
    if (data.nullCount > 0 || !child || child.nullCount > 0) throw corrupt(`column '${name}' has nulls`, file);
    if (!((child.values as unknown) instanceof (ctor as unknown as typeof Int32Array))) {
      throw corrupt(`column '${name}' holds ${String(child.type)}, expected ${ctor.name.replace('Array', '')}`, file);
    }
    const own = data.valueOffsets.subarray(data.offset, data.offset + data.length + 1);
    const first = own[0] as number;
    const last = own[data.length] as number;
    if (column.data.length === 1 && first === 0 && child.offset === 0) {
      return { offsets: own, values: (child.values as A).subarray(0, last) as A };
    }
    for (let i = 1; i <= data.length; i++) offsets[row + i] = base + (own[i] as number) - first;
    valueParts.push((child.values as A).subarray(child.offset + first, child.offset + last) as A);
    row += data.length;
    base += last - first;
  }
  return { offsets, values: concat(valueParts, ctor) };
}

function concat<A extends Int32Array | Float32Array>(parts: A[], ctor: TypedArrayConstructor<A>): A {
  if (parts.length === 1) return parts[0] as A;
  const out = new ctor(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part as never, at);
    at += part.length;
  }
  return out;
}

/**
 * True when `indptr` is non-decreasing within [0, nnz]. It need not start at 0 nor end at nnz: a row
 * range of a larger matrix (indptr sub-range over the whole indices) is written as those rows alone.
 */
function isRowRange(indptr: Int32Array, nnz: number): boolean {
  if (indptr.length === 0 || (indptr[0] as number) < 0 || (indptr[indptr.length - 1] as number) > nnz) return false;
  for (let i = 1; i < indptr.length; i++) if ((indptr[i] as number) < (indptr[i - 1] as number)) return false;
  return true;
}

function sameOffsets(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function corrupt(message: string, file?: string): UlasanError {
  return new UlasanError('CorruptArtifact', `${file ?? 'Arrow IPC'}: ${message}.`, {
    stage: STAGE,
    ...(file ? { file } : {}),
  });
}

/** Reads a file into a buffer starting on an 8-byte boundary, so Arrow can view its buffers in place. */
export async function readAligned(path: string): Promise<Uint8Array> {
  const bytes = await readFile(path);
  if (bytes.byteOffset % 8 === 0) return bytes;
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}
