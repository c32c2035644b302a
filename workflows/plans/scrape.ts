/**
 * The nightly scrape as a plain async function over its steps: scrape each app (isolated: a failed app
 * is recorded and the others go on), combine the run's snapshots into one scrape artifact when there are
 * several, and optionally run the pipeline on it. The Temporal workflow passes child workflows and
 * activity proxies; `ulasan scrape` passes the local activities with the same retry policy.
 * No Temporal and no Node here.
 */
import type { StageOutcome } from '../../activities/context';
import type { ReviewSort } from '../../activities/scrape/play-client';
import type { CombineScrapesInput, ScrapeAppInput, ScrapeAppOutput } from '../../activities/scrape/scrape-app';
import type { ScrapeWindow } from '../../activities/scrape/scrape';
import type { PipelinePlan, PipelineResult } from './pipeline';
import { DEFAULT_QUEUE_TIMEOUT_MS, PROFILES, type ActivityProfile } from '../../core/profiles';
import { describeFailure, type FailureSummary } from '../../core/failures';
import type { ScoringPlan, ScoringResult } from './score';

export interface NightlyScrapePlan {
  /** Package names, each scraped once per run (repeats are ignored). */
  apps: string[];
  /** Review language, e.g. `id`. */
  lang: string;
  /** Store country, e.g. `id`. */
  country: string;
  sort: ReviewSort;
  /** New reviews per app at most. @default undefined (no limit) */
  max?: number;
  /** Only reviews with this many stars. @default undefined (all) */
  filterScore?: 1 | 2 | 3 | 4 | 5;
  /** Sort newest only: stop at reviews dated at or before this ISO date. @default undefined */
  since?: string;
  /** Send requests here instead of Google Play (tests, proxies). @default ULASAN_PLAY_BASE_URL on the worker */
  playBaseUrl?: string;
  /** Requests per second, shared by the apps scraped in one process. @default undefined (no throttle) */
  throttle?: number;
  /** Read from the top, ignoring the incremental stop (backfill). @default false */
  full?: boolean;
  /** Apps scraped at once. @default 4 */
  concurrency?: number;
  /** Runs this pipeline afterwards on the run's scrape (the plan's source becomes the scrape). @default undefined */
  runPipeline?: Omit<PipelinePlan, 'source'>;
  /**
   * Nightly scoring: afterwards, the night's new reviews (the one app's scrape run) are labelled by this
   * model and checked for drift against its training window; measures past the thresholds are alerts in the
   * result. The client resolves the model (a tag) when it makes the plan. @default undefined (no scoring)
   */
  score?: Omit<ScoringPlan, 'source'>;
  /**
   * Temporal only: the task queue of the scrape activities. The throttle is per worker process, so one
   * worker on this queue per outgoing address keeps Play's rate limit however many pipeline workers run.
   * @default 'scrape'
   */
  scrapeTaskQueue?: string;
  /** Temporal only: how long a scrape may go without a heartbeat before its worker is presumed dead and it resumes elsewhere. @default 120000 */
  heartbeatTimeoutMs?: number;
  /** Temporal only: how long a scrape may wait for a worker on `scrapeTaskQueue` before the app fails naming the queue. @default 1 hour */
  queueTimeoutMs?: number;
}

/** The activities the plan calls (the worker registers them; `ulasan scrape` calls them in-process). */
export interface ScrapeActivities {
  scrapeApp(input: ScrapeAppInput): Promise<ScrapeAppOutput>;
  combineScrapes(input: CombineScrapesInput): Promise<StageOutcome>;
}

/** How the plan reaches each step: child workflows on Temporal, direct calls locally. */
export interface NightlyScrapeSteps extends ScrapeActivities {
  runPipeline(plan: PipelinePlan): Promise<PipelineResult>;
  runScoring(plan: ScoringPlan): Promise<ScoringResult>;
}

/**
 * Branches a workflow takes only when its history allows (workflows/README.md: the workflow passes
 * `patched(id)`, the local runner the defaults).
 */
export interface NightlyBranches {
  /** Score the night when the plan asks (`score`). @default true */
  scoring?: boolean;
}


export type AppOutcome =
  | { appId: string; status: 'ok'; key: string; changed: boolean; rows: number; window: ScrapeWindow }
  | { appId: string; status: 'failed'; error: FailureSummary };

/** How the night's scoring went: `drift` when a measure crossed its threshold (the alerts say which). */
export type NightlyScoring =
  | { status: 'ok' | 'drift'; alerts: string[]; result: ScoringResult }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; error: FailureSummary };

