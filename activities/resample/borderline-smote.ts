/**
 * Borderline-SMOTE (imblearn.over_sampling.BorderlineSMOTE). A class sample is in danger when at
 * least half, but not all, of its m nearest neighbours (all classes) belong to other classes; new
 * rows are generated only from samples in danger.
 *
 * - borderline-1: towards one of the sample's k nearest same-class neighbours, gap in [0, 1).
 * - borderline-2: towards one of its k nearest neighbours of any class; towards a row of another
 *   class the gap is further multiplied by a uniform [0, 0.5), so the new row stays nearer the
 *   sample. This is imbalanced-learn's borderline-2 since 0.11 (PRs #1023 and #1027, after Han et
 *   al. 2005). Debian's 0.10 differs: it splits the count with a Beta(10, 10) draw (so it makes
 *   n or n − 1 rows) and looks up other-class rows with same-class neighbour positions (issue #861).
 */
import type { Rng } from '../../data/random';
import { kNearest } from './knn';
import { type FeatureMatrix, rowsOfClass, takeRows } from './matrix';
import type { ClassSummary, SamplerDraft, SyntheticRows } from './result';
import { resolveSamplingStrategy } from './sampling-strategy';
import { classNotes, identityRows, interpolated, mapRows, pickPairs, requireRows } from './smote';
import type { Metric } from './knn';
import type { SingleSamplerSpec } from './spec';

type BorderlineSpec = Extract<SingleSamplerSpec, { method: 'borderline-smote' }>;

/**
 * The rows of class `label` in danger, ascending: m/2 <= (other-class neighbours among m) < m,
 * with m = `mNeighbors` nearest rows of the whole matrix, the sample itself left out.
 */
export function dangerRows(
  x: FeatureMatrix,
  y: Int32Array,
  label: number,
  mNeighbors: number,
  metric: Metric,
): Int32Array {
  const rows = rowsOfClass(y, label);
  requireRows(x.rows, mNeighbors, 'mNeighbors', 'the training rows');
  const nn = kNearest(x, takeRows(x, rows), { k: mNeighbors, metric, exclude: rows });
  const out: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    let others = 0;
    for (let j = 0; j < mNeighbors; j++) if (y[nn.indices[i * mNeighbors + j] as number] !== label) others++;
    if (others >= mNeighbors / 2 && others < mNeighbors) out.push(rows[i] as number);
  }
  return Int32Array.from(out);
}

export function borderlineSmote(
  x: FeatureMatrix,
  y: Int32Array,
  counts: number[],
  spec: BorderlineSpec,
  rng: Rng,
): SamplerDraft {
  const strategy = resolveSamplingStrategy(spec.samplingStrategy, counts, 'over-sampling');
  const synthetic: SyntheticRows[] = [];
  const classes: ClassSummary[] = [];
  const danger = new Map<number, Int32Array>();
  for (const [label, n] of strategy) {
    if (n === 0) {
      classes.push({ label, target: 0, generated: 0 });
      continue;
    }
    const inDanger = dangerRows(x, y, label, spec.mNeighbors, spec.metric);
    danger.set(label, inDanger);
    if (inDanger.length === 0) {
      classes.push({
        label,
        target: n,
        generated: 0,
        danger: 0,
        note: `no sample of class ${label} is in danger (each has fewer than ${spec.mNeighbors / 2} or all ${spec.mNeighbors} of its mNeighbors in other classes); nothing generated, as imbalanced-learn`,
      });
      continue;
    }
    synthetic.push(generate(x, y, label, n, inDanger, spec, rng));
    classes.push({ label, target: n, generated: n, danger: inDanger.length });
  }
  const draft: SamplerDraft = { keep: identityRows(x.rows), synthetic, classes, diagnostics: { danger } };
  if (synthetic.length === 0) draft.noOp = `borderline-smote: ${classNotes(classes)}`;
  return draft;
}

function generate(
  x: FeatureMatrix,
  y: Int32Array,
  label: number,
  n: number,
  inDanger: Int32Array,
  spec: BorderlineSpec,
  rng: Rng,
): SyntheticRows {
  const { kNeighbors: k, metric } = spec;
  const query = takeRows(x, inDanger);
  if (spec.kind === 'borderline-1') {
    const rows = rowsOfClass(y, label);
    requireRows(rows.length, k, 'kNeighbors', `class ${label}`);
    const positionInClass = inDanger.map((row) => lowerBound(rows, row));
    const nn = kNearest(takeRows(x, rows), query, { k, metric, exclude: positionInClass });
    const picks = pickPairs(inDanger.length, nn, n, rng);
    return interpolated(label, mapRows(inDanger, picks.base), mapRows(rows, picks.neighbour), picks.gap);
  }
  requireRows(x.rows, k, 'kNeighbors', 'the training rows');
  const nn = kNearest(x, query, { k, metric, exclude: inDanger });
  const picks = pickPairs(inDanger.length, nn, n, rng);
  for (let t = 0; t < n; t++) {
    if (y[picks.neighbour[t] as number] !== label) picks.gap[t] = (picks.gap[t] as number) * rng.next() * 0.5;
  }
  return interpolated(label, mapRows(inDanger, picks.base), picks.neighbour, picks.gap);
}

function lowerBound(sorted: Int32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
