import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyToParquet, parquet, queryRows, quoteLiteral, withConnection } from '../../data/duckdb';
import { ArtifactStore } from '../../data/store/artifact-store';
import { recomputeStage } from '../../data/store/stage';
import type { ArtifactRef } from '../../data/store/types';
import { commitArtifact } from '../report/testing/fixture-store';
import { annotateParamsFromSpec, annotateStage, createAnnotateActivity, LABEL_STATS_FILE, LABELS_FILE, type AnnotateParams } from './annotate';
import { LabelSpecSchema, ruleFromParams, ruleParams } from './label-spec';
import { resolveLabelRule } from './rules';

let dir: string;
let store: ArtifactStore;
let clean: ArtifactRef;

/** A cleaned table: [rating, text, date]; source_row = index. */
const ROWS: [number, string, string | null][] = [
  [5, 'aplikasi bagus sekali', '2020-01-10 08:00:00'],
  [4, 'sangat membantu', '2020-02-01 09:00:00'],
  [1, 'kecewa aplikasi lemot', '2020-03-05 10:00:00'],
  [2, 'sering error', '2020-04-01 11:00:00'],
  [3, 'biasa saja', '2020-05-01 12:00:00'],
  [5, 'sangat membantu', '2020-06-01 13:00:00'],
  [5, 'mantap tapi kecewa sedikit', '2021-01-01 14:00:00'],
  [1, 'aplikasi bagus tapi tidak bisa login', '2021-06-01 15:00:00'],
  [4, 'lumayan bagus', '2022-05-15 23:59:59'],
  [3, 'cukup', '2022-05-16 00:00:00'],
  [5, 'sangat membantu', '2022-06-01 08:00:00'],
  [2, 'jelek', '2022-07-01 08:00:00'],
  [1, 'parah', '2023-01-01 08:00:00'],
  [4, 'oke', '2023-02-01 08:00:00'],
  [5, 'keren', null],
  [2, 'buruk', '2019-12-31 08:00:00'],
];

