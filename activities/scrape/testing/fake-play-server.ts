/**
 * A local fake of Google Play's review endpoint, for tests and benchmarks: it speaks what
 * `google-play-scraper` 10.1.3 sends and parses, so the real library can be pointed at it through
 * `ULASAN_PLAY_BASE_URL` / `baseUrl`.
 *
 * Request (lib/reviews.js): `POST /_/PlayStoreUi/data/batchexecute?rpcids=qnKhOb&...&hl=<lang>&gl=<country>`,
 * `Content-Type: application/x-www-form-urlencoded`, body `f.req=<urlencoded JSON>` where the JSON is
 * `[[["UsvDTd","<inner JSON>",null,"generic"]]]` and inner is
 * `[null,null,[2,<sort>,[<count>,null,<token|null>],null,<[] | [null,<stars>]>],["<appId>",7]]`.
 *
 * Reply (what the library parses: `JSON.parse(body.substring(5))`, then `JSON.parse(env[0][2])`):
 * `)]}'\n\n[["wrb.fr","UsvDTd","<payload JSON>",null,null,null,"generic"],["di",N],["af.httprm",N,"...",1]]`
 * with payload `[[review, ...], [null, "<next token>"]]` (no token on the last page) and each review
 * `[id, [name, [null,2,null,[null,null,avatar]]], stars, null, text, [seconds, nanos], thumbsUp,
 *   [null, replyText, [seconds, nanos]] | null, null, [userId, name, ...], appVersion, null, null]`,
 * the layout of the recorded replies in /work/shared/data/fixtures (2021) and of the library's mappings.
 *
 * Faults are injected by request number (1-based, counting batchexecute requests) to exercise every
 * failure ulasan classifies. Reviews are synthetic (data/sample/synthetic.ts), seeded, never real.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Rng } from '../../../data/random';
import { generateSyntheticReviews, type SyntheticReview } from '../../../data/sample/synthetic';

/** A failure the server plays instead of (or on top of) a normal reply. */
export type FakeFault =
  /** HTTP 429 with `Retry-After: <seconds>`. */
  | { kind: 'rate-limit'; retryAfterSeconds?: number }
  /** HTTP 503 (add `retryAfterSeconds` to send Retry-After). */
  | { kind: 'unavailable'; retryAfterSeconds?: number }
  /** HTTP 500. */
  | { kind: 'server-error' }
  /** Accepts the request and never answers. */
  | { kind: 'timeout' }
  /** HTTP 200 whose body stops halfway (the response itself ends cleanly). */
  | { kind: 'truncated' }
  /** Destroys the connection halfway through the body. */
  | { kind: 'reset' }
  /** HTTP 200 with an empty body. */
  | { kind: 'empty-body' }
  /** HTTP 200 with an HTML page instead of the `)]}'` envelope (consent, captcha). */
  | { kind: 'html' }
  /** HTTP 200 whose envelope carries a PlayGatewayError. */
  | { kind: 'gateway-error' }
  /** A normal page whose next token is the token of the request. */
  | { kind: 'repeat-token' }
  /** A page whose layout changed: `nested` wraps the review list once more, `scalar` replaces it with a number. */
  | { kind: 'shape-change'; variant?: 'nested' | 'scalar' }
  /** HTTP 404 (app not found). */
  | { kind: 'not-found' }
  /** HTTP 400. */
  | { kind: 'bad-request' }
  /** HTTP 200 with an RPC error status at entry[5] and no payload (what batchexecute does for failed calls). */
  | { kind: 'rpc-status'; code: number };

export interface FakePlayServerOptions {
  /** App ids the server knows, with how many reviews each has; others get 404. @default { 'com.example.app': 1000 } */
  apps?: Record<string, number>;
  /** Seed of the synthetic reviews. @default 1 */
  seed?: number;
  /** Apps served from these rows instead of generated ones (e.g. `generateDriftedReviews`); each still needs its entry in `apps`. @default {} */
  rows?: Record<string, SyntheticReview[]>;
  /** Faults by request number (1-based). More can be added with `inject`. @default {} */
  faults?: Record<number, FakeFault>;
  /** Frame replies as the recorded fixtures do (`)]}'[...`, no newline) instead of Play's `)]}'\n\n`. @default false */
  compactFraming?: boolean;
}

