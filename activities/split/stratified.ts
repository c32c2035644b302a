/**
 * Stratified, duplicate-aware assignment of rows to train/val/test. Rows with identical cleaned text
 * form one group and land in one split together, so no test text is also a training text.
 */
import { Rng } from '../../data/random';

export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

/** Fractions of rows per split; they sum to 1 (val may be 0). */
export type SplitRatios = Record<SplitName, number>;

export interface SplitRow {
  text: string;
  label: number;
}

export interface SplitAssignment {
  /** Split of each input row, in input order. */
  splits: SplitName[];
  /** Groups of identical texts holding more than one row (each kept whole in one split). */
  mergedGroups: number;
  /** Rows inside those groups. */
  rowsInMergedGroups: number;
}

interface Group {
  rows: number[];
  stratum: number;
}

/** Groups rows by text; a group's stratum is its most common label (lowest index on ties). */
function groupByText(rows: readonly SplitRow[]): Group[] {
  const byText = new Map<string, number[]>();
  rows.forEach((row, index) => {
    const members = byText.get(row.text);
    if (members) members.push(index);
    else byText.set(row.text, [index]);
  });
  return [...byText.values()].map((members) => ({ rows: members, stratum: majorityLabel(rows, members) }));
}

function majorityLabel(rows: readonly SplitRow[], members: number[]): number {
  const counts = new Map<number, number>();
  for (const index of members) counts.set(rows[index]!.label, (counts.get(rows[index]!.label) ?? 0) + 1);
  let best = Infinity;
  let bestCount = -1;
  for (const [label, count] of counts) {
    if (count > bestCount || (count === bestCount && label < best)) [best, bestCount] = [label, count];
  }
  return best;
}

/**
 * Within each stratum, groups are shuffled with the seed and each goes to the split furthest below its
 * target row count, which keeps per-class proportions close even when some groups are large.
 */
export function assignSplits(rows: readonly SplitRow[], ratios: SplitRatios, seed: number): SplitAssignment {
  const groups = groupByText(rows);
  const splits = new Array<SplitName>(rows.length);
  const strata = [...new Set(groups.map((g) => g.stratum))].sort((a, b) => a - b);
  for (const stratum of strata) {
    const members = groups.filter((g) => g.stratum === stratum);
    new Rng(seed).fork(`split:stratum:${stratum}`).shuffle(members);
    const total = members.reduce((sum, g) => sum + g.rows.length, 0);
    const assigned: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
    for (const group of members) {
      const target = mostUnderfilled(assigned, ratios, total);
      assigned[target] += group.rows.length;
      for (const index of group.rows) splits[index] = target;
    }
  }
  const merged = groups.filter((g) => g.rows.length > 1);
  return { splits, mergedGroups: merged.length, rowsInMergedGroups: merged.reduce((s, g) => s + g.rows.length, 0) };
}

/** The split with the largest deficit against its target; test first, then val, on ties, so small splits fill. */
function mostUnderfilled(assigned: Record<SplitName, number>, ratios: SplitRatios, total: number): SplitName {
  let best: SplitName = 'train';
  let bestDeficit = -Infinity;
  for (const name of ['test', 'val', 'train'] as const) {
    if (ratios[name] <= 0) continue;
    const deficit = ratios[name] * total - assigned[name];
    if (deficit > bestDeficit) [best, bestDeficit] = [name, deficit];
  }
  return best;
}
