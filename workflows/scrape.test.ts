/**
 * The scrape workflows without a Temporal server: histories of `scrapeAppWorkflow` and of
 * `nightlyScrapeWorkflow` (one child per app, a failed child, the combine activity, the pipeline child)
 * replay against the bundled workflow code; the same night with its children reordered does not.
 */
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ScrapeAppInput, ScrapeAppOutput } from '../activities/scrape/scrape';
import type { ScrapeWindow } from '../activities/scrape/snapshot';
import { ScrapeError } from '../activities/scrape/play-errors';
import { toApplicationFailure } from '../worker/activities';
import type { PipelinePlan } from './plans/pipeline';
import { runNightlyScrape, type NightlyScrapePlan } from './plans/scrape';
import { buildHistory, type RecordedActivityCall, type RecordedChildCall, type RecordedRun } from './testing/history';

const workflowsPath = fileURLToPath(new URL('./index.ts', import.meta.url));
const silent = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
let workflowBundle: { code: string };

beforeAll(async () => {
  workflowBundle = { code: (await bundleWorkflowCode({ workflowsPath, logger: silent })).code };
}, 120_000);

const replay = (run: RecordedRun) => Worker.runReplayHistory({ workflowBundle }, buildHistory(run), run.workflowId);

function output(input: ScrapeAppInput): ScrapeAppOutput {
  const window: ScrapeWindow = {
    runId: 'r1', appId: input.appId, lang: input.lang, country: input.country, sort: input.sort, filterScore: null,
    maxReviews: input.maxReviews ?? null, since: null, stopAtReviewId: null, baseUrl: null, seen: 150, new: 150,
    duplicates: 0, pages: 1, complete: true, stopReason: 'end', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:00:01.000Z',
  };
  return { appId: input.appId, ref: { key: `key-${input.appId}`, stage: 'scrape' }, previousKey: null, changed: true, rows: 150, window, ms: 5 };
}

const PARENT = 'nightly-2025-01-01T02:00:00Z';
const plan: NightlyScrapePlan = {
  apps: ['com.a.app', 'com.missing.app', 'com.c.app'],
  lang: 'id',
  country: 'id',
  sort: 'newest',
  max: 300,
  runPipeline: { name: 'nightly' } as Omit<PipelinePlan, 'source'>,
};

/** Runs the plan over recording steps and lays the calls out as the workflow's tasks would schedule them. */
async function recordNight(): Promise<RecordedRun> {
  const children: RecordedChildCall[] = [];
  const combines: RecordedActivityCall[] = [];
  const pipelines: RecordedChildCall[] = [];
  const child = (workflowType: string, workflowId: string, args: unknown[]): RecordedChildCall => ({ kind: 'child', workflowType, workflowId, taskQueue: 'ulasan', args });
  const result = await runNightlyScrape(
    {
      async scrapeApp(input) {
        const call = child('scrapeAppWorkflow', `${PARENT}/${input.appId}`, [input]);
        children.push(call);
        if (input.appId === 'com.missing.app') {
          call.failure = { type: 'NotFound', message: 'Google Play says app com.missing.app does not exist.' };
          throw Object.assign(new Error(call.failure.message), { type: 'NotFound' });
        }
        return (call.result = output(input));
      },
      async combineScrapes(input) {
        const result = { ref: { key: 'combined', stage: 'scrape' }, cache: 'miss' as const, ms: 1, summary: {} };
        combines.push({ activityType: 'combineScrapes', taskQueue: 'ulasan', args: [input], result });
        return result;
      },
      async runPipeline(pipeline) {
        const call = child('pipelineWorkflow', `${PARENT}/pipeline`, [pipeline]);
        pipelines.push(call);
        return (call.result = { metricsKey: 'm', reportKey: 'r', stages: [] });
      },
    },
    plan,
  );
  expect(result).toMatchObject({ key: 'combined', failed: 1, pipeline: { status: 'ok' } });
  return { workflowType: 'nightlyScrapeWorkflow', workflowId: PARENT, taskQueue: 'ulasan', args: [plan], steps: [children, combines, pipelines], result };
}

describe('scrape workflows', () => {
  it('replays scrapeAppWorkflow: one heartbeating scrape activity', async () => {
    const input: ScrapeAppInput = { appId: 'com.a.app', lang: 'id', country: 'id', sort: 'newest', maxReviews: 300 };
    const call: RecordedActivityCall = { activityType: 'scrapeApp', taskQueue: 'ulasan', args: [input], result: output(input) };
    const run: RecordedRun = { workflowType: 'scrapeAppWorkflow', workflowId: `${PARENT}/com.a.app`, taskQueue: 'ulasan', args: [input], steps: [[call]], result: call.result };
    await expect(replay(run)).resolves.toBeUndefined();
  }, 60_000);

  it('replays a night with one child per app, a failed child, the combine activity and the pipeline child', async () => {
    const run = await recordNight();
    expect(run.steps.map((step) => step.map((c) => ('kind' in c ? c.workflowId : c.activityType)))).toEqual([
      [`${PARENT}/com.a.app`, `${PARENT}/com.missing.app`, `${PARENT}/com.c.app`],
      ['combineScrapes'],
      [`${PARENT}/pipeline`],
    ]);
    await expect(replay(run)).resolves.toBeUndefined();
  }, 60_000);

  it('fails to replay when the children start in another order, or the combine step is missing', async () => {
    const run = await recordNight();
    const [first, second, third] = run.steps[0]!;
    const reordered = { ...run, steps: [[second!, first!, third!], ...run.steps.slice(1)] };
    await expect(replay(reordered)).rejects.toBeInstanceOf(DeterminismViolationError);
    const withoutCombine = { ...run, steps: [run.steps[0]!, run.steps[2]!] };
    await expect(replay(withoutCombine)).rejects.toBeInstanceOf(DeterminismViolationError);
  }, 60_000);
});

describe('worker failure mapping', () => {
  it("turns Play's Retry-After into the ApplicationFailure's nextRetryDelay, only for retryable failures", () => {
    const limited = toApplicationFailure(new ScrapeError('RateLimited', 'slow down', { retryAfterMs: 7_000, status: 429 }));
    expect(limited).toBeInstanceOf(ApplicationFailure);
    expect(limited).toMatchObject({ type: 'RateLimited', nonRetryable: false, nextRetryDelay: 7_000 });
    const notFound = toApplicationFailure(new ScrapeError('NotFound', 'no such app', { status: 404 }));
    expect(notFound).toMatchObject({ type: 'NotFound', nonRetryable: true, nextRetryDelay: undefined });
  });
});
