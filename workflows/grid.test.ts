/**
 * The grid workflow replayed from a history recorded by the local runner: a run that hands over to a
 * fresh one (continue-as-new) after two cells replays cleanly; dropping a cell's evaluation does not.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { StageOutcome } from '../activities/context';
import { wrapActivities } from '../client/local-runner';
import { ArtifactStore } from '../data/store/artifact-store';
import { GRID_PROFILES, runGrid, type GridActivities, type GridCell, type GridPlan } from './plans/grid';
import { tinyTrain, tinyUpstream } from './testing/fixtures';
import { buildHistory, type RecordedActivityCall, type RecordedRun } from './testing/history';

const workflowsPath = fileURLToPath(new URL('./index.ts', import.meta.url));

const cells: GridCell[] = [0.001, 0.002, 0.003].map((lr, i) => ({
  id: `c${i}`,
  resample: { sampler: { method: 'none' }, seed: 1, partition: 'train' },
  train: tinyTrain(lr),
}));

const plan: GridPlan = {
  name: 'replay-grid',
  ...tinyUpstream,
  cells: { key: 'cells-key', count: cells.length },
  metric: 'macroF1',
  parallel: 1,
  cellsPerRun: 2,
  report: { title: 'replay' },
};

function fakeActivities(): GridActivities {
  const outcome = (key: string, summary: Record<string, unknown> = {}): StageOutcome => ({ ref: { key, stage: key }, cache: 'miss', ms: 1, summary });
  let n = 0;
  const fake = () => async () => outcome(`k${n++}`, { macroF1: 0.5 });
  const acts = Object.fromEntries(Object.keys(GRID_PROFILES).map((name) => [name, fake()])) as unknown as GridActivities;
  acts.lookupCells = async ({ from, count }) => cells.slice(from, from + count).map((cell, i) => ({ index: from + i, id: cell.id, cell }));
  return acts;
}

async function recordFirstRun(): Promise<RecordedRun> {
  const recorder: RecordedActivityCall[] = [];
  const acts = wrapActivities(fakeActivities(), { store: new ArtifactStore('/nonexistent'), recorder }, GRID_PROFILES);
  const outcome = await runGrid(acts, plan, undefined, { shouldContinueAsNew: (finished) => finished >= plan.cellsPerRun! });
  if (outcome.kind !== 'continue') throw new Error('expected the first run to continue as new');
  return {
    workflowType: 'gridWorkflow',
    workflowId: 'grid-replay',
    taskQueue: 'ulasan',
    args: [plan],
    steps: recorder.map((call) => [call]),
    result: undefined,
    continuedAsNew: { args: [plan, outcome.state] },
  };
}

describe('gridWorkflow replay', () => {
  it('replays a run that continued as new after two cells', async () => {
    const run = await recordFirstRun();
    expect(run.steps.map(([c]) => (c as RecordedActivityCall).activityType)).toEqual([
      'importReviews', 'clean', 'annotate', 'split', 'features', 'lookupCells',
      'resample', 'trainModel', 'evaluate', 'resample', 'trainModel', 'evaluate',
    ]);
    await expect(Worker.runReplayHistory({ workflowsPath }, buildHistory(run), run.workflowId)).resolves.toBeUndefined();
  }, 120_000);

  it('fails to replay when a cell skips its evaluation', async () => {
    const run = await recordFirstRun();
    const steps = run.steps.filter((_, i) => i !== 8);
    await expect(Worker.runReplayHistory({ workflowsPath }, buildHistory({ ...run, steps }), run.workflowId)).rejects.toBeInstanceOf(
      DeterminismViolationError,
    );
  }, 120_000);
});
