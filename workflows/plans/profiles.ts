import { NON_RETRYABLE_FAILURE_TYPES } from './failures';

/** A timeout/retry profile, in the shape Temporal's `ActivityOptions` takes (durations in ms). */
export interface ActivityProfile {
  startToCloseTimeout: number;
  heartbeatTimeout?: number;
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
 * model fitting (long, heartbeating). Both runners read these; no stage sets its own options.
 */
export const PROFILES = {
  io: {
    startToCloseTimeout: 10 * MINUTE,
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
