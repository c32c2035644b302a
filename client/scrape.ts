/**
 * `ulasan scrape`: the nightly scrape plan run once in-process. Each app's scrape activity is retried
 * with the workflow's policy (`SCRAPE_PROFILES`, honouring Retry-After), and each retry resumes from the
 * checkpoint the previous attempt heartbeated, exactly as Temporal would hand it back.
 */
import type { Command } from 'commander';
import { createActivities } from '../activities';
import { badInput } from '../core/errors';
import type { ReviewSort } from '../activities/scrape/play-client';
import { withRetry } from '../core/retry';
import { createScrapeActivity, type ScrapeAppInput, type ScrapeAppOutput } from '../activities/scrape/scrape-app';
import type { PipelinePlan } from '../workflows/plans/pipeline';
import {
  SCRAPE_PROFILES,
  runNightlyScrape,
  validateNightlyPlan,
  type NightlyScrapePlan,
  type NightlyScoring,
  type NightlyScrapeResult,
  type NightlyScrapeSteps,
} from '../workflows/plans/scrape';
import { ArtifactStore } from '../data/store/artifact-store';
import { loadExperiment } from './experiment';
import { runLocal } from './local-runner';
import { driftThresholdsFrom, runScoringLocal, scoringModelFor, withDriftThresholdOptions, type DriftThresholdOptions } from './score';

