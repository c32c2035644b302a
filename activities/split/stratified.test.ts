import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignSplits, integerTargets, straddlingTexts, SPLIT_NAMES, type SplitRatios } from './stratified';
import { countBy, syntheticRows } from './testing/tables';

const SIZES = [413, 97, 1290];

function expectStratified(ratios: SplitRatios, duplicateShare: number): void {
  const rows = syntheticRows(SIZES, 7, { duplicateShare });
  const { splits } = assignSplits(rows, ratios, 42);
  for (const name of SPLIT_NAMES) {
    const counts = countBy(rows, splits, name, SIZES.length);
    SIZES.forEach((size, c) => expect(Math.abs(counts[c]! - ratios[name] * size), `${name} class ${c}`).toBeLessThanOrEqual(1));
  }
  expect(straddlingTexts(rows, splits)).toEqual({ trainTest: 0, trainVal: 0, valTest: 0 });
}

describe('integerTargets', () => {
  it('gives whole rows within one of each share, summing to the total, small splits first on ties', () => {
    expect(integerTargets(10, { train: 0.7, val: 0.15, test: 0.15 })).toEqual({ train: 7, val: 1, test: 2 });
    expect(integerTargets(3, { train: 0.7, val: 0.15, test: 0.15 })).toEqual({ train: 2, val: 0, test: 1 });
    expect(integerTargets(101, { train: 0.8, val: 0, test: 0.2 })).toEqual({ train: 81, val: 0, test: 20 });
    expect(integerTargets(0, { train: 0.8, val: 0, test: 0.2 })).toEqual({ train: 0, val: 0, test: 0 });
  });
});

describe('assignSplits (ratios)', () => {
  it('80/20: every class within one row of its share', () => expectStratified({ train: 0.8, val: 0, test: 0.2 }, 0));
  it('70/30 with duplicate groups: still within one row, groups whole', () => expectStratified({ train: 0.7, val: 0, test: 0.3 }, 0.15));
  it('70/15/15 with duplicate groups', () => expectStratified({ train: 0.7, val: 0.15, test: 0.15 }, 0.15));
  it('90/10 then 85/15 of the 90 for validation', () => expectStratified({ train: 0.9 * 0.85, val: 0.9 * 0.15, test: 0.1 }, 0.1));

  it('reports merged groups and is a function of the seed', () => {
    const rows = syntheticRows([200, 100], 3, { duplicateShare: 0.2 });
    const a = assignSplits(rows, { train: 0.7, val: 0.15, test: 0.15 }, 1);
    const groups = new Map<string, number>();
    for (const row of rows) groups.set(row.text, (groups.get(row.text) ?? 0) + 1);
    const merged = [...groups.values()].filter((n) => n > 1);
    expect(a.mergedGroups).toBe(merged.length);
    expect(a.rowsInMergedGroups).toBe(merged.reduce((s, n) => s + n, 0));
    expect(assignSplits(rows, { train: 0.7, val: 0.15, test: 0.15 }, 1).splits).toEqual(a.splits);
    expect(assignSplits(rows, { train: 0.7, val: 0.15, test: 0.15 }, 2).splits).not.toEqual(a.splits);
  });

  it('places a big duplicate group in test about as often as the test share, not always in train', () => {
    const rows = [...syntheticRows([300], 5), ...Array.from({ length: 30 }, () => ({ text: 'sangat membantu', label: 0 }))];
    const inTest = Array.from({ length: 200 }, (_, seed) => assignSplits(rows, { train: 0.8, val: 0, test: 0.2 }, seed)).filter(
      (a) => a.splits[rows.length - 1] === 'test',
    ).length;
    expect(inTest).toBeGreaterThan(15);
    expect(inTest).toBeLessThan(70);
  });

  it('never puts one text in two splits (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ text: fc.integer({ min: 0, max: 40 }), label: fc.integer({ min: 0, max: 2 }) }), { maxLength: 200 }),
        fc.integer({ min: 0, max: 1000 }),
        (raw, seed) => {
          const rows = raw.map((r) => ({ text: `t${r.text}`, label: r.label }));
          const { splits } = assignSplits(rows, { train: 0.6, val: 0.2, test: 0.2 }, seed);
          expect(straddlingTexts(rows, splits)).toEqual({ trainTest: 0, trainVal: 0, valTest: 0 });
          expect(splits.filter((s) => s !== undefined)).toHaveLength(rows.length);
        },
      ),
      { numRuns: 60 },
    );
  });
});
