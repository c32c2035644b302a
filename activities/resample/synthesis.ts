/**
 * Building synthetic rows: points on the segment between two rows, and smoothed bootstraps.
 *
 * Arithmetic follows imbalanced-learn's on float32 input: the difference neighbour − base is a
 * float32, the step is a float64, and the sum is rounded back to float32.
 */
import type { Rng } from '../../data/random';
import { type CsrMatrix, type DenseMatrix, type FeatureMatrix, isCsr } from './matrix';

/** Row t of the result is x[base[t]] + gap[t] · (x[neighbour[t]] − x[base[t]]). */
export function interpolateRows(
  x: FeatureMatrix,
  base: Int32Array,
  neighbour: Int32Array,
  gap: Float64Array,
): FeatureMatrix {
  return isCsr(x) ? interpolateSparse(x, base, neighbour, gap) : interpolateDense(x, base, neighbour, gap);
}

function interpolateDense(x: DenseMatrix, base: Int32Array, neighbour: Int32Array, gap: Float64Array): DenseMatrix {
  const out = new Float32Array(base.length * x.cols);
  interpolateDenseInto(out, 0, x, base, neighbour, gap);
  return { data: out, rows: base.length, cols: x.cols };
}

/** Writes the interpolated dense rows into `out` from float offset `at` (no intermediate matrix). */
export function interpolateDenseInto(
  out: Float32Array,
  at: number,
  x: DenseMatrix,
  base: Int32Array,
  neighbour: Int32Array,
  gap: Float64Array,
): void {
  const { cols, data } = x;
  for (let t = 0; t < base.length; t++) {
    const a = (base[t] as number) * cols;
    const b = (neighbour[t] as number) * cols;
    const g = gap[t] as number;
    const o = at + t * cols;
    for (let c = 0; c < cols; c++) {
      const xa = data[a + c] as number;
      out[o + c] = xa + g * Math.fround((data[b + c] as number) - xa);
    }
  }
}

function interpolateSparse(x: CsrMatrix, base: Int32Array, neighbour: Int32Array, gap: Float64Array): CsrMatrix {
  const { indptr, indices, data } = x;
  const outPtr = new Int32Array(base.length + 1);
  let capacity = 16;
  let outIdx = new Int32Array(capacity);
  let outVal = new Float32Array(capacity);
  let n = 0;
  const push = (col: number, value: number): void => {
    const v = Math.fround(value);
    if (v === 0) return;
    if (n === capacity) {
      capacity *= 2;
      const idx = new Int32Array(capacity);
      idx.set(outIdx);
      outIdx = idx;
      const val = new Float32Array(capacity);
      val.set(outVal);
      outVal = val;
    }
    outIdx[n] = col;
    outVal[n++] = v;
  };
  for (let t = 0; t < base.length; t++) {
    const g = gap[t] as number;
    let p = indptr[base[t] as number] as number;
    const pEnd = indptr[(base[t] as number) + 1] as number;
    let q = indptr[neighbour[t] as number] as number;
    const qEnd = indptr[(neighbour[t] as number) + 1] as number;
    // Merge the two sorted rows; a column absent from one row is 0 there.
    while (p < pEnd || q < qEnd) {
      const cp = p < pEnd ? (indices[p] as number) : Infinity;
      const cq = q < qEnd ? (indices[q] as number) : Infinity;
      if (cp === cq) {
        const xa = data[p++] as number;
        push(cp, xa + g * Math.fround((data[q++] as number) - xa));
      } else if (cp < cq) {
        const xa = data[p++] as number;
        push(cp, xa + g * Math.fround(-xa));
      } else {
        push(cq, g * (data[q++] as number));
      }
    }
    outPtr[t + 1] = n;
  }
  return { indptr: outPtr, indices: outIdx.slice(0, n), data: outVal.slice(0, n), rows: base.length, cols: x.cols };
}

/** A standard normal draw (Box–Muller), from the seeded stream. */
export function gaussian(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * Smoothed bootstrap (imblearn RandomOverSampler with `shrinkage`): x[base[t]] plus Gaussian noise
 * with per-column scale `scale[c]`.
 */
export function smoothedRows(x: DenseMatrix, base: Int32Array, scale: Float64Array, rng: Rng): DenseMatrix {
  const { cols, data } = x;
  const out = new Float32Array(base.length * cols);
  for (let t = 0; t < base.length; t++) {
    const a = (base[t] as number) * cols;
    for (let c = 0; c < cols; c++) out[t * cols + c] = gaussian(rng) * (scale[c] as number) + (data[a + c] as number);
  }
  return { data: out, rows: base.length, cols };
}
