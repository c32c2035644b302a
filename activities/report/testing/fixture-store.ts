/**
 * Test fixtures: a small but complete lineage (import → … → evaluate) written straight into a store,
 * with real Parquet tables, a real metrics.json and training history, so report, lineage and drift
 * code can be tested in milliseconds without training anything. Not used by the pipeline.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../../../data/canonical';
import { copyToParquet, quoteLiteral, withConnection } from '../../../data/duckdb';
import { Rng } from '../../../data/random';
import { artifactKey, type ArtifactStore } from '../../../data/store/artifact-store';
import type { Manifest } from '../../../data/store/types';
import { classificationMetrics } from '../../evaluate/metrics';
import { bootstrapCi } from '../../evaluate/uncertainty';

export interface FixtureArtifact {
  stage: string;
  stageVersion?: number;
  params: unknown;
  inputs?: Record<string, string>;
  files?: Record<string, string | Uint8Array>;
  /** Writes more files (e.g. Parquet) into the artifact's temp dir. */
  write?: (dir: string) => Promise<void>;
  rowCounts?: Record<string, number>;
  summary?: Record<string, unknown>;
  computeMs?: number;
}

/** Commits an artifact under the key its stage, params and inputs give, with a fixed timestamp. */
export async function commitArtifact(store: ArtifactStore, artifact: FixtureArtifact): Promise<Manifest> {
  const inputs = artifact.inputs ?? {};
  const stageVersion = artifact.stageVersion ?? 1;
  const inputKeys = Object.values(inputs);
  const key = artifactKey({ stage: artifact.stage, stageVersion, params: artifact.params, inputKeys });
  const dir = await store.tempDir(artifact.stage);
  for (const [name, content] of Object.entries(artifact.files ?? {})) await writeFile(join(dir, name), content);
  await artifact.write?.(dir);
  return store.commit(dir, {
    key,
    stage: artifact.stage,
    stageVersion,
    params: artifact.params,
    inputs,
    inputKeys,
    codeVersion: '0.0.0+fixture',
    rowCounts: artifact.rowCounts ?? {},
    summary: artifact.summary ?? {},
    timings: { computeMs: artifact.computeMs ?? 5 },
    createdAt: '2026-01-01T00:00:00.000Z',
  });
}

export interface ReviewRow {
  rating: number;
  text: string;
  date?: string;
  label?: number;
  split?: string;
}

/** Writes review rows as a Parquet table with the pipeline's columns (label/split only when given). */
export async function writeReviewsParquet(path: string, rows: readonly ReviewRow[]): Promise<void> {
  const labelled = rows.some((r) => r.label !== undefined);
  const split = rows.some((r) => r.split !== undefined);
  const values = rows.map((r, i) => {
    const date = r.date ? `TIMESTAMP ${quoteLiteral(r.date)}` : 'NULL::TIMESTAMP';
    const extra = `${labelled ? `, ${r.label ?? 'NULL'}` : ''}${split ? `, ${quoteLiteral(r.split ?? 'train')}` : ''}`;
    return `(${i}, ${quoteLiteral(`r${i}`)}, 'com.example.app', ${r.rating}, ${date}, ${quoteLiteral(r.text)}, ${quoteLiteral(r.text)}${extra})`;
  });
  const columns = `source_row, review_id, app, rating, date, text, raw_text${labelled ? ', label' : ''}${split ? ', split' : ''}`;
  await withConnection((connection) => copyToParquet(connection, `SELECT * FROM (VALUES ${values.join(', ')}) t(${columns}) ORDER BY source_row`, path));
}

const CLASSES = ['negative', 'positive'];
const LABELS_JSON = JSON.stringify({ rule: 'binary', version: 1, classes: CLASSES }) + '\n';

