/**
 * The spine end to end, in-process, on a small synthetic experiment: cache hits, corruption
 * detection, byte-identical reruns, verify, lineage and the leakage guard.
 */
import { mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../activities';
import { UlasanError } from '../core/errors';
import { ArtifactStore, MANIFEST_FILE, manifestDigest, sha256File } from '../data/store/artifact-store';
import type { Manifest } from '../data/store/types';
import { collectLineage } from '../data/store/lineage';
import type { PipelinePlan, PipelineResult } from '../workflows/plans/pipeline';
import { RECOVERY_REASON } from '../workflows/plans/recovery';
import { runLocal } from './local-runner';
import { ExperimentSpecSchema, planFromSpec } from './spec';
import { verifyArtifact } from './verify';

const plan: PipelinePlan = planFromSpec(
  ExperimentSpecSchema.parse({
    name: 'spine-test',
    seed: 7,
    source: { synthetic: { rows: 400 } },
    features: { maxVocab: 500, maxLen: 12 },
    model: { arch: 'cnn-small', embeddingDim: 8, filters: 8, kernelSize: 3 },
    train: { epochs: 2, batchSize: 32 },
    evaluate: { minSupport: 5 }, // 400 synthetic rows leave ~8 negative test rows; the run is about the spine, not the score
  }),
);

const roots: string[] = [];
async function freshStore(): Promise<ArtifactStore> {
  const root = await mkdtemp(join(tmpdir(), 'ulasan-spine-'));
  roots.push(root);
  return new ArtifactStore(root);
}

let store: ArtifactStore;
let first: PipelineResult;

beforeAll(async () => {
  store = await freshStore();
  first = await runLocal(plan, { store });
}, 240_000);
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** Rewrites a stored manifest through `change`, with a digest that matches (as a writer would have). */
async function rewriteManifest(key: string, change: (m: Manifest) => Promise<Manifest>): Promise<void> {
  const changed = await change(await store.manifest(key));
  await writeFile(store.path(key, MANIFEST_FILE), JSON.stringify({ ...changed, digest: manifestDigest(changed) }, null, 2) + '\n');
}

const STAGES = ['import', 'clean', 'annotate', 'split', 'features', 'resample', 'train', 'evaluate', 'report'];

describe('a pipeline run', () => {
  it('runs every stage and writes metrics.json and a self-contained report', async () => {
    expect(first.stages.map((s) => s.stage)).toEqual(STAGES);
    expect(first.stages.every((s) => s.cache === 'miss')).toBe(true);
    const metrics = JSON.parse(await readFile(store.path(first.metricsKey, 'metrics.json'), 'utf8'));
    expect(metrics.classes).toEqual(['negative', 'positive']);
    expect(metrics.n).toBeGreaterThan(30);
    expect(metrics.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(metrics.n);
    const html = await readFile(store.path(first.reportKey, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('SYNTHETIC');
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it('is all cache hits the second time', async () => {
    const second = await runLocal(plan, { store });
    expect(second.stages.map((s) => s.cache)).toEqual(STAGES.map(() => 'hit'));
    expect(second.metricsKey).toBe(first.metricsKey);
  });

  it('recomputes a corrupted artifact and keeps everything downstream', async () => {
    const features = first.stages.find((s) => s.stage === 'features')!;
    const file = store.path(features.key, 'train.arrow');
    const bytes = await readFile(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 20) ^ 0xff, bytes.length - 20);
    await writeFile(file, bytes);
    const third = await runLocal(plan, { store, log: () => undefined });
    const after = Object.fromEntries(third.stages.map((s) => [s.stage, s]));
    expect(after.features).toMatchObject({ cache: 'miss', reason: 'corrupt: file hash mismatch: train.arrow' });
    expect(after.train!.cache).toBe('hit');
    expect((await store.check(features.key)).status).toBe('ok');
  });

  it('verifies byte for byte, and shows the lineage back to the import', async () => {
    const results = await verifyArtifact(store, first.metricsKey, true);
    expect(results.map((r) => r.stage)).toEqual(STAGES.slice(0, -1));
    expect(results.filter((r) => !r.identical)).toEqual([]);
    const chain = await collectLineage(store, first.metricsKey);
    expect(chain[0]).toMatchObject({ stage: 'import', params: { kind: 'synthetic', rows: 400, seed: 7 } });
  }, 120_000);

  it("recomputes an unreadable input once when its consumer meets it (issue 19's truncated train.arrow, served from cache)", async () => {
    const resample = first.stages.find((s) => s.stage === 'resample')!;
    const train = first.stages.find((s) => s.stage === 'train')!;
    // What an older ulasan left behind: a truncated file whose hash the manifest records, so the cache serves it.
    const file = store.path(resample.key, 'train.arrow');
    await truncate(file, 600);
    await rewriteManifest(resample.key, async (m) => ({ ...m, files: { ...m.files, 'train.arrow': await sha256File(file) } }));
    await rm(store.dir(train.key), { recursive: true });
    const rerun = await runLocal(plan, { store, log: () => undefined });
    const steps = rerun.stages.map((s) => `${s.stage}:${s.cache}`);
    expect(steps.slice(5, 8)).toEqual(['resample:hit', 'resample:miss', 'train:miss']);
    expect(rerun.stages[6]!.reason).toBe(RECOVERY_REASON);
    expect(rerun.metricsKey).toBe(first.metricsKey);
    expect((await store.check(resample.key)).status).toBe('ok');
    expect((await readdir(join(store.root, '.corrupt'))).some((name) => name.startsWith(resample.key))).toBe(true);
  }, 120_000);

  it('catches a tampered manifest: verify names the field, lineage refuses it, a run recomputes it', async () => {
    const clean = first.stages.find((s) => s.stage === 'clean')!;
    const rows = (await store.manifest(clean.key)).rowCounts.rows!;
    const text = await readFile(store.path(clean.key, MANIFEST_FILE), 'utf8');
    await writeFile(store.path(clean.key, MANIFEST_FILE), text.replace(`"rows": ${rows},`, `"rows": ${rows + 7000},`));
    const verdict = (await verifyArtifact(store, first.metricsKey, true)).find((r) => r.key === clean.key);
    expect(verdict).toMatchObject({ identical: false, problem: expect.stringContaining(`rowCounts.rows records ${rows + 7000}, recomputed ${rows}`) });
    expect(verdict!.problem).toContain('manifest.json was changed after it was written');
    await expect(collectLineage(store, first.metricsKey)).rejects.toMatchObject({ type: 'CorruptArtifact', context: { key: clean.key } });
    const rerun = await runLocal(plan, { store, log: () => undefined });
    const after = Object.fromEntries(rerun.stages.map((s) => [s.stage, s]));
    expect(after.clean).toMatchObject({ cache: 'miss', reason: expect.stringContaining('manifest.json was changed') });
    expect(after.annotate!.cache).toBe('hit');
    expect((await store.manifest(clean.key)).rowCounts.rows).toBe(rows);
  }, 120_000);

  it('gives byte-identical metrics.json from an empty cache', async () => {
    const other = await freshStore();
    const rerun = await runLocal(plan, { store: other });
    expect(rerun.metricsKey).toBe(first.metricsKey);
    for (const [key, file] of [[first.metricsKey, 'metrics.json'], [first.reportKey, 'metrics.json'], [first.reportKey, 'report.html']] as const) {
      expect(await readFile(other.path(key, file), 'utf8')).toBe(await readFile(store.path(key, file), 'utf8'));
    }
  }, 240_000);
});

describe('the leakage guard', () => {
  it('refuses to resample anything but the training partition of features made after a split', async () => {
    const acts = createActivities({ store, heartbeat: () => undefined, warn: () => undefined });
    const features = first.stages.find((s) => s.stage === 'features')!;
    const split = first.stages.find((s) => s.stage === 'split')!;
    const params = { sampler: { method: 'random-over' as const, samplingStrategy: 'auto' as const, shrinkage: null }, seed: 1, partition: 'test' as const };
    await expect(acts.resample({ features: { key: features.key, stage: 'features' }, params })).rejects.toMatchObject({
      type: 'LeakageRefused',
      message: expect.stringContaining("'test' partition"),
    });
    const beforeSplit = acts.resample({ features: { key: split.key, stage: 'split' }, params: { ...params, partition: 'train' } });
    await expect(beforeSplit).rejects.toBeInstanceOf(UlasanError);
    await expect(beforeSplit).rejects.toMatchObject({ type: 'LeakageRefused', message: expect.stringContaining('no split before it') });
  });
});
