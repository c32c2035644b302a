/** The features stage's work (loaded on a cache miss, with DuckDB and apache-arrow). See features.ts. */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquet, queryRows, withConnection } from '../../data/duckdb';
import type { ComputeContext, ComputeResult } from '../../data/store/stage';
import { LABELS_FILE } from '../annotate/annotate';
import { SPLIT_NAMES, type SplitName } from '../split/stratified';
import { writeDense } from './arrow-io';
import {
  EMBEDDING_FILE,
  FEATURES_FILE,
  partitionFile,
  tfidfBlockOptions,
  TFIDF_FILE,
  VOCAB_FILE,
  WORD_VECTORS_FILE,
  type DocVectorsParams,
  type FeaturesParams,
  type TfidfParams,
  type TokenIdsParams,
  type Word2VecParams,
} from './features';
import { writePartition, type FeatureLayout } from './partition';
import { fitTfidf, tfidfBlocksToJson, transformTfidfBlocks } from './tfidf';
import { shareOfCopies, type TokenMatrix } from './token-matrix';
import { encodePadded, fitVocabulary, lengthAtPercentile, tokenize, type Vocabulary } from './vocabulary';
import { documentVectors, trainWord2Vec, wordIndex, type Word2VecModel } from './word2vec';

interface SplitRows {
  sourceRows: Int32Array;
  texts: string[];
  labels: Int32Array;
}

type Splits = Record<SplitName, SplitRows>;

async function readSplits(path: string): Promise<Splits> {
  const rows = await withConnection((connection) =>
    queryRows(connection, `SELECT source_row, text, label, split FROM ${parquet(path)} ORDER BY source_row`),
  );
  const collected: Record<SplitName, { sourceRows: number[]; texts: string[]; labels: number[] }> = {
    train: { sourceRows: [], texts: [], labels: [] },
    val: { sourceRows: [], texts: [], labels: [] },
    test: { sourceRows: [], texts: [], labels: [] },
  };
  for (const row of rows) {
    const target = collected[row.split as SplitName];
    target.sourceRows.push(Number(row.source_row));
    target.texts.push(String(row.text));
    target.labels.push(Number(row.label));
  }
  const typed = (s: (typeof collected)[SplitName]): SplitRows => ({
    sourceRows: Int32Array.from(s.sourceRows),
    texts: s.texts,
    labels: Int32Array.from(s.labels),
  });
  return { train: typed(collected.train), val: typed(collected.val), test: typed(collected.test) };
}

/** What a kind's writer reports: the partition layout and the facts for features.json and the summary. */
interface KindResult {
  layout: FeatureLayout;
  /** Which fitted component was fitted on which partition (always 'train'). */
  fitted: Record<string, 'train'>;
  facts: Record<string, unknown>;
}

export async function computeFeatures({ params, inputs, outDir }: ComputeContext<FeaturesParams>): Promise<ComputeResult> {
  const split = inputs.split!;
  const splits = await readSplits(split.file('split.parquet'));
  const result = await writeKind(params, splits, outDir);
  await copyFile(split.file(LABELS_FILE), join(outDir, LABELS_FILE));
  const description = { kind: params.kind, layout: result.layout, fitted: result.fitted, ...result.facts };
  await writeFile(join(outDir, FEATURES_FILE), JSON.stringify(description, null, 2) + '\n');
  const rowCounts = Object.fromEntries(SPLIT_NAMES.map((name) => [name, splits[name].texts.length]));
  return { rowCounts, summary: { ...description, fittedOn: 'train' } };
}

function writeKind(params: FeaturesParams, splits: Splits, outDir: string): Promise<KindResult> {
  switch (params.kind) {
    case 'token-ids':
      return writeTokenIds(params, splits, outDir);
    case 'tfidf':
      return writeTfidf(params, splits, outDir);
    case 'doc-vectors':
      return writeDocVectors(params, splits, outDir);
  }
}

const tokensOf = (texts: readonly string[]): string[][] => texts.map(tokenize);

// ---- token ids ----------------------------------------------------------------------------------

async function writeTokenIds(params: TokenIdsParams, splits: Splits, outDir: string): Promise<KindResult> {
  const trainTexts = splits.train.texts;
  const vocabulary = fitVocabulary(trainTexts, { maxSize: params.maxVocab, minCount: params.minCount });
  const seqLen = typeof params.maxLen === 'number' ? params.maxLen : lengthAtPercentile(trainTexts, params.maxLen.percentile);
  const matrices = {} as Record<SplitName, TokenMatrix>;
  for (const name of SPLIT_NAMES) {
    const { texts, labels, sourceRows } = splits[name];
    const matrix = { ids: encodePadded(texts, vocabulary, seqLen), labels, sourceRows, rows: texts.length, seqLen };
    matrices[name] = matrix;
    await writePartition(join(outDir, partitionFile(name)), { layout: 'token-ids', matrix, labels, sourceRows, rows: matrix.rows });
  }
  await writeFile(join(outDir, VOCAB_FILE), JSON.stringify({ seqLen, tokens: vocabulary.tokens }) + '\n');
  const facts: Record<string, unknown> = {
    vocabSize: vocabulary.tokens.length,
    seqLen,
    // Test rows whose id sequence also occurs in train: the leakage an auditor checks (0 when honest, but
    // different raw texts can clean/truncate to the same ids).
    testCopiesOfTrain: shareOfCopies(matrices.train, matrices.test),
  };
  const fitted: Record<string, 'train'> = { vocabulary: 'train', maxLen: 'train' };
  if (params.embedding) {
    const model = await fitWord2Vec(params.embedding.word2vec, splits.train.texts);
    facts.embedding = await writeEmbedding(model, vocabulary, join(outDir, EMBEDDING_FILE));
    fitted.word2vec = 'train';
  }
  return { layout: 'token-ids', fitted, facts };
}

