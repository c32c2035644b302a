/**
 * Random forest with scikit-learn `RandomForestClassifier` semantics: CART trees grown on bootstrap
 * samples (drawn as per-row counts, i.e. sample weights, as sklearn does), Gini impurity, `maxFeatures`
 * features drawn at every node (going on past that only while every drawn feature was constant in the
 * node, as sklearn does), thresholds at midpoints, values closer than 1e-7 treated as equal, prediction by
 * averaging the trees' leaf class distributions. Not bit-identical to sklearn: the random streams differ.
 */
import type { Rng } from '../../data/random';
import { badInput } from '../../core/errors';
import type { CsrMatrix, FeatureMatrix, RowScores } from './matrix';
import { argmax, isCsr, validatePredict, validateTraining } from './matrix';

export interface RandomForestParams {
  /**
   * Trees in the forest.
   * @default 100
   */
  nEstimators?: number;
  /**
   * Deepest split level; null grows until leaves are pure or too small.
   * @default null
   */
  maxDepth?: number | null;
  /**
   * Features tried per split: 'sqrt' (⌊√d⌋), 'log2' (⌊log₂ d⌋), 'all', or a count.
   * @default 'sqrt'
   */
  maxFeatures?: 'sqrt' | 'log2' | 'all' | number;
  /**
   * Fewest rows a node needs to be split.
   * @default 2
   */
  minSamplesSplit?: number;
  /**
   * Fewest rows each child of a split must keep.
   * @default 1
   */
  minSamplesLeaf?: number;
  /**
   * Grow each tree on a bootstrap sample (n rows drawn with replacement) rather than on all rows.
   * @default true
   */
  bootstrap?: boolean;
}

/** One tree in flat arrays. A leaf has feature −1; `value` holds each node's weighted class counts. */
export interface TreeState {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  /** nodes × nClasses, row-major. */
  value: number[];
}

export interface RandomForestModel {
  kind: 'randomForest';
  nClasses: number;
  nFeatures: number;
  params: Required<RandomForestParams>;
  trees: TreeState[];
}

function resolve(params: RandomForestParams): Required<RandomForestParams> {
  const p = {
    nEstimators: params.nEstimators ?? 100,
    maxDepth: params.maxDepth ?? null,
    maxFeatures: params.maxFeatures ?? 'sqrt',
    minSamplesSplit: params.minSamplesSplit ?? 2,
    minSamplesLeaf: params.minSamplesLeaf ?? 1,
    bootstrap: params.bootstrap ?? true,
  };
  const positiveInt = (field: string, value: number, min: number): void => {
    if (!Number.isInteger(value) || value < min) {
      throw badInput(`randomForest ${field} must be an integer ≥ ${min}; got ${value}`, { stage: 'train', field });
    }
  };
  positiveInt('nEstimators', p.nEstimators, 1);
  if (p.maxDepth !== null) positiveInt('maxDepth', p.maxDepth, 1);
  if (typeof p.maxFeatures === 'number') positiveInt('maxFeatures', p.maxFeatures, 1);
  else if (!['sqrt', 'log2', 'all'].includes(p.maxFeatures)) {
    const got = String(p.maxFeatures);
    throw badInput(`randomForest maxFeatures must be 'sqrt', 'log2', 'all' or a count; got '${got}'`, {
      stage: 'train',
      field: 'maxFeatures',
    });
  }
  positiveInt('minSamplesSplit', p.minSamplesSplit, 2);
  positiveInt('minSamplesLeaf', p.minSamplesLeaf, 1);
  return p;
}

function featuresPerSplit(setting: RandomForestParams['maxFeatures'], d: number): number {
  if (setting === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(d)));
  if (setting === 'log2') return Math.max(1, Math.floor(Math.log2(d)));
  if (setting === 'all' || setting === undefined) return d;
  return Math.min(d, setting);
}

/** sklearn treats feature values closer than this as equal (float32 noise): no split between them. */
const FEATURE_THRESHOLD = 1e-7;

interface Split {
  feature: number;
  threshold: number;
  score: number;
}

/** A feature's entries in the current node: explicit values and their rows, plus how many rows are implicit zeros. */
interface NodeColumn {
  values: Float64Array;
  rows: Int32Array;
  implicitZeros: number;
}

