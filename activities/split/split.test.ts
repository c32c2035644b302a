import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSpec } from '../../client/spec';
import { copyToParquet, parquet, queryRows, quoteLiteral, withConnection } from '../../data/duckdb';
import { ArtifactStore } from '../../data/store/artifact-store';
import { recomputeStage } from '../../data/store/stage';
import type { ArtifactRef } from '../../data/store/types';
import { annotateParamsFromSpec, createAnnotateActivity } from '../annotate/annotate';
import { LabelSpecSchema } from '../annotate/label-spec';
import { commitArtifact } from '../report/testing/fixture-store';
import { createSplitActivity, splitParamsFromSpec, splitStage } from './split';
import { SplitSpecSchema } from './split-spec';

const PEER_FILE = fileURLToPath(new URL('./fixtures/peer-format.split.json', import.meta.url));

let dir: string;
let store: ArtifactStore;
let labelled: ArtifactRef;

/**
 * Source rows 0..39. Import quarantined row 19; clean quarantined rows 5 (duplicate text) and 17
 * (emptied); annotate (binary) drops the 3-star rows 12 and 30. Rows 1 and 2 share a text.
 */
const TEXTS = ['bagus', 'sangat membantu', 'sangat membantu', 'lemot', 'oke', 'x', 'jelek', 'mantap', 'parah', 'keren'];
const ratingOf = (row: number): number => (row === 12 || row === 30 ? 3 : row % 3 === 0 ? 1 : 5);
const textOf = (row: number): string => (row < 10 ? TEXTS[row]! : `ulasan nomor ${row} ${row % 3 === 0 ? 'buruk' : 'bagus'}`);
const dateOf = (row: number): string => `202${row < 20 ? 1 : 3}-01-${String(1 + (row % 28)).padStart(2, '0')} 10:00:00`;

async function writeTable(path: string, rows: number[], extra = ''): Promise<void> {
  const values = rows.map((r) => `(${r}, 'id${r}', 'app', ${ratingOf(r)}, TIMESTAMP ${quoteLiteral(dateOf(r))}, ${quoteLiteral(textOf(r))}, ${quoteLiteral(textOf(r))})`);
  await withConnection((c) =>
    copyToParquet(c, `SELECT *${extra} FROM (VALUES ${values.join(', ')}) t(source_row, review_id, app, rating, date, text, raw_text) ORDER BY source_row`, path),
  );
}

