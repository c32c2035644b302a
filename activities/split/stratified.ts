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

/** Rows (indices into the input) sharing one text; the stratum is their most common label. */
export interface TextGroup {
  rows: number[];
  stratum: number;
  /** Whether every row of the group has the same label. */
  pure: boolean;
}

/** Groups rows by text, in order of first occurrence; a group's stratum is its most common label (lowest on ties). */
export function groupByText(rows: readonly SplitRow[]): TextGroup[] {
  const byText = new Map<string, number[]>();
  rows.forEach((row, index) => {
    const members = byText.get(row.text);
    if (members) members.push(index);
    else byText.set(row.text, [index]);
  });
  return [...byText.values()].map((members) => ({
    rows: members,
    stratum: majorityLabel(rows, members),
    pure: members.every((i) => rows[i]!.label === rows[members[0]!]!.label),
  }));
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

/** Ties go to the small splits first, so a 3-row class still gets its test row before train gets a third. */
const FILL_ORDER: readonly SplitName[] = ['test', 'val', 'train'];

/**
 * Whole rows per split for `total` rows: each split gets the floor of its share, and the rows left
 * over go to the largest fractional parts (Hamilton's method), so every count is within one row of
 * `ratio × total` and the counts sum to `total`.
 */
export function integerTargets(total: number, ratios: SplitRatios): Record<SplitName, number> {
  const exact = FILL_ORDER.map((name) => Math.max(0, ratios[name]) * total);
  const counts = exact.map((x) => Math.floor(x + 1e-9));
  let left = total - counts.reduce((a, b) => a + b, 0);
  const byRemainder = FILL_ORDER.map((_, i) => i)
    .filter((i) => ratios[FILL_ORDER[i]!] > 0)
    .sort((a, b) => exact[b]! - counts[b]! - (exact[a]! - counts[a]!) || a - b);
  for (const i of byRemainder) {
    if (left <= 0) break;
    counts[i]!++;
    left--;
  }
  // Only when the ratios sum to less than 1 (rounding in the spec): the rest trains.
  counts[2]! += Math.max(0, left);
  return { test: counts[0]!, val: counts[1]!, train: counts[2]! };
}

/**
 * Assigns groups (already in a seeded random order) to splits so each split's row count meets its
 * target. Groups of several rows go first, each to a split it fits in, chosen at random weighted by
 * the rows still missing there (so a big group lands in test about as often as the test share);
 * single rows then fill every split to its target exactly. Only a group too big for every split's
 * remaining room can push a split past its target.
 */
export function fillTargets(groups: readonly TextGroup[], targets: Record<SplitName, number>, rng: Rng): SplitName[] {
  const deficit = { ...targets };
  const chosen = new Array<SplitName>(groups.length);
  const order = [...groups.keys()].sort((a, b) => Number(groups[b]!.rows.length > 1) - Number(groups[a]!.rows.length > 1));
  for (const g of order) {
    const size = groups[g]!.rows.length;
    const fits = size > 1 ? FILL_ORDER.filter((name) => targets[name] > 0 && deficit[name] >= size) : [];
    const name = fits.length > 0 ? fits[rng.weighted(fits.map((n) => deficit[n]))]! : mostUnderfilled(deficit, targets);
    deficit[name] -= size;
    chosen[g] = name;
  }
  return chosen;
}

/** The split with the most rows still missing (test, then val, then train on ties), among splits with a target. */
function mostUnderfilled(deficit: Record<SplitName, number>, targets: Record<SplitName, number>): SplitName {
  let best: SplitName = 'train';
  let bestDeficit = -Infinity;
  for (const name of FILL_ORDER) {
    if (targets[name] <= 0) continue;
    if (deficit[name] > bestDeficit) [best, bestDeficit] = [name, deficit[name]];
  }
  return best;
}

/**
 * Within each stratum (label), groups of identical texts are shuffled with the seed and filled into
 * the splits' whole-row targets for that stratum, which keeps every class within a row of its
 * share when groups are small, and keeps each group whole.
 */
export function assignSplits(rows: readonly SplitRow[], ratios: SplitRatios, seed: number): SplitAssignment {
  const groups = groupByText(rows);
  const splits = new Array<SplitName>(rows.length);
  const strata = [...new Set(groups.map((g) => g.stratum))].sort((a, b) => a - b);
  for (const stratum of strata) {
    const members = groups.filter((g) => g.stratum === stratum);
    const rng = new Rng(seed).fork(`split:stratum:${stratum}`);
    rng.shuffle(members);
    const total = members.reduce((sum, g) => sum + g.rows.length, 0);
    const chosen = fillTargets(members, integerTargets(total, ratios), rng);
    members.forEach((group, i) => {
      for (const index of group.rows) splits[index] = chosen[i]!;
    });
  }
  const merged = groups.filter((g) => g.rows.length > 1);
  return { splits, mergedGroups: merged.length, rowsInMergedGroups: merged.reduce((s, g) => s + g.rows.length, 0) };
}

/** Texts found in more than one split, per pair of splits (0 everywhere for a duplicate-aware split). */
export function straddlingTexts(
  rows: readonly { text: string }[],
  splits: readonly (SplitName | null)[],
): Record<'trainTest' | 'trainVal' | 'valTest', number> {
  const seen = new Map<string, Set<SplitName>>();
  rows.forEach((row, i) => {
    const split = splits[i];
    if (!split) return;
    const set = seen.get(row.text) ?? new Set<SplitName>();
    set.add(split);
    seen.set(row.text, set);
  });
  const count = (a: SplitName, b: SplitName) => [...seen.values()].filter((s) => s.has(a) && s.has(b)).length;
  return { trainTest: count('train', 'test'), trainVal: count('train', 'val'), valTest: count('val', 'test') };
}
