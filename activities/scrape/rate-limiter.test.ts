import { describe, expect, it } from 'vitest';
import { sleep } from '../../core/sleep';
import { RateLimiter, sharedRateLimiter, type Clock } from './rate-limiter';

/** A clock whose time moves only when a sleeper wakes. */
function virtualClock(): Clock & { sleeps: number[] } {
  let now = 1_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

describe('RateLimiter', () => {
  it('spaces concurrent acquisitions evenly at the rate, with no burst', async () => {
    const sleeps: number[] = [];
    const limiter = new RateLimiter({ now: () => 0, sleep: async (ms) => void sleeps.push(ms) });
    await Promise.all([limiter.acquire(4), limiter.acquire(4), limiter.acquire(4), limiter.acquire(4)]);
    expect(sleeps).toEqual([250, 500, 750]);
  });

  it('does not wait when requests are already slower than the rate', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(clock);
    await limiter.acquire(2);
    await clock.sleep(600); // the caller's own work
    await limiter.acquire(2);
    expect(clock.sleeps).toEqual([600]);
  });

  it('keeps each caller at its own interval from the previous reservation', async () => {
    const sleeps: number[] = [];
    const limiter = new RateLimiter({ now: () => 0, sleep: async (ms) => void sleeps.push(ms) });
    await limiter.acquire(1); // slot 0, next free at 1000
    await limiter.acquire(10); // slot 1000, next free at 1100
    await limiter.acquire(1); // slot 1100
    expect(sleeps).toEqual([1000, 1100]);
  });

  it('is shared per key within the process', () => {
    expect(sharedRateLimiter('http://a')).toBe(sharedRateLimiter('http://a'));
    expect(sharedRateLimiter('http://a')).not.toBe(sharedRateLimiter('http://b'));
  });

  it('sleep rejects with the abort reason', async () => {
    const controller = new AbortController();
    const pending = sleep(10_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });
});
