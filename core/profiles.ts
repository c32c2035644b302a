import { NON_RETRYABLE_FAILURE_TYPES } from './failures';

/** A timeout/retry profile, in the shape Temporal's `ActivityOptions` takes (durations in ms). */
export interface ActivityProfile {
  startToCloseTimeout: number;
  /** How long a worker may stay silent before its attempt is given up (and retried on another worker); also how a cancel reaches it. */
  heartbeatTimeout: number;
  retry: {
    initialInterval: number;
    backoffCoefficient: number;
    maximumInterval: number;
    maximumAttempts: number;
    nonRetryableErrorTypes: string[];
  };
}

const MINUTE = 60_000;

/**
 * Named profiles: `io` for reading and writing data, `cpu` for in-process transforms, `train` for
 * model fitting (long). Both runners read these; no stage sets its own options. Every profile has a
 * heartbeat timeout: the worker heartbeats every running activity (worker/activities.ts), so a lost
 * worker is noticed and a cancel reaches the activity.
 */
export const PROFILES = {
  io: {
    startToCloseTimeout: 10 * MINUTE,
    heartbeatTimeout: MINUTE,
    retry: {
      initialInterval: 1_000,
      backoffCoefficient: 2,
      maximumInterval: MINUTE,
      maximumAttempts: 5,
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
    },
  },
  cpu: {
    startToCloseTimeout: 30 * MINUTE,
    heartbeatTimeout: MINUTE,
    retry: {
      initialInterval: 1_000,
      backoffCoefficient: 2,
      maximumInterval: MINUTE,
      maximumAttempts: 3,
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
    },
  },
  train: {
    startToCloseTimeout: 6 * 60 * MINUTE,
    heartbeatTimeout: 5 * MINUTE,
    retry: {
      initialInterval: 5_000,
      backoffCoefficient: 2,
      maximumInterval: 5 * MINUTE,
      maximumAttempts: 3,
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
    },
  },
} as const satisfies Record<string, ActivityProfile>;

export type ProfileName = keyof typeof PROFILES;

/** Where the train activities run and how long a run waits on workers: per run (`ulasan run` flags), in the plan. */
export interface RunRouting {
  /** Task queue of the train activities (GPU workers); the workflow's own queue when unset. */
  trainTaskQueue?: string;
  /** How long a train activity may wait for a worker on `trainTaskQueue` before the run fails naming the queue. @default 1 hour */
  queueTimeoutMs?: number;
  /** Overrides every profile's heartbeat timeout: how soon a lost worker's activity is retried on another. */
  heartbeatTimeoutMs?: number;
}

export const DEFAULT_QUEUE_TIMEOUT_MS = 60 * MINUTE;

/** A profile's options for `proxyActivities`, routed: train activities go to `trainTaskQueue`, with a schedule-to-start timeout there. */
export function routedProfile(name: ProfileName, routing: RunRouting = {}): ActivityProfile & { taskQueue?: string; scheduleToStartTimeout?: number } {
  const profile: ActivityProfile = { ...PROFILES[name], heartbeatTimeout: routing.heartbeatTimeoutMs ?? PROFILES[name].heartbeatTimeout };
  if (name !== 'train' || !routing.trainTaskQueue) return profile;
  return { ...profile, taskQueue: routing.trainTaskQueue, scheduleToStartTimeout: routing.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS };
}
