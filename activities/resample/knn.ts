/**
 * Exact k-nearest neighbours for the resamplers.
 *
 * Dense rows: brute force over cache-sized tiles (64 queries × ~192 KiB of references), squared
 * euclidean distance as ||q||² + ||r||² − 2 q·r with the dot products from a WebAssembly SIMD kernel
 * (kernels/knn/simd.ts); a SIMD filter drops the pairs that cannot beat a query's current k-th best and
 * the rest go through a sorted insertion list of k. Query tiles are split over worker threads
 * (kernels/knn/pool.ts) when the scan is big enough. Sparse CSR rows: an inverted index of the reference
 * rows (their transpose), so each query touches only the references sharing a column with it; the
 * others are taken in order of their norm. Neither path densifies a sparse matrix.
 *
 * Order is (distance, reference index): references are scanned in ascending index and a new one
 * must be strictly closer to displace a kept one, so ties go to the lower index, whatever the tile
 * sizes. scikit-learn breaks ties by whatever its partial sort returns; results differ from it only
 * on exact ties between different rows, and on near ties below float32 rounding (dense dot products
 * are float32, as FAISS and BLAS sgemm do).
 *
 * imbalanced-learn asks sklearn for k + 1 neighbours of each sample and drops the first column,
 * assuming it is the sample itself. Here a query names the reference row to leave out
 * (`exclude`), which is the same thing except when exact duplicates tie with the sample.
 */
import { availableParallelism } from 'node:os';
import { badInput } from '../../core/errors';
import { ScanPool } from '../../kernels/knn/pool';
import { type DenseScanArrays, type DenseScanJob, scanDenseTiles } from '../../kernels/knn/scan';
import { type CsrMatrix, type DenseMatrix, type FeatureMatrix, isCsr, rowSquaredNorms } from './matrix';
import { createKernels, type Kernels, QUERY_BLOCK, REF_BLOCK } from '../../kernels/knn/simd';

/**
 * Distance between rows. imbalanced-learn uses sklearn's default, euclidean, for dense and sparse
 * input alike; cosine (1 − cos) suits TF-IDF and is the same ranking as euclidean on l2-normalised
 * rows, except for all-zero rows (cosine puts them at distance 1 from everything).
 */
export type Metric = 'euclidean' | 'cosine';

export interface KnnOptions {
  /** Neighbours per query. */
  k: number;
  /** @default 'euclidean' */
  metric?: Metric;
  /** Per query row, a reference row to leave out (the query itself), or -1. */
  exclude?: Int32Array;
  /**
   * Threads for dense scans (the calling thread plus workers); results do not depend on it.
   * @default defaultKnnThreads()
   */
  threads?: number;
}

export interface KnnResult {
  k: number;
  /** Row-major queries × k reference row indices, nearest first. */
  indices: Int32Array;
  /** The matching distances (euclidean, or cosine distance). */
  distances: Float64Array;
}

/** The k nearest reference rows of every query row. Both matrices must be of the same kind. */
export function kNearest(ref: FeatureMatrix, query: FeatureMatrix, options: KnnOptions): KnnResult {
  const { k, metric = 'euclidean', exclude, threads = defaultKnnThreads() } = options;
  if (ref.cols !== query.cols) throw badInput(`kNN: reference rows have ${ref.cols} columns, queries ${query.cols}.`);
  if (isCsr(ref) !== isCsr(query)) throw badInput('kNN: reference and query matrices must both be dense or both CSR.');
  if (exclude && exclude.length !== query.rows) throw new RangeError('kNN: exclude needs one entry per query row');
  const available = ref.rows - (exclude ? 1 : 0);
  if (!Number.isInteger(k) || k < 1 || k > available) {
    throw badInput(
      `kNN: asked for ${k} neighbours among ${available} candidate rows; k must be between 1 and ${available}.`,
    );
  }
  const best = new BestLists(query.rows, k);
  if (isCsr(ref)) sparseSearch(ref, query as CsrMatrix, metric, exclude, best);
  else denseSearch(ref, query as DenseMatrix, metric, exclude, best, threads);
  return { k, indices: best.index, distances: best.distances(query, metric) };
}

