/**
 * Features stage: turns the split table into one feature file per partition (`train.arrow`,
 * `val.arrow`, `test.arrow`), fitting everything (vocabulary, Word2Vec, TF-IDF) on the TRAINING
 * split only. Three kinds:
 * - `token-ids`: vocabulary + padded token ids (`vocab.json`); optionally Word2Vec trained on the
 *   training texts, written as `embedding.arrow`, a vocab-aligned matrix that initialises the Embedding.
 * - `tfidf`: TF-IDF (scikit-learn semantics) over word n-grams, character n-grams (`char_wb`) or both
 *   side by side, as CSR per partition; the fitted model (or blocks) in `tfidf.json`.
 * - `doc-vectors`: Word2Vec on the training texts (`word-vectors.arrow`), each text the mean of its
 *   word vectors (dense per partition).
 * `features.json` and the manifest summary record what was fitted on what. The work itself (DuckDB,
 * apache-arrow) is in features-compute.ts, loaded only on a cache miss (activities/stages.ts).
 */
import { runStage, type StageDefinition, type StageIdentity } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';
import type { SplitName } from '../split/stratified';
import type { TfidfOptions } from './tfidf';
import type { Word2VecOptions } from './word2vec';

/**
 * Word2Vec as the features stage runs it: always single-threaded, so the vectors are a pure function
 * of the training texts, the options and `seed` (a hogwild multi-threaded run is not reproducible).
 */
export interface Word2VecParams extends Omit<Word2VecOptions, 'threads'> {
  /** Seeds initial vectors, window shrinking, subsampling and negative draws. */
  seed: number;
}

export interface TokenIdsParams {
  kind: 'token-ids';
  /** Largest vocabulary, including `<pad>` and `<oov>`. @default 10000 */
  maxVocab: number;
  /** Tokens seen fewer times in training are out of vocabulary. @default 1 */
  minCount: number;
  /** A fixed length, or `{ percentile }` of training text lengths. */
  maxLen: number | { percentile: number };
  /** Also train Word2Vec on the training texts and write `embedding.arrow` for the Embedding layer. @default none */
  embedding?: { word2vec: Word2VecParams };
}

/**
 * TF-IDF options (tfidf.ts, scikit-learn's TfidfVectorizer semantics), fitted on the training texts. The
 * df limits, idf, tf and norm options apply to each block alike.
 */
export interface TfidfParams extends Omit<TfidfOptions, 'analyzer'> {
  kind: 'tfidf';
  /**
   * Absent: word n-grams (`ngramRange`), as before the other analyzers existed; `char_wb`: character
   * n-grams within word boundaries (`charNgramRange`); `word+char_wb`: both blocks side by side
   * (sklearn's FeatureUnion), word columns first, each block normalised on its own.
   */
  analyzer?: 'char_wb' | 'word+char_wb';
  /** Character n-gram lengths of a `char_wb` block. */
  charNgramRange?: [number, number];
}

/** The vectorizer options of each block: one for `word` or `char_wb`, word then char for `word+char_wb`. */
export function tfidfBlockOptions(params: TfidfParams): TfidfOptions[] {
  const { kind: _kind, analyzer, ngramRange, charNgramRange, ...shared } = params;
  void _kind;
  const word: TfidfOptions = { ...shared, ...(ngramRange ? { ngramRange } : {}) };
  const char: TfidfOptions = { ...shared, analyzer: 'char_wb', ...(charNgramRange ? { ngramRange: charNgramRange } : {}) };
  if (analyzer === undefined) return [word];
  return analyzer === 'char_wb' ? [char] : [word, char];
}

export interface DocVectorsParams {
  kind: 'doc-vectors';
  word2vec: Word2VecParams;
}

export type FeaturesParams = TokenIdsParams | TfidfParams | DocVectorsParams;
export type FeaturesKind = FeaturesParams['kind'];

export interface FeaturesInput {
  split: ArtifactRef;
  params: FeaturesParams;
}

/** token-ids: `{seqLen, tokens}`, index = token id. */
export const VOCAB_FILE = 'vocab.json';
/** token-ids with Word2Vec: vocabSize × dim vectors, row i for token id i (zeros where Word2Vec has no vector). */
export const EMBEDDING_FILE = 'embedding.arrow';
/** doc-vectors: the Word2Vec vectors (words, counts, vectors) the document vectors are means of. */
export const WORD_VECTORS_FILE = 'word-vectors.arrow';
/** tfidf: the fitted vectoriser (vocabulary, idf, options). */
export const TFIDF_FILE = 'tfidf.json';
/** Every kind: kind, layout and what was fitted on which partition. */
export const FEATURES_FILE = 'features.json';
export const partitionFile = (split: SplitName): string => `${split}.arrow`;

export const featuresIdentity: StageIdentity = {
  stage: 'features',
  // 3: tfidf and doc-vectors kinds, optional Word2Vec embedding, features.json.
  // 4: Word2Vec trains on the SIMD kernel (float32 sums, so vectors differ in the last bits from version 3).
  version: 4,
  inputNames: ['split'],
};

/** The features activity over `stage` (activities/stages.ts `featuresStage`). */
export function createFeaturesActivity(deps: ActivityDeps, stage: StageDefinition<FeaturesParams>) {
  return async function features(input: FeaturesInput): Promise<StageOutcome> {
    return runStage(deps.store, stage, input.params, { split: input.split }, deps);
  };
}
