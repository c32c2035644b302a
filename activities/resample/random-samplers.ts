/**
 * Random over- and under-sampling with imbalanced-learn's semantics (RandomOverSampler,
 * RandomUnderSampler): which rows, in which order.
 */
import type { Rng } from '../../data/random';
import { badInput } from '../../core/errors';
import { type FeatureMatrix, isCsr, rowsOfClass } from './matrix';
import { type ClassSummary, type SamplerDraft, SMOOTHED_BOOTSTRAP, type SyntheticRows } from './result';
import { resolveSamplingStrategy } from './sampling-strategy';
import type { SingleSamplerSpec } from './spec';
import { smoothedRows } from './synthesis';

type RandomOverSpec = Extract<SingleSamplerSpec, { method: 'random-over' }>;
type RandomUnderSpec = Extract<SingleSamplerSpec, { method: 'random-under' }>;

/**
 * Keeps every row, then per targeted class (ascending) appends `n` rows drawn with replacement
 * from that class; with `shrinkage` the drawn rows get Gaussian noise instead of being copies.
 */
export function randomOverSample(
  x: FeatureMatrix,
  y: Int32Array,
  counts: number[],
  spec: RandomOverSpec,
  rng: Rng,
): SamplerDraft {
  const strategy = resolveSamplingStrategy(spec.samplingStrategy, counts, 'over-sampling');
  const shrinkage = shrinkageByClass(spec.shrinkage, strategy);
  if (shrinkage && isCsr(x)) {
    const message = 'random-over with shrinkage perturbs every column and would densify a sparse matrix; use it on dense features only.';
    throw badInput(message, { field: 'shrinkage' });
  }
  const keep: number[] = Array.from({ length: x.rows }, (_, i) => i);
  const synthetic: SyntheticRows[] = [];
  const classes: ClassSummary[] = [];
  for (const [label, n] of strategy) {
    const rows = rowsOfClass(y, label);
    const drawn = new Int32Array(n);
    for (let t = 0; t < n; t++) drawn[t] = rows[rng.int(rows.length)] as number;
    const factor = shrinkage?.get(label);
    if (factor === undefined || isCsr(x)) {
      for (const r of drawn) keep.push(r);
      classes.push({ label, target: n, generated: 0 });
      continue;
    }
    const scale = classStd(x.data, x.cols, rows).map((s) => factor * smoothingConstant(x.rows, x.cols) * s);
    synthetic.push({
      x: smoothedRows(x, drawn, scale, rng),
      label,
      kind: SMOOTHED_BOOTSTRAP,
      base: drawn,
      neighbour: new Int32Array(n).fill(-1),
      gap: new Float64Array(n).fill(NaN),
    });
    classes.push({ label, target: n, generated: n });
  }
  return { keep: Int32Array.from(keep), synthetic, classes };
}

function shrinkageByClass(
  shrinkage: RandomOverSpec['shrinkage'],
  strategy: Map<number, number>,
): Map<number, number> | undefined {
  if (shrinkage === null) return undefined;
  if (typeof shrinkage === 'number') return new Map([...strategy.keys()].map((label) => [label, shrinkage]));
  const map = new Map(Object.entries(shrinkage).map(([key, value]) => [Number(key), value]));
  const missing = [...strategy.keys()].filter((label) => !map.has(label));
  if (missing.length > 0) {
    throw badInput(
      `shrinkage needs a factor for every resampled class; missing class(es) ${missing.join(', ')}.`,
      { field: 'shrinkage' },
    );
  }
  return map;
}

/** imblearn's smoothing constant (4 / ((d + 2) n))^(1 / (d + 4)), n = all rows. */
const smoothingConstant = (rows: number, cols: number): number => (4 / ((cols + 2) * rows)) ** (1 / (cols + 4));

/** Per-column population standard deviation (numpy's std, ddof 0) over the given rows. */
function classStd(data: Float32Array, cols: number, rows: Int32Array): Float64Array {
  const mean = new Float64Array(cols);
  for (const r of rows) for (let c = 0; c < cols; c++) mean[c] = (mean[c] as number) + (data[r * cols + c] as number);
  for (let c = 0; c < cols; c++) mean[c] = (mean[c] as number) / rows.length;
  const variance = new Float64Array(cols);
  for (const r of rows) {
    for (let c = 0; c < cols; c++) {
      variance[c] = (variance[c] as number) + ((data[r * cols + c] as number) - (mean[c] as number)) ** 2;
    }
  }
  return variance.map((v) => Math.sqrt(v / rows.length));
}

/**
 * Per class in label order: a targeted class keeps `n` of its rows drawn at random (without
 * replacement unless `replacement`), in draw order; other classes keep all rows in input order.
 */
export function randomUnderSample(y: Int32Array, counts: number[], spec: RandomUnderSpec, rng: Rng): SamplerDraft {
  const strategy = resolveSamplingStrategy(spec.samplingStrategy, counts, 'under-sampling');
  const keep: number[] = [];
  const classes: ClassSummary[] = [];
  counts.forEach((count, label) => {
    if (count === 0) return;
    const rows = rowsOfClass(y, label);
    const n = strategy.get(label);
    if (n === undefined) {
      for (const r of rows) keep.push(r);
      return;
    }
    const draw = spec.replacement ? drawWithReplacement : drawWithoutReplacement;
    const picks = draw(rows.length, n, rng);
    for (const p of picks) keep.push(rows[p] as number);
    classes.push({ label, target: n, generated: 0 });
  });
  return { keep: Int32Array.from(keep), synthetic: [], classes };
}

function drawWithReplacement(size: number, n: number, rng: Rng): Int32Array {
  const out = new Int32Array(n);
  for (let t = 0; t < n; t++) out[t] = rng.int(size);
  return out;
}

/** The first n positions of a Fisher–Yates shuffle of 0..size-1 (numpy's choice(replace=False)). */
function drawWithoutReplacement(size: number, n: number, rng: Rng): Int32Array {
  const pool = Int32Array.from({ length: size }, (_, i) => i);
  for (let t = 0; t < n; t++) {
    const j = t + rng.int(size - t);
    const tmp = pool[t] as number;
    pool[t] = pool[j] as number;
    pool[j] = tmp;
  }
  return pool.slice(0, n);
}
