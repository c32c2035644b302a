/**
 * The features stage, every kind, on a tiny synthetic split: what each writes, that everything is
 * fitted on the training texts only, and that a recompute gives the same bytes.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../data/store/artifact-store';
import { recomputeStage, runStage, type StageDefinition } from '../../data/store/stage';
import { readDense } from './arrow-io';
import {
  EMBEDDING_FILE,
  FEATURES_FILE,
  partitionFile,
  TFIDF_FILE,
  VOCAB_FILE,
  WORD_VECTORS_FILE,
  type FeaturesParams,
  type Word2VecParams,
} from './features';
import { featurizeTexts } from './featurize';
import { featuresStage } from '../stages';
import { readPartition } from './partition';
import { textsOf, TEST_ONLY_WORD, writeSplitFixture, type SplitFixture } from './testing/split-fixture';
import { fitTfidf, transformTfidf } from './tfidf';
import { tokenize } from './vocabulary';
import { documentVectors, trainWord2Vec } from './word2vec';

let root: string;
let store: ArtifactStore;
let fixture: SplitFixture;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-features-'));
  store = new ArtifactStore(root);
  fixture = await writeSplitFixture(store, { nClasses: 3 });
});
afterAll(() => rm(root, { recursive: true, force: true }));

const w2v: Word2VecParams = { vectorSize: 8, minCount: 1, epochs: 3, window: 2, seed: 7 };

async function run(params: FeaturesParams) {
  const outcome = await runStage(store, featuresStage, params, { split: fixture.ref });
  const file = (name: string) => store.path(outcome.ref.key, name);
  const description = JSON.parse(await readFile(file(FEATURES_FILE), 'utf8'));
  return { outcome, file, description };
}

const trainTokens = () => textsOf(fixture.rows, 'train').map(tokenize);

describe('features stage', () => {
  it('token-ids: vocabulary from training texts only, padded ids per partition', async () => {
    const { outcome, file, description } = await run({ kind: 'token-ids', maxVocab: 100, minCount: 1, maxLen: 6 });
    const vocab = JSON.parse(await readFile(file(VOCAB_FILE), 'utf8')) as { tokens: string[]; seqLen: number };
    expect(vocab.seqLen).toBe(6);
    expect(vocab.tokens).not.toContain(TEST_ONLY_WORD);
    const test = await readPartition(file(partitionFile('test')));
    if (test.layout !== 'token-ids') throw new Error(`expected token ids, got ${test.layout}`);
    expect(test.rows).toBe(textsOf(fixture.rows, 'test').length);
    // The test-only word sits at position 5 of its texts and maps to <oov> (id 1).
    expect(test.matrix.ids[5]).toBe(1);
    expect(description).toMatchObject({ kind: 'token-ids', layout: 'token-ids', fitted: { vocabulary: 'train' } });
    expect(outcome.summary).toMatchObject({ fittedOn: 'train', vocabSize: vocab.tokens.length, seqLen: 6 });
  });

  it('token-ids with word2vec: a vocab-aligned embedding trained on the training texts only', async () => {
    const { file, description } = await run({ kind: 'token-ids', maxVocab: 100, minCount: 1, maxLen: 6, embedding: { word2vec: w2v } });
    const vocab = JSON.parse(await readFile(file(VOCAB_FILE), 'utf8')) as { tokens: string[] };
    const embedding = await readDense(file(EMBEDDING_FILE));
    expect([embedding.rows, embedding.cols]).toEqual([vocab.tokens.length, 8]);
    expect(embedding.words).toEqual(vocab.tokens);
    expect(Array.from(embedding.data.subarray(0, 16))).toEqual(new Array(16).fill(0)); // <pad>, <oov>
    const { seed, ...options } = w2v;
    const reference = await trainWord2Vec(trainTokens(), { ...options, threads: 1 }, seed);
    const id = vocab.tokens.indexOf('bagus');
    const row = reference.vocab.indexOf('bagus');
    expect(Array.from(embedding.data.subarray(id * 8, id * 8 + 8))).toEqual(Array.from(reference.vectors.subarray(row * 8, row * 8 + 8)));
    expect(reference.vocab).not.toContain(TEST_ONLY_WORD);
    expect(description).toMatchObject({ fitted: { vocabulary: 'train', word2vec: 'train' }, embedding: { dim: 8, coverage: 1 } });
  });

  it('tfidf: CSR partitions with the vocabulary and idf of the training texts', async () => {
    const { file, description } = await run({ kind: 'tfidf', ngramRange: [1, 2], minDf: 1 });
    const model = fitTfidf(trainTokens(), { ngramRange: [1, 2], minDf: 1 });
    const expected = transformTfidf(model, textsOf(fixture.rows, 'test').map(tokenize));
    const test = await readPartition(file(partitionFile('test')));
    if (test.layout !== 'csr') throw new Error(`expected CSR, got ${test.layout}`);
    expect(test.x.cols).toBe(model.vocabulary.length);
    expect(Array.from(test.x.indptr)).toEqual(Array.from(expected.indptr));
    expect(Array.from(test.x.data)).toEqual(Array.from(expected.data));
    expect(Array.from(test.labels)).toEqual(fixture.rows.filter((r) => r.split === 'test').map((r) => r.label));
    const saved = JSON.parse(await readFile(file(TFIDF_FILE), 'utf8')) as { vocabulary: string[] };
    expect(saved.vocabulary).toEqual(model.vocabulary);
    expect(saved.vocabulary.some((term) => term.includes(TEST_ONLY_WORD))).toBe(false);
    expect(description).toMatchObject({ kind: 'tfidf', layout: 'csr', fitted: { tfidf: 'train' } });
  });

  it('tfidf word+char_wb: word then char_wb block per row, each fitted on the training texts, featurised alike', async () => {
    const params: FeaturesParams = { kind: 'tfidf', analyzer: 'word+char_wb', ngramRange: [1, 1], charNgramRange: [2, 4] };
    const { outcome, file, description } = await run(params);
    const word = fitTfidf(trainTokens(), {});
    const char = fitTfidf(trainTokens(), { analyzer: 'char_wb', ngramRange: [2, 4] });
    const testTexts = textsOf(fixture.rows, 'test');
    const test = await readPartition(file(partitionFile('test')));
    if (test.layout !== 'csr') throw new Error(`expected CSR, got ${test.layout}`);
    expect(test.x.cols).toBe(word.vocabulary.length + char.vocabulary.length);
    const first = transformTfidf(char, [tokenize(testTexts[0] as string)]);
    const row0 = Array.from(test.x.indices.subarray(0, test.x.indptr[1]));
    expect(row0.filter((j) => j >= word.vocabulary.length).map((j) => j - word.vocabulary.length)).toEqual(Array.from(first.indices));
    expect(char.vocabulary.some((term) => term.includes(TEST_ONLY_WORD))).toBe(false);
    const again = await featurizeTexts({ key: outcome.ref.key, file }, testTexts, test.sourceRows);
    if (again.layout !== 'csr') throw new Error(`expected CSR, got ${again.layout}`);
    expect(Array.from(again.x.indices)).toEqual(Array.from(test.x.indices));
    expect(Array.from(again.x.data)).toEqual(Array.from(test.x.data));
    expect(description).toMatchObject({ kind: 'tfidf', vocabSize: test.x.cols, blockSizes: [word.vocabulary.length, char.vocabulary.length] });
  });

  it('doc-vectors: mean Word2Vec vectors per text, word vectors saved', async () => {
    const { file, description } = await run({ kind: 'doc-vectors', word2vec: w2v });
    const { seed, ...options } = w2v;
    const reference = await trainWord2Vec(trainTokens(), { ...options, threads: 1 }, seed);
    const val = await readPartition(file(partitionFile('val')));
    if (val.layout !== 'dense') throw new Error(`expected dense, got ${val.layout}`);
    const expected = documentVectors(reference, textsOf(fixture.rows, 'val').map(tokenize));
    expect(val.x.cols).toBe(8);
    expect(Array.from(val.x.data)).toEqual(Array.from(expected));
    const words = await readDense(file(WORD_VECTORS_FILE));
    expect(words.words).toEqual(reference.vocab);
    expect(Array.from(words.counts ?? [])).toEqual(Array.from(reference.counts));
    expect(description).toMatchObject({ kind: 'doc-vectors', layout: 'dense', fitted: { word2vec: 'train' }, deterministic: true });
  });

  it('recomputes every kind byte for byte (single-threaded Word2Vec is deterministic)', async () => {
    const kinds: FeaturesParams[] = [
      { kind: 'token-ids', maxVocab: 50, minCount: 1, maxLen: { percentile: 90 }, embedding: { word2vec: w2v } },
      { kind: 'tfidf', sublinearTf: true },
      { kind: 'tfidf', analyzer: 'char_wb', charNgramRange: [2, 5], minDf: 2 },
      { kind: 'doc-vectors', word2vec: { ...w2v, architecture: 'skipgram' } },
    ];
    for (const params of kinds) {
      const { outcome } = await run(params);
      const verdict = await recomputeStage(store, { features: featuresStage as StageDefinition<unknown> }, outcome.ref.key);
      expect(verdict, params.kind).toMatchObject({ identical: true, differing: [] });
    }
  });
});