async function writeClean(path: string): Promise<void> {
  const values = ROWS.map(([rating, text, date], i) => {
    const at = date === null ? 'NULL::TIMESTAMP' : `TIMESTAMP ${quoteLiteral(date)}`;
    return `(${i}, 'r${i}', 'com.example', ${rating}, ${at}, ${quoteLiteral(text)}, ${quoteLiteral(text)})`;
  });
  await withConnection((c) =>
    copyToParquet(c, `SELECT * FROM (VALUES ${values.join(', ')}) t(source_row, review_id, app, rating, date, text, raw_text) ORDER BY source_row`, path),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ulasan-annotate-'));
  store = new ArtifactStore(join(dir, 'store'));
  const manifest = await commitArtifact(store, { stage: 'clean', params: { fixture: 'annotate' }, write: (out) => writeClean(join(out, 'clean.parquet')) });
  clean = { key: manifest.key, stage: 'clean' };
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const paramsOf = (label: unknown): AnnotateParams => annotateParamsFromSpec(LabelSpecSchema.parse(label));
const run = (label: unknown) => createAnnotateActivity({ store, heartbeat: () => undefined, warn: () => undefined })({ table: clean, params: paramsOf(label) });
const rows = (key: string, file: string, sql = 'SELECT source_row, label FROM t ORDER BY source_row') =>
  withConnection((c) => queryRows(c, sql.replace('FROM t', `FROM ${parquet(store.path(key, file))}`)));
const json = async (key: string, file: string) => JSON.parse(await readFile(store.path(key, file), 'utf8')) as Record<string, unknown>;
const labelsOf = async (key: string) => (await rows(key, 'labelled.parquet')).map((r): [unknown, unknown] => [r.source_row, r.label]);

describe('annotate: rules', () => {
  it('binary drops 3 stars with the reason, and writes the rule into labels.json and the summary', async () => {
    const outcome = await run({ rule: 'binary' });
    expect(outcome.summary).toMatchObject({ rule: 'binary@v1', ruleName: 'binary', ruleVersion: 1, classes: ['negative', 'positive'] });
    expect(outcome.summary.classCounts).toEqual({ negative: 6, positive: 8 });
    expect(await json(outcome.ref.key, LABELS_FILE)).toEqual({ rule: 'binary', version: 1, id: 'binary@v1', classes: ['negative', 'positive'], window: null });
    expect(await rows(outcome.ref.key, 'dropped.parquet', 'SELECT source_row, reason FROM t ORDER BY source_row')).toEqual([
      { source_row: 4, reason: 'rating 3 has no class under rule binary@v1' },
      { source_row: 9, reason: 'rating 3 has no class under rule binary@v1' },
    ]);
    const labelled = await rows(outcome.ref.key, 'labelled.parquet', 'SELECT * FROM t ORDER BY source_row');
    expect(Object.keys(labelled[0]!)).toEqual(['source_row', 'review_id', 'app', 'rating', 'date', 'text', 'raw_text', 'label']);
    expect(labelled.map((r) => [r.rating, r.label]).slice(0, 4)).toEqual([[5, 1], [4, 1], [1, 0], [2, 0]]);
  });

  it('ternary and five keep every star', async () => {
    const ternary = await run({ rule: 'ternary' });
    expect(ternary.summary.classCounts).toEqual({ negative: 6, neutral: 2, positive: 8 });
    expect(ternary.summary.droppedByReason).toEqual({});
    const five = await run({ rule: { name: 'five', version: 1 } });
    expect(five.summary).toMatchObject({ rule: 'five@v1', classCounts: { 1: 3, 2: 3, 3: 2, 4: 3, 5: 5 } });
    expect((await labelsOf(five.ref.key)).slice(0, 5)).toEqual([[0, 4], [1, 3], [2, 0], [3, 1], [4, 2]]);
  });

  it('a custom mapping labels by its own classes, and its version is part of the key', async () => {
    const rule = { name: 'harsh', mapping: { 1: 'bad', 2: 'bad', 3: 'bad', 4: null, 5: 'good' }, classes: ['bad', 'good'] };
    const v1 = await run({ rule });
    expect(v1.summary).toMatchObject({ rule: 'harsh@v1', classes: ['bad', 'good'], classCounts: { bad: 8, good: 5 } });
    expect(v1.summary.droppedByReason).toEqual({ 'rating 4 has no class under rule harsh@v1': 3 });
    const v2 = await run({ rule: { ...rule, version: 2 } });
    expect(v2.ref.key).not.toBe(v1.ref.key);
    expect(await labelsOf(v2.ref.key)).toEqual(await labelsOf(v1.ref.key));
  });
});

describe('annotate: windows', () => {
  const windows = { during: '2020-03-01..2022-05-15', after: '2022-05-16..' };

  it('writes one table per window and trains on the chosen one; rows outside it are dropped with the reason', async () => {
    const outcome = await run({ rule: 'ternary', windows, trainWindow: 'during' });
    const during = await rows(outcome.ref.key, 'labelled-during.parquet');
    const after = await rows(outcome.ref.key, 'labelled-after.parquet');
    expect(during.map((r) => r.source_row)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(after.map((r) => r.source_row)).toEqual([9, 10, 11, 12, 13]);
    expect(await rows(outcome.ref.key, 'labelled.parquet')).toEqual(during);
    expect(outcome.summary.trainTable).toBe('during');
    expect((await json(outcome.ref.key, LABELS_FILE)).window).toBe('during');
    expect(outcome.summary.droppedByReason).toEqual({
      'date outside train window during (2020-03-01..2022-05-15)': 8,
      'no date, so outside train window during (2020-03-01..2022-05-15)': 1,
    });
    const manifest = await store.manifest(outcome.ref.key);
    expect(manifest.rowCounts).toEqual({ rows: 7, dropped: 9, 'rows.during': 7, 'rows.after': 5 });
    expect(Object.keys(manifest.files).sort()).toEqual(
      ['dropped.parquet', 'label-stats.json', 'labelled-after.parquet', 'labelled-during.parquet', 'labelled.parquet', 'labels.json'],
    );
  });

  it('without a train window, trains on all rows and still reports every window', async () => {
    const outcome = await run({ rule: 'binary', windows });
    expect(outcome.summary.trainTable).toBe('all');
    expect(await labelsOf(outcome.ref.key)).toHaveLength(14);
    const stats = outcome.summary.labelStats as Record<string, { rows: number; range: string }>;
    expect(Object.fromEntries(Object.entries(stats).map(([name, s]) => [name, [s.range, s.rows]]))).toEqual({
      during: ['2020-03-01..2022-05-15', 6],
      after: ['2022-05-16..', 4],
      all: ['..', 14],
    });
  });
});

describe('annotate: minimum class size', () => {
  it('drops a class under the minimum, with the reason and the action reported', async () => {
    const outcome = await run({ rule: 'ternary', minClassSize: 3 });
    expect(outcome.summary.classes).toEqual(['negative', 'positive']);
    expect(outcome.summary.classSizeActions).toEqual([{ class: 'neutral', count: 2, action: 'dropped' }]);
    expect(outcome.summary.droppedByReason).toEqual({ 'class neutral dropped: 2 rows in table all, fewer than minClassSize 3': 2 });
    expect((await json(outcome.ref.key, LABELS_FILE)).classes).toEqual(['negative', 'positive']);
    expect(new Set((await labelsOf(outcome.ref.key)).map(([, label]) => label))).toEqual(new Set([0, 1]));
  });

  it('merges a small class into the named class and relabels its rows', async () => {
    const outcome = await run({ rule: 'ternary', minClassSize: 3, smallClasses: 'merge', mergeInto: { neutral: 'negative' } });
    expect(outcome.summary.classSizeActions).toEqual([{ class: 'neutral', count: 2, action: 'merged', into: 'negative' }]);
    expect(outcome.summary.classCounts).toEqual({ negative: 8, positive: 8 });
    const labels = new Map(await labelsOf(outcome.ref.key));
    expect([labels.get(4), labels.get(9), labels.get(0)]).toEqual([0, 0, 1]);
  });

  it('applies the minimum per window', async () => {
    const outcome = await run({ rule: 'ternary', windows: { early: '..2020-12-31', late: '2021-01-01..' }, minClassSize: 2, smallClasses: 'merge' });
    const stats = outcome.summary.labelStats as Record<string, { classSizeActions: unknown[]; classCounts: Record<string, number> }>;
    expect(stats.early!.classSizeActions).toEqual([{ class: 'neutral', count: 1, action: 'merged', into: 'negative' }]);
    expect(stats.early!.classCounts).toEqual({ negative: 4, positive: 3 });
    expect(stats.all!.classSizeActions).toEqual([]);
  });
});

describe('annotate: label statistics', () => {
  it('writes class counts, imbalance, duplicate share and a noise estimate with examples per table', async () => {
    const outcome = await run({ rule: 'binary', windows: { during: '2020-03-01..2022-05-15' }, trainWindow: 'during' });
    const file = (await json(outcome.ref.key, LABEL_STATS_FILE)) as {
      rule: string;
      tables: Record<string, { file: string; stats: { classCounts: object; imbalanceRatio: number; duplicateTextShare: number; noise: Record<string, { count: number; examples: { text: string; words: string[] }[] }> } }>;
    };
    expect(file.rule).toBe('binary@v1');
    const during = file.tables.during!;
    expect(during.file).toBe('labelled-during.parquet');
    expect(during.stats.classCounts).toEqual({ negative: 3, positive: 3 });
    expect(during.stats.imbalanceRatio).toBe(1);
    expect(during.stats.duplicateTextShare).toBe(0);
    expect(during.stats.noise.positiveWithNegativeWords!.examples).toEqual([{ text: 'mantap tapi kecewa sedikit', words: ['kecewa'] }]);
    expect(during.stats.noise.negativeWithPositiveWords!.examples).toEqual([{ text: 'aplikasi bagus tapi tidak bisa login', words: ['bagus'] }]);

    const all = await run({ rule: 'binary' });
    const stats = (all.summary.labelStats as Record<string, { duplicateTextShare: number; imbalanceRatio: number; noise: object }>).all!;
    expect(stats.duplicateTextShare).toBeCloseTo(2 / 14, 12);
    expect(stats.imbalanceRatio).toBeCloseTo(8 / 6, 12);
    expect(stats.noise).toMatchObject({ positiveWithNegativeWords: { of: 8, count: 1 }, negativeWithPositiveWords: { of: 6, count: 1 } });
  });
});

describe('annotate: cache and verification', () => {
  it('hits the cache for equal params and recomputes byte-identical files', async () => {
    const first = await run({ rule: 'ternary', windows: { during: '2020-03-01..2022-05-15' }, trainWindow: 'during', minClassSize: 1 });
    const second = await run({ rule: 'ternary', windows: { during: '2020-03-01..2022-05-15' }, trainWindow: 'during', minClassSize: 1 });
    expect(second).toMatchObject({ cache: 'hit', ref: first.ref });
    const verified = await recomputeStage(store, { annotate: annotateStage as never }, first.ref.key);
    expect(verified).toMatchObject({ identical: true, differing: [] });
  });
});

describe('annotate params', () => {
  it('a plan that leaves the defaults out shares the key of one that spells them out', async () => {
    const spelled = await run({ rule: 'binary' });
    const bare = await createAnnotateActivity({ store, heartbeat: () => undefined, warn: () => undefined })({
      table: clean,
      params: { rule: ruleParams(resolveLabelRule('binary')) },
    });
    expect(bare).toMatchObject({ cache: 'hit', ref: spelled.ref });
  });

  it('refuses params whose built-in rule does not say what the rule says', () => {
    const params = { name: 'binary', version: 1, classes: ['n', 'p'], byRating: { 1: 0, 2: 0, 3: null, 4: 1, 5: 1 } } as const;
    expect(() => ruleFromParams(params)).toThrow(/label rule binary@v1 maps .* but the annotate params say/);
    expect(ruleFromParams(ruleParams(resolveLabelRule({ name: 'x', mapping: { 1: 'a', 5: 'b' } }))).id).toBe('x@v1');
  });
});

describe('label spec', () => {
  const issues = (label: unknown) => {
    const parsed = LabelSpecSchema.safeParse(label);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('defaults to the binary rule with no windows', () => {
    expect(LabelSpecSchema.parse({})).toEqual({ rule: 'binary', minClassSize: 0, smallClasses: 'drop', mergeInto: {} });
  });

  it('names the field that is wrong', () => {
    expect(issues({ rule: 'sentiment' })).toEqual([expect.stringMatching(/^rule: /)]);
    expect(issues({ rule: { name: 'binary', version: 9 } })).toEqual(['rule: label rule binary has no version 9; known versions: 1']);
    expect(issues({ windows: { during: '2020-03-01..2019-01-01' } })).toEqual(['windows: window during: starts 2020-03-01 after it ends 2019-01-01']);
    expect(issues({ windows: { all: '..' } })).toEqual(["windows: 'all' names the table of all rows; give the window another name"]);
    expect(issues({ windows: { during: '2020-03-01..' }, trainWindow: 'after' })).toEqual(["trainWindow: 'after' must name one of during"]);
    expect(issues({ trainWindow: 'after' })).toEqual(["trainWindow: 'after' must name a window, but label.windows defines none"]);
    expect(issues({ rule: 'binary', mergeInto: { neutral: 'negative' } })).toEqual([
      'mergeInto: neutral → negative: both must be different classes of rule binary@v1 (negative, positive)',
    ]);
  });
});
