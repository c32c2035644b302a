/**
 * Fixed test rows per class: exactly `counts[c]` rows of class `c` go to test, drawn with the seed
 * from groups of identical texts that all carry that label (a group with mixed labels would add rows
 * of another class, so it always trains). The rest is split train/val by ratio, duplicate-aware.
 */
import { Rng } from '../../data/random';
import { badInput } from '../../core/errors';
import { assignSplits, groupByText, type SplitName, type SplitRow } from './stratified';

export interface PerClassAssignment {
  splits: SplitName[];
  mergedGroups: number;
  rowsInMergedGroups: number;
  /** Rows in groups of identical texts with more than one label (never tested). */
  rowsInMixedGroups: number;
}

export function assignPerClassTestCounts(
  rows: readonly SplitRow[],
  counts: readonly number[],
  classes: readonly string[],
  valShare: number,
  seed: number,
): PerClassAssignment {
  const groups = groupByText(rows);
  const splits = new Array<SplitName>(rows.length);
  counts.forEach((wanted, label) => {
    const pure = groups.filter((g) => g.pure && g.stratum === label);
    new Rng(seed).fork(`split:test-count:${label}`).shuffle(pure);
    let left = wanted;
    for (const group of pure) {
      if (left === 0) break;
      if (group.rows.length > left) continue;
      for (const index of group.rows) splits[index] = 'test';
      left -= group.rows.length;
    }
    if (left > 0) {
      const available = pure.reduce((sum, g) => sum + g.rows.length, 0);
      throw badInput(
        `split: class ${classes[label] ?? label} needs ${wanted} test rows but only ${wanted - left} could be drawn ` +
          `(${available} rows of that class in groups of identical texts with one label); lower the count`,
        { stage: 'split', field: 'split.test' },
      );
    }
  });
  const rest = [...rows.keys()].filter((i) => splits[i] === undefined);
  const carved = assignSplits(
    rest.map((i) => rows[i]!),
    { train: 1 - valShare, val: valShare, test: 0 },
    seed,
  );
  rest.forEach((row, k) => (splits[row] = carved.splits[k]!));
  const merged = groups.filter((g) => g.rows.length > 1);
  return {
    splits,
    mergedGroups: merged.length,
    rowsInMergedGroups: merged.reduce((s, g) => s + g.rows.length, 0),
    rowsInMixedGroups: groups.filter((g) => !g.pure).reduce((s, g) => s + g.rows.length, 0),
  };
}
