import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDateWindow } from '../annotate/windows';
import { assignByDate, type DatedRow } from './by-date';
import { assignFromFile, parseSplitFile } from './from-file';
import { assignPerClassTestCounts } from './per-class';
import { straddlingTexts } from './stratified';
import { countBy, syntheticRows } from './testing/tables';

describe('by-date', () => {
  const ranges = { train: parseDateWindow('train', '..2022-05-15'), test: parseDateWindow('test', '2022-05-16..') };
  const day = (i: number): string => new Date(Date.UTC(2021, 0, 1) + i * 86_400_000 * 3).toISOString().slice(0, 10);
  const rows: DatedRow[] = [
    ...syntheticRows([150, 60], 11, { duplicateShare: 0.1 }).map((row, i) => ({ ...row, day: day(i) })),
    { text: 'no date at all', label: 0, day: null },
  ];

  it('trains only on days before the test range starts, carves val from train, keeps texts out of both', () => {
    const a = assignByDate(rows, ranges, 0.2, 42);
    const days = (split: string) => rows.filter((_, i) => a.splits[i] === split).map((r) => r.day!);
    const lastTrain = [...days('train'), ...days('val')].sort().at(-1)!;
    const firstTest = days('test').sort()[0]!;
    expect(lastTrain <= '2022-05-15' && firstTest >= '2022-05-16').toBe(true);
    expect(a.days.test!.first).toBe(firstTest);
    expect(straddlingTexts(rows, a.splits)).toEqual({ trainTest: 0, trainVal: 0, valTest: 0 });
    const trainRange = rows.filter((r, i) => r.day !== null && r.day <= '2022-05-15' && a.reasons[i] === null).length;
    expect(Math.abs(days('val').length - 0.2 * trainRange)).toBeLessThanOrEqual(2);
    expect(a.reasons.at(-1)).toBe('no date');
  });

  it('leaves a train-range row out when its text is also tested on, with the reason', () => {
    const dup: DatedRow[] = [
      { text: 'sangat membantu', label: 1, day: '2021-01-01' },
      { text: 'lemot', label: 0, day: '2021-02-01' },
      { text: 'bagus', label: 1, day: '2021-02-02' },
      { text: 'sangat membantu', label: 1, day: '2023-01-01' },
      { text: 'lama', label: 0, day: '2019-01-01' },
    ];
    const a = assignByDate(dup, { train: parseDateWindow('train', '2020-01-01..2021-12-31'), test: ranges.test }, 0, 1);
    expect(a.splits).toEqual([null, 'train', 'train', 'test', null]);
    expect(a.reasons[0]).toBe('text also in the test range (kept there, left out of training)');
    expect(a.reasons[4]).toBe('date outside the train (2020-01-01..2021-12-31) and test (2022-05-16..) ranges');
    expect(a.trainRowsAlsoInTest).toBe(1);
  });
});

describe('per-class test counts', () => {
  it('puts exactly the asked rows of each class in test, never a text in two splits', () => {
    const rows = syntheticRows([300, 80, 500], 9, { duplicateShare: 0.2, mixed: 5 });
    const a = assignPerClassTestCounts(rows, [40, 25, 40], ['negative', 'neutral', 'positive'], 0.1, 42);
    expect(countBy(rows, a.splits, 'test', 3)).toEqual([40, 25, 40]);
    expect(straddlingTexts(rows, a.splits)).toEqual({ trainTest: 0, trainVal: 0, valTest: 0 });
    expect(rows.filter((r, i) => r.text.startsWith('mixed') && a.splits[i] === 'test')).toEqual([]);
    expect(a.rowsInMixedGroups).toBe(10);
    const rest = rows.length - 105;
    expect(Math.abs(countBy(rows, a.splits, 'val', 3).reduce((x, y) => x + y) - 0.1 * rest)).toBeLessThanOrEqual(3);
  });

  it('refuses a count a class cannot give, naming the class', () => {
    const rows = syntheticRows([30, 10], 2);
    expect(() => assignPerClassTestCounts(rows, [5, 11], ['negative', 'positive'], 0, 1)).toThrow(
      'split: class positive needs 11 test rows but only 10 could be drawn',
    );
  });
});

describe('from-file', () => {
  const path = fileURLToPath(new URL('./fixtures/peer-format.split.json', import.meta.url));
  const file = parseSplitFile(path, readFileSync(path));

  it('reads the peer format', () => {
    expect(file.listed).toEqual({ train: 12, val: 0, test: 5 });
    expect(file.byRow.get(7)).toBe('test');
    expect(file.hasVal).toBe(false);
  });

  it('reproduces the listed rows exactly; unlisted rows are dropped with the reason, missing ones reported', () => {
    const rows = Array.from({ length: 18 }, (_, sourceRow) => ({ sourceRow, text: `t${sourceRow}`, label: sourceRow % 2 })).filter(
      (r) => r.sourceRow !== 12,
    );
    const a = assignFromFile(rows, file, 0, 1);
    const listed = (split: string) => rows.filter((_, i) => a.splits[i] === split).map((r) => r.sourceRow);
    expect(listed('train')).toEqual([0, 1, 3, 4, 6, 8, 9, 11, 13, 15, 16]);
    expect(listed('test')).toEqual([2, 7, 17]);
    expect(rows.flatMap((r, i) => (a.reasons[i] === null ? [] : [[r.sourceRow, a.reasons[i]]]))).toEqual([
      [5, 'not listed in the split file'],
      [10, 'not listed in the split file'],
      [14, 'not listed in the split file'],
    ]);
    expect(a.absent).toEqual([
      { sourceRow: 12, listedIn: 'test' },
      { sourceRow: 18, listedIn: 'train' },
      { sourceRow: 19, listedIn: 'test' },
    ]);
  });

  it('carves validation rows from the listed train rows only when asked', () => {
    const rows = Array.from({ length: 20 }, (_, sourceRow) => ({ sourceRow, text: `t${sourceRow}`, label: sourceRow % 2 }));
    const a = assignFromFile(rows, file, 0.25, 3);
    // 6 train rows per class, 25% = 1.5: the tie goes to the small split, so 2 per class.
    expect(rows.filter((_, i) => a.splits[i] === 'val')).toHaveLength(4);
    expect(rows.filter((_, i) => a.splits[i] === 'test').map((r) => r.sourceRow)).toEqual([2, 7, 12, 17, 19]);
  });

  it('refuses malformed files, naming the problem', () => {
    const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    expect(() => parseSplitFile('x.json', bytes({ train_row_ids: [1, 2], test_row_ids: [2] }))).toThrow(
      'split file x.json: row 2 is listed in train_row_ids and again in test_row_ids',
    );
    expect(() => parseSplitFile('x.json', bytes({ train_row_ids: [1.5], test_row_ids: [] }))).toThrow(/x\.json is not .*train_row_ids\.0/);
    expect(() => parseSplitFile('x.json', new TextEncoder().encode('{'))).toThrow(/x\.json is not JSON/);
  });
});