export interface NightlyScrapeResult {
  /** The run's scrape: the app's snapshot for one app, a combined artifact for several; null if all failed. */
  key: string | null;
  apps: AppOutcome[];
  failed: number;
  pipeline?: { status: 'ok'; result: PipelineResult } | { status: 'failed'; error: FailureSummary };
  scoring?: NightlyScoring;
}

/**
 * The scrape activity's profile: the `io` retry policy, with room for a long scrape (every retry
 * resumes from the heartbeat checkpoint) and a heartbeat timeout so a dead worker is noticed in minutes.
 */
export const SCRAPE_ACTIVITY_PROFILE: ActivityProfile = {
  ...PROFILES.io,
  startToCloseTimeout: 4 * 60 * 60_000,
  heartbeatTimeout: 2 * 60_000,
};

/** Which profile each scrape activity runs under. */
export const SCRAPE_PROFILES: Record<keyof ScrapeActivities, ActivityProfile> = {
  scrapeApp: SCRAPE_ACTIVITY_PROFILE,
  combineScrapes: PROFILES.io,
};

export const DEFAULT_SCRAPE_CONCURRENCY = 4;
export const DEFAULT_SCRAPE_TASK_QUEUE = 'scrape';

/** Where and how the scrape activity runs on Temporal (from the plan): its own queue, its heartbeat timeout. */
export interface ScrapeRouting {
  taskQueue?: string;
  heartbeatTimeoutMs?: number;
  queueTimeoutMs?: number;
}

export function scrapeRouting(plan: NightlyScrapePlan): ScrapeRouting {
  return {
    ...(plan.scrapeTaskQueue !== undefined ? { taskQueue: plan.scrapeTaskQueue } : {}),
    ...(plan.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: plan.heartbeatTimeoutMs } : {}),
    ...(plan.queueTimeoutMs !== undefined ? { queueTimeoutMs: plan.queueTimeoutMs } : {}),
  };
}

/**
 * The scrape activity's options on Temporal: its profile on its own task queue, with a schedule-to-start timeout there
 * (a mistyped queue or a scrape worker that never started fails the app, instead of waiting forever).
 */
export function scrapeActivityOptions(routing: ScrapeRouting): ActivityProfile & { taskQueue: string; scheduleToStartTimeout: number } {
  return {
    ...SCRAPE_ACTIVITY_PROFILE,
    taskQueue: routing.taskQueue ?? DEFAULT_SCRAPE_TASK_QUEUE,
    scheduleToStartTimeout: routing.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS,
    ...(routing.heartbeatTimeoutMs !== undefined ? { heartbeatTimeout: routing.heartbeatTimeoutMs } : {}),
  };
}

/** What is wrong with a plan, one message per problem (empty when it is fine). */
export function validateNightlyPlan(plan: NightlyScrapePlan): string[] {
  const problems: string[] = [];
  if (!Array.isArray(plan.apps) || plan.apps.length === 0) problems.push('apps: give at least one app id (--app com.example.app).');
  if (!['newest', 'helpfulness', 'rating'].includes(plan.sort)) problems.push(`sort: newest, helpfulness or rating, got ${JSON.stringify(plan.sort)}.`);
  if (plan.max !== undefined && !(Number.isInteger(plan.max) && plan.max > 0)) problems.push(`max: a positive integer, got ${plan.max}.`);
  if (plan.concurrency !== undefined && !(Number.isInteger(plan.concurrency) && plan.concurrency > 0)) {
    problems.push(`concurrency: a positive integer, got ${plan.concurrency}.`);
  }
  if (plan.scrapeTaskQueue !== undefined && !(typeof plan.scrapeTaskQueue === 'string' && /^\S+$/.test(plan.scrapeTaskQueue))) {
    problems.push(`scrapeTaskQueue: a task queue name without spaces, got ${JSON.stringify(plan.scrapeTaskQueue)}.`);
  }
  if (plan.heartbeatTimeoutMs !== undefined && !(Number.isInteger(plan.heartbeatTimeoutMs) && plan.heartbeatTimeoutMs >= 1000)) {
    problems.push(`heartbeatTimeoutMs: an integer of at least 1000 (ms), got ${plan.heartbeatTimeoutMs}.`);
  }
  if (plan.queueTimeoutMs !== undefined && !(Number.isInteger(plan.queueTimeoutMs) && plan.queueTimeoutMs >= 1000)) {
    problems.push(`queueTimeoutMs: an integer of at least 1000 (ms), got ${plan.queueTimeoutMs}.`);
  }
  if (plan.score) problems.push(...scoringProblems(plan));
  return problems;
}