/** Column access and scratch space shared by every tree of one fit (trees are grown one after another). */
class ForestScratch {
  readonly d: number;
  /** Training matrix as compressed sparse columns (sparse input only), rows ascending within a column. */
  readonly cscPtr: Int32Array;
  readonly cscRow: Int32Array;
  readonly cscVal: Float64Array;
  /** `stamp[row] === stampNow` marks the rows of the node being split. */
  readonly stamp: Int32Array;
  stampNow = 0;
  /** Features in draw order; swaps are undone after every node, so it is the identity between nodes. */
  readonly perm: Int32Array;
  readonly swapLog: Int32Array;
  /** `drawnAt[f] === stampNow` marks features already drawn at the current node. */
  readonly drawnAt: Int32Array;
  // node-local columns for the pool mode: entries of f are local{Row,Val}[localStart[f] .. + localCount[f])
  readonly localCount: Int32Array;
  readonly localStart: Int32Array;
  readonly localRow: Int32Array;
  readonly localVal: Float64Array;
  readonly touched: Int32Array;
  touchedCount = 0;
  readonly pool: Int32Array;
  readonly extractRow: Int32Array;
  readonly extractVal: Float64Array;
  /** Value of the chosen feature per row, for partitioning. */
  readonly xf: Float64Array;
  readonly rightRows: Int32Array;

  constructor(readonly x: FeatureMatrix) {
    const d = x.cols;
    const n = x.rows;
    this.d = d;
    const nnz = isCsr(x) ? x.indices.length : 0;
    this.cscPtr = new Int32Array(d + 1);
    this.cscRow = new Int32Array(nnz);
    this.cscVal = new Float64Array(nnz);
    if (isCsr(x)) this.fillCsc(x);
    this.stamp = new Int32Array(n);
    this.perm = Int32Array.from({ length: d }, (_, j) => j);
    this.swapLog = new Int32Array(d);
    this.drawnAt = new Int32Array(d);
    this.localCount = new Int32Array(d);
    this.localStart = new Int32Array(d);
    this.localRow = new Int32Array(nnz);
    this.localVal = new Float64Array(nnz);
    this.touched = new Int32Array(d);
    this.pool = new Int32Array(d);
    this.extractRow = new Int32Array(n);
    this.extractVal = new Float64Array(n);
    this.xf = new Float64Array(n);
    this.rightRows = new Int32Array(n);
  }

  private fillCsc(x: CsrMatrix): void {
    for (const j of x.indices) this.cscPtr[j + 1]!++;
    for (let j = 0; j < this.d; j++) this.cscPtr[j + 1]! += this.cscPtr[j] as number;
    const cursor = this.cscPtr.slice(0, this.d);
    for (let i = 0; i < x.rows; i++) {
      for (let q = x.indptr[i] as number; q < (x.indptr[i + 1] as number); q++) {
        const at = cursor[x.indices[q] as number]!++;
        this.cscRow[at] = i;
        this.cscVal[at] = x.data[q] as number;
      }
    }
  }
}

/**
 * Grows one tree. Each node reads the drawn features' columns restricted to its rows through a row stamp
 * (sparse: a scan of the column store, so a big node costs O(its rows + drawn columns), not O(its nnz)).
 * Draws depend on node sizes and values only, so the sparse and dense layouts of one matrix grow the same tree.
 */
class TreeBuilder {
  private readonly k: number;
  private readonly d: number;
  private readonly tree: TreeState = { feature: [], threshold: [], left: [], right: [], value: [] };
  private readonly total: Float64Array;
  private readonly leftW: Float64Array;
  private readonly zeroW: Float64Array;

  constructor(
    private readonly s: ForestScratch,
    private readonly y: Int32Array,
    nClasses: number,
    private readonly weight: Float64Array,
    private readonly samples: Int32Array,
    private readonly p: Required<RandomForestParams>,
    private readonly mtry: number,
    private readonly rng: Rng,
  ) {
    this.k = nClasses;
    this.d = s.d;
    this.total = new Float64Array(nClasses);
    this.leftW = new Float64Array(nClasses);
    this.zeroW = new Float64Array(nClasses);
  }

