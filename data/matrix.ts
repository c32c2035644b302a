/**
 * The two feature-matrix layouts every numeric stage shares (TF-IDF and samplers, baselines,
 * document vectors): dense row-major float32 and CSR sparse. One definition, so a matrix made by one
 * stage is the type the next stage takes.
 */

/** Row-major dense matrix: element (i, j) is `data[i * cols + j]`. */
export interface DenseMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Compressed sparse rows (scipy's CSR): row i holds `indices/data[indptr[i] .. indptr[i + 1])`. */
export interface CsrMatrix {
  indptr: Int32Array;
  indices: Int32Array;
  data: Float32Array;
  rows: number;
  cols: number;
}

export type FeatureMatrix = DenseMatrix | CsrMatrix;

export const isCsr = (m: FeatureMatrix): m is CsrMatrix => 'indptr' in m;