/** What the server understood of one request. */
export interface RecordedRequest {
  n: number;
  method: string;
  path: string;
  lang: string | null;
  country: string | null;
  appId: string | null;
  sort: number | null;
  count: number | null;
  token: string | null;
  filterScore: number | null;
  fault: FakeFault['kind'] | null;
}

/** One synthetic review as the server holds it. */
export interface FakeReview {
  id: string;
  userName: string;
  score: number;
  text: string;
  seconds: number;
  nanos: number;
  thumbsUp: number;
  reply: { text: string; seconds: number; nanos: number } | null;
  appVersion: string | null;
}

export interface FakePlayServer {
  /** Base URL to pass as `baseUrl` / `ULASAN_PLAY_BASE_URL`. */
  url: string;
  requests: RecordedRequest[];
  /** Plays `fault` on request number `n` (1-based). */
  inject(n: number, fault: FakeFault): void;
  /** The reviews of an app in the order a sort (and star filter) serves them. */
  reviews(appId: string, sort?: number, filterScore?: number): FakeReview[];
  /** Forgets recorded requests and injected faults: request numbers start again at 1. */
  reset(): void;
  close(): Promise<void>;
}

const BATCHEXECUTE_PATH = '/_/PlayStoreUi/data/batchexecute';
const TEXT = { 'content-type': 'text/plain' };
const HTML = { 'content-type': 'text/html' };
/** An `er` entry as batchexecute sends for a failed call, naming the gateway error type. */
const GATEWAY_ERROR_ENTRY = [
  'er',
  ...Array<null>(4).fill(null),
  500,
  ...Array<null>(12).fill(null),
  [['type.googleapis.com/com.google.play.gateway.proto.PlayGatewayError', [1]]],
];
const SORT_NEWEST = 2;
const SORT_RATING = 3;
const SORT_HELPFULNESS = 1;

/** Reviews of one app (`rows`, or synthetic ones), newest first, seeded from the app id. */
function makeReviews(appId: string, count: number, seed: number, given?: SyntheticReview[]): FakeReview[] {
  const rows = given ?? generateSyntheticReviews({ rows: count, seed, app: appId });
  const rng = new Rng(seed).fork(`fake-play/${appId}`);
  const reviews = rows.map((row): FakeReview => {
    const seconds = Math.floor(Date.parse(`${row.date}Z`) / 1000);
    // Millisecond precision like Play's, including < 100 ms, which the library misreads (see toSecondIso).
    const nanos = rng.int(1000) * 1_000_000;
    const replyAt = seconds + 3600 + rng.int(86_400);
    const replied = rng.next() < 0.2;
    return {
      id: row.reviewId,
      userName: row.userName,
      score: row.rating,
      text: row.text,
      seconds,
      nanos,
      thumbsUp: rng.next() < 0.7 ? 0 : rng.int(500),
      reply: replied
        ? { text: 'Terima kasih atas ulasannya, Kak.', seconds: replyAt, nanos: rng.int(1000) * 1_000_000 }
        : null,
      appVersion: rng.next() < 0.1 ? null : `4.${rng.int(30)}.${rng.int(10)}`,
    };
  });
  return reviews.sort((a, b) => b.seconds - a.seconds || b.nanos - a.nanos || (a.id < b.id ? -1 : 1));
}

function sortReviews(reviews: FakeReview[], sort: number): FakeReview[] {
  if (sort === SORT_HELPFULNESS) return [...reviews].sort((a, b) => b.thumbsUp - a.thumbsUp || b.seconds - a.seconds);
  if (sort === SORT_RATING) return [...reviews].sort((a, b) => b.score - a.score || b.seconds - a.seconds);
  return reviews;
}

