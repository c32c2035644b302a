/**
 * Nightly scoring end to end: a model trained on synthetic reviews and tagged; each night scrapes one app
 * from the fake Play server, labels the night's new reviews with the tagged model and checks them for
 * drift. A drifted window (`generateDriftedReviews`: complaints about products the model never saw) must
 * raise alerts that `ulasan runs --json` shows with status `drift`; a window like the training data must
 * raise none. On the local runner (`ulasan scrape --score-with`) and on a Temporal dev server
 * (`ulasan schedule create --score-with`, triggered, with `ulasan worker` processes).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakePlayServer, type FakePlayServer } from '../activities/scrape/testing/fake-play-server';
import { generateDriftedReviews } from '../data/sample/synthetic';
import { ArtifactStore } from '../data/store/artifact-store';
import { devServerAvailable, startDevServer } from '../worker/testing/dev-server';
import { lastJsonLine, runUlasan, stopAll, waitUntil } from '../worker/testing/processes';
import { startWorkerChild } from '../worker/testing/worker-child';
import type { NightlyScrapeResult } from '../workflows/plans/scrape';
import { runLocal } from './local-runner';
import { tagModel } from './models';
import type { RunListing } from './runs';
import { nightlyPlanFromOptions, runScrapeLocal } from './scrape';
import { saveNightlySchedule, triggerSchedule } from './schedule';
import { ExperimentSpecSchema, planFromSpec } from './spec';

const TAG = 'synthetic-prod';
const WINDOW = 400;
/** One calm and one drifted app per runner: each runner's nights are the first of their apps, so all their reviews are new. */
const APPS = {
  localCalm: 'com.example.calm.local',
  localDrifted: 'com.example.drifted.local',
  temporalCalm: 'com.example.calm.temporal',
  temporalDrifted: 'com.example.drifted.temporal',
};
/** The drifted schedules' own label-mix threshold, to see that a threshold set in the plan is the one applied. */
const MIX_THRESHOLD = '0.3';

let root: string;
let store: ArtifactStore;
let modelKey: string;
let play: FakePlayServer;

const options = (appId: string) => ({ app: [appId], lang: 'id', country: 'id', sort: 'newest', playBaseUrl: play.url });
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runUlasan(args, { ULASAN_HOME: root, ...env });

