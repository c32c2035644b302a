/**
 * SMOTE (imblearn.over_sampling.SMOTE): per targeted class, each new row lies on the segment from
 * a random class sample to one of its k nearest same-class neighbours, at a uniform random gap.
 */
import type { Rng } from '../../data/random';
import { badInput } from '../../core/errors';
import { kNearestWithin, type KnnResult } from './knn';
import { type FeatureMatrix, rowsOfClass, takeRows } from './matrix';
import { type ClassSummary, INTERPOLATED, type SamplerDraft, type SyntheticRows } from './result';
import { resolveSamplingStrategy } from './sampling-strategy';
import type { SingleSamplerSpec } from './spec';

type SmoteSpec = Extract<SingleSamplerSpec, { method: 'smote' }>;

/** Every input row, then the generated rows of each targeted class in label order. */
export function smote(x: FeatureMatrix, y: Int32Array, counts: number[], spec: SmoteSpec, rng: Rng): SamplerDraft {
  const strategy = resolveSamplingStrategy(spec.samplingStrategy, counts, 'over-sampling');
  const synthetic: SyntheticRows[] = [];
  const classes: ClassSummary[] = [];
  for (const [label, n] of strategy) {
    classes.push({ label, target: n, generated: n });
    if (n === 0) continue;
    const rows = rowsOfClass(y, label);
    requireRows(rows.length, spec.kNeighbors, 'kNeighbors', `class ${label}`);
    const nn = kNearestWithin(takeRows(x, rows), spec.kNeighbors, spec.metric);
    const picks = pickPairs(rows.length, nn, n, rng);
    synthetic.push(interpolated(label, mapRows(rows, picks.base), mapRows(rows, picks.neighbour), picks.gap));
  }
  return { keep: identityRows(x.rows), synthetic, classes };
}

/** Random (sample, neighbour, gap) triples: sample × neighbour uniform over all k·rows pairs, as imblearn. */
export interface Pairs {
  base: Int32Array;
  neighbour: Int32Array;
  gap: Float64Array;
}

export function pickPairs(samples: number, nn: KnnResult, n: number, rng: Rng): Pairs {
  const { k, indices } = nn;
  const base = new Int32Array(n);
  const neighbour = new Int32Array(n);
  const gap = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const pair = rng.int(samples * k);
    const row = Math.floor(pair / k);
    base[t] = row;
    neighbour[t] = indices[row * k + (pair % k)] as number;
    gap[t] = rng.next();
  }
  return { base, neighbour, gap };
}

/** Refuses a neighbour count the rows cannot satisfy, naming the parameter to change. */
export function requireRows(available: number, k: number, parameter: string, what: string): void {
  if (available >= k + 1) return;
  // With one row or none there is nothing to interpolate between: lowering k cannot help.
  const fix =
    available >= 2
      ? `lower ${parameter} to at most ${available - 1}, or use random-over for this data`
      : 'interpolating needs at least 2 rows: use resample.method random-over, merge or drop the class (label.minClassSize), or add reviews';
  throw badInput(`${parameter}=${k} needs at least ${k + 1} rows in ${what} (the sample and ${k} neighbours), which has ${available}; ${fix}.`, {
    field: parameter,
  });
}

/** Why each class got nothing, for a no-op's reason. */
export function classNotes(classes: ClassSummary[]): string {
  return classes.map((c) => c.note ?? `class ${c.label} needs no rows`).join('; ');
}

export function identityRows(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** Maps positions within a subset back to rows: out[t] = rows[positions[t]]. */
export function mapRows(rows: Int32Array, positions: Int32Array): Int32Array {
  return positions.map((p) => rows[p] as number);
}

/** Rows on the segments base → neighbour (rows of the sampler's input), built when the output is assembled. */
export function interpolated(label: number, base: Int32Array, neighbour: Int32Array, gap: Float64Array): SyntheticRows {
  return { label, kind: INTERPOLATED, base, neighbour, gap };
}
