/**
 * Retries outside Temporal (the local runner, the CLI's scrapes) with the policy the workflows give
 * activities (a profile's `retry`, `PROFILES.io` by default): exponential backoff, a cap, a maximum
 * number of attempts, and no retry for non-retryable failure types, so what Temporal would retry is
 * retried here and what it would give up on fails here. Unlike Temporal's policy it also waits at least
 * as long as a Retry-After asked, capped at the policy's maximum interval.
 */
import { isRetryableFailureType } from './failures';
import { PROFILES, type ActivityProfile } from './profiles';
import { UlasanError } from './errors';
import { sleep as defaultSleep } from './sleep';

export interface RetryOptions {
  /** Backoff and attempts. @default PROFILES.io.retry */
  policy?: ActivityProfile['retry'];
  /** How to wait between attempts (tests pass a fake). @default setTimeout-based sleep */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stops retrying (and waiting) when aborted. @default undefined */
  signal?: AbortSignal;
  /** Called before each wait, e.g. to log. @default undefined */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** The type a thrown value carries, if it is one of ours. */
function failureType(error: unknown): string | undefined {
  return error instanceof UlasanError ? error.type : undefined;
}

/** Whether the policy allows another attempt after `error`. */
export function isRetryable(error: unknown, policy: ActivityProfile['retry'] = PROFILES.io.retry): boolean {
  if (error instanceof Error && error.name === 'AbortError') return false;
  const type = failureType(error);
  if (type !== undefined && policy.nonRetryableErrorTypes.includes(type)) return false;
  return isRetryableFailureType(type);
}

/**
 * The wait before attempt `attempt + 1` (attempt is 1-based): Temporal's formula,
 * `min(initial * coefficient^(attempt-1), maximum)`, raised to the error's `retryAfterMs` if larger, but
 * never past `maximum` (a server asking for an hour does not stall a run for an hour).
 */
export function retryDelayMs(
  attempt: number,
  error: unknown,
  policy: ActivityProfile['retry'] = PROFILES.io.retry,
): number {
  const backoff = Math.min(policy.initialInterval * policy.backoffCoefficient ** (attempt - 1), policy.maximumInterval);
  const retryAfter = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  if (typeof retryAfter !== 'number' || retryAfter <= backoff) return backoff;
  return Math.min(retryAfter, policy.maximumInterval);
}

/** Runs `fn` until it succeeds, a non-retryable error, or `maximumAttempts`; rethrows the last error. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = options.policy ?? PROFILES.io.retry;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.signal?.aborted || !isRetryable(error, policy) || attempt >= policy.maximumAttempts) throw error;
      const delayMs = retryDelayMs(attempt, error, policy);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, options.signal);
    }
  }
}