  build(): TreeState {
    const stack: { start: number; end: number; depth: number; parent: number; isLeft: boolean }[] = [
      { start: 0, end: this.samples.length, depth: 0, parent: -1, isLeft: true },
    ];
    while (stack.length > 0) {
      const node = stack.pop()!;
      const id = this.addNode(node.start, node.end);
      if (node.parent >= 0) (node.isLeft ? this.tree.left : this.tree.right)[node.parent] = id;
      const split = this.isLeaf(node.start, node.end, node.depth, id) ? null : this.bestSplit(node.start, node.end, id);
      if (split === null) continue;
      const mid = this.partition(node.start, node.end, split);
      this.tree.feature[id] = split.feature;
      this.tree.threshold[id] = split.threshold;
      // right first on the stack, so nodes are numbered depth-first left to right, as in sklearn
      stack.push({ start: mid, end: node.end, depth: node.depth + 1, parent: id, isLeft: false });
      stack.push({ start: node.start, end: mid, depth: node.depth + 1, parent: id, isLeft: true });
    }
    return this.tree;
  }

  private addNode(start: number, end: number): number {
    const id = this.tree.feature.length;
    this.tree.feature.push(-1);
    this.tree.threshold.push(0);
    this.tree.left.push(-1);
    this.tree.right.push(-1);
    for (let c = 0; c < this.k; c++) this.tree.value.push(0);
    for (let s = start; s < end; s++) {
      const i = this.samples[s] as number;
      this.tree.value[id * this.k + (this.y[i] as number)]! += this.weight[i] as number;
    }
    return id;
  }

  private isLeaf(start: number, end: number, depth: number, id: number): boolean {
    const rows = end - start;
    if (rows < this.p.minSamplesSplit || rows < 2 * this.p.minSamplesLeaf) return true;
    if (this.p.maxDepth !== null && depth >= this.p.maxDepth) return true;
    let nonEmpty = 0;
    for (let c = 0; c < this.k; c++) if ((this.tree.value[id * this.k + c] as number) > 0) nonEmpty++;
    return nonEmpty <= 1; // pure: Gini impurity 0
  }

  /**
   * sklearn's feature sampling: visit `mtry` features drawn without replacement, constant ones included;
   * only if all of them are constant in the node, go on to the first varying one (drawing on until one
   * varies picks uniformly among the undrawn varying features, which is what the pool does, cheaply).
   * Keeps the split with the best Gini proxy; the first one wins ties.
   */
  private bestSplit(start: number, end: number, id: number): Split | null {
    const s = this.s;
    s.stampNow++;
    for (let t = start; t < end; t++) s.stamp[this.samples[t] as number] = s.stampNow;
    let best: Split | null = null;
    let varying = 0;
    const visit = (f: number, column: NodeColumn): void => {
      const split = this.evaluate(f, column, end - start, id);
      if (split === undefined) return; // constant in this node
      varying++;
      if (split !== null && (best === null || split.score > best.score)) best = split;
    };
    const draws = Math.min(this.mtry, this.d);
    for (let drawn = 0; drawn < draws; drawn++) {
      const j = drawn + this.rng.int(this.d - drawn);
      const f = s.perm[j] as number;
      s.perm[j] = s.perm[drawn] as number;
      s.perm[drawn] = f;
      s.swapLog[drawn] = j;
      s.drawnAt[f] = s.stampNow;
      visit(f, this.nodeColumn(f, start, end));
    }
    if (varying === 0 && draws < this.d) {
      const size = this.varyingPool(start, end);
      if (size > 0) {
        const f = s.pool[this.rng.int(size)] as number;
        visit(f, this.localColumn(f, start, end));
      }
      this.clearLocal();
    }
    for (let t = draws - 1; t >= 0; t--) {
      const j = s.swapLog[t] as number;
      const f = s.perm[t] as number;
      s.perm[t] = s.perm[j] as number;
      s.perm[j] = f;
    }
    return best;
  }

  /** Feature f restricted to the node's rows: from the column store (sparse) or the rows (dense). */
  private nodeColumn(f: number, start: number, end: number): NodeColumn {
    const s = this.s;
    const x = s.x;
    let count = 0;
    if (isCsr(x)) {
      for (let q = s.cscPtr[f] as number; q < (s.cscPtr[f + 1] as number); q++) {
        const i = s.cscRow[q] as number;
        if (s.stamp[i] !== s.stampNow) continue;
        s.extractRow[count] = i;
        s.extractVal[count++] = s.cscVal[q] as number;
      }
    } else {
      for (let t = start; t < end; t++) {
        const i = this.samples[t] as number;
        s.extractRow[count] = i;
        s.extractVal[count++] = x.data[i * x.cols + f] as number;
      }
    }
    return {
      values: s.extractVal.subarray(0, count),
      rows: s.extractRow.subarray(0, count),
      implicitZeros: end - start - count,
    };
  }

