/**
 * `ulasan gc` on a real store: three runs and one tag keep exactly what the kept ones reach, a dry run
 * removes nothing, a kept run still verifies deep afterwards, and a run in progress beside a gc ends well.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../data/store/artifact-store';
import { collectLineage } from '../data/store/lineage';
import type { PipelinePlan, PipelineResult } from '../workflows/plans/pipeline';
import { collectGarbage, formatGc, parseAge, storeManifests, storeSpace } from './gc';
import { gcLockPath, liveLeases, RunLease } from './leases';
import { runLocal } from './local-runner';
import { listSchedulePins, pinScheduleModel, tagModel, unpinSchedule } from './models';
import { listRuns } from './runs';
import { recordRun } from './records';
import { ExperimentSpecSchema, planFromSpec } from './spec';
import { verifyArtifact } from './verify';

/** Small TF-IDF + naive Bayes runs: real stages end to end in about a second each. */
const plan = (name: string, rows: number, alpha = 1): PipelinePlan =>
  planFromSpec(
    ExperimentSpecSchema.parse({ name, seed: 7, source: { synthetic: { rows } }, features: { kind: 'tfidf', minDf: 1 }, model: { arch: 'nb', alpha }, evaluate: { minSupport: 5 } }),
  );

const roots: string[] = [];
afterAll(async () => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

async function freshStore(): Promise<ArtifactStore> {
  const root = await mkdtemp(join(tmpdir(), 'ulasan-gc-'));
  roots.push(root);
  return new ArtifactStore(root);
}

async function lineageKeys(store: ArtifactStore, keys: string[]): Promise<Set<string>> {
  const all = new Set<string>();
  for (const key of keys) for (const m of await collectLineage(store, key)) all.add(m.key);
  return all;
}

const trainKey = (r: PipelineResult) => r.stages.find((s) => s.stage === 'train')!.key;

describe('gc with three runs and one tag', () => {
  let store: ArtifactStore;
  const results: PipelineResult[] = [];
  const ids = ['run-20260101T000001Z-aaaaaaaa', 'run-20260102T000001Z-bbbbbbbb', 'run-20260103T000001Z-cccccccc'];

  beforeAll(async () => {
    store = await freshStore();
    // a and b share their upstream (same source): b differs in the model only; c is its own data.
    const plans = [plan('a', 500), plan('b', 500, 0.5), plan('c', 520)];
    for (const [i, p] of plans.entries()) {
      const result = await runLocal(p, { store });
      results.push(result);
      await recordRun(store, ids[i]!, p, result, 'local');
    }
    await tagModel(store, ids[0]!, 'prod');
  }, 120_000);

  it('dry run: reports what would go, removes nothing', async () => {
    const before = await storeManifests(store);
    const report = await collectGarbage(store, { keepRuns: 1, dryRun: true });
    expect(report.keptRuns).toEqual([ids[2]]);
    expect(report.removedRuns).toEqual([ids[0], ids[1]]);
    expect(report.removedBytes).toBeGreaterThan(0);
    expect([...(await storeManifests(store)).keys()].sort()).toEqual([...before.keys()].sort());
    expect(formatGc(report)).toMatch(/^would free .* \(\d+ artifacts\); \d+ kept$/m);
  });

  it('keeps exactly what the newest run and the tagged model reach; the kept run still verifies deep', async () => {
    const c = results[2]!;
    const expected = await lineageKeys(store, [...c.stages.map((s) => s.key), trainKey(results[0]!)]);
    const dry = await collectGarbage(store, { keepRuns: 1, dryRun: true });
    const report = await collectGarbage(store, { keepRuns: 1 });
    expect(report.removed).toEqual(dry.removed);
    expect(new Set((await storeManifests(store)).keys())).toEqual(expected);
    // Run a's model survives through its tag, its evaluation and report do not; run b is gone.
    expect(await store.has(trainKey(results[0]!))).toBe(true);
    expect(await store.has(results[0]!.metricsKey)).toBe(false);
    expect(await store.has(trainKey(results[1]!))).toBe(false);
    expect((await listRuns(store)).map((r) => r.runId)).toEqual([ids[2]]);
    const verified = await verifyArtifact(store, c.metricsKey, true);
    expect(verified.length).toBeGreaterThan(5);
    expect(verified.filter((v) => !v.identical)).toEqual([]);
    expect((await storeSpace(store)).map((s) => s.stage).sort()).toEqual(['annotate', 'clean', 'evaluate', 'features', 'import', 'report', 'resample', 'split', 'train']);
  }, 120_000);

  it('refuses bad options before touching anything', async () => {
    await expect(collectGarbage(store, { keepRuns: -1 })).rejects.toThrow(/--keep-runs -1/);
    expect(() => parseAge('soon')).toThrow(/--older-than soon/);
    expect(parseAge('30d')).toBe(30 * 86_400_000);
  });
});

describe('gc and scored schedules', () => {
  it("keeps the model a schedule pinned (its tag may have moved), and lets it go once the schedule's pin is dropped", async () => {
    const store = await freshStore();
    const [older, newer] = [await runLocal(plan('old', 500), { store }), await runLocal(plan('new', 520), { store })];
    await recordRun(store, 'run-20260101T000001Z-sched001', plan('old', 500), older, 'local');
    await recordRun(store, 'run-20260102T000001Z-sched002', plan('new', 520), newer, 'local');
    await pinScheduleModel(store, 'nightly/halodoc', trainKey(older));
    expect(await listSchedulePins(store)).toEqual([expect.objectContaining({ scheduleId: 'nightly/halodoc', model: trainKey(older) })]);
    await collectGarbage(store, { keepRuns: 1 });
    expect(await store.has(trainKey(older))).toBe(true);
    expect(await store.has(older.metricsKey)).toBe(false);
    await unpinSchedule(store, 'nightly/halodoc');
    await collectGarbage(store, { keepRuns: 1 });
    expect(await store.has(trainKey(older))).toBe(false);
    expect(await store.has(trainKey(newer))).toBe(true);
  }, 120_000);
});

describe('gc beside a running run', () => {
  it('never removes what the run holds or makes, and the run ends with all its artifacts', async () => {
    const store = await freshStore();
    const old = await runLocal(plan('old', 500), { store });
    await recordRun(store, 'run-20260101T000001Z-old00000', plan('old', 500), old, 'local');
    // The run reuses old's upstream (cache hits on artifacts gc would remove: old's run is dropped).
    const lease = await RunLease.acquire(store, 'run-20260105T000001Z-live0000', 'local');
    expect(liveLeases(store).map((l) => l.runId)).toEqual(['run-20260105T000001Z-live0000']);
    const running = runLocal(plan('new', 500, 0.25), { store, lease });
    const gcs = (async () => {
      const reports = [];
      for (let i = 0; i < 8; i++) reports.push(await collectGarbage(store, { keepRuns: 0 }));
      return reports;
    })();
    const [result, reports] = await Promise.all([running, gcs]);
    for (const stage of result.stages) expect(await store.has(stage.key), stage.stage).toBe(true);
    // The gcs did remove what only the dropped run reached (its model), beside the live run.
    expect(reports.some((r) => r.removedBytes > 0)).toBe(true);
    expect(await store.has(trainKey(old))).toBe(false);
    const verified = await verifyArtifact(store, result.metricsKey, false);
    expect(verified[0]!.identical).toBe(true);
    await lease.release();
    expect(liveLeases(store)).toEqual([]);
    expect(await store.has(gcLockPath(store))).toBe(false);
    // With the run over and unrecorded, nothing holds its artifacts any more.
    await collectGarbage(store, { keepRuns: 0 });
    expect((await storeManifests(store)).size).toBe(0);
  }, 120_000);
});