/** Neighbours of every row among the other rows of the same matrix. */
export function kNearestWithin(x: FeatureMatrix, k: number, metric: Metric = 'euclidean', threads?: number): KnnResult {
  const exclude = new Int32Array(x.rows);
  for (let i = 0; i < x.rows; i++) exclude[i] = i;
  return kNearest(x, x, { k, metric, exclude, ...(threads === undefined ? {} : { threads }) });
}

/** Per query, the k best (key, index) pairs in ascending order; key = distance up to a per-query constant. */
class BestLists {
  readonly key: Float64Array;
  readonly index: Int32Array;

  constructor(
    readonly queries: number,
    readonly k: number,
  ) {
    this.key = new Float64Array(queries * k).fill(Infinity);
    this.index = new Int32Array(queries * k).fill(-1);
  }

  /** Inserts (key, ref) for query q if it beats the current k-th; ties go to the lower index. */
  offer(q: number, key: number, ref: number): void {
    const { k } = this;
    const base = q * k;
    const last = base + k - 1;
    const worst = this.key[last] as number;
    const worstIndex = this.index[last] as number;
    if (key > worst || (key === worst && worstIndex >= 0 && ref > worstIndex)) return;
    let p = last;
    while (p > base) {
      const prevKey = this.key[p - 1] as number;
      if (prevKey < key || (prevKey === key && (this.index[p - 1] as number) < ref)) break;
      this.key[p] = prevKey;
      this.index[p] = this.index[p - 1] as number;
      p--;
    }
    this.key[p] = key;
    this.index[p] = ref;
  }

  distances(query: FeatureMatrix, metric: Metric): Float64Array {
    const out = new Float64Array(this.key.length);
    const norms = metric === 'euclidean' ? rowSquaredNorms(query) : undefined;
    for (let q = 0; q < this.queries; q++) {
      for (let j = 0; j < this.k; j++) {
        const key = this.key[q * this.k + j] as number;
        // euclidean key = ||r||² − 2 q·r; cosine key = −2 cos (rows normalised).
        out[q * this.k + j] = norms ? Math.sqrt(Math.max(0, (norms[q] as number) + key)) : 1 + key / 2;
      }
    }
    return out;
  }
}

// --- dense ---------------------------------------------------------------------------------

let sharedKernels: Kernels | undefined;
let pool: ScanPool | undefined;

/** The process-wide kernels, on shared memory where the runtime has SharedArrayBuffer. */
function kernels(): Kernels {
  sharedKernels ??= createKernels({ shared: true });
  return sharedKernels;
}

/** Whether dense kNN runs on the WebAssembly SIMD kernels (false: the scalar JavaScript fallback). */
export function denseKernelIsSimd(): boolean {
  return kernels().simd;
}

/** Stops the kNN worker threads (they are unref'd, so this is only needed to free them early). */
export async function closeKnnThreads(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.close();
}

/** Threads for dense scans when the caller does not say: ULASAN_KNN_THREADS, else the CPU count (at most 8). */
export function defaultKnnThreads(): number {
  const fromEnv = Number(process.env.ULASAN_KNN_THREADS);
  if (Number.isInteger(fromEnv) && fromEnv >= 1) return fromEnv;
  return Math.min(8, Math.max(1, availableParallelism()));
}

const TILE_BYTES = 192 * 1024;
const QUERY_TILE = 64;
const QUERY_CHUNK_BYTES = 64 * 1024 * 1024;
const REF_CHUNK_BYTES = 256 * 1024 * 1024;
/** Below this many multiply-adds a scan is over before worker threads would have started. */
const THREAD_MIN_WORK = 3e7;