  /**
   * Fills `pool` with the features not drawn yet that vary within the node, ascending, and (sparse) indexes
   * the node's entries by feature. Both layouts yield the same pool.
   */
  private varyingPool(start: number, end: number): number {
    const s = this.s;
    const x = s.x;
    let size = 0;
    if (!isCsr(x)) {
      for (let j = 0; j < this.d; j++) {
        if (s.drawnAt[j] === s.stampNow) continue;
        let lowest = Number.POSITIVE_INFINITY;
        let highest = Number.NEGATIVE_INFINITY;
        for (let t = start; t < end; t++) {
          const v = x.data[(this.samples[t] as number) * x.cols + j] as number;
          if (v < lowest) lowest = v;
          if (v > highest) highest = v;
        }
        if (highest > lowest + FEATURE_THRESHOLD) s.pool[size++] = j;
      }
      return size;
    }
    s.touchedCount = 0;
    for (let t = start; t < end; t++) {
      const i = this.samples[t] as number;
      for (let q = x.indptr[i] as number; q < (x.indptr[i + 1] as number); q++) {
        const f = x.indices[q] as number;
        if (s.localCount[f] === 0) s.touched[s.touchedCount++] = f;
        s.localCount[f]!++;
      }
    }
    let offset = 0;
    for (let t = 0; t < s.touchedCount; t++) {
      const f = s.touched[t] as number;
      s.localStart[f] = offset;
      offset += s.localCount[f] as number;
      s.localCount[f] = 0; // refilled below as the write cursor
    }
    for (let t = start; t < end; t++) {
      const i = this.samples[t] as number;
      for (let q = x.indptr[i] as number; q < (x.indptr[i + 1] as number); q++) {
        const f = x.indices[q] as number;
        const at = (s.localStart[f] as number) + s.localCount[f]!++;
        s.localRow[at] = i;
        s.localVal[at] = x.data[q] as number;
      }
    }
    for (let t = 0; t < s.touchedCount; t++) {
      const f = s.touched[t] as number;
      if (s.drawnAt[f] !== s.stampNow && this.varies(f, end - start)) s.pool[size++] = f;
    }
    s.pool.subarray(0, size).sort();
    return size;
  }

  /** Whether sparse feature f spans more than FEATURE_THRESHOLD in a node of `rows` rows (implicit zeros are 0). */
  private varies(f: number, rows: number): boolean {
    const s = this.s;
    const from = s.localStart[f] as number;
    const count = s.localCount[f] as number;
    let lowest = count < rows ? 0 : Number.POSITIVE_INFINITY;
    let highest = count < rows ? 0 : Number.NEGATIVE_INFINITY;
    for (let q = from; q < from + count; q++) {
      const v = s.localVal[q] as number;
      if (v < lowest) lowest = v;
      if (v > highest) highest = v;
    }
    return highest > lowest + FEATURE_THRESHOLD;
  }

  /** Feature f in the node from the pool-mode index (sparse) or the rows (dense). */
  private localColumn(f: number, start: number, end: number): NodeColumn {
    const s = this.s;
    if (!isCsr(s.x)) return this.nodeColumn(f, start, end);
    const from = s.localStart[f] as number;
    const to = from + (s.localCount[f] as number);
    return {
      values: s.localVal.subarray(from, to),
      rows: s.localRow.subarray(from, to),
      implicitZeros: end - start - (to - from),
    };
  }

  private clearLocal(): void {
    const s = this.s;
    for (let t = 0; t < s.touchedCount; t++) s.localCount[s.touched[t] as number] = 0;
    s.touchedCount = 0;
  }

