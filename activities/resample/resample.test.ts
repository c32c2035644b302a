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
import { partitionFile, type FeaturesParams } from '../features/features';
import { featuresStage } from '../stages';
import { readPartition, type FeaturePartition } from '../features/partition';
import { writeSplitFixture, type SplitFixture } from '../features/testing/split-fixture';
import { readTokenMatrix } from '../features/token-matrix';
import { readFile } from 'node:fs/promises';
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

  it("method 'none' on TF-IDF (binary, minDf 2, odd rows, even nnz) writes a train.arrow that reads back (issue 19)", async () => {
    // The Halodoc layout: an odd number of training rows makes indptr a multiple of 8 bytes, so in the
    // features' file indices follow it with no padding; an even nnz leaves no padding after indices either,
    // so the second indptr chunk comes right after them. Written back from those views, apache-arrow's
    // join kept indptr and dropped indices (a body shorter than its header).
    const odd = await writeSplitFixture(store, { perClass: 30, seed: 1 });
    const featuresRef = (await runStage(store, featuresStage, { kind: 'tfidf', minDf: 2 } as FeaturesParams, { split: odd.ref })).ref;
    const { outcome, before, after } = await resampled(featuresRef, { method: 'none' });
    if (before.layout !== 'csr' || after.layout !== 'csr') throw new Error(`expected CSR, got ${after.layout}`);
    expect([before.rows % 2, before.x.indices.length % 2]).toEqual([1, 0]);
    expect(before.x.indices.byteOffset).toBe(before.x.indptr.byteOffset + before.x.indptr.byteLength);
    expect(Array.from(after.x.indices)).toEqual(Array.from(before.x.indices));
    const [passed, original] = await Promise.all([
      readFile(store.path(outcome.ref.key, RESAMPLED_FILE)),
      readFile(store.path(featuresRef.key, partitionFile('train'))),
    ]);
    expect(passed.equals(original)).toBe(true);
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