function denseSearch(
  ref: DenseMatrix,
  query: DenseMatrix,
  metric: Metric,
  exclude: Int32Array | undefined,
  best: BestLists,
  threads: number,
): void {
  const kernel = kernels();
  const d4 = Math.ceil(ref.cols / 4);
  const rowBytes = d4 * 16;
  const refTile = Math.min(2048, Math.max(REF_BLOCK, Math.floor(TILE_BYTES / rowBytes / REF_BLOCK) * REF_BLOCK));
  const queryChunk = Math.max(QUERY_TILE, Math.floor(QUERY_CHUNK_BYTES / rowBytes / QUERY_TILE) * QUERY_TILE);
  const refChunk = Math.max(refTile, Math.floor(REF_CHUNK_BYTES / rowBytes / refTile) * refTile);
  const work = query.rows * ref.rows * ref.cols;
  const wanted = work < THREAD_MIN_WORK || !kernel.shared ? 1 : Math.min(threads, Math.ceil(query.rows / QUERY_TILE));
  const runner = threadRunner(kernel, wanted);
  const arrays = scanArrays(ref, query, metric, exclude, best, runner.size > 1);
  const queryScale = metric === 'cosine' ? inverseNorms(query) : undefined;
  const refScale = metric === 'cosine' ? inverseNorms(ref) : undefined;

  for (let q0 = 0; q0 < query.rows; q0 += queryChunk) {
    const q1 = Math.min(query.rows, q0 + queryChunk);
    for (let r0 = 0; r0 < ref.rows; r0 += refChunk) {
      const r1 = Math.min(ref.rows, r0 + refChunk);
      const queryRows = roundUp(q1 - q0, QUERY_BLOCK);
      const layout = denseLayout(queryRows, roundUp(r1 - r0, refTile), rowBytes, refTile, runner.size);
      kernel.reserve(layout.bytes);
      const memory = new Float32Array(kernel.memory.buffer);
      packRows(memory, layout.queryAt / 4, query, q0, q1, roundUp(q1 - q0, QUERY_BLOCK), d4, queryScale);
      packRows(memory, layout.refAt / 4, ref, r0, r1, roundUp(r1 - r0, refTile), d4, refScale);
      memory.fill(NaN, layout.termAt / 4, layout.termAt / 4 + roundUp(r1 - r0, refTile));
      for (let r = r0; r < r1; r++) memory[layout.termAt / 4 + r - r0] = arrays.refTerm[r] as number;
      const jobs = splitQueries(q1 - q0, runner.size).map(([from, to], t) => ({
        queryAt: layout.queryAt,
        queryBase: q0,
        queryFrom: from,
        queryTo: to,
        refAt: layout.refAt,
        refBase: r0,
        refRows: r1 - r0,
        termAt: layout.termAt,
        d4,
        refTile,
        queryTile: QUERY_TILE,
        k: best.k,
        ...(layout.scratch[t] as { outAt: number; candAt: number; thrAt: number }),
      }));
      runner.run(jobs, arrays);
    }
  }
  if (arrays.bestKey !== best.key) {
    best.key.set(arrays.bestKey);
    best.index.set(arrays.bestIndex);
  }
}

interface Runner {
  size: number;
  run(jobs: DenseScanJob[], arrays: Omit<DenseScanArrays, 'progress'>): void;
}

function threadRunner(kernel: Kernels, threads: number): Runner {
  if (threads <= 1) {
    return {
      size: 1,
      run: (jobs, arrays) => {
        for (const job of jobs) {
          scanDenseTiles(job, { ...arrays, progress: null }, kernel.gram, kernel.filter, kernel.memory.buffer);
        }
      },
    };
  }
  if (!pool || pool.size < threads - 1) {
    void pool?.close();
    pool = new ScanPool(kernel, threads - 1);
  }
  const active = pool;
  return { size: threads, run: (jobs, arrays) => active.run(jobs, arrays) };
}

