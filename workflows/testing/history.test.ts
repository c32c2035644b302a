import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { buildHistory, historyToJSON, type History, type RecordedActivityCall, type RecordedRun } from './history';

const workflowsPath = fileURLToPath(new URL('./toy-workflow.ts', import.meta.url));
// Bundling the workflow and starting a replay worker take a few seconds each.
const REPLAY_TIMEOUT_MS = 120_000;

const WORKFLOW_TASK = ['WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED', 'WORKFLOW_TASK_COMPLETED'];
const ACTIVITY_TASK = ['ACTIVITY_TASK_SCHEDULED', 'ACTIVITY_TASK_STARTED', 'ACTIVITY_TASK_COMPLETED'];

const stepA: RecordedActivityCall = { activityType: 'stepA', taskQueue: 'toy', args: [21], result: 42 };
const stepB: RecordedActivityCall = { activityType: 'stepB', taskQueue: 'toy', args: [42], result: 'answer 42' };

function toyRun(steps: RecordedActivityCall[][]): RecordedRun {
  return {
    workflowType: 'toyWorkflow',
    workflowId: 'toy-1',
    taskQueue: 'toy',
    args: [{ n: 21 }],
    steps,
    result: 'answer 42',
  };
}

function replay(history: History): Promise<void> {
  return Worker.runReplayHistory({ workflowsPath }, history, 'toy-1');
}

describe('buildHistory', () => {
  it('numbers events and links them back to their scheduling events', () => {
    const { events } = historyToJSON(buildHistory(toyRun([[stepA], [stepB]])));
    expect(events.map((event) => event.eventId)).toEqual(events.map((_, index) => String(index + 1)));
    const types = events.map((event) => String(event.eventType).replace('EVENT_TYPE_', ''));
    expect(types).toEqual([
      'WORKFLOW_EXECUTION_STARTED',
      ...WORKFLOW_TASK,
      ...ACTIVITY_TASK,
      ...WORKFLOW_TASK,
      ...ACTIVITY_TASK,
      ...WORKFLOW_TASK,
      'WORKFLOW_EXECUTION_COMPLETED',
    ]);
    // events[i] has id i + 1: event 7 completes the activity scheduled as event 5.
    expect(events[6]).toMatchObject({
      activityTaskCompletedEventAttributes: { scheduledEventId: '5', startedEventId: '6' },
    });
    expect(events[10]).toMatchObject({
      activityTaskScheduledEventAttributes: { activityId: '2', workflowTaskCompletedEventId: '10' },
    });
    const times = events.map((event) => Date.parse(String(event.eventTime)));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(times).size).toBe(times.length);
  });

  it('schedules a parallel step in one workflow task', () => {
    const { events } = historyToJSON(buildHistory(toyRun([[stepA, stepB]])));
    const scheduled = events.filter((event) => event.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
    expect(scheduled.map((event) => event.eventId)).toEqual(['5', '6']);
    expect(scheduled.map((event) => event.activityTaskScheduledEventAttributes)).toMatchObject([
      { activityId: '1', workflowTaskCompletedEventId: '4' },
      { activityId: '2', workflowTaskCompletedEventId: '4' },
    ]);
  });

  it('rejects a step without activities', () => {
    expect(() => buildHistory(toyRun([[]]))).toThrow(/no activity calls/);
  });
});

describe('replaying built histories', () => {
  it(
    'replays a correctly recorded run',
    async () => {
      await expect(replay(buildHistory(toyRun([[stepA], [stepB]])))).resolves.toBeUndefined();
    },
    REPLAY_TIMEOUT_MS,
  );

  it(
    'replays a history that went through the JSON format',
    async () => {
      const json = JSON.parse(JSON.stringify(historyToJSON(buildHistory(toyRun([[stepA], [stepB]])))));
      await expect(replay(historyFromJSON(json))).resolves.toBeUndefined();
    },
    REPLAY_TIMEOUT_MS,
  );

  it(
    'reports a determinism violation when the recorded activity order differs',
    async () => {
      // Same args and results, but the history says stepB ran first.
      const swapped = buildHistory(
        toyRun([[{ ...stepA, activityType: 'stepB' }], [{ ...stepB, activityType: 'stepA' }]]),
      );
      const error: unknown = await replay(swapped).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(DeterminismViolationError);
      expect((error as Error).name).toBe('DeterminismViolationError');
      expect((error as Error).message).toMatch(/Activity type of scheduled event 'stepB' does not match.*'stepA'/);
    },
    REPLAY_TIMEOUT_MS,
  );

  it(
    'reports a determinism violation when sequential calls were recorded as one parallel step',
    async () => {
      await expect(replay(buildHistory(toyRun([[stepA, stepB]])))).rejects.toThrow(
        /No command scheduled for event .*ActivityTaskScheduled/,
      );
    },
    REPLAY_TIMEOUT_MS,
  );
});

describe('bundleWorkflowCode', () => {
  it(
    'bundles the toy workflow',
    async () => {
      const { code } = await bundleWorkflowCode({ workflowsPath });
      expect(code.length).toBeGreaterThan(0);
      expect(code).toContain('toyWorkflow');
    },
    REPLAY_TIMEOUT_MS,
  );
});
