/**
 * The Google Play scraping core: one page (150 reviews) per request through the real
 * `google-play-scraper` library (`paginate: true`, `nextPaginationToken`), with a timeout on every
 * request, a process-wide throttle, soft failures turned into typed errors, review normalisation,
 * dedupe by review id and incremental stops. The caller's `onPage` persists each page and checkpoints
 * `{ token: page.nextToken, pageNumber }` (heartbeat details); a retry resumes from that token.
 *
 * How it hooks into the library: `reviews()` copies `requestOptions` over its own got options (after
 * url, method, body and headers), so got hooks passed there see every request it makes:
 * - `beforeRequest` rewrites the URL onto `baseUrl` (tests, proxies), adds the star filter to the
 *   `f.req` body (the library has no such option) and attaches the `AbortSignal`;
 * - `afterResponse` records status, Retry-After and body, and rejects soft failures in a 200 (empty,
 *   not the `)]}'` envelope, `PlayGatewayError`) before the library parses them;
 * - `beforeError` records the got error (code, name) that the library would flatten into a string.
 * The library's own `throttle` is not used (see rate-limiter.ts), nor `memoized()` (it would cache pages).
 */
import gplay from 'google-play-scraper';
import { badInput } from '../../core/errors';
import {
  checkOkBody,
  classifyFailure,
  describeWhere,
  diagnoseBody,
  errorForGatewayStatus,
  layoutChanged,
  preview,
  ScrapeError,
  type PageWhere,
  type RequestProbe,
} from './play-errors';
import { abortReason } from '../../core/sleep';
import { sharedRateLimiter, type RateLimiter } from './rate-limiter';

export type ReviewSort = 'newest' | 'helpfulness' | 'rating';

/** Why a scrape stopped. */
export type StopReason = 'end' | 'max' | 'caught-up' | 'since';

export interface ScrapeOptions {
  /** Package name, e.g. `com.gojek.gopay`. */
  appId: string;
  /** Review language, e.g. `id`. */
  lang: string;
  /** Store country, e.g. `id`. */
  country: string;
  /** Play's sort order. Incremental stops (`stopAtReviewId`, `since`) need `newest`. */
  sort: ReviewSort;
  /** Only reviews with this many stars (Play filters server-side). @default undefined (all) */
  filterScore?: 1 | 2 | 3 | 4 | 5;
  /** Stop after this many new reviews (`Infinity` for no limit). */
  maxReviews: number;
  /** Continue from this token (the last checkpointed `nextToken`) instead of the first page. @default undefined */
  resumeToken?: string;
  /** The page number of the last checkpointed page, so numbering continues on resume. @default 0 */
  resumePageNumber?: number;
  /** Sort newest only: stop at this review id (the newest one already stored), excluding it. @default undefined */
  stopAtReviewId?: string;
  /**
   * Sort newest only: stop at the first review dated at or before this instant. Dates are compared at
   * whole seconds (see `toSecondIso`), so prefer `stopAtReviewId`; `since` also catches the case where
   * the stored review was deleted. @default undefined
   */
  since?: string | Date;
  /**
   * Requests per second, shared by all scrapes of this process against the same host.
   * @default undefined (no throttle)
   */
  throttle?: number;
  /** Timeout of each request, connect to last byte (the library sets none). @default 30000 */
  timeoutMs?: number;
  /** Send requests here instead of https://play.google.com. @default process.env.ULASAN_PLAY_BASE_URL */
  baseUrl?: string;
  /** Aborts the request in flight and stops the scrape with the signal's reason. @default undefined */
  signal?: AbortSignal;
  /**
   * Review ids already stored in this run; the scrape adds to it. Pass the same set across resumes so a
   * re-fetched page is counted as duplicates, not new. @default a new empty set
   */
  seen?: Set<string>;
  /** The limiter to throttle through. @default the process-wide limiter for the target origin */
  limiter?: RateLimiter;
  /** Clock for `scrapedAt`. @default () => new Date() */
  now?: () => Date;
}

