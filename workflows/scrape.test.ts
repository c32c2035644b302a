/**
 * How the worker hands the scrape activity's failures to Temporal. The scrape workflows themselves are
 * replayed from histories recorded on a dev server (recorded-histories.test.ts: a night with a retried
 * scrape, a failed app, the combine step and the pipeline child) and run end to end with worker
 * processes in client/nightly-scrape.test.ts.
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ScrapeError } from '../activities/scrape/play-errors';
import { toApplicationFailure } from '../worker/activities';

describe('worker failure mapping', () => {
  it("turns Play's Retry-After into the ApplicationFailure's nextRetryDelay, only for retryable failures", () => {
    const limited = toApplicationFailure(new ScrapeError('RateLimited', 'slow down', { retryAfterMs: 7_000, status: 429 }));
    expect(limited).toBeInstanceOf(ApplicationFailure);
    expect(limited).toMatchObject({ type: 'RateLimited', nonRetryable: false, nextRetryDelay: 7_000 });
    const notFound = toApplicationFailure(new ScrapeError('NotFound', 'no such app', { status: 404 }));
    expect(notFound).toMatchObject({ type: 'NotFound', nonRetryable: true, nextRetryDelay: undefined });
  });
});
