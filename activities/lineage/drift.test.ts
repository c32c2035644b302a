import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../data/store/artifact-store';
import { commitArtifact, fixtureReviews, writeReviewsParquet, type ReviewRow } from '../report/testing/fixture-store';
import { writeTinyModel } from '../report/testing/tiny-model';
import { changedTerms, computeDrift, formatDrift, oovRate, totalVariation } from './drift';

const LABELS = JSON.stringify({ classes: ['negative', 'positive'] });
let root: string;
let store: ArtifactStore;
const rowsA = fixtureReviews(80, 1, { positiveShare: 0.7 });
const rowsB = fixtureReviews(90, 2, { positiveShare: 0.4, extraWord: 'promo' });
const keys = { a: '', b: '', clean: '', model: '', features: '' };

const window = (rows: ReviewRow[], name: string) =>
  commitArtifact(store, {
    stage: 'annotate',
    params: { window: name },
    files: { 'labels.json': LABELS },
    write: (dir) => writeReviewsParquet(join(dir, 'labelled.parquet'), rows),
  });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-drift-'));
  store = new ArtifactStore(root);
  keys.a = (await window(rowsA, 'a')).key;
  keys.b = (await window(rowsB, 'b')).key;
  keys.clean = (
    await commitArtifact(store, {
      stage: 'clean',
      params: { window: 'b' },
      write: (dir) => writeReviewsParquet(join(dir, 'clean.parquet'), rowsB.map((r) => ({ ...r, label: undefined }))),
    })
  ).key;
  const features = await commitArtifact(store, {
    stage: 'features',
    params: { fitted: 'a' },
    inputs: { split: keys.a },
    files: { 'labels.json': LABELS, 'vocab.json': JSON.stringify({ seqLen: 4, tokens: ['<pad>', '<oov>', 'bagus', 'error', 'aplikasi', 'ini'] }) },
  });
  const model = await commitArtifact(store, { stage: 'train', params: { tiny: true }, inputs: { features: features.key }, write: (dir) => writeTinyModel(dir, 6, 4) });
  keys.features = features.key;
  keys.model = model.key;
});
afterAll(() => rm(root, { recursive: true, force: true }));

const tokensOf = (rows: ReviewRow[]) => rows.flatMap((r) => r.text.split(' '));
const share = (rows: ReviewRow[], label: number) => rows.filter((r) => r.label === label).length / rows.length;

describe('drift helpers', () => {
  it('total variation is half the L1 distance of the proportions', () => {
    expect(totalVariation({ x: 1, y: 3 }, { x: 2, y: 2 })).toBeCloseTo(0.25, 15);
    expect(totalVariation({ x: 5 }, { y: 5 })).toBe(1);
  });

  it('OOV rate counts token occurrences outside the vocabulary', () => {
    expect(oovRate(new Map([['a', 3], ['b', 1]]), new Set(['a']))).toBe(0.25);
  });

  it('ranks terms by the change in their share of tokens, with counts, skipping rare ones', () => {
    const a = new Map([['x', 50], ['y', 50], ['rare', 1]]);
    const b = new Map([['x', 80], ['y', 20], ['rare', 0]]);
    const top = changedTerms(a, b, 5, 5);
    expect(top.map((t) => [t.term, t.countA, t.countB])).toEqual([['x', 50, 80], ['y', 50, 20]]);
    expect(top[0]!.change).toBeCloseTo(0.8 - 50 / 101, 12);
    expect(top[1]!.log2Ratio).toBeCloseTo(Math.log2(20.5 / 100.5 / (50.5 / 101.5)), 12);
    expect(top[0]!.log2Ratio).toBeGreaterThan(0);
  });
});

describe('computeDrift', () => {
  it('measures label mix, length, OOV against window A and the top changed terms', async () => {
    const report = await computeDrift(store, keys.a, keys.b);
    expect(report.a.mix).toEqual({ negative: rowsA.filter((r) => r.label === 0).length, positive: rowsA.filter((r) => r.label === 1).length });
    expect(report.mixShift).toBeCloseTo(Math.abs(share(rowsA, 1) - share(rowsB, 1)), 12);
    expect(report.b.length.mean).toBeCloseTo(tokensOf(rowsB).length / rowsB.length, 12);
    expect(report.a.from).toBe('2025-03-01');
    const vocabA = new Set(tokensOf(rowsA));
    const tokensB = tokensOf(rowsB);
    expect(report.oov).toMatchObject({ vocabulary: 'window A', vocabularySize: vocabA.size, rateA: 0 });
    expect(report.oov.rateB).toBeCloseTo(tokensB.filter((t) => !vocabA.has(t)).length / tokensB.length, 12);
    const promo = report.topChangedTerms[0]!;
    expect(promo).toMatchObject({ term: 'promo', countA: 0, countB: tokensB.filter((t) => t === 'promo').length });
    expect(report.model).toBeUndefined();
    expect(formatDrift(report)).toContain(`+ promo`);
  });

  it('scores the model on both windows and uses its vocabulary for OOV', async () => {
    const report = await computeDrift(store, keys.a, keys.b, { modelKey: keys.model });
    // The tiny model says positive unless 'error' outnumbers 'bagus' among the first 4 tokens.
    const accuracy = (rows: ReviewRow[]) =>
      rows.filter((r) => {
        const words = r.text.split(' ').slice(0, 4);
        const predicted = words.filter((w) => w === 'bagus').length >= words.filter((w) => w === 'error').length ? 1 : 0;
        return predicted === r.label;
      }).length / rows.length;
    expect(report.model).toMatchObject({
      key: keys.model,
      featuresKey: keys.features,
      a: { n: 80, seenInTraining: true },
      b: { n: 90, seenInTraining: false },
    });
    const model = report.model as { a: { accuracy: number }; b: { accuracy: number } };
    expect(model.a.accuracy).toBeCloseTo(accuracy(rowsA), 12);
    expect(model.b.accuracy).toBeCloseTo(accuracy(rowsB), 12);
    const known = new Set(['bagus', 'error', 'aplikasi', 'ini']);
    const tokensA = tokensOf(rowsA);
    expect(report.oov.vocabulary).toBe(`features ${keys.features}`);
    expect(report.oov.rateA).toBeCloseTo(tokensA.filter((t) => !known.has(t)).length / tokensA.length, 12);
    expect(formatDrift(report)).toContain('(the model was trained on rows from this table: optimistic)');
  });

  it('compares ratings for unlabelled tables and says why the model was not scored', async () => {
    const report = await computeDrift(store, keys.a, keys.clean, { modelKey: keys.model });
    expect(report.b.file).toBe('clean.parquet');
    expect(Object.keys(report.b.mix).every((k) => k.endsWith('★'))).toBe(true);
    expect(report.model).toEqual({ key: keys.model, skipped: `window ${keys.clean.slice(0, 12)} is not labelled (clean.parquet)` });
  });

  it('says why a model artifact cannot be scored instead of failing', async () => {
    const report = await computeDrift(store, keys.a, keys.b, { modelKey: keys.a, featuresKey: keys.features });
    expect(report.model).toEqual({ key: keys.a, skipped: `artifact ${keys.a.slice(0, 12)} (annotate) holds no model` });
  });

  it('refuses an artifact without a review table, saying which keys work', async () => {
    await expect(computeDrift(store, keys.model, keys.b)).rejects.toMatchObject({
      type: 'BadInput',
      message: expect.stringContaining('give the key of a clean, annotate or split artifact'),
    });
  });
});