/** One review as ulasan stores it (the raw table's row). */
export interface ScrapedReview {
  reviewId: string;
  appId: string;
  lang: string;
  country: string;
  userName: string | null;
  score: number;
  text: string | null;
  /** ISO 8601 UTC, whole seconds. */
  date: string;
  thumbsUp: number;
  replyText: string | null;
  replyDate: string | null;
  appVersion: string | null;
  /** When this page was fetched (ISO 8601). */
  scrapedAt: string;
  pageNumber: number;
}

/** Counts over the reviews Play returned. `seen = new + duplicates` (+ the reviews at/after a stop). */
export interface ScrapeCounts {
  /** Reviews Play returned before any stop point. */
  seen: number;
  /** Of those, not already in `seen`: the ones handed to `onPage`. */
  new: number;
  /** Of those, already in `seen` (a page fetched again, or Play repeating a review). */
  duplicates: number;
}

export interface ScrapePage extends ScrapeCounts {
  /** The new reviews of this page, in Play's order. */
  reviews: ScrapedReview[];
  /** The token for the page after this one; null at the end. Checkpoint it after persisting the page. */
  nextToken: string | null;
  pageNumber: number;
}

export interface ScrapeHooks {
  /** Persist the page, then checkpoint `{ token: page.nextToken, pageNumber: page.pageNumber }`. */
  onPage(page: ScrapePage): Promise<void>;
}

export interface ScrapeResult extends ScrapeCounts {
  reason: StopReason;
  /** True when the window is fully covered: the end was reached, or the known reviews were (`caught-up`, `since`). */
  complete: boolean;
  /** Pages fetched by this call. */
  pages: number;
  /** The number of the last page fetched (continues from `resumePageNumber`). */
  pageNumber: number;
  /** Play's token after the last page; null at the end. */
  nextToken: string | null;
}

/** The library's review item, as far as ulasan reads it. */
interface LibraryReview {
  id: unknown;
  userName: unknown;
  date: unknown;
  score: unknown;
  text: unknown;
  replyDate: unknown;
  replyText: unknown;
  version: unknown;
  thumbsUp: unknown;
}

interface LibraryReviewsOptions {
  appId: string;
  lang: string;
  country: string;
  sort: number;
  num: number;
  paginate: true;
  nextPaginationToken?: string;
  requestOptions: Record<string, unknown>;
}

interface LibraryResult {
  data: unknown;
  nextPaginationToken?: unknown;
}

type LibraryReviews = (options: LibraryReviewsOptions) => Promise<LibraryResult>;

/** The shapes of got 11's hook arguments that ulasan touches (got is the library's dependency, not ours). */
interface GotOptionsLike {
  url: URL;
  body?: unknown;
  headers: Record<string, string | string[] | undefined>;
  signal?: AbortSignal;
}
interface GotResponseLike {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}
interface GotErrorLike {
  name: string;
  code?: string;
  message: string;
}

const libraryReviews = gplay.reviews as unknown as LibraryReviews;
const librarySort = gplay.sort as unknown as Record<'NEWEST' | 'HELPFULNESS' | 'RATING', number>;
const SORT_CODES: Record<ReviewSort, number> = {
  newest: librarySort.NEWEST,
  helpfulness: librarySort.HELPFULNESS,
  rating: librarySort.RATING,
};

export const PLAY_ORIGIN = 'https://play.google.com';
export const PAGE_SIZE = 150;
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Env var that redirects every request to another base URL (a fake server, a proxy). */
export const PLAY_BASE_URL_ENV = 'ULASAN_PLAY_BASE_URL';

/** The `,null,[]]` that ends the library's request tuple; Play reads a star filter from `[null,<score>]` there. */
const EMPTY_FILTER = '%2Cnull%2C%5B%5D%5D%2C%5B%5C%22';
const ENVELOPE = ")]}'";

