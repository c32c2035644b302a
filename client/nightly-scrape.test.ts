/**
 * The nightly scrape end to end on a Temporal dev server, with `ulasan worker` child processes (one on
 * `ulasan` for the workflows, one on `scrape` for the scrape activities) and the fake Play server: a
 * triggered night stores every review once; a scrape worker killed (-9) mid-scrape and replaced loses
 * and duplicates nothing (the retry resumes from its heartbeat); a manual `ulasan scrape` of the same
 * app during the night loses nothing (the snapshot merge is locked); a scrape queue no worker serves fails the
 * app within its queue timeout.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakePlayServer, type FakePlayServer } from '../activities/scrape/testing/fake-play-server';
import { readScrapeIndex, type ScrapeWindow } from '../activities/scrape/scrape';
import { parquet, queryRows, withConnection } from '../data/duckdb';
import { ArtifactStore } from '../data/store/artifact-store';
import { devServerAvailable, startDevServer } from '../worker/testing/dev-server';
import { startUlasan, stopAll, waitUntil, type UlasanProcess } from '../worker/testing/processes';
import { startWorkerChild } from '../worker/testing/worker-child';
import type { NightlyScrapePlan, NightlyScrapeResult } from '../workflows/plans/scrape';
import { saveNightlySchedule, triggerSchedule } from './schedule';

const QUICK_APP = 'com.example.quick';
const SLOW_APP = 'com.example.slow';
const QUICK_REVIEWS = 700; // 5 pages of 150
const SLOW_REVIEWS = 3_000; // 20 pages, throttled to 3 a second: ~7 s, time to kill the worker midway

describe.skipIf(!devServerAvailable('nightly scrape with ulasan worker processes'))('nightly scrape with ulasan worker processes', () => {
  let env: TestWorkflowEnvironment;
  let client: Client;
  let play: FakePlayServer;
  let storeRoot: string;
  let scrapeWorker: UlasanProcess;

  const startWorker = (queue: string) => startWorkerChild({ client, address: env.address, queue, storeRoot });

  beforeAll(async () => {
    env = await startDevServer();
    client = env.client;
    play = await startFakePlayServer({ apps: { [QUICK_APP]: QUICK_REVIEWS, [SLOW_APP]: SLOW_REVIEWS } });
    storeRoot = await mkdtemp(join(tmpdir(), 'ulasan-nightly-'));
    [, scrapeWorker] = await Promise.all([startWorker('ulasan'), startWorker('scrape')]);
  }, 240_000);
  afterAll(async () => {
    await stopAll();
    await play?.close();
    await env?.teardown();
    if (storeRoot) await rm(storeRoot, { recursive: true, force: true });
  });

  const plan = (appId: string, extra: Partial<NightlyScrapePlan> = {}): NightlyScrapePlan => ({
    apps: [appId],
    lang: 'id',
    country: 'id',
    sort: 'newest',
    playBaseUrl: play.url,
    ...extra,
  });

  /** Triggers the schedule and waits for that night's result. */
  async function triggerNight(scheduleId: string, nights: number): Promise<{ workflowId: string; result: Promise<NightlyScrapeResult> }> {
    await triggerSchedule(client, scheduleId);
    const handle = client.schedule.getHandle(scheduleId);
    const action = await waitUntil(`night ${nights} of ${scheduleId} to start`, async () => (await handle.describe()).info.recentActions[nights - 1], 20_000);
    const workflowId = action.action.workflow.workflowId;
    return { workflowId, result: client.workflow.getHandle(workflowId).result() as Promise<NightlyScrapeResult> };
  }

  /** The app's latest snapshot: its review ids (with repeats, if any) and its windows. */
  async function snapshot(appId: string): Promise<{ ids: string[]; windows: ScrapeWindow[] }> {
    const store = new ArtifactStore(storeRoot);
    const index = await readScrapeIndex(storeRoot, { appId, lang: 'id', country: 'id' });
    const rows = await withConnection((c) => queryRows(c, `SELECT review_id FROM ${parquet(store.path(index!.key, 'reviews.parquet'))}`));
    const windows = JSON.parse(await readFile(store.path(index!.key, 'windows.json'), 'utf8')) as ScrapeWindow[];
    return { ids: rows.map((row) => String(row.review_id)).sort(), windows };
  }

  const serverIds = (appId: string) => play.reviews(appId).map((review) => review.id).sort();

  /** The events of the child workflow that scraped `appId` in the night `workflowId`. */
  const childEvents = async (workflowId: string, appId: string) => (await client.workflow.getHandle(`${workflowId}/${appId}`).fetchHistory()).events ?? [];

  it('a triggered night stores every review once, scraping on the scrape queue; the next night adds nothing', async () => {
    const scheduleId = `quick-${Date.now()}`;
    await saveNightlySchedule(client, { scheduleId, cron: ['0 2 * * *'], plan: plan(QUICK_APP) });
    const first = await triggerNight(scheduleId, 1);
    const result = await first.result;
    expect(result).toMatchObject({ failed: 0, apps: [{ appId: QUICK_APP, status: 'ok', rows: QUICK_REVIEWS, changed: true }] });
    expect((await snapshot(QUICK_APP)).ids).toEqual(serverIds(QUICK_APP));
    const scheduled = (await childEvents(first.workflowId, QUICK_APP)).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : []));
    expect(scheduled.map((a) => [a.activityType?.name, a.taskQueue?.name])).toEqual([['scrapeApp', 'scrape']]);

    const second = await (await triggerNight(scheduleId, 2)).result;
    expect(second.apps).toMatchObject([{ status: 'ok', key: result.key, changed: false, rows: QUICK_REVIEWS }]);
    expect((await snapshot(QUICK_APP)).ids).toEqual(serverIds(QUICK_APP));
    await client.schedule.getHandle(scheduleId).delete();
  }, 120_000);

  it('a scrape worker killed mid-scrape and replaced, with a manual scrape alongside: nothing lost, nothing twice', async () => {
    const scheduleId = `slow-${Date.now()}`;
    const slowPlan = plan(SLOW_APP, { throttle: 3, heartbeatTimeoutMs: 5_000 });
    await saveNightlySchedule(client, { scheduleId, cron: ['0 2 * * *'], plan: slowPlan });
    const slowRequests = () => play.requests.filter((r) => r.appId === SLOW_APP);
    const night = await triggerNight(scheduleId, 1);
    await waitUntil('five pages of the slow app', () => (slowRequests().length >= 5 ? true : undefined), 60_000, 50);
    expect(await scrapeWorker.kill('SIGKILL')).toBe('SIGKILL');
    const beforeRestart = slowRequests().length;
    expect(beforeRestart).toBeLessThan(20); // killed midway, not after the last page

    // While the night waits for its heartbeat timeout, someone scrapes the newest 300 by hand.
    const manual = startUlasan(['scrape', '--app', SLOW_APP, '--play-base-url', play.url, '--max', '300', '--json'], { ULASAN_HOME: storeRoot });
    expect(await manual.exited).toBe(0);
    expect(JSON.parse(manual.stdout().trim().split('\n').at(-1)!)).toMatchObject({ failed: 0, apps: [{ appId: SLOW_APP, new: 300 }] });

    scrapeWorker = await startWorker('scrape');
    const result = await night.result;
    expect(result).toMatchObject({ failed: 0, apps: [{ appId: SLOW_APP, status: 'ok', rows: SLOW_REVIEWS }] });

    const { ids, windows } = await snapshot(SLOW_APP);
    expect(ids).toHaveLength(SLOW_REVIEWS);
    expect(ids).toEqual(serverIds(SLOW_APP)); // every review, each once
    // Both runs are in the snapshot's history: the manual one first (its newest 300), then the night. The
    // night counts as new what was not stored when it read the page: a page it fetched again after the
    // kill may hold reviews the manual run stored meanwhile (duplicates then), never one counted twice.
    expect(windows.map((w) => w.maxReviews)).toEqual([300, null]);
    const [byHand, nightly] = windows as [ScrapeWindow, ScrapeWindow];
    expect(byHand.new).toBe(300);
    expect(nightly).toMatchObject({ complete: true, stopReason: 'end' });
    expect(nightly.new).toBeGreaterThanOrEqual(SLOW_REVIEWS - 300);
    expect(nightly.new + nightly.duplicates).toBe(nightly.seen);
    // The night resumed from its checkpoint in a later attempt: it asked for the first page once (the
    // manual scrape asked once more), not again after the kill.
    const started = (await childEvents(night.workflowId, SLOW_APP)).flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes] : []));
    expect(started).toHaveLength(1); // the history keeps the last attempt's start
    expect(started[0]!.attempt).toBeGreaterThanOrEqual(2);
    expect(slowRequests().filter((r) => r.token === null)).toHaveLength(2);
    await client.schedule.getHandle(scheduleId).delete();
  }, 240_000);

  it('a scrape queue nobody serves fails the app within the queue timeout, as NoWorker naming the queue', async () => {
    const workflowId = `no-scrape-worker-${Date.now()}`;
    const started = Date.now();
    const lonely = plan(QUICK_APP, { scrapeTaskQueue: 'scrape-nobody', queueTimeoutMs: 2_000 });
    const night = client.workflow.execute('nightlyScrapeWorkflow', { workflowId, taskQueue: 'ulasan', args: [lonely] });
    await expect(night).rejects.toMatchObject({ cause: { type: 'NoWorker' } });
    expect(Date.now() - started).toBeLessThan(30_000);
    const child = await client.workflow.getHandle(`${workflowId}/${QUICK_APP}`).result().catch((error: unknown) => error);
    expect(child).toMatchObject({ cause: { type: 'NoWorker', message: expect.stringMatching(/task queue 'scrape-nobody' within 2s.*--scrape-queue/) } });
  }, 60_000);
});
