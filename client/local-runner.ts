/**
 * The embedded runner: the same plan the Temporal workflow runs, over the real activity functions
 * wrapped with the same retry profiles. Optionally records every call in the shape a Temporal
 * history is built from, so a local run can be replayed against the workflow code.
 */
import { createActivities, type Activities } from '../activities';
import type { ArtifactStore } from '../data/store/artifact-store';
import { PIPELINE_PROFILES, runPipeline, type PipelineActivities, type PipelinePlan, type PipelineResult } from '../workflows/plans/pipeline';
import { PROFILES, type ProfileName } from '../workflows/plans/profiles';
import type { RecordedActivityCall } from '../workflows/testing/history';
import { withRetry, type RetryHooks } from './retry';

export interface LocalRunOptions {
  store: ArtifactStore;
  log?: (message: string) => void;
  /** Collects each activity call with its input and result, in order. */
  recorder?: RecordedActivityCall[];
  retry?: RetryHooks;
  /** Replaces the real activities (tests). */
  activities?: PipelineActivities;
  taskQueue?: string;
}

/** Wraps each activity with its profile's retries and, when asked, records the call. */
export function wrapActivities<A extends object>(activities: A, options: LocalRunOptions, profiles: Record<keyof A, ProfileName>): A {
  const log = options.log ?? (() => undefined);
  const wrapped = {} as Record<keyof A, (input: unknown) => Promise<unknown>>;
  for (const name of Object.keys(profiles) as (keyof A & string)[]) {
    const run = activities[name] as (input: unknown) => Promise<unknown>;
    const profile = PROFILES[profiles[name]];
    wrapped[name] = async (input) => {
      const onRetry = (attempt: number, error: unknown, delay: number) => {
        log(`${name} failed (attempt ${attempt}): ${(error as Error).message}; retrying in ${delay} ms`);
        options.retry?.onRetry?.(attempt, error, delay);
      };
      const result = await withRetry(() => run(input), profile, { ...options.retry, onRetry });
      options.recorder?.push({ activityType: name, taskQueue: options.taskQueue ?? 'ulasan', args: [input], result });
      return result;
    };
  }
  return wrapped as unknown as A;
}

export function realActivities(store: ArtifactStore, log: (message: string) => void): Activities {
  return createActivities({ store, heartbeat: () => undefined, warn: (message) => log(`warning: ${message}`) });
}

export async function runLocal(plan: PipelinePlan, options: LocalRunOptions): Promise<PipelineResult> {
  const log = options.log ?? (() => undefined);
  const activities = options.activities ?? realActivities(options.store, log);
  return runPipeline(wrapActivities(activities, options, PIPELINE_PROFILES), plan);
}
