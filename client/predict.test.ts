/**
 * `ulasan predict` end to end on small synthetic experiments: predictions on the test split's rows equal
 * evaluate's (a CNN on token ids and a linear SVM on TF-IDF), given as a raw review file or as the split
 * table; lineage reaches model and input; run ids and tags resolve; 1,000 unseen synthetic reviews score.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREDICTIONS_FILE } from '../activities/evaluate/evaluate';
import { UlasanError } from '../core/errors';
import { csvField, SYNTHETIC_CSV_HEADER, syntheticReviewsCsv } from '../data/sample/synthetic';
import { parquet, queryRows, quoteLiteral, withConnection } from '../data/duckdb';
import { ArtifactStore } from '../data/store/artifact-store';
import { collectLineage } from '../data/store/lineage';
import type { PipelinePlan, PipelineResult } from '../workflows/plans/pipeline';
import { runLocal } from './local-runner';
import { resolveModel, tagModel } from './models';
import { predictReviews, type PredictSummary } from './predict';
import { recordRun } from './records';
import { ExperimentSpecSchema, planFromSpec } from './spec';

// minSupport 5: 500 synthetic rows leave fewer than 10 negative test rows; these tests are about predict, not the score.
const base = { seed: 7, source: { synthetic: { rows: 500 } }, train: { epochs: 2, batchSize: 32 }, evaluate: { minSupport: 5 } };
const cnnPlan: PipelinePlan = planFromSpec(
  ExperimentSpecSchema.parse({ ...base, name: 'predict-cnn', features: { maxVocab: 500, maxLen: 12 }, model: { arch: 'cnn-small', embeddingDim: 8, filters: 8, kernelSize: 3 } }),
);
const svmPlan: PipelinePlan = planFromSpec(
  ExperimentSpecSchema.parse({ ...base, name: 'predict-svm', features: { kind: 'tfidf', minDf: 1 }, model: { arch: 'linear-svm', C: 1 } }),
);

let root: string;
let store: ArtifactStore;
const quiet = { taskQueue: 'ulasan', log: () => undefined };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-predict-'));
  store = new ArtifactStore(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const stageKey = (result: PipelineResult, stage: string) => result.stages.find((s) => s.stage === stage)!.key;

async function rowsOf(path: string, sql = 'SELECT * FROM t ORDER BY source_row'): Promise<Record<string, unknown>[]> {
  return withConnection((c) => queryRows(c, sql.replace('FROM t', `FROM ${parquet(path)}`)));
}

/** The test split's rows as the raw review file a user would have: review id, rating, text, date, app. */
async function testSplitCsv(result: PipelineResult): Promise<string> {
  const split = store.path(stageKey(result, 'split'), 'split.parquet');
  const reviews = store.path(stageKey(result, 'import'), 'reviews.parquet');
  const rows = await withConnection((c) =>
    queryRows(
      c,
      `SELECT r.review_id, r.user_name, r.rating, r.text, strftime(r.date, '%Y-%m-%d') AS date, r.app
       FROM ${parquet(reviews)} r JOIN ${parquet(split)} s USING (source_row) WHERE s.split = 'test' ORDER BY r.source_row`,
    ),
  );
  const lines = rows.map((r) => [r.review_id, r.user_name, r.rating, r.text, r.date, r.app].map((v) => csvField(v as string)).join(','));
  const path = join(root, `${result.metricsKey.slice(0, 8)}-test.csv`);
  await writeFile(path, [SYNTHETIC_CSV_HEADER, ...lines].join('\n') + '\n');
  return path;
}

/** Evaluate's predicted class per review id (its predictions.json holds source rows of the import). */
async function evaluatePredictions(result: PipelineResult): Promise<Map<string, number>> {
  const { sourceRows, yPred } = JSON.parse(await readFile(store.path(result.metricsKey, PREDICTIONS_FILE), 'utf8')) as { sourceRows: number[]; yPred: number[] };
  const ids = await rowsOf(store.path(stageKey(result, 'import'), 'reviews.parquet'), 'SELECT source_row, review_id FROM t ORDER BY source_row');
  const idOf = new Map(ids.map((r) => [Number(r.source_row), String(r.review_id)]));
  return new Map(sourceRows.map((row, i) => [idOf.get(row)!, yPred[i]!]));
}

