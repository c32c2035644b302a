/**
 * The scrape activity (scrapeApp): one app/lang/country, page by page through `scrapeReviews`, each page persisted
 * as it arrives and checkpointed in heartbeat details, then merged into the app's accumulated snapshot
 * (scrape.ts, the stage's definition).
 *
 * Durability: a page's new reviews are appended to the run's page log
 * `<root>/scrapes/work/<app>__<lang>__<country>/<runId>/pages.ndjson` (page-log.ts) before the heartbeat
 * `{ runId, token, pageNumber, bytes, stored, ... }` that names it. A retried attempt (Temporal:
 * `activityInfo().heartbeatDetails`; locally: whatever the runner's heartbeat remembered) reuses the run's
 * dir, cuts the log back to the checkpoint (pages whose heartbeat may not have reached the server) and
 * continues from the checkpoint's token: nothing is lost, and a re-fetched page counts as new again,
 * never twice.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sha256Hex } from '../../data/canonical';
import { withFileLock } from '../../data/store/file-lock';
import { runStage } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';
import { badInput } from '../../core/errors';
import { loggedReviewIds, PageLog } from './page-log';
import type { ReviewSort, StopReason } from './play-client';

// google-play-scraper (and got) take about a second to load: only a scrape loads them, never a pipeline run.
let playClient: typeof import('./play-client') | undefined;
const loadPlayClient = async () => (playClient ??= await import('./play-client'));
const client = () => playClient!;
import type { RateLimiter } from './rate-limiter';
import {
  SCRAPE_STAGE,
  combinedStage,
  commitSnapshot,
  isIncremental,
  latestSnapshot,
  lockPath,
  scopeName,
  scrapesDir,
  snapshotReviewIds,
  type AppScope,
  type ScrapeWindow,
} from './scrape';

export interface ScrapeAppInput {
  /** Package name, e.g. `com.gojek.gopay`. */
  appId: string;
  /** Review language, e.g. `id`. */
  lang: string;
  /** Store country, e.g. `id`. */
  country: string;
  /** Play's sort order; `newest` without a star filter stops incrementally at the newest stored review. */
  sort: ReviewSort;
  /**
   * Ignore the incremental stop and read from the top until the end or `maxReviews` new reviews, counting
   * stored ones as duplicates: backfills history an earlier `maxReviews` or `since` left out. @default false
   */
  full?: boolean;
  /** Only reviews with this many stars. @default undefined (all) */
  filterScore?: 1 | 2 | 3 | 4 | 5;
  /** Stop after this many new reviews. @default undefined (no limit) */
  maxReviews?: number;
  /** Sort newest only: stop at the first review dated at or before this ISO date. @default undefined */
  since?: string;
  /** Send requests here instead of Google Play. @default process.env.ULASAN_PLAY_BASE_URL */
  playBaseUrl?: string;
  /** Requests per second, shared by every scrape of the process. @default undefined (no throttle) */
  throttle?: number;
  /** Timeout of each request. @default 30000 */
  timeoutMs?: number;
}

/** What one call of the activity returns: small, JSON-safe (a Temporal payload). */
export interface ScrapeAppOutput {
  appId: string;
  /** The app's latest snapshot after this run (the previous one when nothing was added). */
  ref: ArtifactRef;
  previousKey: string | null;
  /** False when the run added nothing to an existing snapshot. */
  changed: boolean;
  /** Reviews in the snapshot. */
  rows: number;
  window: ScrapeWindow;
  ms: number;
}

/** The heartbeat details: enough to resume the run from its last persisted page. */
export interface ScrapeCheckpoint {
  runId: string;
  /** `<app>__<lang>__<country>/<sort>/<filter>`: details of another scrape are ignored. */
  scope: string;
  /** Play's token for the page after `pageNumber`; null before the first page and at the end. */
  token: string | null;
  pageNumber: number;
  /** Length of the run's page log once pages up to `pageNumber` were written: a resume cuts it here. */
  bytes: number;
  /** New reviews persisted so far in this run. */
  stored: number;
  seen: number;
  duplicates: number;
  pages: number;
  stopAtReviewId: string | null;
  startedAt: string;
  /** Set once the scrape itself is done; a retry then only merges. */
  finished?: { reason: StopReason; complete: boolean; at: string };
}

export interface ScrapeActivityOptions {
  /**
   * The previous attempt's heartbeat details. Under Temporal the activity reads
   * `activityInfo().heartbeatDetails` itself; the local runner passes what its heartbeat remembered.
   * @default the Temporal activity's heartbeat details, or none outside an activity
   */
  resumeState?: () => unknown;
  /** Throttle through this limiter. @default the process-wide limiter of the target origin */
  limiter?: RateLimiter;
  /** Clock for `scraped_at` and window times. @default () => new Date() */
  now?: () => Date;
}

