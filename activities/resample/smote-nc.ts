/**
 * SMOTE-NC (imblearn.over_sampling.SMOTENC) for dense rows mixing continuous and categorical
 * columns (category codes stored as numbers).
 *
 * As imbalanced-learn: neighbours are searched in an encoding where continuous columns are kept
 * and each categorical column becomes one-hot columns of value median/2, median being the median
 * over continuous columns of their standard deviation within the minority class (the class with
 * the fewest rows, ties to the class seen first in y, whichever classes are resampled). A new
 * row's continuous part lies on the
 * segment from the sample to one of its k neighbours; each categorical column takes the value most
 * frequent among all k neighbours, ties broken at random.
 */
import type { Rng } from '../../data/random';
import { badInput } from '../../core/errors';
import { kNearestWithin } from './knn';
import { type DenseMatrix, type FeatureMatrix, isCsr, rowsOfClass } from './matrix';
import { type ClassSummary, INTERPOLATED, type SamplerDraft, type SyntheticRows } from './result';
import { resolveSamplingStrategy } from './sampling-strategy';
import { identityRows, pickPairs, requireRows } from './smote';
import type { SingleSamplerSpec } from './spec';

type SmoteNcSpec = Extract<SingleSamplerSpec, { method: 'smote-nc' }>;

/** The column split and the encoding scale. */
export interface SmoteNcEncoding {
  continuous: number[];
  categorical: number[];
  /** Per categorical column: its sorted distinct values. */
  categories: number[][];
  /** imblearn's `median_std_`. */
  medianStd: number;
}

export function smoteNcEncoding(
  x: DenseMatrix,
  y: Int32Array,
  counts: number[],
  categoricalFeatures: number[],
): SmoteNcEncoding {
  const field = { field: 'categoricalFeatures' };
  const categorical = [...new Set(categoricalFeatures)].sort((a, b) => a - b);
  const outOfRange = categorical.filter((c) => c >= x.cols);
  if (outOfRange.length > 0) {
    throw badInput(
      `categoricalFeatures ${outOfRange.join(', ')} are out of range; columns are 0..${x.cols - 1}.`,
      field,
    );
  }
  if (categorical.length === x.cols) {
    throw badInput('SMOTE-NC needs some continuous columns; every column is listed in categoricalFeatures.', field);
  }
  const continuous = Array.from({ length: x.cols }, (_, c) => c).filter((c) => !categorical.includes(c));
  const minority = minorityClass(y, counts);
  const stds = continuous.map((c) => columnStd(x, rowsOfClass(y, minority), c));
  const categories = categorical.map((c) => {
    const values = new Set<number>();
    for (let r = 0; r < x.rows; r++) values.add(x.data[r * x.cols + c] as number);
    return [...values].sort((a, b) => a - b);
  });
  return { continuous, categorical, categories, medianStd: median(stds) };
}

export function smoteNc(x: FeatureMatrix, y: Int32Array, counts: number[], spec: SmoteNcSpec, rng: Rng): SamplerDraft {
  if (isCsr(x)) throw badInput(
    'smote-nc needs dense features (continuous and categorical columns); this matrix is sparse.',
    { field: 'method' },
  );
  const strategy = resolveSamplingStrategy(spec.samplingStrategy, counts, 'over-sampling');
  const encoding = smoteNcEncoding(x, y, counts, spec.categoricalFeatures);
  const k = spec.kNeighbors;
  const synthetic: SyntheticRows[] = [];
  const classes: ClassSummary[] = [];
  for (const [label, n] of strategy) {
    classes.push({ label, target: n, generated: n });
    if (n === 0) continue;
    const rows = rowsOfClass(y, label);
    requireRows(rows.length, k, 'kNeighbors', `class ${label}`);
    const nn = kNearestWithin(encodeSmoteNc(x, rows, encoding), k, spec.metric);
    const picks = pickPairs(rows.length, nn, n, rng);
    const out = new Float32Array(n * x.cols);
    for (let t = 0; t < n; t++) {
      const a = rows[picks.base[t] as number] as number;
      const b = rows[picks.neighbour[t] as number] as number;
      const g = picks.gap[t] as number;
      for (const c of encoding.continuous) {
        const xa = x.data[a * x.cols + c] as number;
        out[t * x.cols + c] = xa + g * Math.fround((x.data[b * x.cols + c] as number) - xa);
      }
      const neighbours = nn.indices.subarray((picks.base[t] as number) * k, (picks.base[t] as number) * k + k);
      encoding.categorical.forEach((c) => {
        out[t * x.cols + c] = mostFrequent(neighbours, (p) => x.data[(rows[p] as number) * x.cols + c] as number, rng);
      });
    }
    synthetic.push({
      x: { data: out, rows: n, cols: x.cols },
      label,
      kind: INTERPOLATED,
      base: picks.base.map((p) => rows[p] as number),
      neighbour: picks.neighbour.map((p) => rows[p] as number),
      gap: picks.gap,
    });
  }
  return { keep: identityRows(x.rows), synthetic, classes };
}

/** The rows in imblearn's encoding: continuous columns, then one-hot × median/2 per categorical column. */
export function encodeSmoteNc(x: DenseMatrix, rows: Int32Array, e: SmoteNcEncoding): DenseMatrix {
  const width = e.continuous.length + e.categories.reduce((sum, c) => sum + c.length, 0);
  const data = new Float32Array(rows.length * width);
  const hot = e.medianStd / 2;
  rows.forEach((r, i) => {
    let at = i * width;
    for (const c of e.continuous) data[at++] = x.data[r * x.cols + c] as number;
    e.categorical.forEach((c, j) => {
      const values = e.categories[j] as number[];
      data[at + values.indexOf(x.data[r * x.cols + c] as number)] = hot;
      at += values.length;
    });
  });
  return { data, rows: rows.length, cols: width };
}

/** The value most frequent among the neighbours, ties broken uniformly at random. */
function mostFrequent(neighbours: Int32Array, valueOf: (position: number) => number, rng: Rng): number {
  const tally = new Map<number, number>();
  for (const p of neighbours) {
    const v = valueOf(p);
    tally.set(v, (tally.get(v) ?? 0) + 1);
  }
  const top = Math.max(...tally.values());
  const tied = [...tally].filter(([, n]) => n === top).map(([v]) => v).sort((a, b) => a - b);
  return tied.length === 1 ? (tied[0] as number) : (tied[rng.int(tied.length)] as number);
}

/** The class with the fewest rows; ties go to the class seen first in y, as min() over a Counter(y). */
function minorityClass(y: Int32Array, counts: number[]): number {
  let best = -1;
  const seen = new Set<number>();
  for (const label of y) {
    if (seen.has(label)) continue;
    seen.add(label);
    if (best < 0 || (counts[label] as number) < (counts[best] as number)) best = label;
  }
  return best;
}

function columnStd(x: DenseMatrix, rows: Int32Array, c: number): number {
  let mean = 0;
  for (const r of rows) mean += x.data[r * x.cols + c] as number;
  mean /= rows.length;
  let variance = 0;
  for (const r of rows) variance += ((x.data[r * x.cols + c] as number) - mean) ** 2;
  return Math.sqrt(variance / rows.length);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[mid] as number;
  return ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