function reviewArray(review: FakeReview): unknown[] {
  const avatar = [null, 2, null, [null, null, `https://play-lh.googleusercontent.com/a/${review.id.slice(0, 12)}`]];
  return [
    review.id,
    [review.userName, avatar],
    review.score,
    null,
    review.text,
    [review.seconds, review.nanos],
    review.thumbsUp,
    review.reply ? [null, review.reply.text, [review.reply.seconds, review.reply.nanos]] : null,
    null,
    [review.id.replace(/-/g, '').slice(0, 21), review.userName, null, [avatar, true]],
    review.appVersion,
    null,
    null,
  ];
}

/** The continuation token: opaque to the client, the offset to the server. */
function encodeToken(offset: number, appId: string, sort: number, filter: number | null): string {
  return Buffer.from(JSON.stringify([offset, appId, sort, filter])).toString('base64url');
}

function decodeToken(token: string, appId: string, sort: number, filter: number | null): number | null {
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString()) as unknown[];
    const [offset, tokenApp, tokenSort, tokenFilter] = decoded;
    if (tokenApp !== appId || tokenSort !== sort || tokenFilter !== filter || typeof offset !== 'number') return null;
    return offset;
  } catch {
    return null;
  }
}

export interface ParsedReviewsRequest {
  appId: string;
  sort: number;
  count: number;
  token: string | null;
  filterScore: number | null;
}

/** Parses the library's `f.req` body. */
export function parseReviewsRequest(body: string): ParsedReviewsRequest | null {
  try {
    const freq = new URLSearchParams(body).get('f.req');
    if (freq === null) return null;
    const outer = JSON.parse(freq) as [[[string, string]]];
    if (outer[0][0][0] !== 'UsvDTd') return null;
    type Query = [number, number, [number, null, string | null], null, unknown[]];
    const inner = JSON.parse(outer[0][0][1]) as [null, null, Query, [string, number]];
    const [, , query, app] = inner;
    const filter = query[4];
    return {
      appId: app[0],
      sort: query[1],
      count: query[2][0],
      token: query[2][2],
      filterScore: Array.isArray(filter) && typeof filter[1] === 'number' ? filter[1] : null,
    };
  } catch {
    return null;
  }
}

function envelope(entry: unknown[], compact: boolean): string {
  const json = JSON.stringify([entry, ['di', 42], ['af.httprm', 41, '-1181129637433340617', 7]]);
  return compact ? `)]}'${json}` : `)]}'\n\n${json}`;
}

