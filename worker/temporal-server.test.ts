/** Against a real Temporal dev server (worker/testing/dev-server.ts): skipped loudly where none can start, never in CI. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { ArtifactStore } from '../data/store/artifact-store';
import { ExperimentSpecSchema, planFromSpec } from '../client/spec';
import { createWorkerActivities } from './activities';
import { WORKFLOWS_PATH } from './main';
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
        workflowsPath: WORKFLOWS_PATH,
        activities: createWorkerActivities(new ArtifactStore(root)),
      });
      const plan = planFromSpec(
        ExperimentSpecSchema.parse({
          name: 'temporal',
          source: { synthetic: { rows: 300 } },
          model: { arch: 'cnn-small', embeddingDim: 8, filters: 8 },
          train: { epochs: 1 },
        }),
      );
      const result = await worker.runUntil(
        env.client.workflow.execute('pipelineWorkflow', { taskQueue, workflowId: `${taskQueue}-run`, args: [plan] }),
      );
      expect(result.stages).toHaveLength(9);
    } finally {
      await env.teardown();
      await rm(root, { recursive: true, force: true });
    }
  }, 300_000);
});
