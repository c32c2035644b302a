/** Against a real Temporal dev server (worker/testing/dev-server.ts): skipped loudly where none can start, never in CI. */
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { ArtifactStore, MANIFEST_FILE, manifestDigest, sha256File } from '../data/store/artifact-store';
import type { PipelineResult } from '../workflows/plans/pipeline';
import { RECOVERY_REASON } from '../workflows/plans/recovery';
import { ExperimentSpecSchema, planFromSpec } from '../client/spec';
import { createWorkerActivities } from './activities';
import { workflowBundle } from './main';
import { devServerAvailable, startDevServer } from './testing/dev-server';

describe.skipIf(!devServerAvailable('pipeline on a Temporal server'))('pipeline on a Temporal server', () => {
  it('runs the pipeline workflow end to end through a worker', async () => {
    const env = await startDevServer();
    const root = await mkdtemp(join(tmpdir(), 'ulasan-temporal-'));
    try {
      const taskQueue = `ulasan-test-${Date.now()}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: createWorkerActivities(new ArtifactStore(root)),
      });
      const plan = planFromSpec(
        ExperimentSpecSchema.parse({
          name: 'temporal',
          source: { synthetic: { rows: 300 } },
          model: { arch: 'cnn-small', embeddingDim: 8, filters: 8 },
          train: { epochs: 1 },
          evaluate: { minSupport: 5 }, // 300 synthetic rows leave ~6 negative test rows
        }),
      );
      const store = new ArtifactStore(root);
      const run = (id: string): Promise<PipelineResult> =>
        env.client.workflow.execute('pipelineWorkflow', { taskQueue, workflowId: `${taskQueue}-${id}`, args: [plan] });
      // One worker serves both runs (a worker runs once).
      const [result, recovered] = await worker.runUntil(async () => {
        const first = await run('run');
        await serveUnreadableTrainArrow(store, first);
        return [first, await run('recovered')] as const;
      });
      expect(result.stages).toHaveLength(9);
      // train moved the unreadable file aside, the workflow had resample recomputed once, and the run completed.
      expect(recovered.stages.slice(5, 8).map((s) => `${s.stage}:${s.cache}`)).toEqual(['resample:hit', 'resample:miss', 'train:miss']);
      expect(recovered.stages[6]!.reason).toBe(RECOVERY_REASON);
      expect(recovered.metricsKey).toBe(result.metricsKey);
    } finally {
      await env.teardown();
      await rm(root, { recursive: true, force: true });
    }
  }, 300_000);
});

/** Leaves the state of issue 19: a truncated train.arrow whose hash the manifest records (so the cache serves it), and no train artifact. */
async function serveUnreadableTrainArrow(store: ArtifactStore, result: PipelineResult): Promise<void> {
  const resample = result.stages.find((s) => s.stage === 'resample')!;
  const file = store.path(resample.key, 'train.arrow');
  await truncate(file, 600);
  const manifest = await store.manifest(resample.key);
  const changed = { ...manifest, files: { ...manifest.files, 'train.arrow': await sha256File(file) } };
  await writeFile(store.path(resample.key, MANIFEST_FILE), JSON.stringify({ ...changed, digest: manifestDigest(changed) }));
  await rm(store.dir(result.stages.find((s) => s.stage === 'train')!.key), { recursive: true });
}
