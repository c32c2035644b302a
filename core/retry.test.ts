import { describe, expect, it } from 'vitest';
import { PROFILES } from './profiles';
import { UlasanError } from './errors';
import { ScrapeError } from '../activities/scrape/play-errors';
import { isRetryable, retryDelayMs, withRetry } from './retry';

describe('withRetry (io profile)', () => {
  it('backs off 1 s, 2 s, 4 s, 8 s and gives up after 5 attempts', async () => {
    const delays: number[] = [];
    let calls = 0;
    const failing = async (): Promise<never> => {
      calls++;
      throw new ScrapeError('Transient', `attempt ${calls}`);
    };
    await expect(withRetry(failing, { sleep: async (ms) => void delays.push(ms) })).rejects.toThrow('attempt 5');
    expect(calls).toBe(PROFILES.io.retry.maximumAttempts);
    expect(delays).toEqual([1000, 2000, 4000, 8000]);
  });

  it('waits for Retry-After when it is longer than the backoff, never shorter, and never past the cap', () => {
    const slowDown = new ScrapeError('RateLimited', 'slow down', { retryAfterMs: 30_000 });
    expect(retryDelayMs(1, slowDown)).toBe(30_000);
    const anHour = new ScrapeError('RateLimited', 'slow down', { retryAfterMs: 3_600_000 });
    expect(retryDelayMs(1, anHour)).toBe(PROFILES.io.retry.maximumInterval);
    expect(retryDelayMs(1, new ScrapeError('RateLimited', 'slow down', { retryAfterMs: 10 }))).toBe(1000);
    expect(retryDelayMs(10, new Error('x'))).toBe(PROFILES.io.retry.maximumInterval);
  });

  it('returns the first success and passes the attempt number', async () => {
    const seen: number[] = [];
    const value = await withRetry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new ScrapeError('RateLimited', 'busy');
        return 'ok';
      },
      { sleep: async () => undefined },
    );
    expect(value).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('does not retry non-retryable failure types or aborts', async () => {
    for (const type of ['BadInput', 'NotFound', 'LayoutChanged'] as const) {
      expect(isRetryable(new UlasanError(type, 'no'))).toBe(false);
    }
    expect(isRetryable(new DOMException('aborted', 'AbortError'))).toBe(false);
    expect(isRetryable(new Error('unknown errors are retried, as Temporal does'))).toBe(true);
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new ScrapeError('LayoutChanged', 'moved');
      }),
    ).rejects.toThrow('moved');
    expect(calls).toBe(1);
  });
});
