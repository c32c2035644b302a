/**
 * The activities as a Temporal worker registers them: heartbeats go to Temporal, and ulasan's typed
 * errors become `ApplicationFailure`s whose `type` is the failure type, so the retry profiles'
 * `nonRetryableErrorTypes` apply exactly as the local runner applies them.
 */
import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../activities';
import { UlasanError } from '../activities/errors';
import type { ArtifactStore } from '../data/store/artifact-store';
import type { Execution } from '../data/store/types';

export function toApplicationFailure(error: unknown): unknown {
  if (!(error instanceof UlasanError)) return error;
  // Play's Retry-After (ScrapeError.retryAfterMs) replaces the profile's backoff for that retry.
  const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return ApplicationFailure.create({
    type: error.type,
    message: error.message,
    nonRetryable: !error.retryable,
    details: [error.context],
    cause: error,
    ...(typeof retryAfterMs === 'number' && retryAfterMs >= 0 && error.retryable ? { nextRetryDelay: retryAfterMs } : {}),
  });
}

function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Called outside an activity (e.g. from a test): nothing to tell.
  }
}

/** Who is running the current activity, for the manifests it writes (outside the key). */
function executionOf(workerIdentity: string): Execution | undefined {
  try {
    const { info } = Context.current();
    const { workflowId = '', runId = '' } = info.workflowExecution ?? {};
    return { workflowId, runId, activityId: info.activityId, attempt: info.attempt, taskQueue: info.taskQueue, workerIdentity };
  } catch {
    return undefined; // outside an activity (a test calling it directly)
  }
}

export function createWorkerActivities(store: ArtifactStore, workerIdentity = `${process.pid}@${hostname()}`) {
  const activities = createActivities({
    store,
    heartbeat,
    warn: (message) => Context.current().log.warn(message),
    execution: () => executionOf(workerIdentity),
  });
  return Object.fromEntries(
    Object.entries(activities).map(([name, run]) => [
      name,
      async (input: never) => {
        try {
          return await (run as (input: never) => Promise<unknown>)(input);
        } catch (error) {
          throw toApplicationFailure(error);
        }
      },
    ]),
  );
}