/** The per-query and per-reference arrays of a scan, on shared memory when threads share them. */
function scanArrays(
  ref: DenseMatrix,
  query: DenseMatrix,
  metric: Metric,
  exclude: Int32Array | undefined,
  best: BestLists,
  shared: boolean,
): Omit<DenseScanArrays, 'progress'> {
  const alloc = <T extends Float64Array | Int32Array>(make: (buffer: ArrayBufferLike) => T, source: T): T => {
    if (!shared) return source;
    const copy = make(new SharedArrayBuffer(source.byteLength));
    copy.set(source as never);
    return copy;
  };
  // Euclidean ranks by ||r||² − 2 q·r; cosine normalises the rows and ranks by −2 cos alone, so an
  // all-zero row sits at cosine distance 1 from everything, as in sklearn.
  const refTerm = metric === 'euclidean' ? rowSquaredNorms(ref) : new Float64Array(ref.rows);
  const queryNorms = metric === 'euclidean' ? rowSquaredNorms(query) : new Float64Array(query.rows).fill(1);
  const maxTerm = refTerm.reduce((m, v) => Math.max(m, v), metric === 'euclidean' ? 0 : 1);
  // The float32 filter's key is within ~1e-7 relative of the float64 one; 1e-5 keeps every true candidate.
  const margin = queryNorms.map((n) => 1e-5 * (maxTerm + n) + 1e-30);
  return {
    refTerm: alloc((b) => new Float64Array(b), refTerm),
    margin: alloc((b) => new Float64Array(b), margin),
    exclude: exclude ? alloc((b) => new Int32Array(b), exclude) : null,
    bestKey: alloc((b) => new Float64Array(b), best.key),
    bestIndex: alloc((b) => new Int32Array(b), best.index),
  };
}

interface DenseLayout {
  queryAt: number;
  refAt: number;
  termAt: number;
  scratch: { outAt: number; candAt: number; thrAt: number }[];
  bytes: number;
}

function denseLayout(
  queryRows: number,
  refRows: number,
  rowBytes: number,
  refTile: number,
  threads: number,
): DenseLayout {
  const queryAt = 0;
  const refAt = queryAt + queryRows * rowBytes;
  const termAt = refAt + refRows * rowBytes;
  let at = roundUp(termAt + refRows * 4, 16);
  const tilePairs = roundUp(QUERY_TILE, QUERY_BLOCK) * refTile;
  const scratch = Array.from({ length: threads }, () => {
    const outAt = at;
    const candAt = outAt + tilePairs * 4;
    const thrAt = candAt + tilePairs * 8;
    at = roundUp(thrAt + QUERY_TILE * 4, 16);
    return { outAt, candAt, thrAt };
  });
  return { queryAt, refAt, termAt, scratch, bytes: at };
}

/** Contiguous ranges of whole query tiles, one per thread (some may be empty). */
function splitQueries(rows: number, threads: number): [number, number][] {
  const tiles = Math.ceil(rows / QUERY_TILE);
  return Array.from({ length: threads }, (_, t) => {
    const from = Math.floor((tiles * t) / threads) * QUERY_TILE;
    const to = Math.min(rows, Math.floor((tiles * (t + 1)) / threads) * QUERY_TILE);
    return [from, Math.max(from, to)];
  });
}

/** Copies rows [r0, r1) to kernel memory at float offset `at`, padded to `d4 * 4` columns and `padRows` rows. */
function packRows(
  memory: Float32Array,
  at: number,
  x: DenseMatrix,
  r0: number,
  r1: number,
  padRows: number,
  d4: number,
  scale: Float64Array | undefined,
): void {
  const width = d4 * 4;
  const cols = x.cols;
  memory.fill(0, at, at + padRows * width);
  for (let r = r0; r < r1; r++) {
    const dst = at + (r - r0) * width;
    const src = x.data.subarray(r * cols, (r + 1) * cols);
    if (!scale) {
      memory.set(src, dst);
      continue;
    }
    const s = scale[r] as number;
    for (let c = 0; c < cols; c++) memory[dst + c] = (src[c] as number) * s;
  }
}

