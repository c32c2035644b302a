import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import {
  MinClassSizeSchema,
  applyMinClassSize,
  describeWindow,
  inWindow,
  parseDateWindow,
  parseDateWindows,
  remapSqlCase,
  windowSqlPredicate,
} from './windows';

describe('date windows', () => {
  it('parses closed and open ranges', () => {
    expect(parseDateWindows({ during: '2020-03-01..2022-05-15', after: '2022-05-16..' })).toEqual([
      { name: 'during', from: '2020-03-01', to: '2022-05-15' },
      { name: 'after', from: '2022-05-16', to: null },
    ]);
    expect(parseDateWindow('before', '..2020-02-29')).toEqual({ name: 'before', from: null, to: '2020-02-29' });
    expect(parseDateWindow('all', '..')).toEqual({ name: 'all', from: null, to: null });
    expect(describeWindow(parseDateWindow('after', ' 2022-05-16 .. '))).toBe('2022-05-16..');
  });

  it('rejects malformed, impossible, reversed and overlapping windows with the window named', () => {
    expect(() => parseDateWindow('during', '2020-03-01 to 2022-05-15')).toThrow('window during: "2020-03-01 to 2022-05-15" is not a range');
    expect(() => parseDateWindow('during', '2021-02-29..2022-01-01')).toThrow('window during: 2021-02-29 is not a calendar date');
    expect(() => parseDateWindow('during', '2022-01-02..2022-01-01')).toThrow('window during: starts 2022-01-02 after it ends 2022-01-01');
    expect(() => parseDateWindow('During', '..')).toThrow('window name "During"');
    expect(() => parseDateWindows({ a: '2020-01-01..2020-06-30', b: '2020-06-30..' })).toThrow(
      'windows a (2020-01-01..2020-06-30) and b (2020-06-30..) overlap',
    );
    expect(parseDateWindows({ a: '2020-01-01..2020-06-30', all: '..' }, { allowOverlap: true })).toHaveLength(2);
    expect(() => parseDateWindows(['2020-01-01..'])).toThrow('date windows must be a mapping');
  });

  it('places review dates by calendar day, in TypeScript and in DuckDB alike', async () => {
    const windows = parseDateWindows({ before: '..2020-02-29', during: '2020-03-01..2022-05-15', after: '2022-05-16..' });
    const dates = ['2020-02-29 23:59:59', '2020-03-01 00:00:00', '2022-05-15 23:55:53', '2022-05-16', '2026-01-08 08:53:42', 'not a date', ''];
    const expected = dates.map((d) => windows.map((w) => inWindow(w, d)));
    expect(expected.slice(0, 5)).toEqual([
      [true, false, false],
      [false, true, false],
      [false, true, false],
      [false, false, true],
      [false, false, true],
    ]);
    expect(expected.slice(5)).toEqual([
      [false, false, false],
      [false, false, false],
    ]);
    expect(inWindow(windows[1]!, new Date('2021-01-01T12:00:00Z'))).toBe(true);

    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const values = dates.map((d) => `('${d}')`).join(', ');
      const select = windows.map((w) => `(${windowSqlPredicate(w, 'at')}) AS ${w.name}`).join(', ');
      const reader = await connection.runAndReadAll(`SELECT ${select} FROM (VALUES ${values}) AS t("at")`);
      expect(reader.getRowsJS()).toEqual(expected);
      const stamps = await connection.runAndReadAll(
        `SELECT ${windowSqlPredicate(windows[1]!, 'at')} FROM (SELECT TIMESTAMP '2022-05-15 23:59:59' AS "at")`,
      );
      expect(stamps.getRowsJS()).toEqual([[true]]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

describe('minimum class size', () => {
  const ternary = ['negative', 'neutral', 'positive'];
  const policy = (input: unknown) => MinClassSizeSchema.parse(input);

  it('does nothing when every class is big enough', () => {
    expect(applyMinClassSize(ternary, [50, 20, 900], policy({ minClassSize: 20 }))).toEqual({
      classes: ternary,
      remap: [0, 1, 2],
      counts: [50, 20, 900],
      actions: [],
    });
  });

  it('drops small classes and reports them', () => {
    const result = applyMinClassSize(ternary, [50, 10, 900], policy({ minClassSize: 20, policy: 'drop' }));
    expect(result.classes).toEqual(['negative', 'positive']);
    expect(result.remap).toEqual([0, null, 1]);
    expect(result.actions).toEqual([{ class: 'neutral', count: 10, action: 'dropped' }]);
  });

  it('merges into the smaller neighbour in class order', () => {
    const result = applyMinClassSize(ternary, [50, 10, 900], policy({ minClassSize: 20, policy: 'merge' }));
    expect(result.classes).toEqual(['negative', 'positive']);
    expect(result.remap).toEqual([0, 0, 1]);
    expect(result.counts).toEqual([60, 900]);
    expect(result.actions).toEqual([{ class: 'neutral', count: 10, action: 'merged', into: 'negative' }]);
  });

  it('merges into a named class when told, following earlier merges', () => {
    const five = ['1', '2', '3', '4', '5'];
    const result = applyMinClassSize(five, [300, 5, 8, 40, 2000], policy({ minClassSize: 30, policy: 'merge', mergeInto: { '3': '2' } }));
    // 2 (5 rows) goes first, to its smaller neighbour 3. Then 3 (13 rows) is named to go to 2, whose rows
    // are now in 3 itself, so it goes to its smaller live neighbour instead: 4 (1 has 300, 4 has 40).
    expect(result.actions).toEqual([
      { class: '2', count: 5, action: 'merged', into: '3' },
      { class: '3', count: 13, action: 'merged', into: '4' },
    ]);
    expect(result.classes).toEqual(['1', '4', '5']);
    expect(result.remap).toEqual([0, 1, 1, 1, 2]);
    expect(result.counts).toEqual([300, 53, 2000]);
  });

  it('refuses a window left with fewer than two classes', () => {
    expect(() => applyMinClassSize(['negative', 'positive'], [3, 500], policy({ minClassSize: 10, policy: 'drop' }), 'during')).toThrow(
      'window during: with minClassSize 10 (drop) fewer than 2 classes remain (negative 3, positive 500); lower minClassSize or widen the window',
    );
    expect(() => applyMinClassSize(ternary, [1, 1, 1], policy({ minClassSize: 1, mergeInto: { neutral: 'nope' } }))).toThrow(
      'mergeInto neutral → nope',
    );
  });

  it('writes the remap as SQL', () => {
    expect(remapSqlCase([0, 0, 1], 'label')).toBe('CASE "label" WHEN 0 THEN 0 WHEN 1 THEN 0 WHEN 2 THEN 1 ELSE NULL END');
  });
});