/** The base URL to use: the option, else `ULASAN_PLAY_BASE_URL`, else none (Play itself). */
export function resolvePlayBaseUrl(option?: string, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const raw = option ?? env[PLAY_BASE_URL_ENV];
  if (raw === undefined || raw.trim() === '') return undefined;
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    return url;
  } catch {
    const from = option !== undefined ? 'the baseUrl option (--play-base-url)' : PLAY_BASE_URL_ENV;
    throw badInput(`${from} must be an http(s) URL such as http://127.0.0.1:8080, got ${JSON.stringify(raw)}.`, {
      stage: 'scrape',
      field: 'baseUrl',
    });
  }
}

/** Moves `url` onto `base`: base origin, base path as a prefix, then the original path and query. */
export function rebaseUrl(url: URL, base: URL): URL {
  const prefix = base.pathname.replace(/\/+$/, '');
  return new URL(`${base.origin}${prefix}${url.pathname}${url.search}`);
}

/** Adds Play's star filter to the library's URL-encoded `f.req` body. */
export function withStarFilter(body: string, score: number): string {
  if (!body.includes(EMPTY_FILTER)) {
    throw new ScrapeError(
      'Internal',
      'google-play-scraper builds its reviews request differently than expected (no empty filter slot ' +
        `${decodeURIComponent(EMPTY_FILTER)} in f.req), so filterScore cannot be applied; update withStarFilter.`,
    );
  }
  return body.replace(EMPTY_FILTER, `%2Cnull%2C%5Bnull%2C${score}%5D%5D%2C%5B%5C%22`);
}

/** `YYYY-MM-DDTHH:mm:ss.sssZ`, what `Date#toJSON` (and so the library) writes, checked without a regex: hot path. */
function isCanonicalIso(value: string): boolean {
  const T = 84;
  const DOT = 46;
  const Z = 90;
  return (
    value.length === 24 && value.charCodeAt(10) === T && value.charCodeAt(19) === DOT && value.charCodeAt(23) === Z
  );
}

/** True for a string `Date.parse` reads. */
function isDateString(value: unknown): value is string {
  return typeof value === 'string' && (isCanonicalIso(value) || !Number.isNaN(Date.parse(value)));
}

/**
 * An ISO date at whole seconds. The library builds milliseconds by gluing the first three digits of the
 * nanoseconds onto the seconds, which is wrong below 100 ms (45 ms = 45000000 ns reads as 450 ms); the
 * seconds are always right, so ulasan keeps those.
 */
export function toSecondIso(value: string): string {
  // Fast path for what the library emits (`Date#toJSON`); the fallback handles any other ISO form.
  if (isCanonicalIso(value)) return `${value.slice(0, 20)}000Z`;
  return new Date(Math.floor(Date.parse(value) / 1000) * 1000).toISOString();
}

function validate(options: ScrapeOptions): void {
  const fail = (field: string, message: string): never => {
    throw badInput(message, { stage: 'scrape', field });
  };
  if (!/^[A-Za-z][\w]*(\.[\w]+)+$/.test(options.appId)) {
    fail('appId', `appId must be a package name such as com.gojek.gopay, got ${JSON.stringify(options.appId)}.`);
  }
  if (!(options.sort in SORT_CODES)) {
    fail('sort', `sort must be newest, helpfulness or rating, got ${JSON.stringify(options.sort)}.`);
  }
  if (options.filterScore !== undefined && ![1, 2, 3, 4, 5].includes(options.filterScore)) {
    fail('filterScore', `filterScore must be 1..5, got ${JSON.stringify(options.filterScore)}.`);
  }
  if (!(options.maxReviews > 0) || (Number.isFinite(options.maxReviews) && !Number.isInteger(options.maxReviews))) {
    fail('maxReviews', `maxReviews must be a positive integer or Infinity, got ${options.maxReviews}.`);
  }
  if ((options.stopAtReviewId !== undefined || options.since !== undefined) && options.sort !== 'newest') {
    fail('sort', `stopAtReviewId and since need sort 'newest' (reviews in date order), got sort '${options.sort}'.`);
  }
  if (options.since !== undefined && Number.isNaN(new Date(options.since).getTime())) {
    fail('since', `since must be an ISO date, got ${JSON.stringify(options.since)}.`);
  }
  if (options.throttle !== undefined && !(options.throttle > 0)) {
    fail('throttle', `throttle must be > 0 requests/s, got ${options.throttle}.`);
  }
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
    fail('timeoutMs', `timeoutMs must be > 0, got ${options.timeoutMs}.`);
  }
}

