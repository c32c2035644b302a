/**
 * Against a real Temporal server: runs only when TEMPORAL_ADDRESS is set (no server can be
 * downloaded on the CI machines), and says so loudly otherwise.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ArtifactStore } from '../data/store/artifact-store';
import { ExperimentSpecSchema, planFromSpec } from '../client/spec';
import { createWorkerActivities } from './activities';
import { WORKFLOWS_PATH } from './main';

const address = process.env.TEMPORAL_ADDRESS;
if (!address) {
  console.warn('SKIPPED: Temporal server tests (set TEMPORAL_ADDRESS=host:7233 to run them against a server; see infra/README.md).');
}

describe.skipIf(!address)('pipeline on a Temporal server', () => {
  it('runs the pipeline workflow end to end through a worker', async () => {
    const env = await TestWorkflowEnvironment.createFromExistingServer({ address });
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
