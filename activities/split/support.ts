/**
 * Minimum support per class in the scored splits, checked right after the split (before features,
 * resampling and training): a headline from a handful of test rows, or with a class absent from
 * test, is refused, or with `allowSmall` kept and flagged on the console and in the report headline.
 */
import { badInput } from '../../core/errors';

/**
 * Default minimum rows per class in each scored split. Below 10, one misclassified row moves that
 * class's recall by more than 10 points and a bootstrap interval is made of a few distinct values, so
 * the per-class and macro figures (the headline) are not estimates worth printing.
 */
export const DEFAULT_MIN_SUPPORT = 10;

export interface SupportCheck {
  /** Rows each class needs in every split listed in `partitions`. @default DEFAULT_MIN_SUPPORT */
  minPerClass: number;
  /** Keep going below the minimum (the run then carries a warning). @default false */
  allowSmall: boolean;
  /** The splits that get scored: `test` for a run, `val` too for a grid. */
  partitions: readonly ('val' | 'test')[];
}

/** Warnings (only when `allowSmall`) for every scored split where a class has fewer rows than the minimum. */
export function checkSupport(
  perSplitLabelCounts: Record<string, Record<string, number>>,
  classes: readonly string[],
  check: SupportCheck,
  splitKey: string,
): string[] {
  const untrained = classes.filter((_, label) => !perSplitLabelCounts.train?.[String(label)]);
  if (untrained.length > 0) {
    // No flag helps here: a model cannot learn a class it never sees.
    const names = untrained.map((name) => `'${name}'`).join(', ');
    const what = untrained.length === classes.length ? 'The train split is empty' : untrained.length === 1 ? `class ${names} has no rows in the train split` : `classes ${names} have no rows in the train split`;
    throw badInput(`${what}: a model cannot learn a class it never sees; merge or drop classes (label.rule, label.minClassSize) or add reviews.`, {
      stage: 'split',
      key: splitKey,
      field: 'label.rule',
    });
  }
  for (const partition of check.partitions) {
    const total = Object.values(perSplitLabelCounts[partition] ?? {}).reduce((a, b) => a + b, 0);
    if (total > 0) continue;
    // Nothing to score at all: no flag can make a number out of no rows.
    throw badInput(`The ${partition} split is empty: nothing to score. Use more reviews or a larger split.${partition} share.`, {
      stage: 'split',
      key: splitKey,
      field: `split.${partition}`,
    });
  }
  const shortfalls = check.partitions.flatMap((partition) =>
    classes.flatMap((name, label) => {
      const n = perSplitLabelCounts[partition]?.[String(label)] ?? 0;
      return n < check.minPerClass ? [`${partition} split has ${n === 0 ? 'no' : `only ${n}`} '${name}' row${n === 1 ? '' : 's'}`] : [];
    }),
  );
  if (shortfalls.length === 0) return [];
  const what = `${shortfalls.join('; ')} (minimum ${check.minPerClass} per class)`;
  if (check.allowSmall) return [`SMALL DATA: ${what}; these metrics are not a reliable estimate.`];
  throw badInput(
    `Too few rows to score honestly: ${what}. Use more reviews, a larger split share, fewer classes (label.rule), ` +
      `lower evaluate.minSupport, or pass --allow-small to run anyway with a warning.`,
    { stage: 'split', key: splitKey, field: 'evaluate.minSupport' },
  );
}
