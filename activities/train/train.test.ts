/**
 * The train stage end to end on a tiny synthetic split (features → resample → train → evaluate): a
 * baseline on TF-IDF, an LSTM on token ids with a frozen Word2Vec embedding, and a killed run that
 * resumes from its checkpoint and ends with the same bytes as an uninterrupted one.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ArtifactStore } from '../../data/store/artifact-store';
import { recomputeStage, runStage, stageKey, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef } from '../../data/store/types';
import { METRICS_FILE } from '../evaluate/evaluate';
import { readDense } from '../features/arrow-io';
import { EMBEDDING_FILE, type FeaturesParams } from '../features/features';
import { writeSplitFixture } from '../features/testing/split-fixture';
import { leakySplitStage } from '../leaky/leaky-split';
import { resampleStage, type ResampleParams } from '../resample/resample';
import { CheckpointDir, CHECKPOINTS_DIR } from '../../models/checkpoints';
import { MODEL_FILE, WEIGHTS_FILE } from '../../models/model-io';
import { tf, tfBackend } from '../../models/tf-runtime';
import { BASELINE_FILE, METADATA_FILE, PRIOR_ADJUSTMENT_FILE, type TrainParams, type TrainProgress } from './train';
import { createTrainStage, evaluateStage, featuresStage, trainStage } from '../stages';

const roots: string[] = [];
async function freshStore(): Promise<ArtifactStore> {
  const root = await mkdtemp(join(tmpdir(), 'ulasan-train-'));
  roots.push(root);
  return new ArtifactStore(root);
}
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

const TOKENS: FeaturesParams = { kind: 'token-ids', maxVocab: 100, minCount: 1, maxLen: 6 };
const OVERSAMPLE: ResampleParams = { sampler: { method: 'random-over', samplingStrategy: 'auto', shrinkage: null }, seed: 2, partition: 'train' };

type Upstream = Record<'features' | 'train', ArtifactRef>;

async function upstream(store: ArtifactStore, features: FeaturesParams): Promise<Upstream> {
  const split = await writeSplitFixture(store, { perClass: 30 });
  const featuresRef = (await runStage(store, featuresStage, features, { split: split.ref })).ref;
  const train = (await runStage(store, resampleStage, OVERSAMPLE, { features: featuresRef })).ref;
  return { features: featuresRef, train };
}

async function trainAndEvaluate(store: ArtifactStore, up: Upstream, params: TrainParams) {
  const trained = await runStage(store, trainStage, params, { train: up.train, features: up.features });
  const evaluated = await runStage(store, evaluateStage, { partition: 'test' }, { model: trained.ref, features: up.features });
  const metrics = JSON.parse(await readFile(store.path(evaluated.ref.key, METRICS_FILE), 'utf8'));
  const metadata = JSON.parse(await readFile(store.path(trained.ref.key, METADATA_FILE), 'utf8'));
  return { trained, metrics, metadata };
}

const base = { epochs: 3, batchSize: 8, learningRate: 0.01, seed: 5 };

describe('train stage', () => {
  let store: ArtifactStore;
  beforeAll(async () => {
    store = await freshStore();
  });

  it('trains a linear SVM on TF-IDF and evaluate scores it on the CSR test partition', async () => {
    const up = await upstream(store, { kind: 'tfidf' });
    const { trained, metrics, metadata } = await trainAndEvaluate(store, up, { ...base, model: { arch: 'linear-svm', C: 1 } });
    expect(existsSync(store.path(trained.ref.key, BASELINE_FILE))).toBe(true);
    expect(existsSync(store.path(trained.ref.key, MODEL_FILE))).toBe(false);
    expect(metadata).toMatchObject({ kind: 'linearSvm', backend: 'js', dims: { layout: 'csr', nClasses: 2 } });
    expect(metadata.history[0].valMacroF1).toBeGreaterThan(0.9);
    expect(metrics.n).toBe(9);
    expect(metrics.macro.f1).toBeGreaterThan(0.9);
  });

  it('tunes a prior adjustment on the validation split, stores it with the model, and evaluate scores with it', async () => {
    const up = await upstream(store, { kind: 'tfidf' });
    const params = { ...base, model: { arch: 'logistic-regression' as const, C: 0.05, priorAdjustment: 'validation' as const } };
    const trained = await runStage(store, trainStage, params, { train: up.train, features: up.features });
    const adjustment = JSON.parse(await readFile(store.path(trained.ref.key, PRIOR_ADJUSTMENT_FILE), 'utf8'));
    expect(adjustment).toMatchObject({ space: 'log-probability', tunedOn: 'val', metric: 'macroF1' });
    expect(adjustment.offsets).toHaveLength(2);
    expect(adjustment.after).toBeGreaterThanOrEqual(adjustment.before);
    const val = await runStage(store, evaluateStage, { partition: 'val' }, { model: trained.ref, features: up.features });
    const metrics = JSON.parse(await readFile(store.path(val.ref.key, METRICS_FILE), 'utf8'));
    expect(metrics.macro.f1).toBeCloseTo(adjustment.after, 12);
    const plain = await runStage(store, trainStage, { ...params, model: { arch: 'logistic-regression', C: 0.05 } }, { train: up.train, features: up.features });
    expect(existsSync(store.path(plain.ref.key, PRIOR_ADJUSTMENT_FILE))).toBe(false);
  });

  it('stores given offsets (tuned elsewhere) with the model, and refuses offsets of another length', async () => {
    const up = await upstream(store, { kind: 'tfidf' });
    const given = { ...base, model: { arch: 'linear-svm' as const, priorAdjustment: { offsets: [0, 100] } } };
    const { trained, metrics } = await trainAndEvaluate(store, up, given);
    expect(JSON.parse(await readFile(store.path(trained.ref.key, PRIOR_ADJUSTMENT_FILE), 'utf8'))).toMatchObject({ offsets: [0, 100], space: 'decision', tunedOn: 'given' });
    // every test row is pushed to class 1
    expect(metrics.confusionMatrix.map((row: number[]) => row[0])).toEqual([0, 0]);
    const wrong = { ...base, model: { arch: 'nb' as const, priorAdjustment: { offsets: [0, 1, 2] } } };
    await expect(runStage(store, trainStage, wrong, { train: up.train, features: up.features })).rejects.toMatchObject({
      type: 'BadInput',
      message: 'model.priorAdjustment.offsets has 3 offsets for 2 classes; give one per class',
    });
  });

  it('reproduces the leaky setup on TF-IDF: oversampled before the split, copies in test', async () => {
    const up = await upstream(store, { kind: 'tfidf' });
    const leaky = await runStage(store, leakySplitStage, { ratios: { train: 0.6, val: 0.2, test: 0.2 }, seed: 1 }, { resampled: up.train, features: up.features });
    expect(leaky.summary.testCopiesOfTrain).toBeGreaterThan(0);
    expect(existsSync(store.path(leaky.ref.key, 'tfidf.json'))).toBe(true);
    const { metrics } = await trainAndEvaluate(store, { train: leaky.ref, features: leaky.ref }, { ...base, model: { arch: 'nb' } });
    expect(metrics.n).toBe((await store.manifest(leaky.ref.key)).rowCounts.test);
  });

  it('refuses a baseline on token ids and a neural arch on TF-IDF, naming what to change', async () => {
    const tokens = await upstream(store, TOKENS);
    await expect(runStage(store, trainStage, { ...base, model: { arch: 'nb' } }, tokens)).rejects.toMatchObject({
      type: 'BadInput',
      message: expect.stringContaining('features.kind: tfidf'),
    });
    const tfidf = await upstream(store, { kind: 'tfidf' });
    await expect(runStage(store, trainStage, { ...base, model: { arch: 'gru', embeddingDim: 4, units: 2 } }, tfidf)).rejects.toMatchObject({
      type: 'BadInput',
      message: expect.stringContaining('features.kind: token-ids'),
    });
  });

  it('trains an LSTM whose frozen Embedding is the Word2Vec matrix, deterministically', async () => {
    const features: FeaturesParams = { ...TOKENS, embedding: { word2vec: { vectorSize: 6, minCount: 1, epochs: 2, seed: 3 } } };
    const up = await upstream(store, features);
    const model = { arch: 'lstm' as const, embeddingDim: 6, units: 4, denseUnits: 4, dropout: 0.1, embeddingTrainable: false };
    const { trained, metrics, metadata } = await trainAndEvaluate(store, up, { ...base, model });
    expect(metadata).toMatchObject({ embedding: 'word2vec', dims: { seqLen: 6, nClasses: 2 }, model: { arch: 'lstm', units: 4 } });
    expect(metadata.history).toHaveLength(3);
    expect(metadata.history[0]).not.toHaveProperty('durationMs');
    expect(trained.summary).toMatchObject({ arch: 'lstm', backend: expect.stringMatching(/wasm|cpu|tfjs-node/) });
    expect(metrics.n).toBe(9);
    // Frozen: the saved embedding weights are exactly the features' Word2Vec matrix.
    const modelJson = JSON.parse(await readFile(store.path(trained.ref.key, MODEL_FILE), 'utf8'));
    const specs = modelJson.weightsManifest[0].weights as { name: string; shape: number[] }[];
    // Weights are stored trainable first, so the frozen embedding comes after the others.
    const at = specs.findIndex((w) => w.name === 'embedding/embeddings');
    const offset = specs.slice(0, at).reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
    const embedding = await readDense(store.path(up.features.key, EMBEDDING_FILE));
    const weights = await readFile(store.path(trained.ref.key, WEIGHTS_FILE));
    const start = weights.byteOffset + offset;
    const saved = new Float32Array(weights.buffer.slice(start, start + embedding.data.length * 4));
    expect(Array.from(saved)).toEqual(Array.from(embedding.data));
    // `ulasan verify`: recomputed in this process, model.json and weights.bin come out byte-identical.
    const verdict = await recomputeStage(store, { train: trainStage as StageDefinition<unknown> }, trained.ref.key);
    expect(verdict).toMatchObject({ identical: true, differing: [] });
  });
});

describe('a killed training run', () => {
  const params: TrainParams = { ...base, epochs: 4, model: { arch: 'gru', embeddingDim: 6, units: 4, denseUnits: 0, dropout: 0.2 } };

  it('resumes from the checkpoint of its last finished epoch and ends identical to an uninterrupted run', async () => {
    const store = await freshStore();
    const up = await upstream(store, TOKENS);
    await tfBackend();
    const tensorsBefore = tf.memory().numTensors;
    class Killed extends Error {}
    const killedAfterSecond = createTrainStage({
      afterCheckpoint: ({ epoch }) => {
        if (epoch === 1) throw new Killed(`killed after epoch ${epoch}`);
      },
    });
    // runStage types every failure; the kill is the cause of an Internal one (a real kill throws nothing).
    await expect(runStage(store, killedAfterSecond, params, up)).rejects.toMatchObject({ type: 'Internal', cause: expect.any(Killed) });
    const key = stageKey(trainStage, params, up);
    expect(await store.has(key)).toBe(false);
    const heartbeats: TrainProgress[] = [];
    const restarted = createTrainStage({ afterCheckpoint: (progress) => void heartbeats.push(progress) });
    const resumed = await runStage(store, restarted, params, up, { heartbeat: () => undefined });
    expect(heartbeats.map((h) => h.epoch)).toEqual([2, 3]);
    expect(heartbeats[0]!.checkpointKey).toBe(`${key}/epoch-0003`);
    expect(resumed.summary).toMatchObject({ resumedAtEpoch: 2, resumedFrom: `${key}/epoch-0002` });
    expect(existsSync(join(store.root, CHECKPOINTS_DIR, key))).toBe(false);

    const other = await freshStore();
    const otherUp = await upstream(other, TOKENS);
    const straight = await runStage(other, trainStage, params, otherUp);
    expect(straight.ref.key).toBe(key);
    expect(straight.summary).not.toHaveProperty('resumedAtEpoch');
    const files = [MODEL_FILE, WEIGHTS_FILE, METADATA_FILE];
    const read = (s: ArtifactStore) => Promise.all(files.map((f) => readFile(s.path(key, f))));
    const [a, b] = await Promise.all([read(store), read(other)]);
    files.forEach((file, i) => expect(Buffer.compare(a[i]!, b[i]!), file).toBe(0));
    // Three fits, one of them thrown out of: models and optimizers were all released.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('resumes from the checkpoint a Temporal heartbeat names', async () => {
    const store = await freshStore();
    const up = await upstream(store, TOKENS);
    let last: TrainProgress | undefined;
    const killed = createTrainStage({
      afterCheckpoint: (progress) => {
        last = progress;
        if (progress.epoch === 0) throw new Error('worker lost');
      },
    });
    const beats: unknown[] = [];
    await expect(runStage(store, killed, params, up, { heartbeat: (d) => void beats.push(d) })).rejects.toThrow('worker lost');
    // Only epoch heartbeats name a finished epoch without a batch; batch heartbeats come between them.
    expect(beats.filter((beat) => !Object.hasOwn(beat as object, 'batch'))).toEqual([last]);
    const epochs: number[] = [];
    const restarted = createTrainStage({ resume: () => last, afterCheckpoint: ({ epoch }) => void epochs.push(epoch) });
    const outcome = await runStage(store, restarted, params, up);
    expect(epochs).toEqual([1, 2, 3]);
    expect(outcome.summary).toMatchObject({ resumedAtEpoch: 1 });
  });

  it('heartbeats {epoch, batch, batches, checkpointKey} between epochs, naming the last checkpoint stored', async () => {
    const store = await freshStore();
    const up = await upstream(store, TOKENS);
    // Every clock read is a second later, so every batch is "a while" after the last heartbeat.
    let clock = 0;
    const now = vi.spyOn(performance, 'now').mockImplementation(() => (clock += 1_000));
    const beats: TrainProgress[] = [];
    try {
      await runStage(store, trainStage, { ...params, epochs: 2 }, up, { heartbeat: (d) => void beats.push(d as TrainProgress) });
    } finally {
      now.mockRestore();
    }
    const batches = beats.filter((b) => b.batch !== undefined);
    expect(batches.length).toBeGreaterThan(2);
    expect(batches[0]).toEqual({ epoch: 0, batch: expect.any(Number), batches: expect.any(Number) });
    const inSecondEpoch = batches.filter((b) => b.epoch === 1);
    expect(inSecondEpoch.length).toBeGreaterThan(0);
    const trainKey = stageKey(trainStage, { ...params, epochs: 2 }, up);
    for (const beat of inSecondEpoch) expect(beat.checkpointKey).toBe(`${trainKey}/epoch-0001`);
    expect(beats.filter((b) => b.batch === undefined).map((b) => b.epoch)).toEqual([0, 1]);
  });

  it('stops mid-epoch when cancelled, storing nothing but the checkpoints of finished epochs', async () => {
    const store = await freshStore();
    const up = await upstream(store, TOKENS);
    // A cancellation as the runners raise it (an AbortError in an activity thread): runStage passes it through untyped.
    class Cancelled extends Error {
      override readonly name = 'AbortError';
    }
    let batchesSeen = 0;
    let cancelled = false;
    const stage = createTrainStage({ afterCheckpoint: ({ epoch }) => void (cancelled = epoch === 0) });
    const run = runStage(store, stage, params, up, {
      throwIfCancelled: () => {
        if (cancelled && ++batchesSeen === 2) throw new Cancelled('cancelled');
      },
    });
    await expect(run).rejects.toBeInstanceOf(Cancelled);
    const key = stageKey(trainStage, params, up);
    expect(await store.has(key)).toBe(false);
    const dir = join(store.root, CHECKPOINTS_DIR, key);
    expect(await readdir(dir)).toEqual(['epoch-0001']);
    const tmp = await readdir(join(store.root, '.tmp')).catch(() => [] as string[]);
    expect(tmp.filter((name) => name.startsWith('train')), 'the stage temp dir is removed').toEqual([]);
  });

  it('lets a timed-out attempt and its retry store the same epoch at once without failing either', async () => {
    const store = await freshStore();
    const up = await upstream(store, TOKENS);
    const key = stageKey(trainStage, params, up);
    let saved: TrainProgress | undefined;
    const once = createTrainStage({
      afterCheckpoint: (progress) => {
        saved = progress;
        throw new Error('stop after one epoch');
      },
    });
    await expect(runStage(store, once, params, up)).rejects.toThrow('stop after one epoch');
    const stored = await new CheckpointDir(store.root, key).load(saved);
    expect(stored?.checkpointKey).toBe(saved?.checkpointKey);
    // Two attempts (two CheckpointDir instances, as two activity attempts in one process) publish epoch 1 at once, many times.
    const attempts = [new CheckpointDir(store.root, key), new CheckpointDir(store.root, key)];
    for (let round = 0; round < 10; round++) {
      const keys = await Promise.all(attempts.map((dir) => dir.save(stored!.checkpoint)));
      expect(keys).toEqual([saved!.checkpointKey, saved!.checkpointKey]);
    }
    const reread = await attempts[0]!.load();
    expect(Buffer.compare(Buffer.from(reread!.checkpoint.model.weights), Buffer.from(stored!.checkpoint.model.weights))).toBe(0);
    expect(await readdir(join(store.root, CHECKPOINTS_DIR, key))).toEqual(['epoch-0001']);
  });
});
