/** The nightly scrape plan in-process, over fake steps: per-app isolation, combining, the pipeline hand-off. */
import { describe, expect, it } from 'vitest';
import type { StageOutcome } from '../../activities/context';
import { UlasanError } from '../../core/errors';
import type { ScrapeAppInput, ScrapeAppOutput } from '../../activities/scrape/scrape-app';
import type { ScrapeWindow } from '../../activities/scrape/scrape';
import type { PipelinePlan, PipelineResult } from './pipeline';
import { describeFailure } from '../../core/failures';
import type { ScoringPlan, ScoringResult } from './score';
import { DEFAULT_QUEUE_TIMEOUT_MS } from '../../core/profiles';
import {
  SCRAPE_ACTIVITY_PROFILE,
  runNightlyScrape,
  scrapeActivityOptions,
  scrapeInputs,
  scrapeRouting,
  validateNightlyPlan,
  type NightlyScrapePlan,
  type NightlyScrapeSteps,
} from './scrape';

const plan: NightlyScrapePlan = { apps: ['com.a.app', 'com.b.app', 'com.c.app'], lang: 'id', country: 'id', sort: 'newest', max: 500 };

function window(appId: string, n: number): ScrapeWindow {
  return {
    runId: 'r', appId, lang: 'id', country: 'id', sort: 'newest', filterScore: null, maxReviews: 500, since: null,
    stopAtReviewId: null, baseUrl: null, seen: n, new: n, duplicates: 0, pages: 1, complete: true, stopReason: 'end',
    startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:00:01.000Z',
  };
}

