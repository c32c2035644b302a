/**
 * A 5,000-cell grid on a real Temporal dev server: cells travel as a key and batches, so the workflow
 * continues as new several times and no payload in any run's history comes near Temporal's limits.
 * The cells are quick fakes (a test-only activity set on an in-test worker); the grid activities that
 * read the stored cells (`lookupCells`, `recordFailures`, `checkStore`) are the real ones.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { storeGridCells } from '../activities/grid/grid';
import { ArtifactStore } from '../data/store/artifact-store';
import type { StageOutcome } from '../data/store/types';
import type { GridActivities, GridCell, GridResult } from '../workflows/plans/grid';
import { tinyTrain, tinyUpstream } from '../workflows/testing/fixtures';
import { createWorkerActivities } from './activities';
import { WORKFLOWS_PATH } from './main';
import { devServerAvailable, startDevServer } from './testing/dev-server';
import { payloadSizes, runHistories, scheduledActivities } from './testing/workflow-history';

const CELLS = 5_000;
const FAILING = 1_234;
const BEST = 4_321;
const PAYLOAD_LIMIT = 256 * 1024;

const outcome = (key: string, stage: string, summary: Record<string, unknown> = {}): StageOutcome => ({ ref: { key, stage }, cache: 'miss', ms: 0, summary });

/** Cell i trains with learning rate (i + 1) / 1e6: the fakes read the cell back from it. */
const cellOf = (learningRate: number) => Math.round(learningRate * 1e6) - 1;

/** Test-only stage activities: instant, with a validation score that peaks at cell BEST and one failing cell. */
function fakeCells(): Partial<GridActivities> {
  const upstream = (stage: string) => async () => outcome(`${stage}-key`, stage);
  return {
    importReviews: upstream('import'),
    clean: upstream('clean'),
    annotate: upstream('annotate'),
    split: upstream('split'),
    features: upstream('features'),
    resample: async ({ params }) => outcome(`resample-${params.seed}`, 'resample'),
    async trainModel({ params }) {
      const cell = cellOf(params.learningRate);
      if (cell === FAILING) throw new Error(`cell ${cell} diverged`);
      return outcome(`model-${cell}`, 'train');
    },
    async evaluate({ model }) {
      const cell = Number(model.key.replace('model-', ''));
      return outcome(`eval-${cell}`, 'evaluate', { macroF1: 1 - Math.abs(cell - BEST) / CELLS });
    },
    recordGrid: async () => outcome('grid-key', 'grid'),
    report: async () => outcome('report-key', 'report'),
  };
}

describe.skipIf(!devServerAvailable('a 5,000-cell grid on a Temporal server'))('a 5,000-cell grid on a Temporal server', () => {
  it('completes through continue-as-new with every payload far below 256 KB', async () => {
    const env = await startDevServer();
    const root = await mkdtemp(join(tmpdir(), 'ulasan-grid-payloads-'));
    try {
      const store = new ArtifactStore(root);
      const cells: GridCell[] = Array.from({ length: CELLS }, (_, i) => ({
        id: `c${String(i).padStart(4, '0')}`,
        resample: { sampler: { method: 'none' }, seed: i, partition: 'train' },
        train: tinyTrain((i + 1) / 1e6),
      }));
      const plan = await storeGridCells(store, { name: 'payloads', ...tinyUpstream, cells, metric: 'macroF1', parallel: 100, report: { title: 'payloads' } });
      const taskQueue = `grid-payloads-${Date.now()}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowsPath: WORKFLOWS_PATH,
        activities: { ...createWorkerActivities(store), ...fakeCells() },
        maxConcurrentActivityTaskExecutions: 200,
      });
      const workflowId = `${taskQueue}-grid`;
      const started = Date.now();
      const result = await worker.runUntil(
        env.client.workflow.execute('gridWorkflow', { taskQueue, workflowId, args: [{ ...plan, storeId: await store.id() }] }) as Promise<GridResult>,
      );
      const seconds = (Date.now() - started) / 1000;
      expect(result.counts).toEqual({ done: CELLS - 1, cached: 0, failed: 1 });
      expect(result.selected).toBe(cells[BEST]!.id);

      const histories = await runHistories(env.client, workflowId);
      expect(histories.length).toBeGreaterThanOrEqual(CELLS / 500);
      expect(scheduledActivities(histories).filter((a) => a === 'trainModel')).toHaveLength(CELLS);
      const sizes = payloadSizes(histories);
      const largest = Math.max(...sizes);
      console.log(`5,000 cells in ${seconds.toFixed(0)} s over ${histories.length} runs; ${sizes.length} payloads, largest ${largest} bytes`);
      expect(largest).toBeLessThan(PAYLOAD_LIMIT);
    } finally {
      await env.teardown();
      await rm(root, { recursive: true, force: true });
    }
  }, 900_000);
});
