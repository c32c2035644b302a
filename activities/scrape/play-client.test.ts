import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UlasanError } from '../../core/errors';
import { scrapeReviews, type ScrapedReview, type ScrapeOptions, type ScrapePage } from './play-client';
import { ScrapeError } from './play-errors';
import { RateLimiter } from './rate-limiter';
import { scrapeWithRetry } from './testing/resumable-scrape';
import { startFakePlayServer, type FakeFault, type FakePlayServer, type FakeReview } from './testing/fake-play-server';

const APP = 'com.example.app';
const TOTAL = 400; // 150 + 150 + 100

let server: FakePlayServer;

beforeAll(async () => {
  server = await startFakePlayServer({ apps: { [APP]: TOTAL, 'com.example.small': 3 } });
});
afterAll(() => server.close());
afterEach(() => server.reset());

function options(overrides: Partial<ScrapeOptions> = {}): ScrapeOptions {
  return {
    appId: APP,
    lang: 'id',
    country: 'id',
    sort: 'newest',
    maxReviews: Infinity,
    baseUrl: server.url,
    timeoutMs: 2_000,
    limiter: new RateLimiter(),
    now: () => new Date('2025-01-01T00:00:00Z'),
    ...overrides,
  };
}

/** A store that keeps every page and the heartbeat checkpoint written after it. */
interface Store {
  reviews: ScrapedReview[];
  pages: ScrapePage[];
  checkpoint?: { token: string | null; pageNumber: number };
  onPage: (page: ScrapePage) => Promise<void>;
}

function store(): Store {
  const state: Store = {
    reviews: [],
    pages: [],
    onPage: async (page) => {
      state.reviews.push(...page.reviews);
      state.pages.push(page);
      state.checkpoint = { token: page.nextToken, pageNumber: page.pageNumber };
    },
  };
  return state;
}

/** Faults are numbered from the next request this test makes. */
function injectNext(offset: number, fault: FakeFault): void {
  server.inject(server.requests.length + offset, fault);
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

function expectedRow(review: FakeReview): Partial<ScrapedReview> {
  return {
    reviewId: review.id,
    userName: review.userName,
    score: review.score,
    text: review.text,
    date: iso(review.seconds),
    thumbsUp: review.thumbsUp,
    replyText: review.reply?.text ?? null,
    replyDate: review.reply ? iso(review.reply.seconds) : null,
    appVersion: review.appVersion,
  };
}

function expectExactlyOnce(reviews: ScrapedReview[], expected: FakeReview[]): void {
  expect(reviews.map((r) => r.reviewId)).toEqual(expected.map((r) => r.id));
  expect(new Set(reviews.map((r) => r.reviewId)).size).toBe(reviews.length);
}

/** A fake sleep for withRetry that records the delays and returns at once. */
function recordingSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}