async function listedRuns(env: NodeJS.ProcessEnv = {}): Promise<RunListing[]> {
  const runs = await cli(['runs', '--json'], env);
  expect(runs.code, runs.output).toBe(0);
  return JSON.parse(runs.stdout) as RunListing[];
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-nightly-scoring-'));
  store = new ArtifactStore(root);
  const spec = { name: 'nightly-scoring-model', seed: 7, source: { synthetic: { rows: 600 } }, features: { kind: 'tfidf', minDf: 1 }, model: { arch: 'nb' }, evaluate: { minSupport: 5 } };
  const trained = await runLocal(planFromSpec(ExperimentSpecSchema.parse(spec)), { store });
  modelKey = trained.stages.find((s) => s.stage === 'train')!.key;
  await tagModel(store, modelKey, TAG);
  const drifted = generateDriftedReviews({ rows: WINDOW, seed: 5 });
  play = await startFakePlayServer({
    apps: Object.fromEntries(Object.values(APPS).map((app) => [app, WINDOW])),
    rows: { [APPS.localDrifted]: drifted, [APPS.temporalDrifted]: drifted },
  });
}, 180_000);
afterAll(async () => {
  await stopAll();
  await play?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('nightly scoring on the local runner', () => {
  it('a calm night raises no alert; a drifted night (ulasan scrape --score-with <tag>) raises alerts that `ulasan runs --json` shows', async () => {
    const calmPlan = await nightlyPlanFromOptions({ ...options(APPS.localCalm), scoreWith: TAG }, { store });
    expect(calmPlan.score).toMatchObject({ model: modelKey, modelRef: TAG, name: `nightly ${APPS.localCalm}` });
    const calm = await runScrapeLocal(calmPlan, { store });
    expect(calm.scoring).toMatchObject({ status: 'ok', alerts: [] });
    if (calm.scoring?.status !== 'ok') throw new Error('the calm night was not scored');
    expect((await store.manifest(calm.scoring.result.predictionsKey)).rowCounts.rows).toBe(WINDOW); // the night's reviews, each once

    const args = ['scrape', '--app', APPS.localDrifted, '--play-base-url', play.url, '--score-with', TAG, '--max-mix-shift', MIX_THRESHOLD, '--json'];
    const drifted = await cli(args);
    expect(drifted.code, drifted.output).toBe(3);
    expect(drifted.stdout).toContain(`with ${TAG} (resolved to ${modelKey})`);
    const night = lastJsonLine<{ scoring: { status: string; alerts: string[]; runId: string } }>(drifted.stdout);
    expect(night.scoring.status).toBe('drift');
    expect(night.scoring.alerts.some((a) => a.startsWith('label mix shifted') && a.includes(`threshold ${MIX_THRESHOLD}`))).toBe(true);
    expect(night.scoring.alerts.some((a) => a.startsWith('OOV rate rose'))).toBe(true);

    const runs = await listedRuns();
    const calmRun = calm.scoring.result.runId;
    expect(runs.find((r) => r.runId === calmRun)).toMatchObject({ status: 'ok', runner: 'local', spec: `nightly ${APPS.localCalm}` });
    expect(runs.find((r) => r.runId === calmRun)?.alerts).toBeUndefined();
    expect(runs.find((r) => r.runId === night.scoring.runId)).toMatchObject({ status: 'drift', runner: 'local', alerts: night.scoring.alerts });
  }, 300_000);
});

describe.skipIf(!devServerAvailable('nightly scoring on a Temporal dev server'))('nightly scoring on a Temporal dev server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await startDevServer();
    await Promise.all(['ulasan', 'scrape'].map((queue) => startWorkerChild({ client: env.client, address: env.address, queue, storeRoot: root })));
  }, 300_000);
  afterAll(async () => {
    await stopAll();
    await env?.teardown();
  });

  /** Triggers the schedule's first night; its workflow id, result and memo once it ends. */
  async function firstNight(scheduleId: string): Promise<{ result: NightlyScrapeResult; memo: Record<string, unknown> | undefined }> {
    await triggerSchedule(env.client, scheduleId);
    const handle = env.client.schedule.getHandle(scheduleId);
    const action = await waitUntil(`the night of ${scheduleId} to start`, async () => (await handle.describe()).info.recentActions[0], 30_000);
    const night = env.client.workflow.getHandle(action.action.workflow.workflowId);
    const result = (await night.result()) as NightlyScrapeResult;
    return { result, memo: (await night.describe()).memo };
  }

  it('a triggered night of `schedule create --score-with <tag>` on a drifted window ends with scoringStatus drift, and `ulasan runs --json` shows its alerts; a calm night none', async () => {
    const driftedId = `scored-drifted-${Date.now()}`;
    const create = ['schedule', 'create', '--id', driftedId, '--cron', '0 2 * * *', '--app', APPS.temporalDrifted, '--play-base-url', play.url];
    const created = await cli([...create, '--score-with', TAG, '--max-mix-shift', MIX_THRESHOLD], { TEMPORAL_ADDRESS: env.address });
    expect(created.code, created.output).toBe(0);
    expect(created.stdout).toContain(`with ${TAG} (resolved to ${modelKey})`);
    expect(created.stdout).toContain(`created schedule ${driftedId}`);

    const calmId = `scored-calm-${Date.now()}`;
    const calmPlan = await nightlyPlanFromOptions({ ...options(APPS.temporalCalm), scoreWith: TAG }, { store, name: calmId });
    await saveNightlySchedule(env.client, { scheduleId: calmId, cron: ['0 2 * * *'], plan: calmPlan });

    const [drifted, calm] = await Promise.all([firstNight(driftedId), firstNight(calmId)]);
    expect(drifted.result.scoring).toMatchObject({ status: 'drift' });
    const alerts = drifted.result.scoring?.status === 'drift' ? drifted.result.scoring.alerts : [];
    expect(alerts.some((a) => a.startsWith('label mix shifted') && a.includes(`threshold ${MIX_THRESHOLD}`))).toBe(true);
    expect(drifted.memo).toEqual({ scoringStatus: 'drift', alerts });
    expect(calm.result.scoring).toMatchObject({ status: 'ok', alerts: [] });
    expect(calm.memo).toEqual({ scoringStatus: 'ok' });

    const runs = (await listedRuns()).filter((r) => r.runner === 'temporal');
    expect(runs.find((r) => r.spec === driftedId)).toMatchObject({ status: 'drift', alerts });
    expect(runs.find((r) => r.spec === calmId)).toMatchObject({ status: 'ok' });
    expect(runs.find((r) => r.spec === calmId)?.alerts).toBeUndefined();
    for (const id of [driftedId, calmId]) await env.client.schedule.getHandle(id).delete();
  }, 400_000);
});