interface RequestConfig {
  baseUrl?: URL;
  filterScore?: number;
  signal?: AbortSignal;
  timeoutMs: number;
}

/** got options for one page request, with hooks that fill `probe`. */
function requestOptions(config: RequestConfig, probe: RequestProbe, where: PageWhere): Record<string, unknown> {
  const beforeRequest = (options: GotOptionsLike): void => {
    if (config.baseUrl) options.url = rebaseUrl(options.url, config.baseUrl);
    if (config.filterScore !== undefined && typeof options.body === 'string') {
      options.body = withStarFilter(options.body, config.filterScore);
      // got computed content-length from the original body before the hooks ran.
      options.headers['content-length'] = String(Buffer.byteLength(options.body as string));
    }
    // got hands its options object to http.request, which honours `signal`.
    if (config.signal) options.signal = config.signal;
    probe.url = options.url.href;
  };
  const afterResponse = (response: GotResponseLike): GotResponseLike => {
    probe.status = response.statusCode;
    const retryAfter = response.headers['retry-after'];
    probe.retryAfter = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
    const body = typeof response.body === 'string' ? response.body : String(response.body ?? '');
    probe.body = body;
    if (response.statusCode < 200 || response.statusCode >= 300) return response;
    const failure = checkOkBody(body, where);
    if (failure) {
      probe.failure = failure;
      throw failure; // the library turns this into a generic Error; scrapeReviews throws probe.failure instead
    }
    // The library skips 5 characters (`)]}'\n`); a reply framed without the newline would lose its `[`.
    const next = body.charCodeAt(ENVELOPE.length);
    if (next !== 10 && next !== 13 && next !== 32) response.body = `${ENVELOPE}\n${body.slice(ENVELOPE.length)}`;
    return response;
  };
  const beforeError = (error: GotErrorLike): GotErrorLike => {
    probe.error = { name: error.name, code: error.code, message: error.message };
    return error;
  };
  return {
    timeout: config.timeoutMs,
    // Retries belong to the caller (activity retry policy or withRetry), which resumes from the checkpoint.
    retry: 0,
    hooks: { beforeRequest: [beforeRequest], afterResponse: [afterResponse], beforeError: [beforeError] },
  };
}

interface RawPage {
  data: LibraryReview[];
  nextToken: string | null;
}

/** One library call = one request = one page. */
async function fetchPage(
  options: ScrapeOptions,
  config: RequestConfig,
  token: string | null,
  where: PageWhere,
): Promise<RawPage> {
  const probe: RequestProbe = {};
  let result: LibraryResult;
  try {
    result = await libraryReviews({
      appId: options.appId,
      lang: options.lang,
      country: options.country,
      sort: SORT_CODES[options.sort],
      num: PAGE_SIZE,
      paginate: true,
      ...(token !== null ? { nextPaginationToken: token } : {}),
      requestOptions: requestOptions(config, probe, where),
    });
  } catch (err) {
    if (config.signal?.aborted) throw abortReason(config.signal);
    throw classifyFailure(probe, err, where, config.timeoutMs);
  }
  return checkRawPage(result, probe, where);
}

/**
 * The library returned: check what it made of the payload. When something is off, the raw body is
 * re-read to name the exact position (the library's mapping has lost it); this is the rare path.
 */
function checkRawPage(result: LibraryResult, probe: RequestProbe, where: PageWhere): RawPage {
  try {
    return checkMappedPage(result, probe, where);
  } catch (error) {
    const diagnosis = probe.body !== undefined ? diagnoseBody(probe.body) : undefined;
    if (diagnosis?.kind === 'layout') throw layoutChanged(diagnosis.expected, diagnosis.where, diagnosis.got, where);
    throw error;
  }
}

