/**
 * The pipeline workflow without a Temporal server: it bundles, and a history recorded by the local
 * runner replays against it; the same history with two activities swapped does not.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { ApplicationFailure, DeterminismViolationError } from '@temporalio/workflow';
import type { StageOutcome } from '../activities/context';
import { ArtifactStore } from '../data/store/artifact-store';
import { runLocal } from '../client/local-runner';
import { ExperimentSpecSchema, planFromSpec } from '../client/spec';
import { PIPELINE_PROFILES, type PipelineActivities } from './plans/pipeline';
import { PlanFailure } from '../core/failures';
import { workflowFailure } from './failure';
import { buildHistory, type RecordedActivityCall, type RecordedRun } from './testing/history';

const workflowsPath = fileURLToPath(new URL('./index.ts', import.meta.url));
const plan = planFromSpec(
  ExperimentSpecSchema.parse({ name: 'replay', source: { synthetic: { rows: 100 } }, model: { arch: 'cnn-small' } }),
);

/** Activities that answer instantly with a plausible outcome, so the plan's calls can be recorded. */
function fakeActivities(): PipelineActivities {
  const stageOf: Record<string, string> = { importReviews: 'import', trainModel: 'train' };
  const fake = (name: string) => async (): Promise<StageOutcome> => ({
    ref: { key: `${name}-key`, stage: stageOf[name] ?? name },
    cache: 'miss',
    reason: 'absent',
    ms: 1,
    summary: {},
  });
  return Object.fromEntries(Object.keys(PIPELINE_PROFILES).map((name) => [name, fake(name)])) as unknown as PipelineActivities;
}

async function recordedRun(): Promise<RecordedRun> {
  const recorder: RecordedActivityCall[] = [];
  const result = await runLocal(plan, { store: new ArtifactStore('/nonexistent'), activities: fakeActivities(), recorder });
  return { workflowType: 'pipelineWorkflow', workflowId: 'pipeline-replay', taskQueue: 'ulasan', args: [plan], steps: recorder.map((c) => [c]), result };
}

describe('pipelineWorkflow', () => {
  it('bundles with the Temporal bundler', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath, logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } });
    expect(code).toContain('pipelineWorkflow');
    expect(code.length).toBeGreaterThan(10_000);
  }, 120_000);

  it('replays a history recorded by the local runner', async () => {
    const run = await recordedRun();
    expect(run.steps.map(([call]) => (call as RecordedActivityCall).activityType)).toEqual([
      'importReviews', 'clean', 'annotate', 'split', 'features', 'resample', 'trainModel', 'evaluate', 'report',
    ]);
    await expect(Worker.runReplayHistory({ workflowsPath }, buildHistory(run), run.workflowId)).resolves.toBeUndefined();
  }, 120_000);

  it('fails to replay when the order of activities changes', async () => {
    const run = await recordedRun();
    const [first, second, ...rest] = run.steps;
    const swapped = { ...run, steps: [second!, first!, ...rest] };
    await expect(Worker.runReplayHistory({ workflowsPath }, buildHistory(swapped), run.workflowId)).rejects.toBeInstanceOf(
      DeterminismViolationError,
    );
  }, 120_000);

  it("fails the workflow, not retried, with the plan's own bug error (a recomputed input still unreadable)", () => {
    const queueOf = () => ({ queue: 'ulasan' });
    const failure = workflowFailure(new PlanFailure('CorruptInput', 'resample could not read ...', { stage: 'resample', key: 'r1' }), queueOf);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'CorruptInput', nonRetryable: true, details: [{ stage: 'resample', key: 'r1' }] });
  });
});
