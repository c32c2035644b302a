/**
 * The scrape activity against the fake Play server, through the real google-play-scraper: pages are
 * persisted as they arrive, a crash resumes from the heartbeat checkpoint with nothing lost or stored
 * twice, incremental runs stop at the newest stored review, and the snapshot verifies and imports.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parquet, queryRows, withConnection } from '../../data/duckdb';
import { ArtifactStore } from '../../data/store/artifact-store';
import { recomputeStage, type StageDefinition } from '../../data/store/stage';
import { UlasanError } from '../../core/errors';
import { createWorkerActivities } from '../../worker/activities';
import { createImportActivity, importStage } from '../import/import';
import { RateLimiter } from './rate-limiter';
import {
  createCombineScrapesActivity,
  createScrapeActivity,
  type ScrapeAppInput,
  type ScrapeAppOutput,
  type ScrapeCheckpoint,
} from './scrape-app';
import { indexPath, readScrapeIndex, scrapeStage, scrapesDir, SCRAPE_COLUMNS, type ScrapeWindow } from './scrape';
import { startFakePlayServer, type FakePlayServer } from './testing/fake-play-server';

const APP = 'com.example.app';
const OTHER = 'com.example.other';
const TOTAL = 400; // pages of 150 + 150 + 100

let server: FakePlayServer;
let dir: string;
let store: ArtifactStore;

beforeAll(async () => {
  server = await startFakePlayServer({ apps: { [APP]: TOTAL, [OTHER]: 170 } });
});
afterAll(() => server.close());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ulasan-scrape-'));
  store = new ArtifactStore(join(dir, 'store'));
});
afterEach(async () => {
  server.reset();
  await rm(dir, { recursive: true, force: true });
});

function input(overrides: Partial<ScrapeAppInput> = {}): ScrapeAppInput {
  return { appId: APP, lang: 'id', country: 'id', sort: 'newest', playBaseUrl: server.url, timeoutMs: 2_000, ...overrides };
}

/** An activity whose heartbeats are recorded, resuming from `resume()` when given. */
function activity(resume?: () => unknown) {
  const heartbeats: ScrapeCheckpoint[] = [];
  const deps = { store, heartbeat: (d?: unknown) => void heartbeats.push(d as ScrapeCheckpoint), warn: () => undefined };
  const scrapeApp = createScrapeActivity(deps, { limiter: new RateLimiter(), ...(resume ? { resumeState: resume } : {}) });
  return { scrapeApp, heartbeats };
}

const snapshotRows = (key: string, columns = 'review_id') =>
  withConnection((c) => queryRows(c, `SELECT ${columns} FROM ${parquet(store.path(key, 'reviews.parquet'))}`));

const serverIds = (appId = APP) => server.reviews(appId).map((r) => r.id).sort();
const sorted = (rows: Record<string, unknown>[]) => rows.map((r) => String(r.review_id)).sort();
/** Faults are numbered from the next request this test makes. */
const injectNext = (offset: number, kind: 'server-error') => server.inject(server.requests.length + offset, { kind });

