/** What workflow code throws when a run fails: typed, non-retryable ApplicationFailures with the real cause. */
import { describe, expect, it } from 'vitest';
import { ActivityFailure, ApplicationFailure, CancelledFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { workflowFailure, type QueueOf } from './failure';

const queueOf: QueueOf = (activity) => (activity === 'trainModel' ? { queue: 'gpu', waitMs: 3_000 } : { queue: 'ulasan' });
const failed = (activity: string, cause: Error) => new ActivityFailure('Activity task failed', activity, '7', RetryState.NON_RETRYABLE_FAILURE, 'w@host', cause);

describe('workflowFailure', () => {
  it("keeps the failed activity's own failure type and message, non-retryable, with the activity failure as cause", () => {
    const activity = failed('clean', ApplicationFailure.create({ type: 'BadInput', message: 'row 3: rating "x" is not a number', details: [{ row: 3 }] }));
    const thrown = workflowFailure(activity, queueOf);
    expect(thrown).toBeInstanceOf(ApplicationFailure);
    expect(thrown).toMatchObject({ type: 'BadInput', nonRetryable: true, message: 'clean failed: row 3: rating "x" is not a number', details: [{ row: 3 }] });
    expect((thrown as ApplicationFailure).cause).toBe(activity);
  });

  it('names the queue and the wait when no worker took an activity (schedule-to-start timeout)', () => {
    const thrown = workflowFailure(failed('trainModel', new TimeoutFailure(undefined, undefined, TimeoutType.SCHEDULE_TO_START)), queueOf);
    expect(thrown).toMatchObject({ type: 'NoWorker', nonRetryable: true });
    expect((thrown as Error).message).toContain("no worker took trainModel from task queue 'gpu' within 3s");
    expect((thrown as Error).message).toContain('ulasan worker --queue gpu');
  });

  it('reports an activity whose worker went silent on its last attempt as TimedOut', () => {
    const thrown = workflowFailure(failed('evaluate', new TimeoutFailure(undefined, undefined, TimeoutType.HEARTBEAT)), queueOf);
    expect(thrown).toMatchObject({ type: 'TimedOut', nonRetryable: true, message: expect.stringContaining('evaluate timed out (HEARTBEAT)') });
  });

  it('lets cancellations through untouched, so a cancelled run ends as cancelled', () => {
    const cancelled = failed('trainModel', new CancelledFailure('cancelled'));
    expect(workflowFailure(cancelled, queueOf)).toBe(cancelled);
    const direct = new CancelledFailure('cancelled');
    expect(workflowFailure(direct, queueOf)).toBe(direct);
  });

  it('turns a plain Error (a bug in workflow code) into a non-retryable Internal failure instead of a retried workflow task', () => {
    const thrown = workflowFailure(new Error('every grid cell failed'), queueOf);
    expect(thrown).toBeInstanceOf(ApplicationFailure);
    expect(thrown).toMatchObject({ type: 'Internal', nonRetryable: true, message: 'every grid cell failed' });
  });

  it('makes a retryable ApplicationFailure raised by workflow code non-retryable, keeping its type', () => {
    const thrown = workflowFailure(ApplicationFailure.retryable('try later', 'Transient'), queueOf);
    expect(thrown).toMatchObject({ type: 'Transient', nonRetryable: true, message: 'try later' });
  });
});