/** A review window: `n` reviews whose words and ratings depend on `seed` and `positiveShare`. */
export function fixtureReviews(n: number, seed: number, options: { positiveShare?: number; extraWord?: string } = {}): ReviewRow[] {
  const rng = new Rng(seed);
  const good = ['bagus', 'mantap', 'cepat', 'membantu', 'mudah'];
  const bad = ['error', 'lambat', 'gagal', 'ribet', 'kecewa'];
  const shared = ['aplikasi', 'ini', 'sangat', 'saya'];
  return Array.from({ length: n }, (_, i) => {
    const positive = rng.next() < (options.positiveShare ?? 0.7);
    const pool = positive ? good : bad;
    const words = [shared[rng.int(shared.length)]!, pool[rng.int(pool.length)]!, pool[rng.int(pool.length)]!];
    if (options.extraWord && rng.next() < 0.5) words.push(options.extraWord);
    const day = String(1 + (i % 28)).padStart(2, '0');
    return { rating: positive ? 4 + rng.int(2) : 1 + rng.int(2), text: words.join(' '), date: `2025-03-${day} 10:00:00`, label: positive ? 1 : 0 };
  });
}

export interface FixtureLineage {
  importKey: string;
  cleanKey: string;
  annotateKey: string;
  splitKey: string;
  featuresKey: string;
  resampleKey: string;
  trainKey: string;
  evaluationKey: string;
  /** An evaluation whose lineage resampled before a `leaky-split` (40% of test rows copied from training). */
  leakyEvaluationKey: string;
  /** Two more train artifacts, standing in for grid cells. */
  cellKeys: string[];
}

function metricsDocument(yTrue: Int32Array, yPred: Int32Array, model: string, features: string): string {
  const metrics = classificationMetrics(yTrue, yPred, CLASSES);
  const bootstrap = bootstrapCi(yTrue, yPred, CLASSES.length, new Rng(42).fork('bootstrap'), { resamples: 200 });
  return canonicalJson({ partition: 'test', model, features, ...metrics, bootstrap }) + '\n';
}

function history(epochs: number, start: number): string {
  const entries = Array.from({ length: epochs }, (_, epoch) => ({
    epoch,
    loss: start / (epoch + 1),
    valLoss: start / (epoch + 1) + 0.05 * epoch,
    valAccuracy: 0.6 + 0.05 * epoch,
    durationMs: 1234 + epoch,
  }));
  return JSON.stringify({ history: entries }, null, 2) + '\n';
}

