/**
 * The activities as a Temporal worker registers them:
 * - `cpu` and `train` activities run in the worker's ActivityPool (runtime/activity-pool.ts), off the main thread, which
 *   stays free to poll, heartbeat and hear cancellations; `io` ones run here.
 * - Every running activity heartbeats (its own progress details when it has some, else the last ones again), so every
 *   profile can have a heartbeat timeout and a cancel reaches any activity within one heartbeat interval.
 * - An earlier attempt's heartbeat details are handed on (training resumes from the checkpoint they name), the
 *   cancellation signal is passed on, and each artifact's manifest records the workflow, attempt, queue and worker.
 * - ulasan's typed errors become `ApplicationFailure`s whose `type` is the failure type, so the retry profiles'
 *   `nonRetryableErrorTypes` apply exactly as the local runner applies them.
 */
import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities, type Activities } from '../activities';
import type { Execution } from '../activities/context';
import { UlasanError } from '../core/errors';
import type { ActivityPool } from '../runtime/activity-pool';
import type { ArtifactStore } from '../data/store/artifact-store';
import { POOLED_ACTIVITIES } from '../workflows/plans/grid';

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

export interface WorkerActivityOptions {
  /** Runs the cpu and train activities in threads; without it (tests) they run on the calling thread. */
  pool?: ActivityPool;
  /** The worker's identity, recorded in manifests. @default `<pid>@<host>` as Temporal names it */
  identity?: string;
  /** How often a running activity heartbeats at least. @default 5 s */
  heartbeatIntervalMs?: number;
}

/** The details each running activity last heartbeated, re-sent by its keep-alive. */
const lastDetails = new WeakMap<Context, unknown>();

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside an activity (e.g. from a test): nothing to tell
  }
}

/** Heartbeats `details` for this activity, and keeps them for its keep-alive. */
function beat(ctx: Context, details: unknown): void {
  lastDetails.set(ctx, details);
  ctx.heartbeat(details);
}

function heartbeat(details?: unknown): void {
  const ctx = currentContext();
  if (ctx) beat(ctx, details);
}

function executionOf(ctx: Context, identity: string): Execution | undefined {
  const { workflowExecution, activityId, attempt, taskQueue } = ctx.info;
  if (!workflowExecution) return undefined;
  return { workflowId: workflowExecution.workflowId, runId: workflowExecution.runId, activityId, attempt, taskQueue, workerIdentity: identity };
}

/** Heartbeats the last details (or the earlier attempt's, so a resume hint survives) until stopped. */
function keepAlive(ctx: Context, intervalMs: number): () => void {
  const timer = setInterval(() => ctx.heartbeat(lastDetails.has(ctx) ? lastDetails.get(ctx) : ctx.info.heartbeatDetails), intervalMs);
  return () => clearInterval(timer);
}

/** Settles with the work, or rejects with the activity's CancelledFailure as soon as a cancel arrives. */
function untilCancelled<T>(work: Promise<T>, ctx: Context): Promise<T> {
  work.catch(() => undefined); // a cancelled main-thread activity may still fail later: nobody awaits it then
  return Promise.race([work, ctx.cancelled]);
}

/** Says when a cancelled activity stopped working, and why (the test of `ulasan cancel` reads this line). */
function logStopped(ctx: Context, name: string): void {
  const reason = (ctx.cancellationSignal.reason as Error | undefined)?.message ?? 'cancelled';
  ctx.log.info(`${name} stopped on cancellation (${reason}) at ${new Date().toISOString()}`);
}

export function createWorkerActivities(store: ArtifactStore, options: WorkerActivityOptions = {}): Activities {
  const identity = options.identity ?? `${process.pid}@${hostname()}`;
  const intervalMs = options.heartbeatIntervalMs ?? 5_000;
  const activities = createActivities({
    store,
    heartbeat,
    warn: (message) => currentContext()?.log.warn(message),
    throwIfCancelled: () => {
      const signal = currentContext()?.cancellationSignal;
      if (signal?.aborted) throw signal.reason;
    },
    resumeFrom: () => currentContext()?.info.heartbeatDetails,
    execution: () => {
      const ctx = currentContext();
      return ctx && executionOf(ctx, identity);
    },
  });
  const run = (name: keyof Activities, input: never, ctx: Context): Promise<unknown> => {
    if (!options.pool || !POOLED_ACTIVITIES.has(name)) return (activities[name] as (input: never) => Promise<unknown>)(input);
    return options.pool.run(name, input, {
      resume: ctx.info.heartbeatDetails,
      execution: executionOf(ctx, identity),
      signal: ctx.cancellationSignal,
      onHeartbeat: (details) => beat(ctx, details),
      onWarn: (message) => ctx.log.warn(message),
    });
  };
  return Object.fromEntries(
    (Object.keys(activities) as (keyof Activities)[]).map((name) => [
      name,
      async (input: never) => {
        const ctx = Context.current();
        const stop = keepAlive(ctx, intervalMs);
        const work = run(name, input, ctx);
        try {
          // A pool job settles once its thread has stopped; a main-thread one is left behind on a cancel.
          return await (options.pool && POOLED_ACTIVITIES.has(name) ? work : untilCancelled(work, ctx));
        } catch (error) {
          if (ctx.cancellationSignal.aborted) logStopped(ctx, name);
          throw toApplicationFailure(error);
        } finally {
          stop();
        }
      },
    ]),
  ) as unknown as Activities;
}
