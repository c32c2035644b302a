/**
 * Nightly scoring on the local runner: a window like the training data raises no alert; a drifted window
 * made from the synthetic generator (complaints only, about a product word the model never saw) raises
 * alerts that `ulasan runs --json` shows with status `drift`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_FILE, driftAlerts } from '../activities/lineage/drift-check';
import type { DriftReport } from '../activities/lineage/drift';
import { csvField, generateDriftedReviews, generateSyntheticReviews, SYNTHETIC_CSV_HEADER } from '../data/sample/synthetic';
import { ArtifactStore } from '../data/store/artifact-store';
import type { PipelineResult } from '../workflows/plans/pipeline';
import { runLocal } from './local-runner';
import { listRuns } from './runs';
import { runScoringLocal, scoringPlanFor } from './score';
import { ExperimentSpecSchema, planFromSpec } from './spec';

let root: string;
let store: ArtifactStore;
let trained: PipelineResult;

const plan = planFromSpec(
  ExperimentSpecSchema.parse({ name: 'score-model', seed: 7, source: { synthetic: { rows: 600 } }, features: { kind: 'tfidf', minDf: 1 }, model: { arch: 'nb' }, evaluate: { minSupport: 5 } }),
);

async function windowCsv(name: string, rows: { rating: number; text: string }[]): Promise<string> {
  const path = join(root, `${name}.csv`);
  const lines = rows.map((r, i) => [`${name}-${i}`, 'u', r.rating, r.text, '2025-03-01', 'com.example.synthetic'].map((v) => csvField(v)).join(','));
  await writeFile(path, [SYNTHETIC_CSV_HEADER, ...lines].join('\n') + '\n');
  return path;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-score-'));
  store = new ArtifactStore(root);
  trained = await runLocal(plan, { store });
}, 120_000);
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('nightly scoring', () => {
  it('a window like the training data: status ok, predictions for every review', async () => {
    const model = trained.stages.find((s) => s.stage === 'train')!.key;
    const csv = await windowCsv('calm', generateSyntheticReviews({ rows: 400, seed: 99 }));
    const scoring = await scoringPlanFor(store, model, { kind: 'file', path: csv }, {}, 'nightly-calm');
    const run = await runScoringLocal(store, scoring);
    expect(run.alerts).toEqual([]);
    expect(run.status).toBe('ok');
    expect(run.stages.map((s) => s.stage)).toEqual(['import', 'clean', 'annotate', 'predict', 'drift-check']);
    expect((await store.manifest(run.predictionsKey)).rowCounts.rows).toBe(400);
  }, 120_000);

  it('a drifted window (complaints only, an unseen product word in each): alerts in the result and in `runs --json`', async () => {
    const model = trained.stages.find((s) => s.stage === 'train')!.key;
    const complaints = generateDriftedReviews({ rows: 400, seed: 5 });
    // One review that cleaning empties: clean's emptied-row pass then has a row (main's clean binds no empty list).
    const csv = await windowCsv('drifted', [...complaints, { rating: 1, text: '👍👍' }]);
    const scoring = await scoringPlanFor(store, model, { kind: 'file', path: csv }, { mixShift: 0.2, oovIncrease: 0.05 }, 'nightly-drifted');
    const run = await runScoringLocal(store, scoring);
    expect(run.status).toBe('drift');
    expect(run.alerts.some((a) => a.startsWith('label mix shifted'))).toBe(true);
    expect(run.alerts.some((a) => a.startsWith('OOV rate rose'))).toBe(true);
    const saved = JSON.parse(await readFile(store.path(run.driftKey, DRIFT_FILE), 'utf8')) as { alerts: string[]; report: DriftReport };
    expect(saved.alerts).toEqual(run.alerts);
    expect(saved.report.model && 'a' in saved.report.model).toBe(true);

    const listed = JSON.parse(JSON.stringify(await listRuns(store))) as { runId: string; status: string; alerts?: string[] }[];
    const entry = listed.find((r) => r.runId === run.runId)!;
    expect(entry.status).toBe('drift');
    expect(entry.alerts).toEqual(run.alerts);
    expect(listed.filter((r) => r.status === 'ok' || r.status === 'done')).toHaveLength(1);
  }, 120_000);

  it('a window that cannot be scored fails, and `runs --json` lists the run as failed with why', async () => {
    const model = trained.stages.find((s) => s.stage === 'train')!.key;
    const scoring = await scoringPlanFor(store, model, { kind: 'file', path: join(root, 'missing.csv') }, {}, 'nightly-missing');
    const failure = await runScoringLocal(store, scoring).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    if (!failure) throw new Error('scoring a missing file did not fail');
    const listed = JSON.parse(JSON.stringify(await listRuns(store))) as { spec?: string; status: string; error?: { type: string; message: string } }[];
    const entry = listed.find((r) => r.spec === 'nightly-missing')!;
    expect(entry.status).toBe('failed');
    expect(entry.error?.message).toBe(failure.message);
  }, 120_000);

  it('checks each measure against its threshold, naming both values', () => {
    const window = (mean: number) => ({ key: 'k', file: 'labelled.parquet', rows: 10, tokens: 10, mix: {}, length: { mean, median: mean, p95: mean } });
    const report: DriftReport = {
      a: window(8),
      b: window(16),
      mixShift: 0.1,
      oov: { vocabulary: 'features x', vocabularySize: 5, rateA: 0.02, rateB: 0.05 },
      topChangedTerms: [],
      model: { key: 'm', featuresKey: 'f', a: { n: 10, accuracy: 0.9, macroF1: 0.9, seenInTraining: true }, b: { n: 10, accuracy: 0.7, macroF1: 0.6, seenInTraining: false } },
    };
    expect(driftAlerts(report, {})).toEqual([
      'mean length changed from 8.000 to 16.000 tokens (threshold ±50%)',
      'model macro-F1 fell from 0.900 to 0.600 (threshold −0.1)',
    ]);
    expect(driftAlerts(report, { mixShift: 0.05, lengthChange: 2, scoreDrop: 0.5 })).toEqual(['label mix shifted by 0.100 (total variation; threshold 0.05)']);
  });
});
