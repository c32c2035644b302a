/** Small synthetic tables for the split tests (not used by the pipeline). */
import { Rng } from '../../../data/random';
import type { SplitRow } from '../stratified';

/**
 * `sizes[c]` rows of class c; `duplicateShare` of each class's rows repeat a text of the same class
 * (groups of 2–4), and `mixed` extra texts appear once in class 0 and once in class 1.
 */
export function syntheticRows(sizes: readonly number[], seed: number, options: { duplicateShare?: number; mixed?: number } = {}): SplitRow[] {
  const rng = new Rng(seed).fork('synthetic-rows');
  const rows: SplitRow[] = [];
  sizes.forEach((size, label) => {
    let made = 0;
    let text = 0;
    while (made < size) {
      const dup = rng.next() < (options.duplicateShare ?? 0) ? 2 + rng.int(3) : 1;
      const copies = Math.min(dup, size - made);
      for (let k = 0; k < copies; k++) rows.push({ text: `c${label} t${text}`, label });
      made += copies;
      text++;
    }
  });
  for (let m = 0; m < (options.mixed ?? 0); m++) rows.push({ text: `mixed ${m}`, label: 0 }, { text: `mixed ${m}`, label: 1 });
  return new Rng(seed).fork('order').shuffle(rows);
}

/** Rows per class in each split. */
export function countBy(rows: readonly SplitRow[], splits: readonly (string | null)[], split: string, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  rows.forEach((row, i) => {
    if (splits[i] === split) counts[row.label]!++;
  });
  return counts;
}
