/**
 * Retries for the local runner with the same profiles and failure classification as the Temporal
 * workflow, so a step that Temporal would retry is retried here, and one it would give up on fails here.
 */
import { UlasanError } from './errors';
import type { ActivityProfile } from './profiles';

export interface RetryHooks {
  /** Told before each retry (attempt number from 1, the error, the delay). */
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

export function isRetryable(error: unknown, profile: ActivityProfile): boolean {
  if (error instanceof UlasanError) return error.retryable && !profile.retry.nonRetryableErrorTypes.includes(error.type);
  return true; // unknown errors are retried, as Temporal does
}

/** Backoff before retry `attempt` (1-based), or the error's own `retryAfterMs` when it carries one. */
export function retryDelay(attempt: number, error: unknown, profile: ActivityProfile): number {
  const { initialInterval, backoffCoefficient, maximumInterval } = profile.retry;
  const asked = (error as { retryAfterMs?: unknown })?.retryAfterMs;
  if (typeof asked === 'number' && asked >= 0) return Math.min(asked, maximumInterval);
  return Math.min(initialInterval * backoffCoefficient ** (attempt - 1), maximumInterval);
}

export async function withRetry<T>(run: () => Promise<T>, profile: ActivityProfile, hooks: RetryHooks = {}): Promise<T> {
  const sleep = hooks.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= profile.retry.maximumAttempts || !isRetryable(error, profile)) throw error;
      const delay = retryDelay(attempt, error, profile);
      hooks.onRetry?.(attempt, error, delay);
      await sleep(delay);
    }
  }
}
