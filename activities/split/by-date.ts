/**
 * Split by date: train on an earlier range, test on a later one, validation carved from the train
 * range by ratio (stratified, duplicate-aware). A text that also occurs in the test range is taken
 * out of training, so no test text was trained on; the test range stays whole.
 */
import { describeWindow, inWindow, type DateWindow } from '../annotate/windows';
import { assignSplits, type SplitName, type SplitRow } from './stratified';

export interface DatedRow extends SplitRow {
  /** Calendar day `YYYY-MM-DD`, or null when the review has no date. */
  day: string | null;
}

export interface DateRanges {
  train: DateWindow;
  test: DateWindow;
}

export interface ByDateAssignment {
  splits: (SplitName | null)[];
  /** Why a row has no split (null where it has one). */
  reasons: (string | null)[];
  mergedGroups: number;
  rowsInMergedGroups: number;
  /** Rows of the train range left out because their text is also in the test range. */
  trainRowsAlsoInTest: number;
  /** First and last day actually in each split (null when empty). */
  days: Record<SplitName, { first: string; last: string } | null>;
}

/** Whether the train range ends before the test range starts (both ends known). */
export function rangesInOrder(ranges: DateRanges): boolean {
  return ranges.train.to !== null && ranges.test.from !== null && ranges.train.to < ranges.test.from;
}

export function assignByDate(rows: readonly DatedRow[], ranges: DateRanges, valShare: number, seed: number): ByDateAssignment {
  const splits = new Array<SplitName | null>(rows.length).fill(null);
  const reasons = new Array<string | null>(rows.length).fill(null);
  const testTexts = new Set<string>();
  rows.forEach((row, i) => {
    if (row.day !== null && inWindow(ranges.test, row.day)) {
      splits[i] = 'test';
      testTexts.add(row.text);
    }
  });
  const candidates: number[] = [];
  let trainRowsAlsoInTest = 0;
  const outside = `date outside the train (${describeWindow(ranges.train)}) and test (${describeWindow(ranges.test)}) ranges`;
  rows.forEach((row, i) => {
    if (splits[i] === 'test') return;
    if (row.day === null) reasons[i] = 'no date';
    else if (!inWindow(ranges.train, row.day)) reasons[i] = outside;
    else if (testTexts.has(row.text)) {
      reasons[i] = 'text also in the test range (kept there, left out of training)';
      trainRowsAlsoInTest++;
    } else candidates.push(i);
  });
  const carved = assignSplits(
    candidates.map((i) => rows[i]!),
    { train: 1 - valShare, val: valShare, test: 0 },
    seed,
  );
  candidates.forEach((row, k) => (splits[row] = carved.splits[k]!));
  return {
    splits,
    reasons,
    mergedGroups: carved.mergedGroups,
    rowsInMergedGroups: carved.rowsInMergedGroups,
    trainRowsAlsoInTest,
    days: daySpans(rows, splits),
  };
}

function daySpans(rows: readonly DatedRow[], splits: readonly (SplitName | null)[]): ByDateAssignment['days'] {
  const spans: ByDateAssignment['days'] = { train: null, val: null, test: null };
  rows.forEach((row, i) => {
    const split = splits[i];
    if (!split || row.day === null) return;
    const span = spans[split];
    if (!span) spans[split] = { first: row.day, last: row.day };
    else {
      if (row.day < span.first) span.first = row.day;
      if (row.day > span.last) span.last = row.day;
    }
  });
  return spans;
}
