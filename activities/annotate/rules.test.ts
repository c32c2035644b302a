import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { UlasanError } from '../../core/errors';
import { labelRuleSqlCase, labelRuleSqlClassCase, ratingOf, resolveLabelRule, type LabelRule } from './rules';

const labels = (rule: LabelRule): (number | null)[] => [1, 2, 3, 4, 5].map((r) => rule.labelOf(r));

describe('built-in rating rules', () => {
  it('binary: 1-2 negative, 4-5 positive, 3 dropped', () => {
    const rule = resolveLabelRule('binary');
    expect(rule.id).toBe('binary@v1');
    expect(rule.classes).toEqual(['negative', 'positive']);
    expect(labels(rule)).toEqual([0, 0, null, 1, 1]);
    expect(rule.polarity).toEqual(['negative', 'positive']);
  });

  it('ternary: 1-2 negative, 3 neutral, 4-5 positive', () => {
    const rule = resolveLabelRule('ternary');
    expect(rule.classes).toEqual(['negative', 'neutral', 'positive']);
    expect(labels(rule)).toEqual([0, 0, 1, 2, 2]);
    expect(rule.polarity).toEqual(['negative', 'neutral', 'positive']);
  });

  it('five: each star a class', () => {
    const rule = resolveLabelRule({ name: 'five' });
    expect(rule.classes).toEqual(['1', '2', '3', '4', '5']);
    expect(labels(rule)).toEqual([0, 1, 2, 3, 4]);
    expect(rule.polarity).toEqual(['negative', 'negative', 'neutral', 'positive', 'positive']);
  });

  it('pins versions and rejects unknown ones', () => {
    expect(resolveLabelRule({ name: 'binary', version: 1 }).id).toBe('binary@v1');
    expect(() => resolveLabelRule({ name: 'binary', version: 2 })).toThrow('label rule binary has no version 2; known versions: 1');
  });

  it('puts name, version and the whole mapping in the key params', () => {
    expect(resolveLabelRule('binary').params).toEqual({
      name: 'binary',
      version: 1,
      mapping: { 1: 'negative', 2: 'negative', 3: null, 4: 'positive', 5: 'positive' },
      classes: ['negative', 'positive'],
    });
  });
});

describe('custom rules', () => {
  it('maps stars to named classes, missing or null stars dropped', () => {
    const rule = resolveLabelRule({ name: 'strict', version: 2, mapping: { 1: 'neg', 2: null, 5: 'pos' } });
    expect(rule.id).toBe('strict@v2');
    expect(rule.classes).toEqual(['neg', 'pos']);
    expect(labels(rule)).toEqual([0, null, null, null, 1]);
  });

  it('honours an explicit class order and derives polarity from the stars', () => {
    const rule = resolveLabelRule({
      name: 'not-positive',
      mapping: { 1: 'other', 2: 'other', 3: 'other', 4: 'happy', 5: 'happy' },
      classes: ['happy', 'other'],
    });
    expect(rule.version).toBe(1);
    expect(labels(rule)).toEqual([1, 1, 1, 0, 0]);
    expect(rule.polarity).toEqual(['positive', 'negative']);
  });

  it('rejects bad specs with what is wrong', () => {
    const message = (spec: unknown): string => {
      try {
        resolveLabelRule(spec);
      } catch (err) {
        expect(err).toBeInstanceOf(UlasanError);
        expect((err as UlasanError).type).toBe('BadInput');
        return (err as Error).message;
      }
      throw new Error('expected a failure');
    };
    expect(message({ name: 'one', mapping: { 1: 'a', 2: 'a' } })).toContain('maps the ratings to 1 class(es)');
    expect(message({ name: 'x', mapping: { 1: 'a', 5: 'b' }, classes: ['a'] })).toContain('must list exactly the mapped classes');
    expect(message({ name: 'x', mapping: { 6: 'a' } })).toContain('label rule');
    expect(message('quaternary')).toContain('"quaternary"');
    expect(message({ name: 'Bad Name', mapping: { 1: 'a', 5: 'b' } })).toContain('lower-case');
  });
});

describe('ratings', () => {
  it('accepts whole stars 1-5 as numbers or numeric text, nothing else', () => {
    expect([1, 5, 4.0, '3', ' 2 ', '5.0', 4n].map(ratingOf)).toEqual([1, 5, 4, 3, 2, 5, 4]);
    expect([0, 6, 3.5, NaN, '', 'abc', '0x5', null, undefined, '٣'].map(ratingOf)).toEqual(Array(10).fill(null));
    expect(resolveLabelRule('binary').labelOf('4')).toBe(1);
  });

  it('the SQL CASE gives the same labels as labelOf, on numbers and text', async () => {
    const inputs = ['1', '2', '3', '4', '5', '0', '6', '3.5', ' 4 ', '5.0', 'abc', '', '5e0', '+4', '0x5'];
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      for (const spec of ['binary', 'ternary', 'five', { name: 'custom', mapping: { 1: "it's bad", 5: 'good' } }] as const) {
        const rule = resolveLabelRule(spec);
        const values = inputs.map((v) => `('${v}')`).join(', ');
        const reader = await connection.runAndReadAll(
          `SELECT ${labelRuleSqlCase(rule, 'Rating')} AS label, ${labelRuleSqlClassCase(rule, 'Rating')} AS name,
             ${labelRuleSqlCase(rule, 'n')} AS from_number
           FROM (SELECT "Rating", TRY_CAST("Rating" AS DOUBLE) AS n FROM (VALUES ${values}) AS t("Rating"))`,
        );
        const rows = reader.getRowObjectsJS();
        const expected = inputs.map((v) => rule.labelOf(v));
        expect(rows.map((r) => r.label)).toEqual(expected);
        expect(rows.map((r) => r.from_number)).toEqual(expected);
        expect(rows.map((r) => r.name)).toEqual(expected.map((i) => (i === null ? null : rule.classes[i])));
      }
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