const APP_ID = /^[A-Za-z][\w]*(\.[\w]+)+$/;
const LOCALE = /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,4})?$/;

function validate(input: ScrapeAppInput): void {
  const fail = (field: string, message: string): never => {
    throw badInput(message, { stage: SCRAPE_STAGE, field });
  };
  // These name files under the store: check them before touching the disk.
  if (!APP_ID.test(input.appId)) fail('appId', `appId must be a package name such as com.gojek.gopay, got ${JSON.stringify(input.appId)}.`);
  if (!LOCALE.test(input.lang)) fail('lang', `lang must be a language code such as id, got ${JSON.stringify(input.lang)}.`);
  if (!LOCALE.test(input.country)) fail('country', `country must be a country code such as id, got ${JSON.stringify(input.country)}.`);
  const max = input.maxReviews;
  if (max !== undefined && max !== null && !(Number.isInteger(max) && max > 0)) {
    fail('maxReviews', `maxReviews must be a positive integer (or left out for no limit), got ${max}.`);
  }
}

function checkpointScope(input: ScrapeAppInput): string {
  return `${scopeName(input)}/${input.sort}/${input.filterScore ?? 'all'}`;
}

interface TemporalSide {
  details: unknown;
  /** Stable across attempts of this activity, so a retry before the first heartbeat reuses the dir. */
  runId: string;
  signal: AbortSignal;
  /** The activity's heartbeat timeout, if it has one. */
  heartbeatTimeoutMs: number | undefined;
}

/**
 * The Temporal activity context, when running inside one (the local runner has none). Imported on use: the SDK's
 * module graph is a good part of a cache-hit run's start-up, and only a scrape needs it.
 */
async function temporalSide(): Promise<TemporalSide | undefined> {
  const { Context } = await import('@temporalio/activity');
  try {
    const context = Context.current();
    const { workflowExecution, activityId, heartbeatDetails, heartbeatTimeoutMs } = context.info;
    const runId = sha256Hex(`${workflowExecution?.workflowId}/${workflowExecution?.runId}/${activityId}`).slice(0, 16);
    return { details: heartbeatDetails, runId, signal: context.cancellationSignal, heartbeatTimeoutMs };
  } catch {
    return undefined;
  }
}

/** The checkpoint in `details` if it belongs to this scrape. */
export function parseCheckpoint(details: unknown, input: ScrapeAppInput): ScrapeCheckpoint | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const cp = details as Partial<ScrapeCheckpoint>;
  if (cp.scope !== checkpointScope(input) || typeof cp.runId !== 'string' || !/^[\w-]+$/.test(cp.runId)) return undefined;
  if (typeof cp.pageNumber !== 'number' || typeof cp.stored !== 'number' || typeof cp.bytes !== 'number') return undefined;
  return cp as ScrapeCheckpoint;
}

const LOG_FILE = 'pages.ndjson';
/** Heartbeat interval while merging, well inside the scrape profile's heartbeat timeout (2 min), and a third of a shorter one. */
const MERGE_HEARTBEAT_MS = 20_000;

function mergeHeartbeatMs(heartbeatTimeoutMs: number | undefined): number {
  return heartbeatTimeoutMs ? Math.min(MERGE_HEARTBEAT_MS, Math.max(100, Math.floor(heartbeatTimeoutMs / 3))) : MERGE_HEARTBEAT_MS;
}

/**
 * Prepares the run's work dir and page log: fresh for a new run; for a resumed one, the log cut to the
 * checkpoint, whose review ids are returned (stored already: a re-fetched review is a duplicate).
 * Undefined when the log is shorter than its checkpoint (lost with an OS crash): start over.
 */
async function openRunLog(dir: string, resumed: ScrapeCheckpoint | undefined): Promise<{ log: PageLog; ids: string[] } | undefined> {
  if (!resumed) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    return { log: (await PageLog.open(join(dir, LOG_FILE), 0)) as PageLog, ids: [] };
  }
  await mkdir(dir, { recursive: true });
  const log = await PageLog.open(join(dir, LOG_FILE), resumed.bytes);
  if (!log) return undefined;
  return { log, ids: await loggedReviewIds(join(dir, LOG_FILE)) };
}

/** Removes a run's dir, and its app's dir when no other run of the app is pending. */
async function removeRunDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await rmdir(dirname(dir)).catch(() => undefined); // not empty: another run's pages wait there
}

interface RunContext {
  input: ScrapeAppInput;
  deps: ActivityDeps;
  options: ScrapeActivityOptions;
  log: PageLog;
  seen: Set<string>;
  signal: AbortSignal | undefined;
}