const SHA256_KEY = /^[0-9a-f]{64}$/;

/** What is wrong with a plan's `score` (one app; a model key; thresholds that are numbers ≥ 0). */
function scoringProblems(plan: NightlyScrapePlan): string[] {
  const score = plan.score!;
  const problems: string[] = [];
  const apps = new Set(plan.apps).size;
  if (apps > 1) problems.push(`score: a model scores one app's nights; make one schedule per app (this one has ${apps}).`);
  if (!SHA256_KEY.test(score.model)) problems.push(`score.model: a train artifact key (64 hex digits), got ${JSON.stringify(score.model)}.`);
  for (const [name, value] of Object.entries(score.thresholds ?? {})) {
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      problems.push(`score.thresholds.${name}: a number ≥ 0, got ${JSON.stringify(value)}.`);
    }
  }
  return problems;
}

/** One scrape input per distinct app, in the order given. */
export function scrapeInputs(plan: NightlyScrapePlan): ScrapeAppInput[] {
  return [...new Set(plan.apps)].map((appId) => ({
    appId,
    lang: plan.lang,
    country: plan.country,
    sort: plan.sort,
    ...(plan.max !== undefined ? { maxReviews: plan.max } : {}),
    ...(plan.filterScore !== undefined ? { filterScore: plan.filterScore } : {}),
    ...(plan.since !== undefined ? { since: plan.since } : {}),
    ...(plan.playBaseUrl !== undefined ? { playBaseUrl: plan.playBaseUrl } : {}),
    ...(plan.throttle !== undefined ? { throttle: plan.throttle } : {}),
    ...(plan.full ? { full: true } : {}),
  }));
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

async function scrapeOne(steps: NightlyScrapeSteps, input: ScrapeAppInput): Promise<AppOutcome> {
  try {
    const out = await steps.scrapeApp(input);
    return { appId: input.appId, status: 'ok', key: out.ref.key, changed: out.changed, rows: out.rows, window: out.window };
  } catch (error) {
    return { appId: input.appId, status: 'failed', error: describeFailure(error) };
  }
}

/** Scores the night's new reviews of the plan's one app; a failure is recorded, never thrown (the scrape stands). */
async function scoreNight(steps: NightlyScrapeSteps, score: Omit<ScoringPlan, 'source'>, app: AppOutcome): Promise<NightlyScoring> {
  if (app.status === 'failed') return { status: 'skipped', reason: `the scrape of ${app.appId} failed: nothing to score` };
  if (!app.changed) return { status: 'skipped', reason: `no new reviews of ${app.appId} tonight: nothing to score` };
  try {
    const result = await steps.runScoring({ ...score, source: { kind: 'scrape', key: app.key, reviews: 'new' } });
    return { status: result.status, alerts: result.alerts, result };
  } catch (error) {
    return { status: 'failed', error: describeFailure(error) };
  }
}

/** Scrapes every app, combines what succeeded, runs the pipeline on it and scores the night when asked. */
export async function runNightlyScrape(steps: NightlyScrapeSteps, plan: NightlyScrapePlan, branches: NightlyBranches = {}): Promise<NightlyScrapeResult> {
  const result = await scrapeAndRunPipeline(steps, plan);
  if (!plan.score || !(branches.scoring ?? true) || result.key === null) return result;
  return { ...result, scoring: await scoreNight(steps, plan.score, result.apps[0]!) };
}

async function scrapeAndRunPipeline(steps: NightlyScrapeSteps, plan: NightlyScrapePlan): Promise<NightlyScrapeResult> {
  const inputs = scrapeInputs(plan);
  const apps = await mapLimited(inputs, plan.concurrency ?? DEFAULT_SCRAPE_CONCURRENCY, (input) => scrapeOne(steps, input));
  const ok = apps.filter((app): app is Extract<AppOutcome, { status: 'ok' }> => app.status === 'ok');
  const failed = apps.length - ok.length;
  let key: string | null = null;
  if (ok.length === 1) key = (ok[0] as { key: string }).key;
  if (ok.length > 1) key = (await steps.combineScrapes({ apps: ok.map(({ appId, key }) => ({ appId, key })) })).ref.key;
  const result: NightlyScrapeResult = { key, apps, failed };
  if (!plan.runPipeline || key === null) return result;
  try {
    const pipeline = await steps.runPipeline({ ...plan.runPipeline, source: { kind: 'scrape', key } });
    return { ...result, pipeline: { status: 'ok', result: pipeline } };
  } catch (error) {
    return { ...result, pipeline: { status: 'failed', error: describeFailure(error) } };
  }
}
