/**
 * A process-wide request throttle for Google Play. The library's own `throttle` option keeps its state
 * per call site and polls with `setInterval`, so two concurrent scrapes would each get the full rate:
 * ulasan acquires a slot here before every page request instead, and all scrapes of one process that
 * target the same host share one limiter.
 */
import { sleep } from '../../core/sleep';

/** Time source for the limiter, injectable so tests run without waiting. */
export interface Clock {
  /** Milliseconds on a monotonic-enough scale. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, signal),
};

/**
 * A token bucket of capacity one: each acquisition reserves the next free slot, `1000 / rate` ms after
 * the previous one, so requests are spaced evenly however many scrapes share the limiter. Capacity one
 * (no bursts) because Play answers bursts with 429s and `PlayGatewayError`s.
 */
export class RateLimiter {
  private nextFreeAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly clock: Clock = systemClock) {}

  /**
   * Waits for a slot at `ratePerSecond` requests per second. Each caller spaces itself from the previous
   * reservation by its own interval, so a slower caller never lets a faster one exceed its own rate.
   */
  async acquire(ratePerSecond: number, signal?: AbortSignal): Promise<void> {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) return;
    const now = this.clock.now();
    const slot = Math.max(now, this.nextFreeAt);
    this.nextFreeAt = slot + 1000 / ratePerSecond;
    if (slot > now) await this.clock.sleep(slot - now, signal);
  }
}

const sharedLimiters = new Map<string, RateLimiter>();

/** The limiter every scrape of this process uses for `key` (the target origin). */
export function sharedRateLimiter(key: string): RateLimiter {
  let limiter = sharedLimiters.get(key);
  if (!limiter) {
    limiter = new RateLimiter();
    sharedLimiters.set(key, limiter);
  }
  return limiter;
}