async function writeQuarantine(path: string, rows: [number, string][]): Promise<void> {
  const values = rows.map(([r, reason]) => `(${r}, 'id${r}', ${quoteLiteral(reason)})`);
  await withConnection((c) => copyToParquet(c, `SELECT * FROM (VALUES ${values.join(', ')}) t(source_row, review_id, reason) ORDER BY source_row`, path));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ulasan-split-'));
  store = new ArtifactStore(join(dir, 'store'));
  const all = Array.from({ length: 40 }, (_, i) => i);
  const imported = await commitArtifact(store, {
    stage: 'import',
    params: { fixture: 'split' },
    write: async (out) => {
      await writeTable(join(out, 'reviews.parquet'), all.filter((r) => r !== 19));
      await writeQuarantine(join(out, 'quarantine.parquet'), [[19, 'rating is not a number: lima']]);
    },
  });
  const clean = await commitArtifact(store, {
    stage: 'clean',
    params: { fixture: 'split' },
    inputs: { table: imported.key },
    write: async (out) => {
      await writeTable(join(out, 'clean.parquet'), all.filter((r) => ![5, 17, 19].includes(r)));
      await writeQuarantine(join(out, 'quarantine.parquet'), [[5, 'duplicate text'], [17, 'emptied by removeEmoji']]);
    },
  });
  const annotate = createAnnotateActivity({ store, heartbeat: () => undefined, warn: () => undefined });
  const outcome = await annotate({ table: { key: clean.key, stage: 'clean' }, params: annotateParamsFromSpec(LabelSpecSchema.parse({})) });
  labelled = outcome.ref;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const split = (spec: unknown, seed = 42) =>
  createSplitActivity({ store, heartbeat: () => undefined, warn: () => undefined })({ table: labelled, params: splitParamsFromSpec(SplitSpecSchema.parse(spec), seed) });
const read = (key: string, file: string, sql: string) => withConnection((c) => queryRows(c, sql.replace('FROM t', `FROM ${parquet(store.path(key, file))}`)));
const rowsIn = async (key: string, name: string) =>
  (await read(key, 'split.parquet', `SELECT source_row FROM t WHERE split = '${name}' ORDER BY source_row`)).map((r) => Number(r.source_row));

describe('split stage: from-file', () => {
  it('reproduces the file\'s rows exactly, drops unlisted rows, and explains listed rows that are gone', async () => {
    const outcome = await split({ strategy: 'from-file', file: PEER_FILE });
    const key = outcome.ref.key;
    expect(await rowsIn(key, 'train')).toEqual([0, 1, 3, 4, 6, 8, 9, 11, 13, 15, 16, 18]);
    expect(await rowsIn(key, 'test')).toEqual([2, 7]);
    expect(await rowsIn(key, 'val')).toEqual([]);
    const dropped = await read(key, 'dropped.parquet', 'SELECT source_row, reason FROM t ORDER BY source_row');
    expect(dropped.map((r) => r.source_row)).toEqual([10, 14, ...Array.from({ length: 20 }, (_, i) => 20 + i).filter((r) => r !== 30)]);
    expect(new Set(dropped.map((r) => r.reason))).toEqual(new Set(['not listed in the split file']));
    expect(await read(key, 'absent.parquet', 'SELECT * FROM t ORDER BY source_row')).toEqual([
      { source_row: 12, listed_in: 'test', removed_by: 'annotate', reason: 'rating 3 has no class under rule binary@v1' },
      { source_row: 17, listed_in: 'test', removed_by: 'clean', reason: 'emptied by removeEmoji' },
      { source_row: 19, listed_in: 'test', removed_by: 'import', reason: 'rating is not a number: lima' },
    ]);
    expect(outcome.summary).toMatchObject({
      strategy: 'from-file',
      listed: { train: 12, val: 0, test: 5 },
      notListed: 21,
      absent: { count: 3, removedBy: { annotate: 1, clean: 1, import: 1 } },
      // Rows 1 and 2 share a text and the file puts them on both sides: reported, not changed.
      straddlingTexts: { trainTest: 1, trainVal: 0, valTest: 0 },
    });
    expect((await store.manifest(key)).rowCounts).toEqual({ train: 12, val: 0, test: 2, dropped: 21 });
  });
  it('handles a file whose every listed row is present, with validation carved from its train rows', async () => {
    const file = join(dir, 'all-present.split.json');
    await writeFile(file, JSON.stringify({ train_row_ids: [0, 1, 3, 4, 6, 7, 8, 9], test_row_ids: [2, 10, 11] }));
    const outcome = await split({ strategy: 'from-file', file, val: 0.25 });
    expect(await rowsIn(outcome.ref.key, 'test')).toEqual([2, 10, 11]);
    expect([...(await rowsIn(outcome.ref.key, 'train')), ...(await rowsIn(outcome.ref.key, 'val'))].sort((a, b) => a - b)).toEqual([0, 1, 3, 4, 6, 7, 8, 9]);
    expect(await rowsIn(outcome.ref.key, 'val')).toHaveLength(2);
    expect(outcome.summary).toMatchObject({ absent: { count: 0, removedBy: {} }, listed: { train: 8, val: 0, test: 3 } });
  });

  it('keys on the file content: an edited file is a new split', async () => {
    const file = join(dir, 'edited.split.json');
    await writeFile(file, JSON.stringify({ train_row_ids: [0, 1, 3], test_row_ids: [2] }));
    const before = await split({ strategy: 'from-file', file });
    await writeFile(file, JSON.stringify({ train_row_ids: [0, 3], test_row_ids: [1, 2] }));
    const after = await split({ strategy: 'from-file', file });
    expect(after.ref.key).not.toBe(before.ref.key);
    await expect(recomputeStage(store, { split: splitStage as never }, before.ref.key)).rejects.toThrow(/changed since this split was keyed/);
  });
});

describe('split stage: other strategies', () => {
  it('ratios: stratified, duplicates grouped, cached, and recomputed byte for byte', async () => {
    const outcome = await split({ train: 0.5, val: 0.25, test: 0.25 });
    expect(outcome.summary).toMatchObject({ strategy: 'ratios', mergedGroups: 1, rowsInMergedGroups: 2, straddlingTexts: { trainTest: 0, trainVal: 0, valTest: 0 } });
    const counts = outcome.summary.perSplitLabelCounts as Record<string, Record<string, number>>;
    // 35 labelled rows: 12 negative (rows divisible by 3), 23 positive (11.5 / 5.75 / 5.75: the small splits round up).
    expect(counts).toEqual({ train: { 0: 6, 1: 11 }, val: { 0: 3, 1: 6 }, test: { 0: 3, 1: 6 } });
    expect(await split({ strategy: 'ratios', train: 0.5, val: 0.25, test: 0.25 })).toMatchObject({ cache: 'hit', ref: outcome.ref });
    expect(await recomputeStage(store, { split: splitStage as never }, outcome.ref.key)).toMatchObject({ identical: true });
  });

  it('by-date: the train years before the test years', async () => {
    const outcome = await split({ strategy: 'by-date', cutoff: '2022-01-01', val: 0.2 });
    const days = await read(outcome.ref.key, 'split.parquet', `SELECT split, min(date)::VARCHAR AS first, max(date)::VARCHAR AS last FROM t GROUP BY 1 ORDER BY 1`);
    expect(days.map((d) => [d.split, String(d.first).slice(0, 4), String(d.last).slice(0, 4)])).toEqual([
      ['test', '2023', '2023'],
      ['train', '2021', '2021'],
      ['val', '2021', '2021'],
    ]);
    expect(outcome.summary).toMatchObject({ strategy: 'by-date', ranges: { train: '..2021-12-31', test: '2022-01-01..' } });
  });

  it('per-class-test-counts: exact test rows per class name', async () => {
    const outcome = await split({ strategy: 'per-class-test-counts', test: { negative: 2, positive: 5 } });
    expect((outcome.summary.perSplitLabelCounts as Record<string, unknown>).test).toEqual({ 0: 2, 1: 5 });
    await expect(split({ strategy: 'per-class-test-counts', test: { negatif: 2, positive: 5 } })).rejects.toThrow(
      'split.test must give a count for each class (negative, positive); unknown: negatif',
    );
  });
});

describe('split spec', () => {
  const SPEC = { name: 't', source: { synthetic: { rows: 100 } }, model: { arch: 'cnn-small' } };
  const errors = (split: unknown): string => {
    try {
      parseSpec({ ...SPEC, split }, 'spec.yaml');
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };

  it('keeps the quickstart default and the flat ratios form', () => {
    expect(parseSpec(SPEC, 'spec.yaml').split).toEqual({ strategy: 'ratios', train: 0.7, val: 0.15, test: 0.15 });
    expect(splitParamsFromSpec(SplitSpecSchema.parse({ train: 0.8, test: 0.2 }), 1)).toEqual({
      strategy: 'ratios',
      ratios: { train: 0.8, val: 0, test: 0.2 },
      seed: 1,
    });
  });

  it('resolves the nested form: 90/10, then 85/15 of the 90', () => {
    const { ratios } = splitParamsFromSpec(SplitSpecSchema.parse({ test: 0.1, valOfRest: 0.15 }), 1);
    expect(ratios.test).toBe(0.1);
    expect(ratios.val).toBeCloseTo(0.135, 12);
    expect(ratios.train).toBeCloseTo(0.765, 12);
  });

  it('names the field that is wrong', () => {
    expect(errors({ train: 0.8, val: 0.1, test: 0.2 })).toContain('split: split ratios must sum to 1 (train 0.8 + val 0.1 + test 0.2 = 1.1');
    expect(errors({ test: 0.1, valOfRest: 0.15, train: 0.9 })).toContain('split.valOfRest: give either train/val/test, or test with valOfRest, not both');
    expect(errors({ strategy: 'random' })).toContain('split.strategy: unknown split strategy "random"; allowed: ratios, by-date, per-class-test-counts, from-file');
    expect(errors({ strategy: 'by-date', train: '..2022-05-15', test: '2022-05-01..' })).toContain(
      'split: the train range (..2022-05-15) must end before the test range (2022-05-01..) starts',
    );
    expect(errors({ strategy: 'by-date', cutoff: '2022-02-30' })).toContain('split.cutoff: range test: 2022-02-30 is not a calendar date');
    expect(errors({ strategy: 'by-date' })).toContain('split.train: a by-date split needs a cutoff day, or train and test ranges');
    expect(errors({ strategy: 'per-class-test-counts', test: 0 })).toMatch(/split\.test: /);
    expect(errors({ strategy: 'from-file' })).toMatch(/split\.file: /);
  });
});
