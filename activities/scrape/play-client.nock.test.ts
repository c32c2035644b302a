/**
 * The real library, intercepted by nock 14 at the http layer (no base URL rewrite: requests go to
 * https://play.google.com and never leave the process), replaying two RECORDED Play replies from
 * ../shared/data/fixtures (see its SOURCES.md). They are read at test time, never copied here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import gplay from 'google-play-scraper';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrapeReviews, type ScrapedReview } from './play-client';
import { RateLimiter } from './rate-limiter';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sharedData = process.env.ULASAN_SHARED_DATA ?? join(repoRoot, '../shared/data');
const RELEVANT = join(sharedData, 'fixtures/gplay_batchexecute_UsvDTd_twitter_relevant_en.txt');
const HISTORY = join(sharedData, 'fixtures/gplay_batchexecute_UsvDTd_twitter_review_history_en.txt');
const present = existsSync(RELEVANT) && existsSync(HISTORY);
if (!present) {
  console.warn(`\n*** SKIPPING recorded-fixture tests: ${RELEVANT} not found (set ULASAN_SHARED_DATA) ***\n`);
}

const APP = 'com.twitter.android';

/** The continuation token inside a recorded reply (payload[1][1]). */
function tokenOf(reply: string): string {
  const envelope = JSON.parse(reply.slice(4)) as unknown[][];
  const payload = JSON.parse(envelope[0]?.[2] as string) as unknown[][];
  return payload[1]?.[1] as string;
}

/** The token a library request carries, from its f.req form body. */
function requestToken(body: unknown): string | null {
  const form =
    typeof body === 'string' ? new URLSearchParams(body).get('f.req') : (body as Record<string, string>)['f.req'];
  const rpc = (JSON.parse(form ?? 'null') as string[][][])[0]?.[0]?.[1] as string;
  const inner = JSON.parse(rpc) as [null, null, [number, number, [number, null, string | null]]];
  return inner[2][2][2];
}

describe.skipIf(!present)('scrapeReviews on recorded Play replies (nock)', () => {
  let relevant: string;
  let history: string;

  beforeAll(() => {
    relevant = readFileSync(RELEVANT, 'utf8');
    history = readFileSync(HISTORY, 'utf8');
    delete process.env.ULASAN_PLAY_BASE_URL;
    nock.disableNetConnect();
  });
  afterAll(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('reads a real UsvDTd reply, follows its token, and dedupes the edited review', async () => {
    const token = tokenOf(relevant);
    const scope = nock('https://play.google.com')
      .post('/_/PlayStoreUi/data/batchexecute', (body) => requestToken(body) === null)
      .query((q) => q.hl === 'en' && q.gl === 'us')
      .reply(200, relevant)
      .post('/_/PlayStoreUi/data/batchexecute', (body) => requestToken(body) === token)
      .query(true)
      .reply(200, history);

    const stored: ScrapedReview[] = [];
    const result = await scrapeReviews(
      {
        appId: APP,
        lang: 'en',
        country: 'us',
        sort: 'helpfulness',
        maxReviews: Infinity,
        timeoutMs: 2_000,
        limiter: new RateLimiter(),
      },
      { onPage: async (page) => void stored.push(...page.reviews) },
    );
    expect(scope.isDone()).toBe(true);
    // The history reply holds one review and its earlier edit, under the same id.
    expect(result).toMatchObject({ reason: 'end', complete: true, pages: 2, seen: 42, new: 41, duplicates: 1 });

    const page1 = stored.filter((r) => r.pageNumber === 1);
    const stars = [1, 2, 3, 4, 5].map((s) => page1.filter((r) => r.score === s).length);
    expect(stars).toEqual([19, 10, 6, 4, 1]); // as SOURCES.md counts them
    expect(stored[0]).toMatchObject({
      reviewId: 'gp:AOqpTOEG141w8NXyoj4CFpinzfXvBYYywrWQdoRk3NMYLgGE-8TmYXHQhFgs-pXL25gDnLulPidwqJvbcxNK3A',
      userName: 'hayzel rose ilagan',
      score: 5,
      date: new Date(1611106445 * 1000).toISOString(),
      thumbsUp: 1114,
      appVersion: '8.76.0-release.01',
      replyText: null,
      replyDate: null,
    });
    expect(stored[0]?.text).toMatch(/^I see that a lot here rate the app/);
    expect(stored.every((r) => r.date >= '2021-01-06' && r.date < '2021-05-18')).toBe(true);
  });

  it('the bare library cannot read the recorded framing; ulasan normalises it', async () => {
    // The recording has no newline after )]}' and the library drops 5 characters, eating the opening '['.
    nock('https://play.google.com').post('/_/PlayStoreUi/data/batchexecute').query(true).reply(200, relevant);
    await expect(gplay.reviews({ appId: APP, paginate: true })).rejects.toThrow(SyntaxError);
  });
});
