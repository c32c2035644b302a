/**
 * The resamplers' data model: a dense row-major float32 matrix or a CSR sparse one, labels as
 * Int32Array class indices. Row operations never densify a sparse matrix.
 */
import { isCsr, type CsrMatrix, type DenseMatrix, type FeatureMatrix } from '../../data/matrix';
import { badInput } from '../../core/errors';

export { isCsr, type CsrMatrix, type DenseMatrix, type FeatureMatrix };


/** Checks shapes and labels; `finite` also refuses NaN/Infinity (the interpolating samplers need it). */
export function checkDataset(x: FeatureMatrix, y: Int32Array, options: { finite: boolean; stage?: string }): void {
  const where = { stage: options.stage ?? 'resample' };
  if (!Number.isInteger(x.rows) || !Number.isInteger(x.cols) || x.rows < 0 || x.cols < 1) {
    throw badInput(`Feature matrix has an invalid shape ${x.rows}×${x.cols}.`, where);
  }
  if (y.length !== x.rows) {
    throw badInput(
      `Labels have ${y.length} entries but the feature matrix has ${x.rows} rows; pass one label per row.`,
      where,
    );
  }
  for (let i = 0; i < y.length; i++) {
    const label = y[i] as number;
    if (label < 0) throw badInput(
      `Label at row ${i} is ${label}; labels must be class indices >= 0.`,
      { ...where, row: i },
    );
  }
  if (isCsr(x)) checkCsr(x, where);
  else if (x.data.length !== x.rows * x.cols) {
    throw badInput(`Dense matrix data has ${x.data.length} values, expected rows×cols = ${x.rows * x.cols}.`, where);
  }
  if (options.finite) {
    const bad = firstNonFinite(x.data);
    if (bad >= 0) {
      const row = isCsr(x) ? upperBound(x.indptr, bad) - 1 : Math.floor(bad / x.cols);
      const message = `Feature matrix holds a non-finite value at row ${row}; impute or drop it before interpolating samplers.`;
      throw badInput(message, { ...where, row });
    }
  }
}

function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    // v - v is NaN exactly for NaN and ±Infinity.
    const v = values[i] as number;
    if (v - v !== 0) return i;
  }
  return -1;
}

function checkCsr(x: CsrMatrix, where: { stage: string }): void {
  const { indptr, indices, data, rows, cols } = x;
  const consistent = indptr.length === rows + 1 && indptr[0] === 0 && indptr[rows] === indices.length;
  if (!consistent || data.length !== indices.length) {
    throw badInput(
      `CSR matrix arrays are inconsistent (indptr ${indptr.length}, indices ${indices.length}, data ${data.length}, rows ${rows}).`,
      where,
    );
  }
  for (let r = 0; r < rows; r++) {
    const start = indptr[r] as number;
    const end = indptr[r + 1] as number;
    if (end < start) throw badInput(`CSR indptr decreases at row ${r}.`, { ...where, row: r });
    for (let p = start; p < end; p++) {
      const c = indices[p] as number;
      if (c < 0 || c >= cols || (p > start && c <= (indices[p - 1] as number))) {
        throw badInput(`CSR row ${r} has column indices out of range or unsorted; sort them (scipy: sort_indices()).`, {
          ...where,
          row: r,
        });
      }
    }
  }
}

/** First position whose value is greater than `value` in a sorted array. */
function upperBound(sorted: Int32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Rows per class index, for labels 0..nClasses-1. */
export function classCounts(y: Int32Array, nClasses: number): number[] {
  const counts = new Array<number>(nClasses).fill(0);
  for (const label of y) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}

/** Row indices with the given label, ascending (numpy's flatnonzero(y == c)). */
export function rowsOfClass(y: Int32Array, label: number): Int32Array {
  let n = 0;
  for (const v of y) if (v === label) n++;
  const out = new Int32Array(n);
  let k = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === label) out[k++] = i;
  return out;
}

/** The given rows, in the given order (repeats allowed). */
export function takeRows(x: FeatureMatrix, rows: Int32Array): FeatureMatrix {
  if (!isCsr(x)) {
    const { cols } = x;
    const data = new Float32Array(rows.length * cols);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as number;
      data.set(x.data.subarray(r * cols, (r + 1) * cols), i * cols);
    }
    return { data, rows: rows.length, cols };
  }
  let nnz = 0;
  for (const r of rows) nnz += (x.indptr[r + 1] as number) - (x.indptr[r] as number);
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  let p = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as number;
    const start = x.indptr[r] as number;
    const end = x.indptr[r + 1] as number;
    indices.set(x.indices.subarray(start, end), p);
    data.set(x.data.subarray(start, end), p);
    p += end - start;
    indptr[i + 1] = p;
  }
  return { indptr, indices, data, rows: rows.length, cols: x.cols };
}

/** Stacks matrices of the same kind and width vertically. */
export function concatRows(parts: FeatureMatrix[]): FeatureMatrix {
  const first = parts[0];
  if (!first) throw new RangeError('concatRows needs at least one matrix');
  const rows = parts.reduce((sum, m) => sum + m.rows, 0);
  if (!isCsr(first)) {
    const data = new Float32Array(rows * first.cols);
    let offset = 0;
    for (const m of parts as DenseMatrix[]) {
      data.set(m.data.subarray(0, m.rows * m.cols), offset);
      offset += m.rows * m.cols;
    }
    return { data, rows, cols: first.cols };
  }
  const csrParts = parts as CsrMatrix[];
  const nnz = csrParts.reduce((sum, m) => sum + (m.indptr[m.rows] as number), 0);
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  let row = 0;
  let p = 0;
  for (const m of csrParts) {
    const count = m.indptr[m.rows] as number;
    indices.set(m.indices.subarray(0, count), p);
    data.set(m.data.subarray(0, count), p);
    for (let r = 1; r <= m.rows; r++) indptr[row + r] = p + (m.indptr[r] as number);
    row += m.rows;
    p += count;
  }
  return { indptr, indices, data, rows, cols: first.cols };
}

/** Squared l2 norm of every row, summed in float64. */
export function rowSquaredNorms(x: FeatureMatrix): Float64Array {
  const out = new Float64Array(x.rows);
  if (isCsr(x)) {
    for (let r = 0; r < x.rows; r++) {
      let s = 0;
      for (let p = x.indptr[r] as number; p < (x.indptr[r + 1] as number); p++) s += (x.data[p] as number) ** 2;
      out[r] = s;
    }
    return out;
  }
  const { data, cols } = x;
  for (let r = 0; r < x.rows; r++) {
    let s = 0;
    for (let c = r * cols; c < (r + 1) * cols; c++) s += (data[c] as number) ** 2;
    out[r] = s;
  }
  return out;
}
