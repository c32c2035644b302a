/**
 * Predict and nightly scoring on a real Temporal dev server (worker/testing/dev-server.ts): the same plans as
 * the local runner, so the local runner finds Temporal's predictions in the cache; a drifted night shows in the
 * workflow's memo. Skipped loudly where no server can start, never in CI.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { csvField, generateSyntheticReviews, SYNTHETIC_CSV_HEADER } from '../data/sample/synthetic';
import { ArtifactStore } from '../data/store/artifact-store';
import { runLocal } from '../client/local-runner';
import { predictReviews } from '../client/predict';
import { scoringPlanFor } from '../client/score';
import { ExperimentSpecSchema, planFromSpec } from '../client/spec';
import type { PredictResult } from '../workflows/plans/predict';
import type { ScoringResult } from '../workflows/plans/score';
import { createWorkerActivities } from './activities';
import { WORKFLOWS_PATH } from './main';
import { devServerAvailable, startDevServer } from './testing/dev-server';

describe.skipIf(!devServerAvailable('predict and scoring on a Temporal server'))('predict and scoring on a Temporal server', () => {
  it('predictWorkflow writes the artifact the local runner then hits; scoringWorkflow marks a drifted night in its memo', async () => {
    const env = await startDevServer();
    const root = await mkdtemp(join(tmpdir(), 'ulasan-temporal-predict-'));
    try {
      const store = new ArtifactStore(root);
      const plan = planFromSpec(
        ExperimentSpecSchema.parse({ name: 'temporal-predict', seed: 7, source: { synthetic: { rows: 500 } }, features: { kind: 'tfidf', minDf: 1 }, model: { arch: 'nb' }, evaluate: { minSupport: 5 } }),
      );
      const trained = await runLocal(plan, { store });
      const model = trained.stages.find((s) => s.stage === 'train')!.key;
      const split = { key: trained.stages.find((s) => s.stage === 'split')!.key, stage: 'split' };
      const taskQueue = `ulasan-predict-${Date.now()}`;
      const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath: WORKFLOWS_PATH, activities: createWorkerActivities(store) });

      const drifted = generateSyntheticReviews({ rows: 2000, seed: 5 }).filter((r) => r.rating <= 2);
      const lines = [...drifted.map((r) => ({ ...r, text: `${r.text} zorblax kriptobot` })), { ...drifted[0]!, reviewId: 'emptied', text: '👍' }].map((r) =>
        [r.reviewId, r.userName, r.rating, r.text, r.date, r.app].map((v) => csvField(v)).join(','),
      );
      const csv = join(root, 'drifted.csv');
      await writeFile(csv, [SYNTHETIC_CSV_HEADER, ...lines].join('\n') + '\n');
      const scoring = await scoringPlanFor(store, model, { kind: 'file', path: csv }, { mixShift: 0.2 }, 'temporal-nightly');

      const [predicted, scored] = await worker.runUntil(async () => {
        const p = await env.client.workflow.execute('predictWorkflow', { taskQueue, workflowId: `${taskQueue}-predict`, args: [{ model, input: { table: split } }] });
        const handle = await env.client.workflow.start('scoringWorkflow', { taskQueue, workflowId: `${taskQueue}-score`, args: [scoring] });
        const s = await handle.result();
        return [p, { result: s, memo: (await handle.describe()).memo }] as const;
      });
      const local = await predictReviews(model, split.key, { taskQueue, log: () => undefined, store });
      expect((predicted as PredictResult).predictionsKey).toBe(local.predictionsKey);
      expect(local.stages[0]!.cache).toBe('hit');
      const result = scored.result as ScoringResult;
      expect(result.status).toBe('drift');
      expect(scored.memo).toEqual({ scoringStatus: 'drift', alerts: result.alerts });
    } finally {
      await env.teardown();
      await rm(root, { recursive: true, force: true });
    }
  }, 300_000);
});
