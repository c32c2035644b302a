/**
 * ADASYN (imblearn.over_sampling.ADASYN): each class sample gets a share of the new rows in
 * proportion to how many of its n nearest neighbours (all classes) belong to other classes; its
 * rows are interpolated towards its n nearest same-class neighbours.
 *
 * The shares are computed with numpy's float64 arithmetic (pairwise sum, round-half-to-even), so
 * the per-sample counts equal imbalanced-learn's whenever the neighbours are the same. Where
 * imbalanced-learn raises (no neighbour of another class; rounding leaves nothing to generate),
 * the class is skipped with a note, and a result with nothing generated is a no-op with a reason.
 */
import type { Rng } from '../../data/random';
import { kNearest, kNearestWithin, type Metric } from './knn';
import { type FeatureMatrix, rowsOfClass, takeRows } from './matrix';
import type { ClassSummary, SamplerDraft, SyntheticRows } from './result';
import { resolveSamplingStrategy } from './sampling-strategy';
import { classNotes, identityRows, interpolated, requireRows } from './smote';
import type { SingleSamplerSpec } from './spec';

type AdasynSpec = Extract<SingleSamplerSpec, { method: 'adasyn' }>;

/** Per-sample counts for one class, or why there are none. */
export type AdasynPlan = { counts: Int32Array; total: number } | { counts: undefined; reason: string };

/** How many rows each sample of class `label` (in class row order) generates when `n` are asked. */
export function adasynPlan(
  x: FeatureMatrix,
  y: Int32Array,
  label: number,
  n: number,
  nNeighbors: number,
  metric: Metric,
): AdasynPlan {
  const rows = rowsOfClass(y, label);
  requireRows(x.rows, nNeighbors, 'nNeighbors', 'the training rows');
  const nn = kNearest(x, takeRows(x, rows), { k: nNeighbors, metric, exclude: rows });
  const ratio = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    let others = 0;
    for (let j = 0; j < nNeighbors; j++) if (y[nn.indices[i * nNeighbors + j] as number] !== label) others++;
    ratio[i] = others / nNeighbors;
  }
  const sum = numpySum(ratio);
  if (sum === 0) {
    return {
      counts: undefined,
      reason: `no sample of class ${label} has a neighbour of another class among its ${nNeighbors} nearest, so ADASYN's weights are 0/0 (imbalanced-learn raises here); nothing generated`,
    };
  }
  const counts = new Int32Array(rows.length);
  let total = 0;
  for (let i = 0; i < rows.length; i++) {
    counts[i] = roundHalfEven(((ratio[i] as number) / sum) * n);
    total += counts[i] as number;
  }
  if (total === 0) {
    return {
      counts: undefined,
      reason: `ADASYN's per-sample shares of ${n} rows for class ${label} all round to 0 (imbalanced-learn raises here); nothing generated`,
    };
  }
  return { counts, total };
}

export function adasyn(x: FeatureMatrix, y: Int32Array, counts: number[], spec: AdasynSpec, rng: Rng): SamplerDraft {
  const strategy = resolveSamplingStrategy(spec.samplingStrategy, counts, 'over-sampling');
  const k = spec.nNeighbors;
  const synthetic: SyntheticRows[] = [];
  const classes: ClassSummary[] = [];
  const plans = new Map<number, Int32Array>();
  for (const [label, n] of strategy) {
    if (n === 0) {
      classes.push({ label, target: 0, generated: 0 });
      continue;
    }
    const plan = adasynPlan(x, y, label, n, k, spec.metric);
    if (plan.counts === undefined) {
      classes.push({ label, target: n, generated: 0, note: plan.reason });
      continue;
    }
    plans.set(label, plan.counts);
    const rows = rowsOfClass(y, label);
    requireRows(rows.length, k, 'nNeighbors', `class ${label}`);
    const nn = kNearestWithin(takeRows(x, rows), k, spec.metric);
    const base = new Int32Array(plan.total);
    const neighbour = new Int32Array(plan.total);
    const gap = new Float64Array(plan.total);
    let t = 0;
    plan.counts.forEach((times, i) => {
      for (let r = 0; r < times; r++, t++) {
        base[t] = rows[i] as number;
        neighbour[t] = rows[nn.indices[i * k + rng.int(k)] as number] as number;
        gap[t] = rng.next();
      }
    });
    synthetic.push(interpolated(label, base, neighbour, gap));
    const note =
      plan.total === n ? undefined : `rounding per-sample shares gives ${plan.total} rows instead of ${n}, as imbalanced-learn`;
    classes.push({ label, target: n, generated: plan.total, ...(note ? { note } : {}) });
  }
  const draft: SamplerDraft = { keep: identityRows(x.rows), synthetic, classes, diagnostics: { adasynCounts: plans } };
  if (synthetic.length === 0) draft.noOp = `adasyn: ${classNotes(classes)}`;
  return draft;
}

/** numpy's float64 sum of a contiguous 1-d array: pairwise summation with 8 accumulators. */
export function numpySum(values: Float64Array): number {
  return pairwise(values, 0, values.length);
}

function pairwise(a: Float64Array, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i] as number;
    return res;
  }
  if (n <= 128) {
    const r = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => a[start + j] as number);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = (r[j] as number) + (a[start + i + j] as number);
    const [r0, r1, r2, r3, r4, r5, r6, r7] = r as [number, number, number, number, number, number, number, number];
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[start + i] as number;
    return res;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwise(a, start, half) + pairwise(a, start + half, n - half);
}

/** numpy's rint: round half to even. */
export function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const diff = v - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