/** Writes a whole fake lineage for a 60-review window; every file is real, every number consistent. */
export async function writeFixtureLineage(store: ArtifactStore): Promise<FixtureLineage> {
  const reviews = fixtureReviews(60, 3);
  const imported = await commitArtifact(store, {
    stage: 'import',
    params: { kind: 'synthetic', rows: 62, seed: 3, app: 'com.example.app' },
    write: (dir) => writeReviewsParquet(join(dir, 'reviews.parquet'), [...reviews, { rating: 3, text: '' }, { rating: 5, text: '' }]),
    rowCounts: { rows: 62, quarantined: 0 },
    summary: { rows: 62, quarantined: 0 },
  });
  const clean = await commitArtifact(store, {
    stage: 'clean',
    params: { lowercase: true },
    inputs: { table: imported.key },
    write: (dir) => writeReviewsParquet(join(dir, 'clean.parquet'), reviews.map((r) => ({ ...r, label: undefined }))),
    rowCounts: { rows: 60, quarantined: 2 },
    summary: { rows: 60, quarantined: 2, byReason: { 'empty after cleaning': 2, kept: 60 } },
  });
  const positives = reviews.filter((r) => r.label === 1).length;
  const annotate = await commitArtifact(store, {
    stage: 'annotate',
    params: { rule: { name: 'binary', version: 1 } },
    inputs: { table: clean.key },
    files: { 'labels.json': LABELS_JSON },
    write: (dir) => writeReviewsParquet(join(dir, 'labelled.parquet'), reviews),
    rowCounts: { rows: 60, dropped: 0 },
    summary: { rule: 'binary@1', classes: CLASSES, classCounts: { negative: 60 - positives, positive: positives } },
  });
  const split = await commitArtifact(store, {
    stage: 'split',
    params: { ratios: { train: 0.6, val: 0.2, test: 0.2 }, seed: 3 },
    inputs: { table: annotate.key },
    files: { 'labels.json': LABELS_JSON },
    rowCounts: { train: 36, val: 12, test: 12 },
    summary: { perSplitLabelCounts: { train: { 0: 11, 1: 25 }, val: { 0: 4, 1: 8 }, test: { 0: 4, 1: 8 } }, mergedGroups: 3 },
  });
  const features = await commitArtifact(store, {
    stage: 'features',
    params: { kind: 'token-ids', maxVocab: 50, minCount: 1, maxLen: 4 },
    inputs: { split: split.key },
    files: { 'labels.json': LABELS_JSON, 'vocab.json': JSON.stringify({ seqLen: 4, tokens: ['<pad>', '<oov>', 'bagus', 'error', 'aplikasi'] }) + '\n' },
    rowCounts: { train: 36, val: 12, test: 12 },
    summary: { vocabSize: 5, seqLen: 4, fittedOn: 'train', testCopiesOfTrain: 0 },
  });
  const resample = await commitArtifact(store, {
    stage: 'resample',
    params: { method: 'random-over', seed: 3, partition: 'train' },
    inputs: { features: features.key },
    rowCounts: { before: 36, after: 50 },
    summary: { method: 'random-over', before: { 0: 11, 1: 25 }, after: { 0: 25, 1: 25 } },
    computeMs: 40,
  });
  const train = async (lr: number, start: number) =>
    commitArtifact(store, {
      stage: 'train',
      params: { model: { arch: 'cnn-small', filters: 8 }, epochs: 4, batchSize: 16, learningRate: lr, seed: 3 },
      inputs: { train: resample.key, features: features.key },
      files: { 'metadata.json': history(4, start) },
      rowCounts: { train: 50, val: 12 },
      summary: { backend: 'cpu', arch: 'cnn-small' },
      computeMs: 900,
    });
  const model = await train(0.005, 0.7);
  const cells = [await train(0.01, 0.9), await train(0.001, 0.8)];
  // The leaky branch: resampled rows split afterwards, so test rows repeat training rows.
  const leakySplit = await commitArtifact(store, {
    stage: 'leaky-split',
    params: { ratios: { train: 0.6, val: 0.2, test: 0.2 }, seed: 3 },
    inputs: { resampled: resample.key, features: features.key },
    rowCounts: { train: 30, val: 10, test: 10 },
    summary: { leaky: true, testCopiesOfTrain: 0.4, note: 'resampled BEFORE the split' },
  });
  const leakyModel = await commitArtifact(store, {
    stage: 'train',
    params: { model: { arch: 'cnn-small', filters: 8 }, epochs: 4, batchSize: 16, learningRate: 0.005, seed: 3 },
    inputs: { train: leakySplit.key, features: leakySplit.key },
    files: { 'metadata.json': history(4, 0.6) },
  });
  const yTrue = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
  const evaluate = (yPred: number[], modelKey: string, featuresKey: string) =>
    commitArtifact(store, {
      stage: 'evaluate',
      stageVersion: 2,
      params: { partition: 'test' },
      inputs: { model: modelKey, features: featuresKey },
      files: { 'metrics.json': metricsDocument(yTrue, Int32Array.from(yPred), modelKey, featuresKey) },
      rowCounts: { scored: 12 },
      summary: { partition: 'test', inferenceMsPer1000: 12.5 },
    });
  const evaluation = await evaluate([0, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1], model.key, features.key);
  const leaky = await evaluate([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1], leakyModel.key, leakySplit.key);
  return {
    importKey: imported.key,
    cleanKey: clean.key,
    annotateKey: annotate.key,
    splitKey: split.key,
    featuresKey: features.key,
    resampleKey: resample.key,
    trainKey: model.key,
    evaluationKey: evaluation.key,
    leakyEvaluationKey: leaky.key,
    cellKeys: [model.key, ...cells.map((c) => c.key)],
  };
}
