/**
 * What a workflow throws when a run fails: only `ApplicationFailure`s (a plain Error would fail the workflow TASK,
 * which Temporal retries forever while the run shows "Running"), non-retryable, typed with ulasan's failure types,
 * and carrying the real cause: the failed activity's own type and message, not "Activity task failed".
 * The plan's own failures (a PlanFailure, a grid whose cells failed) keep their type and context.
 * Cancellations pass through untouched, so a cancelled run ends as cancelled.
 */
import { ActivityFailure, ApplicationFailure, isCancellation, TimeoutFailure } from '@temporalio/workflow';
import { PlanFailure, type FailureType } from '../core/failures';
import { GridFailedError } from './plans/grid';

/**
 * The queue an activity type was scheduled on, how long it may wait there, and the option that picks it (default
 * `--train-queue`), for "no worker on queue X" messages.
 */
export type QueueOf = (activityType: string) => { queue: string; waitMs?: number; option?: string };

export function workflowFailure(error: unknown, queueOf: QueueOf): unknown {
  if (isCancellation(error)) return error;
  if (error instanceof PlanFailure) return ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: true, details: [error.context] });
  if (error instanceof GridFailedError) return ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: true });
  if (error instanceof ActivityFailure) return activityFailure(error, queueOf);
  if (error instanceof ApplicationFailure) return withNonRetryable(error);
  const message = error instanceof Error ? error.message : String(error);
  return ApplicationFailure.create({ type: 'Internal' satisfies FailureType, message, nonRetryable: true, cause: error instanceof Error ? error : undefined });
}

function activityFailure(error: ActivityFailure, queueOf: QueueOf): ApplicationFailure {
  const activity = error.activityType;
  const cause = error.cause;
  if (cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START') {
    const { queue, waitMs, option = '--train-queue' } = queueOf(activity);
    const within = waitMs === undefined ? 'in time' : `within ${formatMs(waitMs)}`;
    return failure(
      'NoWorker',
      `no worker took ${activity} from task queue '${queue}' ${within}: start one with \`ulasan worker --queue ${queue}\`, or pass the right ${option}`,
      error,
    );
  }
  if (cause instanceof TimeoutFailure) {
    return failure('TimedOut', `${activity} timed out (${cause.timeoutType}) on its last attempt: a worker was lost or it ran past its timeout`, error);
  }
  if (cause instanceof ApplicationFailure) return failure(cause.type ?? 'Internal', `${activity} failed: ${cause.message}`, error, cause.details);
  return failure('Internal', `${activity} failed: ${cause?.message ?? error.message}`, error);
}

function failure(type: string, message: string, cause: Error, details?: unknown[] | null): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, cause, ...(details ? { details } : {}) });
}

function withNonRetryable(error: ApplicationFailure): ApplicationFailure {
  return error.nonRetryable ? error : failure(error.type ?? 'Internal', error.message, error, error.details);
}

/** 3000 → "3s", 120000 → "2m", 3600000 → "1h". */
function formatMs(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
