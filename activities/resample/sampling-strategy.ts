/**
 * `sampling_strategy` exactly as imbalanced-learn 0.10 resolves it (imblearn/utils/_validation.py,
 * check_sampling_strategy): which classes to resample and by how many rows.
 *
 * Classes are the labels present in y. "Majority"/"minority" is the first class, in label order,
 * with the most/fewest rows (Python's max/min over a dict built from np.unique).
 */
import { badInput } from '../../core/errors';

/** imbalanced-learn's named strategies. */
export const NAMED_STRATEGIES = ['auto', 'minority', 'majority', 'not minority', 'not majority', 'all'] as const;
export type NamedStrategy = (typeof NAMED_STRATEGIES)[number];

/**
 * - a name: `auto` (over-samplers: `not majority`; under-samplers: `not minority`), `minority`,
 *   `majority`, `not minority`, `not majority`, `all`;
 * - a float in (0, 1], binary labels only: over-samplers grow the minority to ratio × majority,
 *   under-samplers shrink the majority to minority ÷ ratio;
 * - per-class target counts keyed by class index: over-samplers may not ask for fewer rows than a
 *   class has, under-samplers not for more.
 */
export type SamplingStrategy = NamedStrategy | number | Readonly<Record<string, number>>;

export type SamplingKind = 'over-sampling' | 'under-sampling';

/**
 * Over-sampling: rows to add per class. Under-sampling: rows to keep per class. Only the targeted
 * classes appear; entries are in ascending class order.
 */
export type ResolvedStrategy = Map<number, number>;

interface ClassStats {
  labels: number[];
  counts: Map<number, number>;
  majority: number;
  minority: number;
}

function stats(counts: readonly number[]): ClassStats {
  const labels: number[] = [];
  const map = new Map<number, number>();
  counts.forEach((n, label) => {
    if (n > 0) {
      labels.push(label);
      map.set(label, n);
    }
  });
  if (labels.length < 2) {
    throw badInput(
      `Resampling needs at least 2 classes in the training labels; found ${labels.length}.`,
      { field: 'y' },
    );
  }
  let majority = labels[0] as number;
  let minority = majority;
  for (const label of labels) {
    const n = map.get(label) as number;
    if (n > (map.get(majority) as number)) majority = label;
    if (n < (map.get(minority) as number)) minority = label;
  }
  return { labels, counts: map, majority, minority };
}

/** Resolves a strategy against per-class counts (`counts[label]`, zero for absent labels). */
export function resolveSamplingStrategy(
  strategy: SamplingStrategy,
  counts: readonly number[],
  kind: SamplingKind,
): ResolvedStrategy {
  const s = stats(counts);
  if (typeof strategy === 'number') return fromRatio(strategy, s, kind);
  if (typeof strategy === 'string') return fromName(strategy, s, kind);
  return fromTargets(strategy, s, kind);
}

function fromName(name: NamedStrategy, s: ClassStats, kind: SamplingKind): ResolvedStrategy {
  const nMax = s.counts.get(s.majority) as number;
  const nMin = s.counts.get(s.minority) as number;
  const target = (keep: (label: number) => boolean): ResolvedStrategy =>
    new Map(
      s.labels
        .filter(keep)
        .map((label) => [label, kind === 'over-sampling' ? nMax - (s.counts.get(label) as number) : nMin]),
    );
  switch (name) {
    case 'auto':
      return kind === 'over-sampling' ? fromName('not majority', s, kind) : fromName('not minority', s, kind);
    case 'all':
      return target(() => true);
    case 'not majority':
      return target((label) => label !== s.majority);
    case 'not minority':
      return target((label) => label !== s.minority);
    case 'minority':
      if (kind === 'under-sampling') {
        throw badInput(
          "samplingStrategy 'minority' cannot be used with an under-sampler; use 'not minority' or 'auto'.",
          { field: 'samplingStrategy' },
        );
      }
      return target((label) => label === s.minority);
    case 'majority':
      if (kind === 'over-sampling') {
        throw badInput(
          "samplingStrategy 'majority' cannot be used with an over-sampler; use 'not majority' or 'auto'.",
          { field: 'samplingStrategy' },
        );
      }
      return target((label) => label === s.majority);
    default:
      throw badInput(`Unknown samplingStrategy '${String(name)}'; use one of ${NAMED_STRATEGIES.join(', ')}.`, {
        field: 'samplingStrategy',
      });
  }
}

function fromRatio(ratio: number, s: ClassStats, kind: SamplingKind): ResolvedStrategy {
  const field = { field: 'samplingStrategy' };
  if (!(ratio > 0 && ratio <= 1)) {
    throw badInput(`A float samplingStrategy must be in (0, 1]; got ${ratio}.`, field);
  }
  if (s.labels.length !== 2) {
    throw badInput(
      `A float samplingStrategy needs binary labels; found ${s.labels.length} classes. Give per-class target counts instead.`,
      field,
    );
  }
  const out: ResolvedStrategy = new Map();
  if (kind === 'over-sampling') {
    const nMax = s.counts.get(s.majority) as number;
    for (const label of s.labels) {
      if (label === s.majority) continue;
      const n = Math.trunc(nMax * ratio - (s.counts.get(label) as number));
      if (n <= 0) {
        throw badInput(
          `samplingStrategy ${ratio} would leave class ${label} with ${s.counts.get(label)} rows or fewer (ratio × majority = ${nMax * ratio}); an over-sampler cannot remove rows. Increase the ratio.`,
          field,
        );
      }
      out.set(label, n);
    }
    return out;
  }
  const nMin = s.counts.get(s.minority) as number;
  for (const label of s.labels) {
    if (label === s.minority) continue;
    const n = Math.trunc(nMin / ratio);
    if (n > (s.counts.get(label) as number)) {
      throw badInput(
        `samplingStrategy ${ratio} asks to keep ${n} rows of class ${label}, which has ${s.counts.get(label)}; an under-sampler cannot add rows. Increase the ratio.`,
        field,
      );
    }
    out.set(label, n);
  }
  return out;
}

function fromTargets(targets: Readonly<Record<string, number>>, s: ClassStats, kind: SamplingKind): ResolvedStrategy {
  const field = { field: 'samplingStrategy' };
  const entries = Object.entries(targets).map(([key, n]) => [Number(key), n] as const);
  const missing = entries.filter(([label]) => !s.counts.has(label)).map(([label]) => label);
  if (missing.length > 0) {
    throw badInput(
      `samplingStrategy names class(es) ${missing.join(', ')} that are not present in the labels (present: ${s.labels.join(', ')}).`,
      field,
    );
  }
  const negative = entries.find(([, n]) => !Number.isInteger(n) || n < 0);
  if (negative) throw badInput(
    `samplingStrategy target for class ${negative[0]} must be a whole number >= 0; got ${negative[1]}.`,
    field,
  );
  const out: ResolvedStrategy = new Map();
  for (const [label, n] of [...entries].sort((a, b) => a[0] - b[0])) {
    const have = s.counts.get(label) as number;
    if (kind === 'over-sampling') {
      if (n < have) {
        throw badInput(
          `An over-sampler cannot reduce class ${label} from ${have} to ${n} rows; ask for ${have} or more, or use an under-sampler.`,
          field,
        );
      }
      out.set(label, n - have);
    } else {
      if (n > have) {
        throw badInput(
          `An under-sampler cannot grow class ${label} from ${have} to ${n} rows; ask for ${have} or fewer, or use an over-sampler.`,
          field,
        );
      }
      out.set(label, n);
    }
  }
  return out;
}