function inverseNorms(x: FeatureMatrix): Float64Array {
  const norms = rowSquaredNorms(x);
  return norms.map((n) => (n > 0 ? 1 / Math.sqrt(n) : 0));
}

const roundUp = (n: number, multiple: number): number => Math.ceil(n / multiple) * multiple;

// --- sparse ----------------------------------------------------------------------------------

/** The reference matrix transposed (columns → rows holding them), with values as float64. */
interface InvertedIndex {
  start: Int32Array;
  rows: Int32Array;
  values: Float64Array;
}

function invert(ref: CsrMatrix, scale: Float64Array | undefined): InvertedIndex {
  const start = new Int32Array(ref.cols + 1);
  for (const c of ref.indices) start[c + 1] = (start[c + 1] as number) + 1;
  for (let c = 0; c < ref.cols; c++) start[c + 1] = (start[c + 1] as number) + (start[c] as number);
  const fill = start.slice(0, ref.cols);
  const rows = new Int32Array(ref.indices.length);
  const values = new Float64Array(ref.indices.length);
  for (let r = 0; r < ref.rows; r++) {
    const s = scale ? (scale[r] as number) : 1;
    for (let p = ref.indptr[r] as number; p < (ref.indptr[r + 1] as number); p++) {
      const c = ref.indices[p] as number;
      const at = fill[c] as number;
      fill[c] = at + 1;
      rows[at] = r;
      values[at] = (ref.data[p] as number) * s;
    }
  }
  return { start, rows, values };
}

function sparseSearch(
  ref: CsrMatrix,
  query: CsrMatrix,
  metric: Metric,
  exclude: Int32Array | undefined,
  best: BestLists,
): void {
  const cosine = metric === 'cosine';
  const index = invert(ref, cosine ? inverseNorms(ref) : undefined);
  const queryScale = cosine ? inverseNorms(query) : undefined;
  const refTerm = cosine ? new Float64Array(ref.rows) : rowSquaredNorms(ref);
  // References sharing no column with a query are at key refTerm alone: visit them in that order.
  const byTerm = Int32Array.from({ length: ref.rows }, (_, i) => i).sort(
    (a, b) => (refTerm[a] as number) - (refTerm[b] as number) || a - b,
  );
  const stamp = new Int32Array(ref.rows).fill(-1);
  const dot = new Float64Array(ref.rows);
  const touched = new Int32Array(ref.rows);
  const k = best.k;

  for (let q = 0; q < query.rows; q++) {
    const s = queryScale ? (queryScale[q] as number) : 1;
    let count = 0;
    for (let p = query.indptr[q] as number; p < (query.indptr[q + 1] as number); p++) {
      const c = query.indices[p] as number;
      const v = (query.data[p] as number) * s;
      for (let e = index.start[c] as number; e < (index.start[c + 1] as number); e++) {
        const r = index.rows[e] as number;
        if (stamp[r] !== q) {
          stamp[r] = q;
          dot[r] = 0;
          touched[count++] = r;
        }
        dot[r] = (dot[r] as number) + v * (index.values[e] as number);
      }
    }
    const skip = exclude ? (exclude[q] as number) : -1;
    for (let t = 0; t < count; t++) {
      const r = touched[t] as number;
      if (r !== skip) best.offer(q, (refTerm[r] as number) - 2 * (dot[r] as number), r);
    }
    for (const r of byTerm) {
      if (stamp[r] === q || r === skip) continue;
      const last = q * k + k - 1;
      const worst = best.key[last] as number;
      const key = refTerm[r] as number;
      const worstIndex = best.index[last] as number;
      if (key > worst || (key === worst && worstIndex >= 0 && r > worstIndex)) break;
      best.offer(q, key, r);
    }
  }
}