function checkMappedPage(result: LibraryResult, probe: RequestProbe, where: PageWhere): RawPage {
  const token = result.nextPaginationToken ?? null;
  if (token !== null && typeof token !== 'string') {
    throw layoutChanged('the continuation token (a string)', 'payload[1][1]', preview(token), where);
  }
  if (!Array.isArray(result.data)) {
    throw layoutChanged('the review list (an array)', 'payload[0]', preview(result.data), where);
  }
  const data = result.data as LibraryReview[];
  // The library reads "no payload" as the end; a small body may instead carry an RPC error status.
  if (data.length === 0 && token === null && probe.body !== undefined && probe.body.length < 8192) {
    const diagnosis = diagnoseBody(probe.body);
    if (diagnosis.kind === 'gateway-status') throw errorForGatewayStatus(diagnosis.code, where);
    if (diagnosis.kind === 'layout') throw layoutChanged(diagnosis.expected, diagnosis.where, diagnosis.got, where);
  }
  for (let i = 0; i < data.length; i++) checkReview(data[i], i, where);
  return { data, nextToken: token };
}

function isOptionalString(value: unknown): boolean {
  return value === null || value === undefined || typeof value === 'string';
}

/** What is wrong with a mapped review, as [expected, position in the raw review, value]; runs per review. */
function reviewProblem(review: LibraryReview | undefined): [string, string, unknown] | undefined {
  if (typeof review !== 'object' || review === null) return ['a review (an array)', '', review];
  if (typeof review.id !== 'string' || review.id === '') {
    return ['the review id (a non-empty string)', '[0]', review.id];
  }
  const score = review.score;
  if (typeof score !== 'number' || !Number.isInteger(score) || score < 1 || score > 5) {
    return ['the star rating (an integer 1-5)', '[2]', score];
  }
  if (!isDateString(review.date)) return ['the review time ([seconds, nanos])', '[5]', review.date];
  if (!isOptionalString(review.text)) return ['the review text (a string)', '[4]', review.text];
  if (!isOptionalString(review.userName)) return ['the user name (a string)', '[1][0]', review.userName];
  if (review.thumbsUp !== null && review.thumbsUp !== undefined && typeof review.thumbsUp !== 'number') {
    return ['the thumbs-up count (a number)', '[6]', review.thumbsUp];
  }
  return undefined;
}

function checkReview(review: LibraryReview | undefined, i: number, where: PageWhere): void {
  const problem = reviewProblem(review);
  if (problem) throw layoutChanged(problem[0], `payload[0][${i}]${problem[1]}`, preview(problem[2]), where);
}

function normalise(
  review: LibraryReview,
  options: ScrapeOptions,
  scrapedAt: string,
  pageNumber: number,
): ScrapedReview {
  return {
    reviewId: review.id as string,
    appId: options.appId,
    lang: options.lang,
    country: options.country,
    userName: (review.userName as string | null | undefined) ?? null,
    score: review.score as number,
    text: (review.text as string | null | undefined) ?? null,
    date: toSecondIso(review.date as string),
    thumbsUp: (review.thumbsUp as number | null | undefined) ?? 0,
    replyText: typeof review.replyText === 'string' && review.replyText !== '' ? review.replyText : null,
    replyDate: isDateString(review.replyDate) ? toSecondIso(review.replyDate) : null,
    appVersion: typeof review.version === 'string' && review.version !== '' ? review.version : null,
    scrapedAt,
    pageNumber,
  };
}

interface PageOutcome {
  page: ScrapePage;
  stop?: Exclude<StopReason, 'end'>;
}

