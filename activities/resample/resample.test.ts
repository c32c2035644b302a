/**
 * The resample stage in each feature space the features stage makes: document vectors (dense),
 * TF-IDF (CSR, never densified) and token ids (interpolation refused unless allowOnTokenIds).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../data/store/artifact-store';
import { runStage } from '../../data/store/stage';
import type { ArtifactRef } from '../../data/store/types';
import { featuresStage, partitionFile, type FeaturesParams } from '../features/features';
import { readPartition, type FeaturePartition } from '../features/partition';
import { writeSplitFixture, type SplitFixture } from '../features/testing/split-fixture';
import { readTokenMatrix } from '../features/token-matrix';
import { RESAMPLED_FILE, resampleStage, type ResampleParams } from './resample';
import type { SamplerSpecInput } from './spec';

let root: string;
let store: ArtifactStore;
let fixture: SplitFixture;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-resample-'));
  store = new ArtifactStore(root);
  fixture = await writeSplitFixture(store, { perClass: 40 });
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function features(params: FeaturesParams): Promise<ArtifactRef> {
  return (await runStage(store, featuresStage, params, { split: fixture.ref })).ref;
}

async function resampled(featuresRef: ArtifactRef, sampler: SamplerSpecInput) {
  const params = { sampler, seed: 3, partition: 'train' } as ResampleParams;
  const outcome = await runStage(store, resampleStage, params, { features: featuresRef });
  const before = await readPartition(store.path(featuresRef.key, partitionFile('train')));
  const after = await readPartition(store.path(outcome.ref.key, RESAMPLED_FILE));
  return { outcome, before, after };
}

const count = (labels: Int32Array, label: number) => labels.filter((l) => l === label).length;

/** Original rows keep their source row and values; synthetic ones have source_row -1. */
function expectOriginsKept(before: FeaturePartition, after: FeaturePartition): void {
  const bySource = new Map(Array.from(before.sourceRows, (source, row) => [source, row]));
  const synthetic = Array.from(after.sourceRows).filter((s) => s === -1).length;
  expect(after.rows - synthetic).toBeGreaterThanOrEqual(before.rows);
  for (let row = 0; row < after.rows; row++) {
    const source = after.sourceRows[row]!;
    if (source === -1) continue;
    expect(after.labels[row]).toBe(before.labels[bySource.get(source)!]);
  }
}

describe('resample stage', () => {
  it('SMOTE on document vectors: dense in, dense out, classes balanced', async () => {
    const ref = await features({ kind: 'doc-vectors', word2vec: { vectorSize: 6, minCount: 1, epochs: 2, seed: 1 } });
    const { outcome, before, after } = await resampled(ref, { method: 'smote', kNeighbors: 3 });
    if (after.layout !== 'dense' || before.layout !== 'dense') throw new Error(`expected dense, got ${after.layout}`);
    expect(after.x.cols).toBe(6);
    expect(count(after.labels, 0)).toBe(count(after.labels, 1));
    expect(count(after.labels, 0)).toBe(count(before.labels, 1));
    expectOriginsKept(before, after);
    expect(outcome.summary).toMatchObject({ method: 'smote', featureSpace: 'doc-vectors', allowOnTokenIds: false });
    expect(outcome.summary.generated).toBe(count(before.labels, 1) - count(before.labels, 0));
  });

  it('SMOTE and random over-sampling on TF-IDF keep CSR', async () => {
    const ref = await features({ kind: 'tfidf' });
    for (const sampler of [{ method: 'smote', kNeighbors: 3 }, { method: 'random-over' }] as SamplerSpecInput[]) {
      const { outcome, before, after } = await resampled(ref, sampler);
      if (after.layout !== 'csr' || before.layout !== 'csr') throw new Error(`expected CSR, got ${after.layout}`);
      expect(after.x.cols).toBe(before.x.cols);
      expect(after.x.indptr.length).toBe(after.rows + 1);
      // Sparse stays sparse: no row holds more entries than the vocabulary's share a dense row would.
      expect(after.x.indices.length).toBeLessThan(after.rows * after.x.cols);
      expect(count(after.labels, 0)).toBe(count(after.labels, 1));
      expectOriginsKept(before, after);
      expect(outcome.summary).toMatchObject({ featureSpace: 'tfidf' });
    }
  });

  it('refuses SMOTE on token ids unless allowOnTokenIds, then flags it; keeps the token-matrix layout', async () => {
    const ref = await features({ kind: 'token-ids', maxVocab: 100, minCount: 1, maxLen: 6 });
    await expect(resampled(ref, { method: 'smote', kNeighbors: 3 })).rejects.toMatchObject({
      type: 'BadInput',
      message: expect.stringContaining('allowOnTokenIds'),
    });
    const { outcome, after } = await resampled(ref, { method: 'smote', kNeighbors: 3, allowOnTokenIds: true });
    expect(after.layout).toBe('token-ids');
    expect(outcome.summary).toMatchObject({ featureSpace: 'token-ids', allowOnTokenIds: true, flag: { code: 'interpolated-token-ids' } });
    // The leaky split and older readers read the resampled file as a plain token matrix.
    const matrix = await readTokenMatrix(store.path(outcome.ref.key, RESAMPLED_FILE));
    expect([matrix.rows, matrix.seqLen]).toEqual([after.rows, 6]);
  });
});