  /**
   * Best threshold on one feature: undefined when it is constant in the node, null when no split is allowed.
   * Sorts the column's entries in place (they are scratch copies).
   */
  private evaluate(f: number, column: NodeColumn, n: number, id: number): Split | null | undefined {
    const k = this.k;
    const { values, rows, implicitZeros } = column;
    const count = values.length;
    if (count === 0) return undefined;
    sortPairs(values, rows, 0, count);
    const lowest = implicitZeros > 0 ? Math.min(0, values[0] as number) : (values[0] as number);
    const highest = implicitZeros > 0 ? Math.max(0, values[count - 1] as number) : (values[count - 1] as number);
    if (highest <= lowest + FEATURE_THRESHOLD) return undefined;

    const { total, leftW, zeroW } = this;
    for (let c = 0; c < k; c++) {
      total[c] = this.tree.value[id * k + c] as number;
      zeroW[c] = total[c] as number;
      leftW[c] = 0;
    }
    // implicit zeros (sparse): their class weights are the node's minus the explicit entries'
    for (let e = 0; e < count; e++) {
      const i = rows[e] as number;
      zeroW[this.y[i] as number]! -= this.weight[i] as number;
    }
    const minLeaf = this.p.minSamplesLeaf;
    let leftRows = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    let bestThreshold = 0;
    let zeroDone = implicitZeros === 0;
    let current = Number.NEGATIVE_INFINITY;
    // sweep blocks of equal value upwards (the implicit zeros join the block at 0); score each boundary
    for (let e = 0; e <= count; e++) {
      const next = e === count ? Number.POSITIVE_INFINITY : (values[e] as number);
      let boundary = next > current + FEATURE_THRESHOLD && leftRows > 0;
      if (!zeroDone && next >= 0) {
        if (current < -FEATURE_THRESHOLD && leftRows > 0) {
          const score = this.gini(leftRows, n, minLeaf);
          if (score > bestScore) [bestScore, bestThreshold] = [score, midpoint(current, 0)];
        }
        for (let c = 0; c < k; c++) leftW[c]! += zeroW[c] as number;
        leftRows += implicitZeros;
        zeroDone = true;
        current = 0;
        boundary = next > FEATURE_THRESHOLD;
      }
      if (e === count) break;
      if (boundary) {
        const score = this.gini(leftRows, n, minLeaf);
        if (score > bestScore) [bestScore, bestThreshold] = [score, midpoint(current, next)];
      }
      const i = rows[e] as number;
      leftW[this.y[i] as number]! += this.weight[i] as number;
      leftRows++;
      current = next;
    }
    return bestScore === Number.NEGATIVE_INFINITY ? null : { feature: f, threshold: bestThreshold, score: bestScore };
  }

  /** Gini proxy Σ L_c²/W_L + Σ R_c²/W_R of the current left/right split; −∞ when a side is too small. */
  private gini(leftRows: number, n: number, minLeaf: number): number {
    if (leftRows < minLeaf || n - leftRows < minLeaf) return Number.NEGATIVE_INFINITY;
    let wl = 0;
    let wr = 0;
    let sl = 0;
    let sr = 0;
    for (let c = 0; c < this.k; c++) {
      const l = this.leftW[c] as number;
      const r = (this.total[c] as number) - l;
      wl += l;
      wr += r;
      sl += l * l;
      sr += r * r;
    }
    return sl / wl + sr / wr;
  }

  /** Stable partition of the node's rows: x[f] ≤ threshold first. Returns where the right child starts. */
  private partition(start: number, end: number, split: Split): number {
    const s = this.s;
    const { values, rows } = this.nodeColumn(split.feature, start, end);
    for (let t = start; t < end; t++) s.xf[this.samples[t] as number] = 0;
    for (let e = 0; e < rows.length; e++) s.xf[rows[e] as number] = values[e] as number;
    let left = start;
    let right = 0;
    for (let t = start; t < end; t++) {
      const i = this.samples[t] as number;
      if ((s.xf[i] as number) <= split.threshold) this.samples[left++] = i;
      else s.rightRows[right++] = i;
    }
    this.samples.set(s.rightRows.subarray(0, right), left);
    return left;
  }
}

/** sklearn's threshold: the midpoint, or the lower value when the midpoint rounds up to the upper one. */
function midpoint(lower: number, upper: number): number {
  const mid = lower / 2 + upper / 2;
  return mid === upper || !Number.isFinite(mid) ? lower : mid;
}

/** Sorts `values[lo, hi)` ascending, moving `rows` along (quicksort, median of three, insertion sort below 16). */
function sortPairs(values: Float64Array, rows: Int32Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    const mid = (lo + hi) >>> 1;
    const a = values[lo] as number;
    const b = values[mid] as number;
    const c = values[hi - 1] as number;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi - 1;
    while (i <= j) {
      while ((values[i] as number) < pivot) i++;
      while ((values[j] as number) > pivot) j--;
      if (i <= j) {
        swapPair(values, rows, i, j);
        i++;
        j--;
      }
    }
    // recurse into the smaller part, loop on the larger: stack depth stays O(log n)
    if (j + 1 - lo < hi - i) {
      sortPairs(values, rows, lo, j + 1);
      lo = i;
    } else {
      sortPairs(values, rows, i, hi);
      hi = j + 1;
    }
  }
  for (let i = lo + 1; i < hi; i++) {
    const v = values[i] as number;
    const r = rows[i] as number;
    let j = i - 1;
    for (; j >= lo && (values[j] as number) > v; j--) {
      values[j + 1] = values[j] as number;
      rows[j + 1] = rows[j] as number;
    }
    values[j + 1] = v;
    rows[j + 1] = r;
  }
}