describe.each([
  ['cnn-small on token ids', cnnPlan],
  ['linear SVM on TF-IDF', svmPlan],
])('predict with %s', (_name, plan) => {
  let result: PipelineResult;
  let fromFile: PredictSummary;

  beforeAll(async () => {
    result = await runLocal(plan, { store });
    fromFile = await predictReviews(stageKey(result, 'train'), await testSplitCsv(result), { ...quiet, store });
  }, 180_000);

  it("labels the test split's rows, from the raw review file, exactly as evaluate did", async () => {
    const expected = await evaluatePredictions(result);
    const rows = await rowsOf(fromFile.path);
    const predicted = new Map(rows.filter((r) => r.label_index !== null).map((r) => [String(r.id), Number(r.label_index)]));
    expect(expected.size).toBeGreaterThan(20);
    expect(predicted).toEqual(expected);
  });

  it('labels the split table given by key the same way, and its test rows as evaluate did', async () => {
    const split = stageKey(result, 'split');
    const summary = await predictReviews(stageKey(result, 'train'), split, { ...quiet, store });
    expect(summary.stages.map((s) => s.stage)).toEqual(['predict']);
    const { sourceRows, yPred } = JSON.parse(await readFile(store.path(result.metricsKey, PREDICTIONS_FILE), 'utf8')) as { sourceRows: number[]; yPred: number[] };
    const rows = await rowsOf(summary.path);
    const byRow = new Map(rows.map((r) => [Number(r.source_row), r.label_index === null ? null : Number(r.label_index)]));
    expect(sourceRows.map((row) => byRow.get(row))).toEqual(yPred);
  });

  it('writes a class column per class: probabilities summing to 1, or SVM decision scores whose larger names the label', async () => {
    const rows = await rowsOf(fromFile.path);
    const columns = Object.keys(rows[0]!);
    const scoreColumns = columns.filter((c) => c.startsWith('p_') || c.startsWith('score_'));
    expect(columns.slice(0, 6)).toEqual(['source_row', 'id', 'text', 'clean_text', 'label', 'label_index']);
    expect(scoreColumns).toEqual(plan.train.model.arch === 'linear-svm' ? ['score_negative', 'score_positive'] : ['p_negative', 'p_positive']);
    for (const row of rows.filter((r) => r.label_index !== null)) {
      const scores = scoreColumns.map((c) => Number(row[c]));
      if (scoreColumns[0]!.startsWith('p_')) expect(scores[0]! + scores[1]!).toBeCloseTo(1, 6);
      expect(scores[Number(row.label_index)]).toBeGreaterThanOrEqual(scores[1 - Number(row.label_index)]!);
      expect(row.label).toBe(['negative', 'positive'][Number(row.label_index)]);
    }
  });

  it('is a cached artifact whose lineage reaches both the model and the input', async () => {
    const lineage = (await collectLineage(store, fromFile.predictionsKey)).map((m) => m.key);
    expect(lineage).toContain(fromFile.modelKey);
    expect(lineage).toContain(fromFile.tableKey);
    expect(lineage).toContain(stageKey(result, 'clean'));
    const again = await predictReviews(fromFile.modelKey, fromFile.tableKey, { ...quiet, store });
    expect(again.predictionsKey).toBe(fromFile.predictionsKey);
    expect(again.stages[0]!.cache).toBe('hit');
  });
});