function pagePayload(reviews: FakeReview[], nextToken: string | null, fault: FakeFault | undefined): string {
  const list = reviews.map(reviewArray);
  if (fault?.kind === 'shape-change') {
    return JSON.stringify(fault.variant === 'scalar' ? [5, [null, nextToken]] : [[list], [null, nextToken]]);
  }
  return JSON.stringify(nextToken === null ? [list] : [list, [null, nextToken]]);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** Starts the server on 127.0.0.1 with a free port. */
export async function startFakePlayServer(options: FakePlayServerOptions = {}): Promise<FakePlayServer> {
  const apps = options.apps ?? { 'com.example.app': 1000 };
  const seed = options.seed ?? 1;
  const faults = new Map<number, FakeFault>(Object.entries(options.faults ?? {}).map(([n, f]) => [Number(n), f]));
  const compact = options.compactFraming ?? false;
  const requests: RecordedRequest[] = [];
  const reviewCache = new Map<string, FakeReview[]>();
  // Rendered replies by (app, sort, filter, offset, count): a benchmark measures the client, not this server.
  const replyCache = new Map<string, string>();

  const reviewsOf = (appId: string, sort = SORT_NEWEST, filter: number | null = null): FakeReview[] => {
    const key = `${appId}|${sort}|${filter}`;
    let list = reviewCache.get(key);
    if (!list) {
      const base = reviewCache.get(`${appId}|${SORT_NEWEST}|null`) ?? makeReviews(appId, apps[appId] ?? 0, seed, options.rows?.[appId]);
      reviewCache.set(`${appId}|${SORT_NEWEST}|null`, base);
      list = sortReviews(base, sort).filter((r) => filter === null || r.score === filter);
      reviewCache.set(key, list);
    }
    return list;
  };

  const pageReply = (request: ParsedReviewsRequest, offset: number, fault?: FakeFault): string => {
    const { appId, sort, filterScore: filter, count, token } = request;
    const key = `${appId}|${sort}|${filter}|${offset}|${count}`;
    const cached = fault ? undefined : replyCache.get(key);
    if (cached !== undefined) return cached;
    const all = reviewsOf(appId, sort, filter);
    const slice = all.slice(offset, offset + count);
    const end = offset + count >= all.length;
    const following = end ? null : encodeToken(offset + count, appId, sort, filter);
    const next = fault?.kind === 'repeat-token' && token ? token : following;
    const reply = envelope(['wrb.fr', 'UsvDTd', pagePayload(slice, next, fault), null, null, null, 'generic'], compact);
    if (!fault) replyCache.set(key, reply);
    return reply;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake-play');
    const body = await readBody(req);
    const n = requests.length + 1;
    const fault = faults.get(n);
    const parsed = parseReviewsRequest(body);
    requests.push({
      n,
      method: req.method ?? '',
      path: url.pathname,
      lang: url.searchParams.get('hl'),
      country: url.searchParams.get('gl'),
      appId: parsed?.appId ?? null,
      sort: parsed?.sort ?? null,
      count: parsed?.count ?? null,
      token: parsed?.token ?? null,
      filterScore: parsed?.filterScore ?? null,
      fault: fault?.kind ?? null,
    });
    if (url.pathname !== BATCHEXECUTE_PATH) return send(res, 404, 'not found', TEXT);
    if (req.method !== 'POST' || parsed === null) return send(res, 400, 'bad request', TEXT);
    if (fault && playFault(fault, res)) return;
    if (fault?.kind === 'not-found' || !(parsed.appId in apps)) return send(res, 404, '<html>Not Found</html>', HTML);
    const offset = parsed.token === null ? 0 : decodeToken(parsed.token, parsed.appId, parsed.sort, parsed.filterScore);
    if (offset === null) return send(res, 400, 'invalid token', TEXT);
    const reply = pageReply(parsed, offset, fault);
    if (fault?.kind === 'truncated' || fault?.kind === 'reset') return sendBroken(res, reply, fault.kind);
    send(res, 200, reply);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, String(err), TEXT);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    inject: (n, fault) => void faults.set(n, fault),
    reviews: (appId, sort, filterScore) => reviewsOf(appId, sort, filterScore ?? null),
    reset: () => {
      requests.length = 0;
      faults.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Plays a fault that replaces the reply entirely; false when the fault shapes a normal reply instead. */
function playFault(fault: FakeFault, res: ServerResponse): boolean {
  const retryAfter = (s?: number): Record<string, string> => (s !== undefined ? { 'retry-after': String(s) } : {});
  switch (fault.kind) {
    case 'rate-limit':
      send(res, 429, 'Too Many Requests', { ...TEXT, ...retryAfter(fault.retryAfterSeconds ?? 1) });
      return true;
    case 'unavailable':
      send(res, 503, 'Service Unavailable', { ...TEXT, ...retryAfter(fault.retryAfterSeconds) });
      return true;
    case 'server-error':
      send(res, 500, 'Internal Server Error', TEXT);
      return true;
    case 'timeout':
      return true; // never answer; close() destroys the socket
    case 'empty-body':
      send(res, 200, '');
      return true;
    case 'html':
      send(res, 200, '<!doctype html><html><body>Before you continue to Google</body></html>', HTML);
      return true;
    case 'gateway-error':
      send(res, 200, envelope(GATEWAY_ERROR_ENTRY, false));
      return true;
    case 'rpc-status':
      send(res, 200, envelope(['wrb.fr', 'UsvDTd', null, null, null, [fault.code], 'generic'], false));
      return true;
    case 'bad-request':
      send(res, 400, 'Bad Request', TEXT);
      return true;
    default:
      return false;
  }
}

/** A reply that stops halfway: cleanly (chunked, then end) or by destroying the socket. */
function sendBroken(res: ServerResponse, reply: string, kind: 'truncated' | 'reset'): void {
  const half = reply.slice(0, Math.floor(reply.length / 2));
  if (kind === 'truncated') {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(half);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(reply) });
  res.write(half, () => res.socket?.destroy());
}