describe('scrapeReviews against the fake Play server (real google-play-scraper)', () => {
  it('paginates one page of 150 per request, passing each token on, and normalises every field', async () => {
    const s = store();
    const result = await scrapeReviews(options(), s);

    expect(result).toEqual({
      ...{ seen: TOTAL, new: TOTAL, duplicates: 0 },
      ...{ reason: 'end', complete: true, pages: 3, pageNumber: 3, nextToken: null },
    });
    expect(s.pages.map((p) => [p.pageNumber, p.reviews.length, p.nextToken === null])).toEqual([
      [1, 150, false],
      [2, 150, false],
      [3, 100, true],
    ]);
    const requests = server.requests;
    expect(requests.map((r) => r.count)).toEqual([150, 150, 150]);
    expect(requests[0]?.token).toBeNull();
    expect(requests[1]?.token).toBe(s.pages[0]?.nextToken);
    expect(requests[2]?.token).toBe(s.pages[1]?.nextToken);
    for (const request of requests) {
      expect(request).toMatchObject({ lang: 'id', country: 'id', sort: 2, filterScore: null });
    }

    const expected = server.reviews(APP);
    expectExactlyOnce(s.reviews, expected);
    s.reviews.forEach((row, i) => {
      expect(row).toMatchObject({ ...expectedRow(expected[i] as FakeReview), appId: APP, lang: 'id', country: 'id' });
    });
    expect(s.reviews[150]?.pageNumber).toBe(2);
    expect(s.reviews[0]?.scrapedAt).toBe('2025-01-01T00:00:00.000Z');
  });

  it('keeps whole seconds where the library misreads sub-100 ms nanoseconds', async () => {
    const s = store();
    await scrapeReviews(options({ maxReviews: 150 }), s);
    const early = server.reviews(APP).slice(0, 150).filter((r) => r.nanos > 0 && r.nanos < 100_000_000);
    expect(early.length).toBeGreaterThan(0);
    for (const review of early) expect(s.reviews.find((r) => r.reviewId === review.id)?.date).toBe(iso(review.seconds));
  });

  it('resumes from a saved token and page number', async () => {
    const first = store();
    await scrapeReviews(options({ maxReviews: 150 }), first);
    const saved = first.checkpoint as { token: string; pageNumber: number };
    expect(saved.pageNumber).toBe(1);

    const second = store();
    const resume = { resumeToken: saved.token, resumePageNumber: saved.pageNumber };
    const result = await scrapeReviews(options(resume), second);
    expect(server.requests.at(-2)?.token).toBe(saved.token);
    expect(result).toMatchObject({ reason: 'end', pages: 2, pageNumber: 3, new: 250 });
    expect(second.pages.map((p) => p.pageNumber)).toEqual([2, 3]);
    expectExactlyOnce([...first.reviews, ...second.reviews], server.reviews(APP));
  });

  it('loses and duplicates nothing when a worker crashes after storing a page but before its heartbeat', async () => {
    const stored: ScrapedReview[] = [];
    let heartbeat: { token: string | null; pageNumber: number } | undefined;
    const crashing = async (page: ScrapePage): Promise<void> => {
      stored.push(...page.reviews);
      if (page.pageNumber === 2) throw new Error('worker killed'); // stored, heartbeat never sent
      heartbeat = { token: page.nextToken, pageNumber: page.pageNumber };
    };
    await expect(scrapeReviews(options(), { onPage: crashing })).rejects.toThrow('worker killed');
    expect(heartbeat?.pageNumber).toBe(1);

    // The retried activity rebuilds `seen` from what is stored and resumes from the heartbeat.
    const seen = new Set(stored.map((r) => r.reviewId));
    const result = await scrapeReviews(
      options({ resumeToken: heartbeat?.token ?? undefined, resumePageNumber: heartbeat?.pageNumber, seen }),
      { onPage: async (page) => void stored.push(...page.reviews) },
    );
    expect(result).toMatchObject({ reason: 'end', seen: 250, new: 100, duplicates: 150 });
    expectExactlyOnce(stored, server.reviews(APP));
  });

  it('stops at maxReviews with reason max and complete false', async () => {
    const s = store();
    const result = await scrapeReviews(options({ maxReviews: 200 }), s);
    expect(result).toMatchObject({ reason: 'max', complete: false, new: 200, pages: 2 });
    expectExactlyOnce(s.reviews, server.reviews(APP).slice(0, 200));
  });

  it('stops at the newest stored review (caught-up) and at a since date', async () => {
    const all = server.reviews(APP);
    const known = all[170] as FakeReview;
    const caughtUp = store();
    const caughtUpResult = await scrapeReviews(options({ stopAtReviewId: known.id }), caughtUp);
    expect(caughtUpResult).toMatchObject({ reason: 'caught-up', complete: true, new: 170, pages: 2 });
    expectExactlyOnce(caughtUp.reviews, all.slice(0, 170));

    const since = store();
    const cut = all[40] as FakeReview;
    const expected = all.filter((r) => r.seconds > cut.seconds);
    const sinceResult = await scrapeReviews(options({ since: iso(cut.seconds) }), since);
    expect(sinceResult).toMatchObject({ reason: 'since', complete: true, pages: 1 });
    expectExactlyOnce(since.reviews, expected);
  });

  it('sends the star filter and the sort to Play', async () => {
    const s = store();
    const result = await scrapeReviews(options({ filterScore: 1, sort: 'helpfulness' }), s);
    expect(server.requests.every((r) => r.filterScore === 1 && r.sort === 1)).toBe(true);
    expect(result.reason).toBe('end');
    expectExactlyOnce(s.reviews, server.reviews(APP, 1, 1));
    expect(s.reviews.every((r) => r.score === 1)).toBe(true);

    const rating = store();
    await scrapeReviews(options({ sort: 'rating', maxReviews: 10 }), rating);
    expect(server.requests.at(-1)?.sort).toBe(3);
    expectExactlyOnce(rating.reviews, server.reviews(APP, 3).slice(0, 10));
  });

  it('dedupes within a page and against reviews already seen in the run', async () => {
    const all = server.reviews(APP);
    const seen = new Set([all[0]?.id as string, all[5]?.id as string]);
    const s = store();
    const result = await scrapeReviews(options({ seen, maxReviews: 100 }), s);
    expect(result).toMatchObject({ seen: 102, new: 100, duplicates: 2 });
    expect(s.reviews.some((r) => r.reviewId === all[0]?.id)).toBe(false);
  });

  it('redirects through ULASAN_PLAY_BASE_URL when no baseUrl is given', async () => {
    const before = process.env.ULASAN_PLAY_BASE_URL;
    process.env.ULASAN_PLAY_BASE_URL = server.url;
    try {
      const rest = options({ appId: 'com.example.small' });
      delete rest.baseUrl;
      const s = store();
      expect(await scrapeReviews(rest, s)).toMatchObject({ reason: 'end', new: 3 });
      expect(server.requests).toHaveLength(1);
    } finally {
      if (before === undefined) delete process.env.ULASAN_PLAY_BASE_URL;
      else process.env.ULASAN_PLAY_BASE_URL = before;
    }
  });

  it('refuses incremental stops without sort newest, before any request', async () => {
    const bad = options({ sort: 'rating', stopAtReviewId: 'x' });
    const error = await scrapeReviews(bad, store()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UlasanError);
    expect(error).toMatchObject({ type: 'BadInput', message: expect.stringContaining("need sort 'newest'") });
    expect(server.requests).toHaveLength(0);
  });

  it('throttles concurrent scrapes through one shared limiter', async () => {
    const sleeps: number[] = [];
    const limiter = new RateLimiter({ now: () => 0, sleep: async (ms) => void sleeps.push(ms) });
    const a = scrapeReviews(options({ throttle: 10, limiter }), store());
    const b = scrapeReviews(options({ throttle: 10, limiter }), store());
    await Promise.all([a, b]);
    // 6 requests at 10/s from one instant: slots 0, 100, ..., 500 ms, whichever scrape took them.
    expect(sleeps.sort((x, y) => x - y)).toEqual([100, 200, 300, 400, 500]);
  });
});

