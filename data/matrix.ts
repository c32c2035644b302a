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

/** Blocks of the same rows side by side (scipy's `hstack`): block b's columns follow those of blocks before it. */
export function hstackCsr(blocks: readonly CsrMatrix[]): CsrMatrix {
  const rows = blocks[0]?.rows ?? 0;
  if (blocks.some((block) => block.rows !== rows)) throw new RangeError(`hstackCsr: blocks have ${blocks.map((b) => b.rows).join(', ')} rows`);
  const nnz = blocks.reduce((sum, block) => sum + block.indices.length, 0);
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  let p = 0;
  for (let i = 0; i < rows; i++) {
    let offset = 0;
    for (const block of blocks) {
      for (let q = block.indptr[i] as number, end = block.indptr[i + 1] as number; q < end; q++, p++) {
        indices[p] = offset + (block.indices[q] as number);
        data[p] = block.data[q] as number;
      }
      offset += block.cols;
    }
    indptr[i + 1] = p;
  }
  return { indptr, indices, data, rows, cols: blocks.reduce((sum, block) => sum + block.cols, 0) };
}