describe('scrapeApp', () => {
  it('persists every page, heartbeats after each, and commits a snapshot with its window and index', async () => {
    const { scrapeApp, heartbeats } = activity();
    const out = await scrapeApp(input());
    expect(out).toMatchObject({ appId: APP, changed: true, rows: TOTAL, previousKey: null });
    expect(out.window).toMatchObject({ seen: TOTAL, new: TOTAL, duplicates: 0, pages: 3, complete: true, stopReason: 'end' });
    expect(heartbeats.map((h) => [h.pageNumber, h.stored, h.finished?.reason ?? null])).toEqual([
      [1, 150, null],
      [2, 300, null],
      [3, 400, null],
      [3, 400, 'end'],
    ]);
    expect(heartbeats[0]!.token).toEqual(expect.any(String));
    expect(heartbeats[2]!.token).toBeNull();

    const rows = await snapshotRows(out.ref.key, '*');
    expect(Object.keys(rows[0]!)).toEqual(Object.keys(SCRAPE_COLUMNS));
    expect(sorted(rows)).toEqual(serverIds());
    const newest = server.reviews(APP)[0]!;
    expect(rows[0]).toMatchObject({ review_id: newest.id, app: APP, lang: 'id', country: 'id', score: newest.score, page_number: 1 });
    const files = (await readdir(store.dir(out.ref.key))).sort();
    expect(files).toEqual(['.stamp.json', 'manifest.json', 'new-reviews.parquet', 'reviews.parquet', 'windows.json']);
    const windows = JSON.parse(await readFile(store.path(out.ref.key, 'windows.json'), 'utf8')) as ScrapeWindow[];
    expect(windows).toEqual([out.window]);
    const manifest = await store.manifest(out.ref.key);
    expect(manifest).toMatchObject({ stage: 'scrape', inputs: {}, rowCounts: { rows: TOTAL, new: TOTAL, added: TOTAL } });
    expect(String(manifest.summary.producedBy)).toContain('not recomputable');

    const index = await readScrapeIndex(store.root, input());
    expect(index).toMatchObject({ key: out.ref.key, rows: TOTAL, stopAtReviewId: newest.id, lastWindow: out.window });
    expect(await readdir(join(scrapesDir(store.root), 'work'))).toEqual([]);
  });

  it('resumes after a crash at page 3 from the heartbeat checkpoint: no review lost or stored twice', async () => {
    const first = activity();
    injectNext(3, 'server-error');
    await expect(first.scrapeApp(input())).rejects.toMatchObject({ type: 'Transient' });
    const checkpoint = first.heartbeats.at(-1)!;
    expect(checkpoint).toMatchObject({ pageNumber: 2, stored: 300 });
    expect(existsSync(indexPath(store.root, input()))).toBe(false);

    const requestsBefore = server.requests.length;
    const second = activity(() => checkpoint);
    const out = await second.scrapeApp(input());
    expect(server.requests[requestsBefore]!.token).toBe(checkpoint.token);
    expect(server.requests.length - requestsBefore).toBe(1);
    expect(out.window).toMatchObject({ seen: TOTAL, new: TOTAL, duplicates: 0, pages: 3, stopReason: 'end', runId: checkpoint.runId });
    const rows = await snapshotRows(out.ref.key);
    expect(rows).toHaveLength(TOTAL);
    expect(sorted(rows)).toEqual(serverIds());
  });

  it('drops a persisted page whose heartbeat never arrived and fetches it again, still without duplicates', async () => {
    const first = activity();
    injectNext(3, 'server-error');
    await expect(first.scrapeApp(input())).rejects.toBeInstanceOf(UlasanError);
    // The server only got the heartbeat of page 1; page 2's part is on disk all the same.
    const lagging = first.heartbeats[0]!;
    const second = activity(() => lagging);
    const out = await second.scrapeApp(input());
    expect(out.window).toMatchObject({ new: TOTAL, duplicates: 0, pages: 3 });
    const rows = await snapshotRows(out.ref.key);
    expect(rows).toHaveLength(TOTAL);
    expect(sorted(rows)).toEqual(serverIds());
  });

  it('starts the window over, with a warning, when the page log is shorter than its checkpoint', async () => {
    const first = activity();
    injectNext(2, 'server-error');
    await expect(first.scrapeApp(input())).rejects.toBeInstanceOf(UlasanError);
    const checkpoint = first.heartbeats.at(-1)!;
    expect(checkpoint.bytes).toBeGreaterThan(0);
    await rm(join(scrapesDir(store.root), 'work'), { recursive: true }); // as if the machine lost the disk cache
    const warnings: string[] = [];
    const scrapeApp = createScrapeActivity(
      { store, heartbeat: () => undefined, warn: (m) => void warnings.push(m) },
      { limiter: new RateLimiter(), resumeState: () => checkpoint },
    );
    const out = await scrapeApp(input());
    expect(warnings).toEqual([expect.stringContaining('shorter than its checkpoint')]);
    expect(out.window).toMatchObject({ new: TOTAL, pages: 3, stopReason: 'end' });
    expect(sorted(await snapshotRows(out.ref.key))).toEqual(serverIds());
  });

  it('runs incrementally: stops at the newest stored review, adds only newer ones, then adds nothing', async () => {
    // Build a snapshot missing the newest page: resume a fresh run from page 1's token.
    const probe = activity();
    await probe.scrapeApp(input());
    const afterPage1 = { ...probe.heartbeats[0]!, runId: 'seed-run', bytes: 0, stored: 0, seen: 0, pages: 0 };
    await rm(store.root, { recursive: true, force: true });
    const older = await activity(() => afterPage1).scrapeApp(input());
    expect(older.rows).toBe(TOTAL - 150);

    const storedNewest = String((await snapshotRows(older.ref.key))[0]!.review_id);
    expect(storedNewest).toBe(server.reviews(APP)[150]!.id);

    // Cut short by max before reaching the stored newest: a gap, so the stop point must not move yet.
    const partial = await activity().scrapeApp(input({ maxReviews: 50 }));
    expect(partial.window).toMatchObject({ new: 50, complete: false, stopReason: 'max', stopAtReviewId: storedNewest });
    expect((await readScrapeIndex(store.root, input()))?.stopAtReviewId).toBe(storedNewest);

    const catchUp = await activity().scrapeApp(input());
    expect(catchUp.window).toMatchObject({ seen: 150, new: 100, duplicates: 50, complete: true, stopReason: 'caught-up', pages: 2 });
    expect(catchUp.window.stopAtReviewId).toBe(storedNewest);
    expect(catchUp).toMatchObject({ changed: true, rows: TOTAL, previousKey: partial.ref.key });
    expect(sorted(await snapshotRows(catchUp.ref.key))).toEqual(serverIds());
    expect((await store.manifest(catchUp.ref.key)).inputs).toEqual({ previous: partial.ref.key });
    const windows = JSON.parse(await readFile(store.path(catchUp.ref.key, 'windows.json'), 'utf8')) as ScrapeWindow[];
    expect(windows.map((w) => w.stopReason)).toEqual(['end', 'max', 'caught-up']);
    expect((await readScrapeIndex(store.root, input()))?.stopAtReviewId).toBe(server.reviews(APP)[0]!.id);

    const again = await activity().scrapeApp(input());
    expect(again.window).toMatchObject({ seen: 0, new: 0, duplicates: 0, complete: true, stopReason: 'caught-up', pages: 1 });
    expect(again).toMatchObject({ changed: false, rows: TOTAL, ref: { key: catchUp.ref.key } });
    expect((await readScrapeIndex(store.root, input()))?.lastWindow).toEqual(again.window);

    // verify: the snapshot re-derives byte for byte from its recorded pages and the previous snapshot.
    const stages = { scrape: scrapeStage } as Record<string, StageDefinition<unknown>>;
    expect(await recomputeStage(store, stages, catchUp.ref.key)).toMatchObject({ identical: true, differing: [] });
    await writeFile(store.path(catchUp.ref.key, 'new-reviews.parquet'), 'tampered');
    await expect(recomputeStage(store, stages, catchUp.ref.key)).rejects.toMatchObject({ type: 'CorruptArtifact' });
  });

  it('under Temporal, resumes from activityInfo().heartbeatDetails and fails as an ApplicationFailure', async () => {
    const worker = createWorkerActivities(store) as unknown as { scrapeApp: (i: ScrapeAppInput) => Promise<ScrapeAppOutput> };
    const first = new MockActivityEnvironment({ activityId: '7' });
    const heartbeats: ScrapeCheckpoint[] = [];
    first.on('heartbeat', (d: unknown) => heartbeats.push(d as ScrapeCheckpoint));
    injectNext(2, 'server-error');
    const failure = await first.run(worker.scrapeApp, input()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'Transient', nonRetryable: false });
    expect(heartbeats.at(-1)).toMatchObject({ pageNumber: 1, stored: 150 });

    const retry = new MockActivityEnvironment({ activityId: '7', attempt: 2, heartbeatDetails: heartbeats.at(-1) });
    const out = (await retry.run(worker.scrapeApp, input())) as ScrapeAppOutput;
    expect(out.window).toMatchObject({ new: TOTAL, duplicates: 0, pages: 3, runId: heartbeats[0]!.runId });
    expect(sorted(await snapshotRows(out.ref.key))).toEqual(serverIds());
  });

  it('counts stored reviews as duplicates when a non-incremental sort or a full run sees them again', async () => {
    const first = await activity().scrapeApp(input({ maxReviews: 200 }));
    const stop = (await readScrapeIndex(store.root, input()))?.stopAtReviewId;
    expect(stop).toBe(server.reviews(APP)[0]!.id);
    const helpful = await activity().scrapeApp(input({ sort: 'helpfulness', maxReviews: 100 }));
    expect(helpful.window).toMatchObject({ new: 100, stopReason: 'max', stopAtReviewId: null });
    expect(helpful.window.duplicates).toBeGreaterThan(0);
    // A sampled sort says nothing about what lies below its newest review: the stop point stays.
    expect((await readScrapeIndex(store.root, input()))?.stopAtReviewId).toBe(stop);
    const full = await activity().scrapeApp(input({ full: true }));
    expect(full.window).toMatchObject({ seen: TOTAL, new: 100, duplicates: 300, stopReason: 'end', complete: true, stopAtReviewId: null });
    expect(full.rows).toBe(TOTAL);
    expect(first.rows + 100 + 100).toBe(TOTAL);
    expect(sorted(await snapshotRows(full.ref.key))).toEqual(serverIds());
  });

  it('keeps every review of two runs of one app that commit at once (the snapshot merge is locked)', async () => {
    // Same app, other reviews (another seed): each run's pages are new to the other.
    const other = await startFakePlayServer({ apps: { [APP]: TOTAL }, seed: 2 });
    try {
      const [a, b] = await Promise.all([activity().scrapeApp(input()), activity().scrapeApp(input({ playBaseUrl: other.url, full: true }))]);
      const index = await readScrapeIndex(store.root, input());
      const expected = [...new Set([...serverIds(), ...other.reviews(APP).map((r) => r.id)])].sort();
      expect(expected).toHaveLength(2 * TOTAL);
      expect(sorted(await snapshotRows(index!.key))).toEqual(expected);
      expect(index!.rows).toBe(2 * TOTAL);
      // One run committed first; the other merged into it, so the later snapshot's previous is the first.
      expect([a.previousKey, b.previousKey].sort()).toEqual([null, [a, b].find((r) => r.previousKey === null)!.ref.key].sort());
      expect(existsSync(join(scrapesDir(store.root), `${APP}__id__id.lock`))).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('fails with a non-retryable NotFound for an unknown app and writes nothing', async () => {
    const { scrapeApp } = activity();
    const error = await scrapeApp(input({ appId: 'com.example.missing' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UlasanError);
    expect(error).toMatchObject({ type: 'NotFound', retryable: false });
    expect((error as Error).message).toContain('com.example.missing');
    expect(await readScrapeIndex(store.root, input({ appId: 'com.example.missing' }))).toBeUndefined();
    expect(await readdir(join(scrapesDir(store.root), 'work'))).toEqual([]);
  });

  it('refuses an app id that is not a package name before touching the disk', async () => {
    await expect(activity().scrapeApp(input({ appId: '../etc' }))).rejects.toMatchObject({ type: 'BadInput' });
    expect(existsSync(scrapesDir(store.root))).toBe(false);
  });
});

describe('combineScrapes and import from a scrape', () => {
  it('combines apps into one keyed artifact that verifies, and the import stage reads it with lineage', async () => {
    const a = await activity().scrapeApp(input());
    const b = await activity().scrapeApp(input({ appId: OTHER }));
    const combine = createCombineScrapesActivity({ store, heartbeat: () => undefined, warn: () => undefined });
    const apps = [{ appId: APP, key: a.ref.key }, { appId: OTHER, key: b.ref.key }];
    const combined = await combine({ apps });
    expect(combined.cache).toBe('miss');
    expect((await combine({ apps })).cache).toBe('hit');
    expect(await snapshotRows(combined.ref.key)).toHaveLength(TOTAL + 170);
    const stages = { scrape: scrapeStage, import: importStage } as Record<string, StageDefinition<unknown>>;
    expect(await recomputeStage(store, stages, combined.ref.key)).toMatchObject({ identical: true });

    const importReviews = createImportActivity({ store, heartbeat: () => undefined, warn: () => undefined });
    const imported = await importReviews({ source: { kind: 'scrape', key: combined.ref.key } });
    expect(imported.summary).toMatchObject({ rows: TOTAL + 170, quarantined: 0 });
    expect((await store.manifest(imported.ref.key)).inputs).toEqual({ scrape: combined.ref.key });
    const [first] = await withConnection((c) =>
      queryRows(c, `SELECT review_id, app, rating, text, date FROM ${parquet(store.path(imported.ref.key, 'reviews.parquet'))} LIMIT 1`),
    );
    const newest = server.reviews(APP)[0]!;
    expect(first).toMatchObject({ review_id: newest.id, app: APP, rating: newest.score, text: newest.text });
    expect(await recomputeStage(store, stages, imported.ref.key)).toMatchObject({ identical: true });

    await expect(importReviews({ source: { kind: 'scrape', key: imported.ref.key } })).rejects.toMatchObject({ type: 'BadInput' });
  });

  it("imports only a run's new reviews with reviews: 'new' (a night's window), keyed apart and verifying; refuses it for a combined scrape", async () => {
    const first = await activity().scrapeApp(input({ maxReviews: 100 }));
    const second = await activity().scrapeApp(input({ full: true })); // the older 300: a backfill
    expect(second.window).toMatchObject({ new: TOTAL - 100, duplicates: 100 });
    const importReviews = createImportActivity({ store, heartbeat: () => undefined, warn: () => undefined });
    const night = await importReviews({ source: { kind: 'scrape', key: second.ref.key, reviews: 'new' } });
    const all = await importReviews({ source: { kind: 'scrape', key: second.ref.key } });
    expect([night.summary.rows, all.summary.rows]).toEqual([TOTAL - 100, TOTAL]);
    expect(night.ref.key).not.toBe(all.ref.key);
    const ids = await withConnection((c) => queryRows(c, `SELECT review_id FROM ${parquet(store.path(night.ref.key, 'reviews.parquet'))}`));
    expect(sorted(ids)).toEqual(server.reviews(APP).slice(100).map((r) => r.id).sort());
    const stages = { scrape: scrapeStage, import: importStage } as Record<string, StageDefinition<unknown>>;
    expect(await recomputeStage(store, stages, night.ref.key)).toMatchObject({ identical: true });

    const other = await activity().scrapeApp(input({ appId: OTHER }));
    const combine = createCombineScrapesActivity({ store, heartbeat: () => undefined, warn: () => undefined });
    const combined = await combine({ apps: [{ appId: APP, key: first.ref.key }, { appId: OTHER, key: other.ref.key }] });
    await expect(importReviews({ source: { kind: 'scrape', key: combined.ref.key, reviews: 'new' } })).rejects.toMatchObject({
      type: 'BadInput',
      message: expect.stringContaining('combines several apps; score one app per schedule'),
    });
  });
});