function swapPair(values: Float64Array, rows: Int32Array, i: number, j: number): void {
  const v = values[i] as number;
  values[i] = values[j] as number;
  values[j] = v;
  const r = rows[i] as number;
  rows[i] = rows[j] as number;
  rows[j] = r;
}

/** Bootstrap counts per row (sklearn draws n indices with replacement and uses the counts as weights). */
function sampleWeights(n: number, bootstrap: boolean, rng: Rng): Float64Array {
  const weight = new Float64Array(n);
  if (!bootstrap) return weight.fill(1);
  for (let t = 0; t < n; t++) weight[rng.int(n)]! += 1;
  return weight;
}

export function fitRandomForest(
  x: FeatureMatrix,
  y: Int32Array,
  nClasses: number,
  params: RandomForestParams,
  rng: Rng,
): RandomForestModel {
  validateTraining(x, y, nClasses, 'randomForest');
  const p = resolve(params);
  const mtry = featuresPerSplit(p.maxFeatures, x.cols);
  const scratch = new ForestScratch(x);
  const trees: TreeState[] = [];
  for (let t = 0; t < p.nEstimators; t++) {
    const treeRng = rng.fork(`tree-${t}`);
    const weight = sampleWeights(x.rows, p.bootstrap, treeRng);
    const samples = Int32Array.from(weight.keys()).filter((i) => (weight[i] as number) > 0);
    trees.push(new TreeBuilder(scratch, y, nClasses, weight, samples, p, mtry, treeRng).build());
  }
  return { kind: 'randomForest', nClasses, nFeatures: x.cols, params: p, trees };
}

/** Writes row i of x into the dense buffer `row` (sparse rows: only their stored entries, or zeros). */
function scatterRow(x: FeatureMatrix, i: number, row: Float64Array, clear: boolean): void {
  if (!isCsr(x)) {
    row.set(x.data.subarray(i * x.cols, (i + 1) * x.cols));
    return;
  }
  for (let q = x.indptr[i] as number; q < (x.indptr[i + 1] as number); q++) {
    row[x.indices[q] as number] = clear ? 0 : (x.data[q] as number);
  }
}

/** The leaf of `tree` that a dense row falls into. */
function leafOf(tree: TreeState, row: Float64Array): number {
  let node = 0;
  for (let f = tree.feature[0] as number; f >= 0; f = tree.feature[node] as number) {
    const goLeft = (row[f] as number) <= (tree.threshold[node] as number);
    node = (goLeft ? tree.left[node] : tree.right[node]) as number;
  }
  return node;
}

/** Averages each tree's leaf class distribution (sklearn's `predict_proba`) and takes the argmax. */
export function scoreRandomForest(model: RandomForestModel, x: FeatureMatrix): RowScores {
  validatePredict(x, model.nFeatures, model.kind);
  const k = model.nClasses;
  const row = new Float64Array(x.cols);
  const proba = new Float64Array(x.rows * k);
  const labels = new Int32Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    scatterRow(x, i, row, false);
    for (const tree of model.trees) {
      const leaf = leafOf(tree, row);
      let total = 0;
      for (let c = 0; c < k; c++) total += tree.value[leaf * k + c] as number;
      for (let c = 0; c < k; c++) proba[i * k + c]! += (tree.value[leaf * k + c] as number) / total;
    }
    // Summed, not yet averaged: the argmax is the same, and dividing afterwards keeps the sums' order.
    labels[i] = argmax(proba, i * k, k);
    for (let c = 0; c < k; c++) proba[i * k + c]! /= model.trees.length;
    scatterRow(x, i, row, true);
  }
  return { labels, scores: proba, k, kind: 'probability' };
}

export function predictRandomForest(model: RandomForestModel, x: FeatureMatrix): Int32Array {
  return scoreRandomForest(model, x).labels;
}
