/**
 * The evaluate stage on a fixed-weight model: metrics.json carries seeded bootstrap intervals and no
 * timings (byte-identical when recomputed), inference time goes into the manifest summary.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../data/random';
import { ArtifactStore } from '../../data/store/artifact-store';
import { recomputeStage, runStage, type StageDefinition } from '../../data/store/stage';
import { writeTokenMatrix } from '../features/token-matrix';
import { commitArtifact } from '../report/testing/fixture-store';
import { writeTinyModel } from '../report/testing/tiny-model';
import { DEFAULT_BOOTSTRAP_SEED, METRICS_FILE, PREDICTIONS_FILE } from './evaluate';
import { evaluateStage } from '../stages';
import { msPerThousand } from './evaluate-compute';
import { bootstrapCi } from './uncertainty';

let root: string;
let store: ArtifactStore;
const refs = { model: { key: '', stage: 'train' }, features: { key: '', stage: 'features' } };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-evaluate-'));
  store = new ArtifactStore(root);
  const rows = 40;
  const seqLen = 3;
  const ids = new Int32Array(rows * seqLen);
  const labels = new Int32Array(rows);
  const rng = new Rng(5);
  for (let r = 0; r < rows; r++) {
    labels[r] = rng.int(2);
    // Mostly the token that points at the true class, sometimes the other one.
    ids[r * seqLen] = rng.next() < 0.8 ? (labels[r] === 1 ? 2 : 3) : labels[r] === 1 ? 3 : 2;
  }
  const features = await commitArtifact(store, {
    stage: 'features',
    params: { fixture: 'evaluate' },
    files: { 'labels.json': JSON.stringify({ classes: ['negative', 'positive'] }) },
    write: (dir) => writeTokenMatrix(join(dir, 'test.arrow'), { ids, labels, sourceRows: Int32Array.from({ length: rows }, (_, i) => i), rows, seqLen }),
  });
  const model = await commitArtifact(store, { stage: 'train', params: { fixture: 'tiny' }, write: (dir) => writeTinyModel(dir, 4, seqLen) });
  refs.features.key = features.key;
  refs.model.key = model.key;
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('evaluate stage v2', () => {
  it('adds seeded bootstrap intervals to metrics.json and inference time to the summary only', async () => {
    const outcome = await runStage(store, evaluateStage, { partition: 'test' }, refs);
    const metrics = JSON.parse(await readFile(store.path(outcome.ref.key, METRICS_FILE), 'utf8'));
    const predictions = JSON.parse(await readFile(store.path(outcome.ref.key, PREDICTIONS_FILE), 'utf8'));
    const expected = bootstrapCi(
      Int32Array.from(predictions.yTrue),
      Int32Array.from(predictions.yPred),
      2,
      new Rng(DEFAULT_BOOTSTRAP_SEED).fork('bootstrap'),
    );
    expect(metrics.bootstrap).toEqual(expected);
    expect(metrics.bootstrap.macroF1.estimate).toBeCloseTo(metrics.macro.f1, 12);
    expect(metrics.bootstrap.macroF1.low).toBeLessThanOrEqual(metrics.macro.f1);
    expect(JSON.stringify(metrics)).not.toMatch(/inference|Ms"/);
    expect(outcome.summary.inferenceMsPer1000).toEqual(expect.any(Number));
    expect(outcome.summary.inferenceMsPer1000 as number).toBeGreaterThan(0);
    expect((await store.manifest(outcome.ref.key)).stageVersion).toBe(2);
  });

  it('recomputes byte for byte, and a different seed gives different intervals', async () => {
    const outcome = await runStage(store, evaluateStage, { partition: 'test' }, refs);
    const stages = { evaluate: evaluateStage } as Record<string, StageDefinition<unknown>>;
    expect(await recomputeStage(store, stages, outcome.ref.key)).toMatchObject({ identical: true, differing: [] });
    const seeded = await runStage(store, evaluateStage, { partition: 'test', seed: 7 }, refs);
    const a = JSON.parse(await readFile(store.path(outcome.ref.key, METRICS_FILE), 'utf8'));
    const b = JSON.parse(await readFile(store.path(seeded.ref.key, METRICS_FILE), 'utf8'));
    expect(b.macro).toEqual(a.macro);
    expect(b.bootstrap).not.toEqual(a.bootstrap);
  });

  it('reports inference per 1,000 rows', () => {
    expect(msPerThousand(25, 500)).toBe(50);
    expect(msPerThousand(1, 3)).toBe(333.33);
    expect(msPerThousand(5, 0)).toBe(0);
  });
});
