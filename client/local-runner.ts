/**
 * The embedded runner: the same plan the Temporal workflow runs, over the real activity functions
 * wrapped with the same retry profiles. Optionally records every call in the shape a Temporal
 * history is built from, so a local run can be replayed against the workflow code.
 */
import { createActivities, type Activities } from '../activities';
import { classifyError, UlasanError } from '../core/errors';
import type { ArtifactStore } from '../data/store/artifact-store';
import { PIPELINE_PROFILES, runPipeline, type PipelineActivities, type PipelinePlan, type PipelineResult } from '../workflows/plans/pipeline';
import { PROFILES, type ProfileName } from '../core/profiles';
import type { RecordedActivityCall } from '../workflows/testing/history';
import { GRID_PROFILES, GridFailedError, POOLED_ACTIVITIES, runGrid, type GridActivities, type GridPlan, type GridProgress, type GridResult } from '../workflows/plans/grid';
import { ActivityPool, type ActivityName } from '../runtime/activity-pool';
import { epochReporter } from './epoch-progress';
import { refKeys, type RunLease } from './leases';
import { withRetry, type RetryOptions } from '../core/retry';

export interface LocalRunOptions {
  store: ArtifactStore;
  log?: (message: string) => void;
  /** Collects each activity call with its input and result, in order. */
  recorder?: RecordedActivityCall[];
  /** How to wait between attempts, and who else hears of a retry (tests). */
  retry?: Pick<RetryOptions, 'sleep' | 'onRetry'>;
  /** Replaces the real activities (tests). */
  activities?: PipelineActivities;
  /** Hash every file of every cache hit instead of trusting matching stamps (`--verify-hashes`). */
  verifyHashes?: boolean;
  taskQueue?: string;
  /** Holds each stage's inputs and output against a concurrent `ulasan gc` (leases.ts). */
  lease?: RunLease;
  /** Print per-epoch training progress through `log`. @default false */
  progress?: boolean;
}

/** Wraps each activity with its profile's retries and, when asked, records the call. */
export function wrapActivities<A extends object>(activities: A, options: LocalRunOptions, profiles: Record<keyof A, ProfileName>): A {
  const log = options.log ?? (() => undefined);
  const wrapped = {} as Record<keyof A, (input: unknown) => Promise<unknown>>;
  for (const name of Object.keys(profiles) as (keyof A & string)[]) {
    const run = activities[name] as (input: unknown) => Promise<unknown>;
    wrapped[name] = async (input) => {
      const retry: RetryOptions = {
        policy: PROFILES[profiles[name]].retry,
        ...(options.retry?.sleep ? { sleep: options.retry.sleep } : {}),
        onRetry: (info) => {
          log(`${name} failed (attempt ${info.attempt}): ${(info.error as Error).message}; retrying in ${info.delayMs} ms`);
          options.retry?.onRetry?.(info);
        },
      };
      await options.lease?.holdInputs(refKeys(input));
      // Typed before the retry decision, as on a worker: only what may pass is tried again.
      const typed = () => run(input).catch((err: unknown) => Promise.reject(classifyError(err, { stage: name })));
      let result = await withRetry(typed, retry);
      // A cache hit on an artifact a concurrent gc then removed: run the stage again, which recomputes it.
      while (options.lease && (await options.lease.hold(refKeys((result as { ref?: unknown } | undefined)?.ref))).length > 0) {
        result = await withRetry(typed, retry);
      }
      options.recorder?.push({ activityType: name, taskQueue: options.taskQueue ?? 'ulasan', args: [input], result });
      return result;
    };
  }
  return wrapped as unknown as A;
}

/** Prints training epochs through `log` when asked (see epoch-progress.ts); otherwise ignores heartbeats. */
function heartbeatPrinter(log: (message: string) => void, progress: boolean | undefined): (details?: unknown) => void {
  return progress ? epochReporter({ log, ...(process.stderr.isTTY ? { tty: process.stderr } : {}) }) : () => undefined;
}

/** The real activities in this process; `progress` prints training epochs (see epoch-progress.ts). */
export function realActivities(store: ArtifactStore, log: (message: string) => void, options: { verifyHashes?: boolean; progress?: boolean } = {}): Activities {
  const verifyHashes = options.verifyHashes ?? false;
  return createActivities({ store, heartbeat: heartbeatPrinter(log, options.progress), warn: (message) => log(`warning: ${message}`), verifyHashes });
}

export async function runLocal(plan: PipelinePlan, options: LocalRunOptions): Promise<PipelineResult> {
  const log = options.log ?? (() => undefined);
  const activities = options.activities ?? realActivities(options.store, log, options);
  return runPipeline(wrapActivities(activities, options, PIPELINE_PROFILES), plan);
}

export interface LocalGridOptions extends LocalRunOptions {
  onProgress?: (progress: GridProgress) => void;
  /**
   * Threads that run the cpu and train stages (the caller closes them; warm them with `warm()` beforehand to keep
   * start-up out of the run). @default a pool of `plan.parallel` threads when that is above 1, else this thread
   */
  pool?: ActivityPool;
}

/** `activities` with every cpu and train stage handed to `pool`, so whole cells run in threads, several at once. */
function inPool<A extends object>(activities: A, pool: ActivityPool, options: LocalRunOptions): A {
  const log = options.log ?? (() => undefined);
  const jobOptions = { onHeartbeat: heartbeatPrinter(log, options.progress), onWarn: (message: string) => log(`warning: ${message}`) };
  const pooled = Object.keys(activities).filter((name) => POOLED_ACTIVITIES.has(name));
  return { ...activities, ...Object.fromEntries(pooled.map((name) => [name, (input: never) => pool.run(name as ActivityName, input, jobOptions)])) };
}

/**
 * Runs a grid in-process. With `parallel > 1` (or a `pool`), every cell's resample, training and evaluation run in
 * the pool's threads: the main thread only schedules, so cells really run `parallel` at once.
 */
export async function runGridLocal(plan: GridPlan, options: LocalGridOptions): Promise<GridResult> {
  const log = options.log ?? (() => undefined);
  const base: GridActivities = options.activities ? (options.activities as GridActivities) : realActivities(options.store, log, options);
  const ownPool = !options.pool && plan.parallel > 1 && !options.activities ? new ActivityPool(plan.parallel, options.store.root) : undefined;
  const pool = options.activities ? undefined : (options.pool ?? ownPool);
  const activities = pool ? inPool(base, pool, options) : base;
  try {
    const outcome = await runGrid(wrapActivities(activities, options, GRID_PROFILES), plan, undefined, { onProgress: options.onProgress }).catch((error: unknown) => {
      throw error instanceof GridFailedError ? new UlasanError(error.type, error.message) : error;
    });
    if (outcome.kind !== 'done') throw new UlasanError('Internal', 'the local grid runner does not continue as new');
    return outcome.result;
  } finally {
    await ownPool?.close();
  }
}