/**
 * Row i = the Word2Vec vector of token id i; zeros for `<pad>`, `<oov>` and tokens Word2Vec dropped
 * (below its minCount), so the Embedding starts neutral for them.
 */
async function writeEmbedding(model: Word2VecModel, vocabulary: Vocabulary, path: string): Promise<Record<string, unknown>> {
  const { dim } = model;
  const values = new Float32Array(vocabulary.tokens.length * dim);
  let covered = 0;
  vocabulary.tokens.forEach((token, id) => {
    if (id < 2) return;
    const row = wordIndex(model, token);
    if (row === undefined) return;
    values.set(model.vectors.subarray(row * dim, (row + 1) * dim), id * dim);
    covered++;
  });
  const words = vocabulary.tokens;
  await writeDense(path, { data: values, rows: words.length, cols: dim, words }, { source: 'word2vec', fittedOn: 'train' });
  const vocabWords = Math.max(0, words.length - 2);
  return { source: 'word2vec', dim, word2vecWords: model.vocab.length, covered, coverage: vocabWords === 0 ? 0 : covered / vocabWords };
}

// ---- Word2Vec -----------------------------------------------------------------------------------

async function fitWord2Vec(params: Word2VecParams, trainTexts: readonly string[]): Promise<Word2VecModel> {
  const { seed, ...options } = params;
  // One thread: the only deterministic mode (threads > 1 is hogwild and not reproducible).
  return trainWord2Vec(tokensOf(trainTexts), { ...options, threads: 1 }, seed);
}

function word2vecFacts(model: Word2VecModel): Record<string, unknown> {
  return { dim: model.dim, words: model.vocab.length, deterministic: model.stats.deterministic, threads: model.stats.threads };
}

// ---- document vectors ---------------------------------------------------------------------------

async function writeDocVectors(params: DocVectorsParams, splits: Splits, outDir: string): Promise<KindResult> {
  const model = await fitWord2Vec(params.word2vec, splits.train.texts);
  const { dim } = model;
  await writeDense(
    join(outDir, WORD_VECTORS_FILE),
    { data: model.vectors, rows: model.vocab.length, cols: dim, words: model.vocab, counts: model.counts },
    { source: 'word2vec', fittedOn: 'train' },
  );
  const emptyRows: Record<string, number> = {};
  for (const name of SPLIT_NAMES) {
    const { texts, labels, sourceRows } = splits[name];
    const tokens = tokensOf(texts);
    const data = documentVectors(model, tokens);
    // Texts with no word Word2Vec kept are all-zero rows: worth knowing when a model does badly.
    emptyRows[name] = tokens.filter((t) => t.every((word) => wordIndex(model, word) === undefined)).length;
    const x = { data, rows: texts.length, cols: dim };
    await writePartition(join(outDir, partitionFile(name)), { layout: 'dense', x, metadata: { fittedOn: 'train' }, labels, sourceRows, rows: x.rows });
  }
  const facts = { ...word2vecFacts(model), vocabSize: model.vocab.length, emptyRows, testCopiesOfTrain: textCopies(splits) };
  return { layout: 'dense', fitted: { word2vec: 'train' }, facts };
}

// ---- TF-IDF -------------------------------------------------------------------------------------

async function writeTfidf(params: TfidfParams, splits: Splits, outDir: string): Promise<KindResult> {
  const trainTokens = tokensOf(splits.train.texts);
  const models = tfidfBlockOptions(params).map((options) => fitTfidf(trainTokens, options));
  for (const name of SPLIT_NAMES) {
    const { texts, labels, sourceRows } = splits[name];
    const x = transformTfidfBlocks(models, name === 'train' ? trainTokens : tokensOf(texts));
    await writePartition(join(outDir, partitionFile(name)), { layout: 'csr', x, metadata: { fittedOn: 'train' }, labels, sourceRows, rows: x.rows });
  }
  await writeFile(join(outDir, TFIDF_FILE), JSON.stringify(tfidfBlocksToJson(models)) + '\n');
  const vocabSize = models.reduce((sum, model) => sum + model.vocabulary.length, 0);
  const blocks = models.length > 1 ? { blockSizes: models.map((model) => model.vocabulary.length) } : {};
  const facts = { vocabSize, ...blocks, trainDocuments: trainTokens.length, testCopiesOfTrain: textCopies(splits) };
  return { layout: 'csr', fitted: { tfidf: 'train' }, facts };
}

/** Share of test texts identical to a training text (the leakage measure, on cleaned texts). */
function textCopies(splits: Splits): number {
  if (splits.test.texts.length === 0) return 0;
  const seen = new Set(splits.train.texts);
  return splits.test.texts.filter((text) => seen.has(text)).length / splits.test.texts.length;
}