/** Fake steps: `failing` apps throw, `unchanged` ones find nothing new; scoring alerts when told to; every call is logged. */
function fakeSteps(failing: string[] = [], pipelineFails = false, scoring: { alerts?: string[]; fails?: boolean; unchanged?: string[] } = {}) {
  const calls: string[] = [];
  const inputs: ScrapeAppInput[] = [];
  const pipelines: PipelinePlan[] = [];
  const scorings: ScoringPlan[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const steps: NightlyScrapeSteps = {
    async scrapeApp(input): Promise<ScrapeAppOutput> {
      calls.push(`scrape ${input.appId}`);
      inputs.push(input);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      if (failing.includes(input.appId)) throw new UlasanError('NotFound', `Google Play says app ${input.appId} does not exist.`);
      const n = input.appId.length;
      const changed = !scoring.unchanged?.includes(input.appId);
      return { appId: input.appId, ref: { key: `key-${input.appId}`, stage: 'scrape' }, previousKey: null, changed, rows: n, window: window(input.appId, n), ms: 1 };
    },
    async combineScrapes({ apps }): Promise<StageOutcome> {
      calls.push(`combine ${apps.map((a) => a.appId).join(',')}`);
      return { ref: { key: `combined-${apps.map((a) => a.key).join('+')}`, stage: 'scrape' }, cache: 'miss', ms: 1, summary: {} };
    },
    async runPipeline(pipeline): Promise<PipelineResult> {
      calls.push('pipeline');
      pipelines.push(pipeline);
      if (pipelineFails) throw new Error('training diverged');
      return { metricsKey: 'metrics', reportKey: 'report', stages: [] };
    },
    async runScoring(scoringPlan): Promise<ScoringResult> {
      calls.push('score');
      scorings.push(scoringPlan);
      if (scoring.fails) throw new UlasanError('NotFound', 'model gone');
      const alerts = scoring.alerts ?? [];
      return { status: alerts.length > 0 ? 'drift' : 'ok', alerts, predictionsKey: 'p', driftKey: 'd', stages: [], runId: 'run-x' };
    },
  };
  return { steps, calls, inputs, pipelines, scorings, maxInFlight: () => maxInFlight };
}

describe('runNightlyScrape', () => {
  it('records a failed app and still scrapes and combines the others', async () => {
    const fake = fakeSteps(['com.b.app']);
    const result = await runNightlyScrape(fake.steps, plan);
    expect(result.failed).toBe(1);
    expect(result.apps.map((a) => [a.appId, a.status])).toEqual([
      ['com.a.app', 'ok'],
      ['com.b.app', 'failed'],
      ['com.c.app', 'ok'],
    ]);
    expect(result.apps[1]).toMatchObject({ error: { type: 'NotFound', message: 'Google Play says app com.b.app does not exist.' } });
    expect(fake.calls.filter((c) => c.startsWith('combine'))).toEqual(['combine com.a.app,com.c.app']);
    expect(result.key).toBe('combined-key-com.a.app+key-com.c.app');
    expect(result.pipeline).toBeUndefined();
  });

  it('uses the one snapshot as the run key when a single app succeeds, without combining', async () => {
    const fake = fakeSteps(['com.a.app', 'com.c.app']);
    const result = await runNightlyScrape(fake.steps, plan);
    expect(result).toMatchObject({ key: 'key-com.b.app', failed: 2 });
    expect(fake.calls.some((c) => c.startsWith('combine'))).toBe(false);
  });

  it('has no key and runs no pipeline when every app fails', async () => {
    const fake = fakeSteps(plan.apps);
    const { key, failed, pipeline } = await runNightlyScrape(fake.steps, { ...plan, runPipeline: { name: 'x' } as PipelinePlan });
    expect({ key, failed, pipeline }).toEqual({ key: null, failed: 3, pipeline: undefined });
    expect(fake.calls).not.toContain('pipeline');
  });

  it('runs the pipeline afterwards on the run scrape, and records a pipeline failure without losing the scrape', async () => {
    const runPipeline = { name: 'nightly', clean: {} } as unknown as Omit<PipelinePlan, 'source'>;
    const ok = fakeSteps();
    const result = await runNightlyScrape(ok.steps, { ...plan, runPipeline });
    expect(ok.calls.at(-1)).toBe('pipeline');
    expect(ok.pipelines[0]).toEqual({ name: 'nightly', clean: {}, source: { kind: 'scrape', key: result.key } });
    expect(result.pipeline).toEqual({ status: 'ok', result: { metricsKey: 'metrics', reportKey: 'report', stages: [] } });

    const failing = fakeSteps([], true);
    const failed = await runNightlyScrape(failing.steps, { ...plan, runPipeline });
    expect(failed.pipeline).toEqual({ status: 'failed', error: { type: null, message: 'training diverged' } });
    expect(failed.key).toBe(result.key);
  });

  it('scrapes each distinct app once with the plan options, at most `concurrency` at a time', async () => {
    const apps = ['com.a.app', 'com.b.app', 'com.a.app', 'com.c.app', 'com.d.app', 'com.e.app'];
    const fake = fakeSteps();
    await runNightlyScrape(fake.steps, { ...plan, apps, concurrency: 2, throttle: 1, filterScore: 1 });
    expect(fake.inputs.map((i) => i.appId)).toEqual(['com.a.app', 'com.b.app', 'com.c.app', 'com.d.app', 'com.e.app']);
    expect(fake.maxInFlight()).toBe(2);
    expect(fake.inputs[0]).toEqual({ appId: 'com.a.app', lang: 'id', country: 'id', sort: 'newest', maxReviews: 500, throttle: 1, filterScore: 1 });
  });
});

describe('nightly scoring in the plan', () => {
  const MODEL = 'a'.repeat(64);
  const score: NonNullable<NightlyScrapePlan['score']> = {
    name: 'nightly',
    model: MODEL,
    modelRef: 'prod',
    clean: {} as ScoringPlan['clean'],
    label: {} as ScoringPlan['label'],
    reference: { key: 'b'.repeat(64), stage: 'annotate' },
    thresholds: { mixShift: 0.2 },
  };
  const scored: NightlyScrapePlan = { apps: ['com.a.app'], lang: 'id', country: 'id', sort: 'newest', score };

  it("scores the night's new reviews of the app after the scrape, carrying the alerts", async () => {
    const fake = fakeSteps([], false, { alerts: ['label mix shifted by 0.400'] });
    const result = await runNightlyScrape(fake.steps, { ...scored, runPipeline: {} as NightlyScrapePlan['runPipeline'] });
    expect(fake.calls).toEqual(['scrape com.a.app', 'pipeline', 'score']);
    expect(fake.scorings).toEqual([{ ...score, source: { kind: 'scrape', key: 'key-com.a.app', reviews: 'new' } }]);
    expect(result.scoring).toMatchObject({ status: 'drift', alerts: ['label mix shifted by 0.400'], result: { runId: 'run-x' } });
  });

  it('records a night with nothing new as skipped, a failed scoring as failed (the scrape stands), and scores nothing when not asked', async () => {
    const unchanged = await runNightlyScrape(fakeSteps([], false, { unchanged: ['com.a.app'] }).steps, scored);
    expect(unchanged.scoring).toEqual({ status: 'skipped', reason: 'no new reviews of com.a.app tonight: nothing to score' });
    const failed = await runNightlyScrape(fakeSteps([], false, { fails: true }).steps, scored);
    expect(failed).toMatchObject({ key: 'key-com.a.app', failed: 0, scoring: { status: 'failed', error: { type: 'NotFound', message: 'model gone' } } });
    const before = fakeSteps();
    expect((await runNightlyScrape(before.steps, scored, { scoring: false })).scoring).toBeUndefined();
    expect((await runNightlyScrape(before.steps, plan)).scoring).toBeUndefined();
    expect(before.calls).not.toContain('score');
  });

  it('validates the score: one app, a model key, thresholds ≥ 0', () => {
    expect(validateNightlyPlan(scored)).toEqual([]);
    expect(validateNightlyPlan({ ...scored, apps: ['com.a.app', 'com.b.app'], score: { ...score, model: 'prod', thresholds: { oovIncrease: -1 } } })).toEqual([
      "score: a model scores one app's nights; make one schedule per app (this one has 2).",
      'score.model: a train artifact key (64 hex digits), got "prod".',
      'score.thresholds.oovIncrease: a number ≥ 0, got -1.',
    ]);
  });
});

describe('plan helpers', () => {
  it('validates with one exact message per problem', () => {
    expect(validateNightlyPlan(plan)).toEqual([]);
    expect(validateNightlyPlan({ ...plan, apps: [], max: 0, sort: 'oldest' as never, concurrency: 1.5 })).toEqual([
      'apps: give at least one app id (--app com.example.app).',
      'sort: newest, helpfulness or rating, got "oldest".',
      'max: a positive integer, got 0.',
      'concurrency: a positive integer, got 1.5.',
    ]);
  });

  it('routes the scrape activity to its own queue (scrape by default), with the plan\'s heartbeat and queue timeouts', () => {
    expect(scrapeActivityOptions(scrapeRouting(plan))).toEqual({ ...SCRAPE_ACTIVITY_PROFILE, taskQueue: 'scrape', scheduleToStartTimeout: DEFAULT_QUEUE_TIMEOUT_MS });
    const routed = { ...plan, scrapeTaskQueue: 'scrape-eu', heartbeatTimeoutMs: 5_000, queueTimeoutMs: 30_000 };
    expect(scrapeRouting(routed)).toEqual({ taskQueue: 'scrape-eu', heartbeatTimeoutMs: 5_000, queueTimeoutMs: 30_000 });
    expect(scrapeActivityOptions(scrapeRouting(routed))).toMatchObject({
      taskQueue: 'scrape-eu',
      heartbeatTimeout: 5_000,
      scheduleToStartTimeout: 30_000,
      startToCloseTimeout: SCRAPE_ACTIVITY_PROFILE.startToCloseTimeout,
    });
    expect(validateNightlyPlan({ ...plan, scrapeTaskQueue: 'a b', heartbeatTimeoutMs: 10, queueTimeoutMs: 1.5 })).toEqual([
      'scrapeTaskQueue: a task queue name without spaces, got "a b".',
      'heartbeatTimeoutMs: an integer of at least 1000 (ms), got 10.',
      'queueTimeoutMs: an integer of at least 1000 (ms), got 1.5.',
    ]);
  });

  it('leaves unset options out of the scrape inputs (Temporal payloads stay minimal)', () => {
    expect(scrapeInputs({ apps: ['com.a.app'], lang: 'en', country: 'us', sort: 'rating' })).toEqual([
      { appId: 'com.a.app', lang: 'en', country: 'us', sort: 'rating' },
    ]);
  });

  it('describes a failure wrapped the way Temporal wraps a child activity failure', () => {
    const application = Object.assign(new Error('Google Play is rate limiting (HTTP 429).'), { type: 'RateLimited' });
    const activity = Object.assign(new Error('Activity task failed'), { cause: application });
    const child = Object.assign(new Error('Child Workflow execution failed'), { cause: activity });
    expect(describeFailure(child)).toEqual({ type: 'RateLimited', message: 'Google Play is rate limiting (HTTP 429).' });
    expect(describeFailure('boom')).toEqual({ type: null, message: 'boom' });
  });
});
