/**
 * Turning Google Play's failures, hard and soft, into typed `UlasanError`s.
 *
 * The library (`google-play-scraper` 10.1.3, `lib/utils/request.js`) replaces every got error with a bare
 * `Error('Error requesting Google Play:' + message)` carrying only `status`: the Retry-After header, the
 * error code (ETIMEDOUT, ECONNRESET) and the body are gone. And it reports some failures as success: an
 * envelope whose payload is `null` comes back as "no reviews, no token", i.e. the end. So ulasan watches
 * each request at the got level (hooks that fill a `RequestProbe`) and classifies from what it saw there.
 */
import type { FailureType } from '../../core/failures';
import { UlasanError, type FailureContext } from '../../core/errors';

/** What the scrape was doing when it failed, for messages. */
export interface PageWhere {
  appId: string;
  lang: string;
  country: string;
  pageNumber: number;
}

/** A scrape failure: a `UlasanError` that may also say how long Play asked us to wait. */
export class ScrapeError extends UlasanError {
  /** From the Retry-After header, when Play sent one. */
  readonly retryAfterMs?: number;
  /** The HTTP status, when there was a response. */
  readonly status?: number;

  constructor(
    type: FailureType,
    message: string,
    extra: { retryAfterMs?: number; status?: number; context?: FailureContext; cause?: unknown } = {},
  ) {
    super(type, message, { stage: 'scrape', ...extra.context }, { cause: extra.cause });
    if (extra.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
    if (extra.status !== undefined) this.status = extra.status;
  }
}

/** What the got hooks saw of one request; filled in while the library runs it. */
export interface RequestProbe {
  url?: string;
  status?: number;
  retryAfter?: string;
  body?: string;
  /** The got error, before the library flattens it. */
  error?: { name?: string; code?: string; message?: string };
  /** A soft failure found in a 200 response (set by the afterResponse hook, which then aborts the request). */
  failure?: ScrapeError;
}

const ENVELOPE = ")]}'";
const GATEWAY_ERROR = 'PlayGatewayError';

export function describeWhere(where: PageWhere): string {
  return `app ${where.appId} (lang ${where.lang}, country ${where.country}), page ${where.pageNumber}`;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Checks a 200 body before the library parses it. Returns the soft failure, if any. Cheap on purpose
 * (a prefix test and one substring search): it runs on every page.
 */
export function checkOkBody(body: string, where: PageWhere): ScrapeError | undefined {
  const at = describeWhere(where);
  if (body.length === 0) {
    const message = `Google Play answered HTTP 200 with an empty body for ${at}. Retrying may help.`;
    return new ScrapeError('Transient', message, { status: 200 });
  }
  if (!body.startsWith(ENVELOPE)) {
    return new ScrapeError(
      'Transient',
      `Google Play answered HTTP 200 for ${at} but the body is not a batchexecute reply (expected it to start ` +
        `with ${JSON.stringify(ENVELOPE)}, got ${JSON.stringify(body.slice(0, 60))}): probably a consent, captcha or ` +
        'proxy page. Retrying may help; if it persists, check the network path (ULASAN_PLAY_BASE_URL, proxies).',
      { status: 200 },
    );
  }
  if (body.includes(GATEWAY_ERROR)) {
    return new ScrapeError(
      'RateLimited',
      `Google Play answered HTTP 200 with a PlayGatewayError for ${at}: it is refusing requests for now. ` +
        'Back off and retry; lower the throttle if it keeps happening.',
      { status: 200 },
    );
  }
  return undefined;
}

/** Classifies an HTTP error status. */
export function errorForStatus(status: number, retryAfterMs: number | undefined, where: PageWhere): ScrapeError {
  const at = describeWhere(where);
  const extra = { status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  const wait = retryAfterMs !== undefined ? ` Retry-After: ${Math.round(retryAfterMs / 1000)} s.` : '';
  if (status === 404) {
    const message = `Google Play has no app ${where.appId} (HTTP 404) for ${at}. Check the app id.`;
    return new ScrapeError('NotFound', message, extra);
  }
  if (status === 429 || status === 503) {
    return new ScrapeError(
      'RateLimited',
      `Google Play asked us to slow down (HTTP ${status}) at ${at}.${wait} ` +
        'Retrying after a backoff; lower the throttle if it persists.',
      extra,
    );
  }
  if (status >= 500) {
    const message = `Google Play failed with HTTP ${status} at ${at}.${wait} Retrying may help.`;
    return new ScrapeError('Transient', message, extra);
  }
  if (status === 408) {
    const message = `Google Play timed out the request (HTTP 408) at ${at}. Retrying may help.`;
    return new ScrapeError('Transient', message, extra);
  }
  return new ScrapeError(
    'BadInput',
    `Google Play rejected the request with HTTP ${status} at ${at}: check the app id, lang, country, sort and ` +
      'the resume token (a stale token is rejected; restart the window without it).',
    extra,
  );
}

const TRANSIENT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Classifies a got error that came without an HTTP status (timeouts, resets, DNS). */
export function errorForNetwork(
  error: NonNullable<RequestProbe['error']>,
  where: PageWhere,
  timeoutMs: number,
): ScrapeError {
  const at = describeWhere(where);
  if (error.name === 'TimeoutError' || error.code === 'ETIMEDOUT') {
    const message = `Google Play did not answer within ${timeoutMs} ms at ${at}. Retrying may help.`;
    return new ScrapeError('Transient', message);
  }
  const code = error.code ?? error.name ?? 'unknown';
  const known = TRANSIENT_CODES.has(code) || error.name === 'ReadError' || error.name === 'RequestError';
  return new ScrapeError(
    'Transient',
    `The request to Google Play failed at ${at} (${code}: ${error.message ?? 'no message'}).` +
      (known ? ' Retrying may help.' : ' Retrying may help; if it persists, check the network.'),
  );
}

/** What a 200 body turned out to be, when the library could not use it. */
export type BodyDiagnosis =
  | { kind: 'corrupt'; detail: string }
  | { kind: 'layout'; expected: string; where: string; got: string }
  | { kind: 'gateway-status'; code: number }
  | { kind: 'empty-payload' }
  | { kind: 'ok' };

/** JSON-ish rendering of a value for messages, kept short. */
export function preview(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  const kind = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  return `${kind} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

/**
 * Re-reads a 200 body the way the library does, to say precisely what was wrong. Runs only on failure
 * paths (and on tiny bodies), so the normal path parses each page once, in the library.
 */
export function diagnoseBody(body: string): BodyDiagnosis {
  let envelope: unknown;
  try {
    envelope = JSON.parse(body.slice(ENVELOPE.length));
  } catch (err) {
    return { kind: 'corrupt', detail: `${body.length} bytes, ${(err as Error).message}` };
  }
  if (!Array.isArray(envelope) || !Array.isArray(envelope[0])) {
    return { kind: 'layout', expected: 'an array of RPC entries', where: 'the envelope', got: preview(envelope) };
  }
  const entry = envelope[0] as unknown[];
  const payloadText = entry[2];
  if (payloadText === null || payloadText === undefined) {
    const status = entry[5];
    if (Array.isArray(status) && typeof status[0] === 'number') return { kind: 'gateway-status', code: status[0] };
    return { kind: 'empty-payload' };
  }
  if (typeof payloadText !== 'string') {
    const expected = 'the UsvDTd payload as a JSON string';
    return { kind: 'layout', expected, where: 'envelope[0][2]', got: preview(payloadText) };
  }
  let payload: unknown;
  try {
    payload = JSON.parse(payloadText);
  } catch (err) {
    return { kind: 'corrupt', detail: `payload string at envelope[0][2]: ${(err as Error).message}` };
  }
  if (payload === null) return { kind: 'empty-payload' };
  if (!Array.isArray(payload)) {
    return { kind: 'layout', expected: 'an array', where: 'payload (envelope[0][2])', got: preview(payload) };
  }
  if (payload[0] !== null && payload[0] !== undefined && !Array.isArray(payload[0])) {
    return { kind: 'layout', expected: 'the review list (an array)', where: 'payload[0]', got: preview(payload[0]) };
  }
  const reviews = (payload[0] ?? []) as unknown[];
  for (let i = 0; i < reviews.length; i++) {
    const problem = reviewLayoutProblem(reviews[i], `payload[0][${i}]`);
    if (problem) return problem;
  }
  return { kind: 'ok' };
}

/** The first core field of a raw review that is not where the library reads it. */
function reviewLayoutProblem(review: unknown, at: string): BodyDiagnosis | undefined {
  const layout = (expected: string, where: string, value: unknown): BodyDiagnosis => ({
    kind: 'layout',
    expected,
    where,
    got: preview(value),
  });
  if (!Array.isArray(review)) return layout('a review (an array)', at, review);
  const [id, , score, , , time] = review as unknown[];
  if (typeof id !== 'string' || id === '') return layout('the review id (a non-empty string)', `${at}[0]`, id);
  if (typeof score !== 'number') return layout('the star rating (an integer 1-5)', `${at}[2]`, score);
  if (!Array.isArray(time)) return layout('the review time ([seconds, nanos])', `${at}[5]`, time);
  return undefined;
}

/**
 * Google RPC status codes that batchexecute puts at entry[5] when the call failed: 3 INVALID_ARGUMENT,
 * 5 NOT_FOUND, 8 RESOURCE_EXHAUSTED; the rest are treated as passing faults.
 */
export function errorForGatewayStatus(code: number, where: PageWhere): ScrapeError {
  const at = describeWhere(where);
  if (code === 5) {
    return new ScrapeError('NotFound', `Google Play says app ${where.appId} does not exist (RPC status 5) at ${at}.`);
  }
  if (code === 3) {
    return new ScrapeError(
      'BadInput',
      `Google Play rejected the reviews request as invalid (RPC status 3) at ${at}: check the app id and sort; a ` +
        'stale resume token is also rejected this way (restart the window without it).',
    );
  }
  if (code === 8) {
    return new ScrapeError('RateLimited', `Google Play is rate limiting (RPC status 8) at ${at}. Back off and retry.`);
  }
  const message = `Google Play returned RPC status ${code} with no reviews at ${at}. Retrying may help.`;
  return new ScrapeError('Transient', message);
}

/** The alert-worthy error for a payload whose shape is not what the parser expects. */
export function layoutChanged(expected: string, location: string, got: string, where: PageWhere): ScrapeError {
  return new ScrapeError(
    'LayoutChanged',
    `Google Play's reviews payload changed shape: expected ${expected} at ${location} of the UsvDTd reply, ` +
      `got ${got} (${describeWhere(where)}). The parser (google-play-scraper lib/reviews.js and ` +
      'activities/scrape/play-client.ts) needs updating; retrying will not help.',
    { context: { field: location } },
  );
}

/**
 * The typed error for a failed page request, from what the hooks saw. `cause` is the library's error.
 */
export function classifyFailure(probe: RequestProbe, cause: unknown, where: PageWhere, timeoutMs: number): ScrapeError {
  if (probe.failure) return probe.failure;
  if (probe.status !== undefined && probe.status >= 400) {
    return withCause(errorForStatus(probe.status, parseRetryAfter(probe.retryAfter), where), cause);
  }
  if (probe.error && probe.status === undefined) {
    return withCause(errorForNetwork(probe.error, where, timeoutMs), cause);
  }
  if (probe.body !== undefined) return withCause(errorForBody(probe.body, where), cause);
  if (probe.error) return withCause(errorForNetwork(probe.error, where, timeoutMs), cause);
  return new ScrapeError(
    'Internal',
    `google-play-scraper failed before any request was made at ${describeWhere(where)}: ` +
      `${(cause as Error)?.message ?? String(cause)}.`,
    { cause },
  );
}

/** The library could not use a 200 body: say whether it was cut short or laid out differently. */
function errorForBody(body: string, where: PageWhere): ScrapeError {
  const diagnosis = diagnoseBody(body);
  switch (diagnosis.kind) {
    case 'corrupt':
      return new ScrapeError(
        'Transient',
        `Google Play's reply for ${describeWhere(where)} is truncated or corrupt (${diagnosis.detail}). ` +
          'Retrying may help.',
        { status: 200 },
      );
    case 'layout':
      return layoutChanged(diagnosis.expected, diagnosis.where, diagnosis.got, where);
    case 'gateway-status':
      return errorForGatewayStatus(diagnosis.code, where);
    default:
      return layoutChanged('a reply google-play-scraper can map', 'the UsvDTd payload', 'one it could not', where);
  }
}

function withCause(error: ScrapeError, cause: unknown): ScrapeError {
  if (error.cause === undefined) {
    Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true });
  }
  return error;
}