describe('predict by run id and tag', () => {
  let runId: string;
  let result: PipelineResult;

  beforeAll(async () => {
    result = await runLocal(cnnPlan, { store });
    runId = 'run-20260101T000000Z-predict';
    await recordRun(store, runId, cnnPlan, result, 'local');
    await tagModel(store, runId, 'synthetic-prod');
  }, 180_000);

  it('resolves a run id to its evaluated model and a tag to its key; anything else is a clear NotFound', async () => {
    const model = stageKey(result, 'train');
    expect(await resolveModel(store, runId)).toBe(model);
    expect(await resolveModel(store, 'synthetic-prod')).toBe(model);
    await expect(resolveModel(store, 'no-such-model')).rejects.toMatchObject({ type: 'NotFound' });
    await expect(resolveModel(store, stageKey(result, 'split'))).rejects.toThrow(/is a split artifact, not a trained model/);
    await expect(tagModel(store, runId, '../escape')).rejects.toBeInstanceOf(UlasanError);
  });

  it('scores 1,000 unseen synthetic reviews by run id and writes --out as CSV and JSON lines', async () => {
    const csv = join(root, 'unseen.csv');
    await writeFile(csv, syntheticReviewsCsv({ rows: 1000, seed: 9001 }));
    const out = join(root, 'unseen-predictions.csv');
    const summary = await predictReviews(runId, csv, { ...quiet, store, out });
    const rows = await rowsOf(summary.path);
    expect(rows.length).toBeGreaterThan(950);
    expect((await readFile(out, 'utf8')).split('\n')[0]).toBe('source_row,id,text,clean_text,label,label_index,p_negative,p_positive');
    // Texts may hold quoted newlines: count records with a CSV reader, and compare them with the table.
    const exported = await withConnection((c) => queryRows(c, `SELECT * FROM read_csv(${quoteLiteral(out)}) ORDER BY source_row`));
    expect(exported.map((r) => [r.id, r.label])).toEqual(rows.map((r) => [r.id, r.label]));
    const jsonl = join(root, 'unseen.jsonl');
    await predictReviews('synthetic-prod', summary.tableKey, { ...quiet, store, out: jsonl });
    expect((await readFile(jsonl, 'utf8')).trim().split('\n')).toHaveLength(rows.length);
    await expect(predictReviews(runId, csv, { ...quiet, store, out: join(root, 'x.xlsx') })).rejects.toThrow(/--out .*x\.xlsx/);
  });

  it('labels unlabelled CSV and JSON-lines files (no rating column, ids optional) exactly as the same reviews with ratings', async () => {
    const model = stageKey(result, 'train');
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('mantap bgt', 'aplikasi; lemot | parah', 'dokter "ramah"\nresep ok', '  ', '12345'));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 10 }), fc.constantFrom('csv', 'jsonl'), fc.boolean(), async (texts, format, withIds) => {
        const id = (i: number) => (withIds ? `u${i}` : `row-${i}`);
        const unlabelled = join(root, `unlabelled-${n}.${format}`);
        // Without ids a CSV has one column: its texts' ';' or '|' must not be read as the delimiter.
        const records = texts.map((text, i) => (withIds ? { review_id: id(i), text } : { text }));
        await writeFile(
          unlabelled,
          format === 'jsonl'
            ? records.map((r) => JSON.stringify(r)).join('\n') + '\n'
            : [Object.keys(records[0]!).join(','), ...records.map((r) => Object.values(r).map(csvField).join(','))].join('\n') + '\n',
        );
        const labelled = join(root, `labelled-${n++}.csv`);
        await writeFile(labelled, [SYNTHETIC_CSV_HEADER, ...texts.map((text, i) => [id(i), 'u', 5, text, '2024-01-01', 'app'].map(csvField).join(','))].join('\n') + '\n');
        const rows = await rowsOf((await predictReviews(model, unlabelled, { ...quiet, store })).path);
        const expected = await rowsOf((await predictReviews(model, labelled, { ...quiet, store })).path);
        expect(rows.map((r) => r.id)).toEqual(texts.map((_, i) => id(i)));
        // CSV reads an empty field as null; JSON keeps ''. Either way the review is there, unlabelled.
        expect(rows.map((r) => r.text ?? '')).toEqual(texts);
        const labels = (rs: Record<string, unknown>[]) => rs.map(({ clean_text, label, label_index, p_negative, p_positive }) => ({ clean_text, label, label_index, p_negative, p_positive }));
        expect(labels(rows)).toEqual(labels(expected));
      }),
      { numRuns: 10 },
    );
  }, 180_000);

  it('refuses an unlabelled file with no text column before importing anything, naming the file and what to do', async () => {
    const file = join(root, 'no-text.csv');
    await writeFile(file, 'review_id,komentar\na,bagus\n');
    const manifests = async () => (await readdir(root, { recursive: true })).filter((name) => name.endsWith('manifest.json')).sort();
    const before = await manifests();
    await expect(predictReviews(stageKey(result, 'train'), file, { ...quiet, store })).rejects.toMatchObject({
      type: 'BadInput',
      context: { file, field: 'columns.text' },
      message: expect.stringContaining('(columns: review_id, komentar); name it one of content, text'),
    });
    expect(await manifests()).toEqual(before);
  });

  it('keeps one row per input review whatever the texts, with no label only for texts cleaning empties', async () => {
    const model = stageKey(result, 'train');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('mantap bgt', '!!! 👍', 'https://example.com', '   ')), { minLength: 1, maxLength: 12 }), async (texts) => {
        const lines = texts.map((text, i) => [`r${i}`, 'u', 5, text, '2024-01-01', 'app'].map((v) => csvField(v)).join(','));
        const csv = join(root, `gen-${n++}.csv`);
        await writeFile(csv, [SYNTHETIC_CSV_HEADER, ...lines].join('\n') + '\n');
        const summary = await predictReviews(model, csv, { ...quiet, store });
        const imported = (await store.manifest(summary.tableKey)).rowCounts;
        const rows = await rowsOf(summary.path);
        expect(rows.length).toBe(Object.values(imported)[0]);
        for (const row of rows) expect(row.label === null).toBe(row.clean_text === '');
      }),
      { numRuns: 6 },
    );
  }, 120_000);
});