/** Scrapes the remaining pages, persisting and checkpointing each; returns the finished checkpoint. */
async function scrapeRemaining(ctx: RunContext, start: ScrapeCheckpoint): Promise<ScrapeCheckpoint> {
  const { input } = ctx;
  const now = ctx.options.now ?? (() => new Date());
  const finish = (cp: ScrapeCheckpoint, reason: StopReason, complete: boolean): ScrapeCheckpoint => ({
    ...cp,
    finished: { reason, complete, at: now().toISOString() },
  });
  if (start.pageNumber > 0 && start.token === null) return finish(start, 'end', true);
  const remaining = input.maxReviews === undefined || input.maxReviews === null ? Infinity : input.maxReviews - start.stored;
  if (remaining <= 0) return finish(start, 'max', false);
  let cp = start;
  const result = await client().scrapeReviews(
    {
      appId: input.appId,
      lang: input.lang,
      country: input.country,
      sort: input.sort,
      ...(input.filterScore !== undefined ? { filterScore: input.filterScore } : {}),
      maxReviews: remaining,
      ...(cp.token !== null ? { resumeToken: cp.token } : {}),
      resumePageNumber: cp.pageNumber,
      ...(cp.stopAtReviewId !== null ? { stopAtReviewId: cp.stopAtReviewId } : {}),
      ...(input.since !== undefined ? { since: input.since } : {}),
      ...(input.throttle !== undefined ? { throttle: input.throttle } : {}),
      ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
      ...(input.playBaseUrl !== undefined ? { baseUrl: input.playBaseUrl } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(ctx.options.limiter ? { limiter: ctx.options.limiter } : {}),
      now,
      seen: ctx.seen,
    },
    {
      // Returns before the page is on disk, so the next request overlaps the write; the checkpoint naming
      // the page is heartbeated only once it is persisted.
      onPage: async (page) => {
        const next: ScrapeCheckpoint = {
          ...cp,
          token: page.nextToken,
          pageNumber: page.pageNumber,
          stored: cp.stored + page.new,
          seen: cp.seen + page.seen,
          duplicates: cp.duplicates + page.duplicates,
          pages: cp.pages + 1,
        };
        cp = next;
        ctx.log.append(page, (bytes) => ctx.deps.heartbeat({ ...next, bytes }));
      },
    },
  );
  await ctx.log.flush();
  cp = finish({ ...cp, bytes: ctx.log.bytes }, result.reason, result.complete);
  ctx.deps.heartbeat(cp);
  return cp;
}

function windowOf(input: ScrapeAppInput, cp: ScrapeCheckpoint): ScrapeWindow {
  const finished = cp.finished as NonNullable<ScrapeCheckpoint['finished']>;
  const baseUrl = client().resolvePlayBaseUrl(input.playBaseUrl);
  return {
    runId: cp.runId,
    appId: input.appId,
    lang: input.lang,
    country: input.country,
    sort: input.sort,
    filterScore: input.filterScore ?? null,
    maxReviews: input.maxReviews ?? null,
    since: input.since ?? null,
    stopAtReviewId: cp.stopAtReviewId,
    baseUrl: baseUrl ? baseUrl.href : null,
    seen: cp.seen,
    new: cp.stored,
    duplicates: cp.duplicates,
    pages: cp.pages,
    complete: finished.complete,
    stopReason: finished.reason,
    startedAt: cp.startedAt,
    finishedAt: finished.at,
  };
}

/** Where a run keeps its page log until it is merged. */
export function workDir(root: string, scope: AppScope, runId: string): string {
  return join(scrapesDir(root), 'work', scopeName(scope), runId);
}

interface OpenRun {
  start: ScrapeCheckpoint;
  dir: string;
  log: PageLog;
  seen: Set<string>;
  signal: AbortSignal | undefined;
  heartbeatTimeoutMs: number | undefined;
}

/** Opens the run: its checkpoint (resumed, or fresh), its page log, and the review ids already stored. */
async function beginRun(deps: ActivityDeps, options: ScrapeActivityOptions, input: ScrapeAppInput): Promise<OpenRun> {
  const temporal = await temporalSide();
  let resumed = parseCheckpoint(options.resumeState ? options.resumeState() : temporal?.details, input);
  const runId = resumed?.runId ?? temporal?.runId ?? randomUUID();
  const dir = workDir(deps.store.root, input, runId);
  const before = await latestSnapshot(deps.store, input);
  const seen = before ? await snapshotReviewIds(deps.store, before.key) : new Set<string>();
  let opened = await openRunLog(dir, resumed);
  if (!opened) {
    deps.warn(
      `scrape ${scopeName(input)}: the page log of run ${runId} is shorter than its checkpoint (lost in a machine ` +
        'crash); scraping this window again from the first page.',
    );
    resumed = undefined;
    opened = (await openRunLog(dir, undefined)) as NonNullable<typeof opened>;
  }
  for (const id of opened.ids) seen.add(id);
  const incremental = isIncremental({ sort: input.sort, filterScore: input.filterScore ?? null }) && !input.full;
  const start: ScrapeCheckpoint = resumed ?? {
    runId,
    scope: checkpointScope(input),
    token: null,
    pageNumber: 0,
    bytes: 0,
    stored: 0,
    seen: 0,
    duplicates: 0,
    pages: 0,
    stopAtReviewId: incremental ? (before?.stopAtReviewId ?? null) : null,
    startedAt: (options.now ?? (() => new Date()))().toISOString(),
  };
  return { start, dir, log: opened.log, seen, signal: temporal?.signal, heartbeatTimeoutMs: temporal?.heartbeatTimeoutMs };
}

/** Scrapes (or finishes resuming) the window; on failure keeps the persisted pages for the retry. */
async function scrapeWindow(deps: ActivityDeps, options: ScrapeActivityOptions, input: ScrapeAppInput, run: OpenRun): Promise<ScrapeCheckpoint> {
  try {
    if (run.start.finished) return run.start;
    return await scrapeRemaining({ input, deps, options, log: run.log, seen: run.seen, signal: run.signal }, run.start);
  } catch (error) {
    await run.log.close(); // pages already queued still get written and checkpointed
    if (run.log.bytes === 0) await removeRunDir(run.dir); // nothing to resume: leave no empty dir
    throw error;
  }
}

/** The activity: `scrapeApp(input)` scrapes, persists per page, resumes from heartbeat details, merges. */
export function createScrapeActivity(deps: ActivityDeps, options: ScrapeActivityOptions = {}) {
  return async function scrapeApp(input: ScrapeAppInput): Promise<ScrapeAppOutput> {
    const started = performance.now();
    validate(input);
    (await loadPlayClient()).resolvePlayBaseUrl(input.playBaseUrl); // a bad URL fails before anything is written
    const run = await beginRun(deps, options, input);
    const done = await scrapeWindow(deps, options, input, run);
    await run.log.close();
    const window = windowOf(input, done);
    const pages = run.log.bytes > 0 ? [join(run.dir, LOG_FILE)] : [];
    // Waiting for the lock and merging a large snapshot can outlast the heartbeat timeout: keep telling Temporal we are alive.
    const keepAlive = setInterval(() => deps.heartbeat(done), mergeHeartbeatMs(run.heartbeatTimeoutMs));
    // Merge into the latest snapshot at this moment, not the one seen at the start, and under the app's
    // lock: a concurrent run of the same app (another worker, a manual `ulasan scrape`) may commit
    // meanwhile, and its reviews must survive.
    const { latest, committed } = await withFileLock(
      lockPath(deps.store.root, input),
      async () => {
        const latest = await latestSnapshot(deps.store, input);
        return { latest, committed: await commitSnapshot(deps.store, { pageLogs: pages, previous: latest, window }) };
      },
      { onWait: () => deps.heartbeat(done) },
    ).finally(() => clearInterval(keepAlive));
    await removeRunDir(run.dir);
    return {
      appId: input.appId,
      ref: { key: committed.key, stage: SCRAPE_STAGE },
      previousKey: latest?.key ?? null,
      changed: committed.changed,
      rows: committed.rows,
      window,
      ms: Math.round(performance.now() - started),
    };
  };
}

export interface CombineScrapesInput {
  /** The per-app snapshots of one run, each app once. */
  apps: { appId: string; key: string }[];
}

/**
 * `combineScrapes`: several apps' snapshots as one `scrape` artifact (reviews.parquet ordered by app,
 * newest first), keyed by the snapshots' keys, so the pipeline can train on a whole run.
 */
export function createCombineScrapesActivity(deps: ActivityDeps) {
  return async function combineScrapes(input: CombineScrapesInput): Promise<StageOutcome> {
    const apps = input.apps.map((app) => app.appId);
    if (apps.length === 0 || new Set(apps).size !== apps.length) {
      throw badInput(`combineScrapes needs at least one app, each once; got [${apps.join(', ')}].`, { stage: SCRAPE_STAGE, field: 'apps' });
    }
    const inputs = Object.fromEntries(input.apps.map((app) => [app.appId, { key: app.key, stage: SCRAPE_STAGE }]));
    return runStage(deps.store, combinedStage(apps), { kind: 'combined', apps }, inputs, deps);
  };
}
