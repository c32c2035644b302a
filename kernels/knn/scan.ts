/**
 * The dense kNN tile loop, shared by the calling thread and the worker threads.
 *
 * `scanDenseTiles` runs in worker threads from its own source text (`Function.prototype.toString`),
 * so it must stay self-contained: it may use only its parameters and globals, no imports, no
 * module-level constants, no nested named functions. Each thread scans its own range of query rows
 * and writes only those queries' k-best lists, so the result does not depend on how many threads
 * ran or how the rows were split between them.
 */
import type { FilterFunction, GramFunction } from './simd';

/** Where one thread's share lives in the kernel memory (byte offsets) and which rows it scans. */
export interface DenseScanJob {
  /** Packed query rows (`d4 * 4` floats each, zero padded), and the global index of packed row 0. */
  queryAt: number;
  queryBase: number;
  /** Packed query rows [queryFrom, queryTo) are this thread's. */
  queryFrom: number;
  queryTo: number;
  /** Packed reference rows, the global index of packed row 0, and how many are real. */
  refAt: number;
  refBase: number;
  refRows: number;
  /** float32 ranking term per packed reference row, padded with NaN to whole tiles. */
  termAt: number;
  d4: number;
  refTile: number;
  queryTile: number;
  k: number;
  /** This thread's scratch: dot tile, candidate pairs, thresholds. */
  outAt: number;
  candAt: number;
  thrAt: number;
}

/** Typed arrays indexed by global query/reference row (on SharedArrayBuffers when threads share them). */
export interface DenseScanArrays {
  /** Ranking term per reference: ||r||² (euclidean) or 0 (cosine on normalised rows). */
  refTerm: Float64Array;
  /** Per query: slack added to its k-th key for the float32 filter, so no true candidate is missed. */
  margin: Float64Array;
  /** Per query: reference row to leave out, or -1; null for none. */
  exclude: Int32Array | null;
  /** Per query, k keys ascending and their reference rows; keys start at Infinity, rows at -1. */
  bestKey: Float64Array;
  bestIndex: Int32Array;
  /** Incremented per query tile done, so a waiting thread can tell a slow worker from a dead one. */
  progress: Int32Array | null;
}

/**
 * For every query row of the job and every reference row, keeps the k smallest keys
 * refTerm[r] − 2·dot(q, r), ties to the lower reference index. The SIMD filter discards the pairs
 * that cannot beat a query's current k-th key; the survivors are re-keyed in float64 and inserted.
 */
export function scanDenseTiles(
  job: DenseScanJob,
  arrays: DenseScanArrays,
  gram: GramFunction,
  filter: FilterFunction,
  buffer: ArrayBufferLike,
): void {
  const { queryAt, queryBase, queryFrom, queryTo, refAt, refBase, refRows, termAt, d4, refTile, queryTile, k } = job;
  const { outAt, candAt, thrAt } = job;
  const { refTerm, margin, exclude, bestKey, bestIndex, progress } = arrays;
  const rowBytes = d4 * 16;
  const f32 = new Float32Array(buffer);
  const i32 = new Int32Array(buffer);
  const out = outAt / 4;
  const cand = candAt / 4;
  const thr = thrAt / 4;
  for (let s0 = queryFrom; s0 < queryTo; s0 += queryTile) {
    const s1 = Math.min(queryTo, s0 + queryTile);
    const nq = Math.ceil((s1 - s0) / 2) * 2;
    for (let r0 = 0; r0 < refRows; r0 += refTile) {
      const nr = Math.ceil((Math.min(refRows, r0 + refTile) - r0) / 4) * 4;
      for (let i = 0; i < nq; i++) {
        const g = queryBase + s0 + i;
        const worst = i < s1 - s0 ? (bestKey[g * k + k - 1] as number) : -Infinity;
        f32[thr + i] = worst === Infinity || worst === -Infinity ? worst : worst + (margin[g] as number);
      }
      gram(queryAt + s0 * rowBytes, nq, refAt + r0 * rowBytes, nr, d4, outAt);
      const count = filter(outAt, nq, nr, termAt + r0 * 4, thrAt, candAt);
      for (let c = 0; c < count; c++) {
        const i = i32[cand + 2 * c] as number;
        const j = i32[cand + 2 * c + 1] as number;
        const g = queryBase + s0 + i;
        const ref = refBase + r0 + j;
        if (r0 + j >= refRows || (exclude !== null && exclude[g] === ref)) continue;
        const key = (refTerm[ref] as number) - 2 * (f32[out + i * nr + j] as number);
        const first = g * k;
        let p = first + k - 1;
        // References arrive in ascending order, so an equal key never displaces a kept one.
        if (!(key < (bestKey[p] as number))) continue;
        while (p > first && (bestKey[p - 1] as number) > key) {
          bestKey[p] = bestKey[p - 1] as number;
          bestIndex[p] = bestIndex[p - 1] as number;
          p--;
        }
        bestKey[p] = key;
        bestIndex[p] = ref;
      }
    }
    if (progress !== null) Atomics.add(progress, 0, 1);
  }
}