describe('faults: typed errors, and recovery under withRetry', () => {
  async function failure(
    fault: FakeFault | null,
    at = 2,
    overrides: Partial<ScrapeOptions> = {},
  ): Promise<{ error: ScrapeError; stored: ScrapedReview[] }> {
    if (fault) injectNext(at, fault);
    const s = store();
    const error = await scrapeReviews(options(overrides), s).then(
      () => expect.unreachable('the scrape should fail'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ScrapeError);
    return { error: error as ScrapeError, stored: s.reviews };
  }

  async function recovered(
    faults: FakeFault[],
    at = 2,
  ): Promise<{ delays: number[]; attempts: number; stored: ScrapedReview[] }> {
    faults.forEach((fault, i) => injectNext(at + i, fault));
    const s = store();
    const { delays, sleep } = recordingSleep();
    const result = await scrapeWithRetry(options({ timeoutMs: 300 }), s, { sleep });
    expect(result).toMatchObject({ reason: 'end', complete: true, new: TOTAL, duplicates: 0 });
    expectExactlyOnce(s.reviews, server.reviews(APP));
    return { delays, attempts: result.attempts, stored: s.reviews };
  }

  it('429 → RateLimited with Retry-After; the retry waits for it and loses nothing', async () => {
    const { error, stored } = await failure({ kind: 'rate-limit', retryAfterSeconds: 7 });
    expect(error).toMatchObject({ type: 'RateLimited', status: 429, retryAfterMs: 7000, retryable: true });
    expect(error.message).toContain('HTTP 429');
    expect(stored).toHaveLength(150);

    const { delays, attempts } = await recovered([{ kind: 'rate-limit', retryAfterSeconds: 7 }]);
    expect(delays).toEqual([7000]);
    expect(attempts).toBe(2);
  });

  it('a page whose storing failed is delivered again, not counted as a duplicate, on retry', async () => {
    const stored: ScrapedReview[] = [];
    const pageNumbers: number[] = [];
    let failed = false;
    const flaky = async (page: ScrapePage): Promise<void> => {
      if (page.pageNumber === 2 && !failed) {
        failed = true;
        throw new ScrapeError('Transient', 'disk full for a moment');
      }
      stored.push(...page.reviews);
      pageNumbers.push(page.pageNumber);
    };
    const { delays, sleep } = recordingSleep();
    const result = await scrapeWithRetry(options(), { onPage: flaky }, { sleep });
    expect(result).toMatchObject({ reason: 'end', attempts: 2, new: TOTAL, duplicates: 0, pages: 3, pageNumber: 3 });
    expect(delays).toEqual([1000]);
    expect(pageNumbers).toEqual([1, 2, 3]);
    expectExactlyOnce(stored, server.reviews(APP));
    const tokens = server.requests.map((r) => r.token);
    expect(tokens).toEqual([null, tokens[1], tokens[1], tokens[3]]); // page 2 requested again
  });

  it('503 then success → RateLimited, recovered after the io backoff', async () => {
    const { error } = await failure({ kind: 'unavailable' });
    expect(error).toMatchObject({ type: 'RateLimited', status: 503, retryable: true });
    expect(error.retryAfterMs).toBeUndefined();
    const { delays } = await recovered([{ kind: 'unavailable' }, { kind: 'unavailable' }]);
    expect(delays).toEqual([1000, 2000]);
  });

  it('500 → Transient', async () => {
    expect((await failure({ kind: 'server-error' })).error).toMatchObject({ type: 'Transient', status: 500 });
  });

  it('no answer → Transient after timeoutMs, and recovered', async () => {
    const started = Date.now();
    const { error } = await failure({ kind: 'timeout' }, 2, { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error.type).toBe('Transient');
    expect(error.message).toContain('did not answer within 300 ms');
    await recovered([{ kind: 'timeout' }]);
  });

  it('truncated body → Transient, and recovered', async () => {
    const { error } = await failure({ kind: 'truncated' });
    expect(error).toMatchObject({ type: 'Transient', message: expect.stringContaining('truncated or corrupt') });
    await recovered([{ kind: 'truncated' }]);
  });

  it('connection reset mid-body → Transient', async () => {
    expect((await failure({ kind: 'reset' })).error).toMatchObject({ type: 'Transient' });
    await recovered([{ kind: 'reset' }]);
  });

  it('empty 200 and a 200 that is not the envelope → Transient', async () => {
    const empty = (await failure({ kind: 'empty-body' })).error;
    expect(empty).toMatchObject({ type: 'Transient', status: 200, message: expect.stringContaining('empty body') });
    const { error } = await failure({ kind: 'html' });
    expect(error).toMatchObject({ type: 'Transient', message: expect.stringContaining('not a batchexecute reply') });
    await recovered([{ kind: 'empty-body' }, { kind: 'html' }]);
  });

  it('PlayGatewayError in a 200 → RateLimited, and recovered', async () => {
    const { error } = await failure({ kind: 'gateway-error' }, 1);
    expect(error).toMatchObject({ type: 'RateLimited', status: 200 });
    expect(error.message).toContain('PlayGatewayError');
    await recovered([{ kind: 'gateway-error' }], 1);
  });

  it('a page returning its own token → Transient, page not stored, recovered', async () => {
    const { error, stored } = await failure({ kind: 'repeat-token' }, 2);
    expect(error).toMatchObject({ type: 'Transient', message: expect.stringContaining('pagination is not advancing') });
    expect(stored).toHaveLength(150);
    await recovered([{ kind: 'repeat-token' }], 2);
  });

  it('shape change → LayoutChanged, non-retryable, naming what was expected where', async () => {
    const nested = await failure({ kind: 'shape-change', variant: 'nested' });
    expect(nested.error).toMatchObject({ type: 'LayoutChanged', retryable: false });
    expect(nested.error.message).toContain(
      'expected the review id (a non-empty string) at payload[0][0][0] of the UsvDTd reply, got array',
    );
    expect(nested.stored).toHaveLength(150);

    const scalar = await failure({ kind: 'shape-change', variant: 'scalar' });
    expect(scalar.error.message).toContain(
      'expected the review list (an array) at payload[0] of the UsvDTd reply, got number 5',
    );

    injectNext(2, { kind: 'shape-change' });
    const { delays, sleep } = recordingSleep();
    await expect(scrapeWithRetry(options(), store(), { sleep })).rejects.toMatchObject({ type: 'LayoutChanged' });
    expect(delays).toEqual([]);
  });

  it('404 → NotFound, 400 → BadInput, neither retried', async () => {
    const notFound = (await failure({ kind: 'not-found' }, 1)).error;
    expect(notFound).toMatchObject({ type: 'NotFound', status: 404, retryable: false });
    const badRequest = (await failure({ kind: 'bad-request' }, 1)).error;
    expect(badRequest).toMatchObject({ type: 'BadInput', status: 400, retryable: false });
    const unknown = await failure(null, 1, { appId: 'com.example.missing' });
    expect(unknown.error).toMatchObject({ type: 'NotFound', message: expect.stringContaining('com.example.missing') });

    const { delays, sleep } = recordingSleep();
    const missing = scrapeWithRetry(options({ appId: 'com.example.missing' }), store(), { sleep });
    await expect(missing).rejects.toMatchObject({ type: 'NotFound' });
    expect(delays).toEqual([]);
  });

  it('an RPC error status with no payload is not mistaken for the end', async () => {
    expect((await failure({ kind: 'rpc-status', code: 5 }, 1)).error).toMatchObject({ type: 'NotFound' });
    expect((await failure({ kind: 'rpc-status', code: 3 }, 2)).error).toMatchObject({ type: 'BadInput' });
  });

  it('abort cuts a hanging request short with the signal reason', async () => {
    injectNext(1, { kind: 'timeout' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 100);
    const started = Date.now();
    const scrape = scrapeReviews(options({ timeoutMs: 5_000, signal: controller.signal }), store());
    await expect(scrape).rejects.toThrow('shutting down');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