/** The options `ulasan scrape` and `ulasan schedule create` share, as commander parses them. */
export interface ScrapeCliOptions extends DriftThresholdOptions {
  app: string[];
  lang: string;
  country: string;
  sort: string;
  max?: number;
  since?: string;
  stars?: number;
  playBaseUrl?: string;
  throttle?: number;
  concurrency?: number;
  full?: boolean;
  /** An experiment spec to run afterwards on the scraped reviews (its `source` is replaced). */
  pipeline?: string;
  /** A model (tag, run id or train key) to score each run's new reviews with, checking them for drift. */
  scoreWith?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const number = (value: string): number => Number(value);

/** Declares the shared scrape options on a command (`scrape`, `schedule create`). */
export function withScrapeOptions(command: Command): Command {
  return command
    .option('--app <appId>', 'app package name, e.g. com.gojek.gopay (repeat for several apps)', collect, [])
    .option('--lang <lang>', 'review language', 'id')
    .option('--country <country>', 'store country', 'id')
    .option('--sort <sort>', 'newest | helpfulness | rating (newest stops at the newest stored review)', 'newest')
    .option('--max <n>', 'new reviews per app at most (default: no limit)', number)
    .option('--since <date>', 'sort newest: stop at reviews dated at or before this ISO date')
    .option('--stars <n>', 'only reviews with this many stars (1-5)', number)
    .option('--play-base-url <url>', 'send requests here instead of Google Play (default: ULASAN_PLAY_BASE_URL)')
    .option('--throttle <rps>', 'requests per second across all apps (default: no throttle)', number)
    .option('--concurrency <n>', 'apps scraped at once (default 4)', number)
    .option('--full', 'read from the top, ignoring the incremental stop (backfills what --max or --since left out)')
    .option('--pipeline <spec>', 'afterwards, run this experiment spec on the scraped reviews')
    .option('--score-with <model>', "afterwards, label the run's new reviews with this model (tag, run id or train key; a tag is resolved now) and check them for drift against its training window");
}

/** The shared scrape options and, for `--score-with`, the drift thresholds. */
export function withNightlyOptions(command: Command): Command {
  return withDriftThresholdOptions(withScrapeOptions(command));
}

/** Where `--score-with` is resolved, and the name its runs are recorded under. */
export interface ScoringContext {
  /** @default the store at ULASAN_HOME */
  store?: ArtifactStore;
  /** @default `nightly <app>` */
  name?: string;
}

/** The plan's `score` for `--score-with`: the model resolved in the store now, with the thresholds the flags set. */
async function scoringFromOptions(options: ScrapeCliOptions, context: ScoringContext): Promise<Pick<NightlyScrapePlan, 'score'>> {
  const thresholds = driftThresholdsFrom(options);
  if (options.scoreWith === undefined) {
    if (Object.keys(thresholds).length > 0) throw badInput('the --max-* drift thresholds apply to nightly scoring: give --score-with <model> too.', { field: 'score-with' });
    return {};
  }
  const name = context.name ?? `nightly ${options.app[0] ?? ''}`.trim();
  return { score: await scoringModelFor(context.store ?? new ArtifactStore(), options.scoreWith, thresholds, name) };
}

/** The plan the CLI options describe; fails naming the option when one is wrong. */
export async function nightlyPlanFromOptions(options: ScrapeCliOptions, scoring: ScoringContext = {}): Promise<NightlyScrapePlan> {
  if (options.stars !== undefined && ![1, 2, 3, 4, 5].includes(options.stars)) {
    throw badInput(`--stars must be 1..5, got ${options.stars}.`, { stage: 'scrape', field: 'stars' });
  }
  if (options.since !== undefined && Number.isNaN(Date.parse(options.since))) {
    throw badInput(`--since must be an ISO date such as 2025-01-31, got ${JSON.stringify(options.since)}.`, { stage: 'scrape', field: 'since' });
  }
  if (options.throttle !== undefined && !(options.throttle > 0)) {
    throw badInput(`--throttle must be > 0 requests per second, got ${options.throttle}.`, { stage: 'scrape', field: 'throttle' });
  }
  const plan: NightlyScrapePlan = {
    apps: options.app,
    lang: options.lang,
    country: options.country,
    sort: options.sort as ReviewSort,
    ...(options.max !== undefined ? { max: options.max } : {}),
    ...(options.since !== undefined ? { since: new Date(options.since).toISOString() } : {}),
    ...(options.stars !== undefined ? { filterScore: options.stars as 1 | 2 | 3 | 4 | 5 } : {}),
    ...(options.playBaseUrl !== undefined ? { playBaseUrl: options.playBaseUrl } : {}),
    ...(options.throttle !== undefined ? { throttle: options.throttle } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.full ? { full: true } : {}),
    ...(options.pipeline !== undefined ? { runPipeline: await pipelineForScrape(options.pipeline) } : {}),
    ...(await scoringFromOptions(options, scoring)),
  };
  const problems = validateNightlyPlan(plan);
  if (problems.length > 0) throw badInput(`ulasan scrape: ${problems.join(' ')}`, { stage: 'scrape' });
  return plan;
}

/** An experiment spec as the pipeline to run on a scrape: everything but its source. */
export async function pipelineForScrape(specPath: string): Promise<Omit<PipelinePlan, 'source'>> {
  const experiment = await loadExperiment(specPath);
  if (experiment.kind !== 'pipeline') {
    throw badInput(`--pipeline ${specPath} is a grid spec; give a single-pipeline spec (no grid: section).`, { file: specPath, field: 'pipeline' });
  }
  const { source, ...rest } = experiment.plan;
  void source; // replaced by the scrape
  return rest;
}

export interface LocalScrapeOptions {
  store: ArtifactStore;
  log?: (message: string) => void;
  /** How retries wait (tests pass a fake). @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** One app's scrape, retried like the workflow's activity, each attempt resuming from the last heartbeat. */
function localScrapeApp(options: LocalScrapeOptions, log: (message: string) => void) {
  return async (input: ScrapeAppInput): Promise<ScrapeAppOutput> => {
    let checkpoint: unknown;
    const deps = { store: options.store, heartbeat: (details?: unknown) => void (checkpoint = details), warn: log };
    const scrapeApp = createScrapeActivity(deps, { resumeState: () => checkpoint });
    return withRetry(() => scrapeApp(input), {
      policy: SCRAPE_PROFILES.scrapeApp.retry,
      ...(options.sleep ? { sleep: options.sleep } : {}),
      onRetry: ({ attempt, delayMs, error }) =>
        log(`${input.appId}: attempt ${attempt} failed (${(error as Error).message}); resuming in ${delayMs} ms`),
    });
  };
}

/** Runs the nightly plan once, in this process. */
export async function runScrapeLocal(plan: NightlyScrapePlan, options: LocalScrapeOptions): Promise<NightlyScrapeResult> {
  const log = options.log ?? (() => undefined);
  const activities = createActivities({ store: options.store, heartbeat: () => undefined, warn: log });
  const steps: NightlyScrapeSteps = {
    scrapeApp: localScrapeApp(options, log),
    combineScrapes: (input) =>
      withRetry(() => activities.combineScrapes(input), { policy: SCRAPE_PROFILES.combineScrapes.retry, ...(options.sleep ? { sleep: options.sleep } : {}) }),
    runPipeline: (pipeline) => runLocal(pipeline, { store: options.store, log }),
    runScoring: (scoring) => runScoringLocal(options.store, scoring, log),
  };
  return runNightlyScrape(steps, plan);
}

/**
 * The `--json` line: `{key, apps: [{appId, key, rows, seen, new, duplicates, complete, stopReason}
 * | {appId, error}], failed, pipeline?}`. `key` is the run's scrape: the snapshot for one app, a combined
 * artifact (importable the same way) for several, null when every app failed.
 */
export function scrapeJson(result: NightlyScrapeResult): string {
  const apps = result.apps.map((app) => {
    if (app.status === 'failed') return { appId: app.appId, error: app.error };
    const { seen, new: added, duplicates, complete, stopReason } = app.window;
    return { appId: app.appId, key: app.key, rows: app.rows, seen, new: added, duplicates, complete, stopReason };
  });
  const pipeline =
    result.pipeline?.status === 'ok'
      ? { metricsKey: result.pipeline.result.metricsKey, reportKey: result.pipeline.result.reportKey }
      : result.pipeline?.error;
  return JSON.stringify({ key: result.key, apps, failed: result.failed, ...(pipeline ? { pipeline } : {}), ...(result.scoring ? { scoring: scoringJson(result.scoring) } : {}) });
}

/** The night's scoring as `--json` prints it: status, alerts, run id and keys (or why it was skipped or failed). */
function scoringJson(scoring: NightlyScoring): Record<string, unknown> {
  if (scoring.status === 'skipped') return { status: scoring.status, reason: scoring.reason };
  if (scoring.status === 'failed') return { status: scoring.status, error: scoring.error };
  const { runId, predictionsKey, driftKey } = scoring.result;
  return { status: scoring.status, alerts: scoring.alerts, runId, predictionsKey, driftKey };
}

/** `ulasan scrape`'s exit code: 1 when an app, the pipeline or the scoring failed; 3 when the scoring found drift (as `ulasan score`). */
export function scrapeExitCode(result: NightlyScrapeResult): number {
  if (result.failed > 0 || result.pipeline?.status === 'failed' || result.scoring?.status === 'failed') return 1;
  return result.scoring?.status === 'drift' ? 3 : 0;
}

/** Human lines: one per app, then the run key. */
export function formatScrape(result: NightlyScrapeResult): string[] {
  const lines = result.apps.map((app) => {
    if (app.status === 'failed') return `${app.appId}  FAILED (${app.error.type ?? 'error'}): ${app.error.message}`;
    const w = app.window;
    const state = w.complete ? w.stopReason : `${w.stopReason}, incomplete`;
    return `${app.appId}  seen ${w.seen}  new ${w.new}  duplicates ${w.duplicates}  (${state})  rows ${app.rows}  ${app.key}`;
  });
  lines.push(`key: ${result.key ?? 'none (every app failed)'}`);
  if (result.pipeline?.status === 'ok') lines.push(`metrics: ${result.pipeline.result.metricsKey}`);
  if (result.pipeline?.status === 'failed') lines.push(`pipeline FAILED: ${result.pipeline.error.message}`);
  if (result.scoring) lines.push(...formatScoring(result.scoring));
  return lines;
}

function formatScoring(scoring: NightlyScoring): string[] {
  if (scoring.status === 'skipped') return [`scoring skipped: ${scoring.reason}`];
  if (scoring.status === 'failed') return [`scoring FAILED (${scoring.error.type ?? 'error'}): ${scoring.error.message}`];
  const head = `scoring ${scoring.status.toUpperCase()} (run ${scoring.result.runId ?? '-'}): predictions ${scoring.result.predictionsKey}, drift ${scoring.result.driftKey}`;
  return [head, ...scoring.alerts.map((alert) => `ALERT: ${alert}`)];
}