/** Normalises, dedupes and applies the stop rules to one page. */
function processPage(raw: RawPage, options: ScrapeOptions, state: RunState, pageNumber: number): PageOutcome {
  const scrapedAt = (options.now ? options.now() : new Date()).toISOString();
  const page: ScrapePage = { reviews: [], nextToken: raw.nextToken, pageNumber, seen: 0, new: 0, duplicates: 0 };
  let stop: PageOutcome['stop'];
  for (const review of raw.data) {
    if (options.stopAtReviewId !== undefined && review.id === options.stopAtReviewId) {
      stop = 'caught-up';
      break;
    }
    const normalised = normalise(review, options, scrapedAt, pageNumber);
    if (state.sinceMs !== undefined && Date.parse(normalised.date) <= state.sinceMs) {
      stop = 'since';
      break;
    }
    page.seen++;
    if (state.seen.has(normalised.reviewId)) {
      page.duplicates++;
      continue;
    }
    state.seen.add(normalised.reviewId); // taken back by scrapeReviews if onPage fails
    page.reviews.push(normalised);
    page.new++;
    if (state.counts.new + page.new >= options.maxReviews) {
      if (review !== raw.data[raw.data.length - 1] || raw.nextToken !== null) stop = 'max';
      break;
    }
  }
  return { page, ...(stop ? { stop } : {}) };
}

interface RunState {
  seen: Set<string>;
  sinceMs?: number;
  counts: ScrapeCounts;
}

/**
 * Scrapes reviews page by page until the end, `maxReviews` new reviews, or a known review. Each page is
 * handed to `hooks.onPage` before the next is requested; a failure throws a `ScrapeError` (a typed
 * `UlasanError`; `retryAfterMs` when Play sent Retry-After) and the caller retries with `resumeToken`
 * set to the last checkpointed `nextToken`.
 */
export async function scrapeReviews(options: ScrapeOptions, hooks: ScrapeHooks): Promise<ScrapeResult> {
  validate(options);
  const baseUrl = resolvePlayBaseUrl(options.baseUrl);
  const config: RequestConfig = {
    ...(baseUrl ? { baseUrl } : {}),
    ...(options.filterScore !== undefined ? { filterScore: options.filterScore } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  const limiter = options.limiter ?? sharedRateLimiter(baseUrl?.origin ?? PLAY_ORIGIN);
  const state: RunState = {
    seen: options.seen ?? new Set(),
    ...(options.since !== undefined ? { sinceMs: new Date(options.since).getTime() } : {}),
    counts: { seen: 0, new: 0, duplicates: 0 },
  };
  let token = options.resumeToken ?? null;
  let pageNumber = options.resumePageNumber ?? 0;
  const requested = new Set<string>(token !== null ? [token] : []);
  for (let pages = 1; ; pages++) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    pageNumber++;
    const where: PageWhere = { appId: options.appId, lang: options.lang, country: options.country, pageNumber };
    if (options.throttle !== undefined) await limiter.acquire(options.throttle, options.signal);
    const raw = await fetchPage(options, config, token, where);
    if (raw.nextToken !== null && requested.has(raw.nextToken)) throw repeatedToken(raw.nextToken, token, where);
    const { page, stop } = processPage(raw, options, state, pageNumber);
    try {
      await hooks.onPage(page);
    } catch (error) {
      // Not stored: on retry these reviews must count as new again, not as duplicates.
      for (const review of page.reviews) state.seen.delete(review.reviewId);
      throw error;
    }
    state.counts = {
      seen: state.counts.seen + page.seen,
      new: state.counts.new + page.new,
      duplicates: state.counts.duplicates + page.duplicates,
    };
    const reason: StopReason | undefined = stop ?? (raw.nextToken === null ? 'end' : undefined);
    if (reason) {
      return { ...state.counts, reason, complete: reason !== 'max', pages, pageNumber, nextToken: raw.nextToken };
    }
    requested.add(raw.nextToken as string);
    token = raw.nextToken;
  }
}

function repeatedToken(next: string, requestedWith: string | null, where: PageWhere): ScrapeError {
  const again = next === requestedWith ? 'the token it was asked with' : 'a token it already returned in this run';
  return new ScrapeError(
    'Transient',
    `Google Play returned ${again} (${next.slice(0, 24)}...) at ${describeWhere(where)}: pagination is not ` +
      'advancing. The page was not stored; retrying resumes from the last checkpoint. If it keeps happening, ' +
      'the scrape fails after its retries and the pages stored so far are kept.',
  );
}
