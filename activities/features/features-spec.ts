/**
 * The experiment spec's `features:` section (zod, no heavy imports) and its resolution into the
 * features stage's params. `kind` defaults to `token-ids`, so specs written before the other kinds
 * existed keep their meaning.
 */
import { z } from '../../data/zod';
import type { FeaturesParams, Word2VecParams } from './features';

const positiveInt = z.number().int().positive();

/** Word2Vec (word2vec.ts, gensim's parameters and defaults); always trained single-threaded on train texts. */
export const Word2VecSpecSchema = z.strictObject({
  /** @default 'cbow' */
  architecture: z.enum(['cbow', 'skipgram']).default('cbow'),
  /** Dimensions per vector. @default the model's embeddingDim for an embedding, else 100 */
  vectorSize: positiveInt.optional(),
  /** @default 5 */
  window: positiveInt.default(5),
  /** @default true */
  shrinkWindows: z.boolean().default(true),
  /** Words seen fewer times in the training texts get no vector. @default 5 */
  minCount: positiveInt.default(5),
  /** @default 5 */
  negative: positiveInt.default(5),
  /** @default 0.75 */
  nsExponent: z.number().nonnegative().default(0.75),
  /** Down-sampling threshold for frequent words; 0 turns it off. @default 0.001 */
  sample: z.number().nonnegative().default(0.001),
  /** @default 0.025 */
  alpha: z.number().positive().default(0.025),
  /** @default 0.0001 */
  minAlpha: z.number().nonnegative().default(0.0001),
  /** @default 5 */
  epochs: positiveInt.default(5),
  /** @default true */
  cbowMean: z.boolean().default(true),
  /** @default 10000 */
  maxSentenceLength: positiveInt.default(10_000),
});

const TokenIdsSpecSchema = z.strictObject({
  kind: z.literal('token-ids'),
  /** @default 10000 */
  maxVocab: z.number().int().min(3).default(10_000),
  /** @default 1 */
  minCount: z.number().int().min(1).default(1),
  /** A fixed length or a percentile of training lengths. @default { percentile: 95 } */
  maxLen: z
    .union([positiveInt, z.strictObject({ percentile: z.number().gt(0).max(100) })], {
      error: (issue) =>
        issue.code === 'invalid_union' ? `${JSON.stringify(issue.input)} is not allowed; give a whole number of tokens (e.g. 64) or {percentile: 1..100}` : undefined,
    })
    .default({ percentile: 95 }),
  /** Initialise the model's Embedding from Word2Vec trained on the training texts. @default none (random) */
  embedding: z.strictObject({ word2vec: Word2VecSpecSchema.prefault({}) }).optional(),
});

const ngramRange = (field: string) =>
  z.tuple([positiveInt, positiveInt]).refine(([min, max]) => min <= max, { error: `${field}: the first length must not exceed the second` });

const TfidfSpecSchema = z.strictObject({
  kind: z.literal('tfidf'),
  /**
   * What the terms are: `word` n-grams (ngramRange), `char_wb` character n-grams within word boundaries
   * (charNgramRange; sklearn's analyzer='char_wb'), or `word+char_wb`, both blocks side by side (sklearn's
   * FeatureUnion), each normalised on its own. @default 'word'
   */
  analyzer: z.enum(['word', 'char_wb', 'word+char_wb']).default('word'),
  /** Word n-gram lengths, smallest and largest. @default [1, 1] */
  ngramRange: ngramRange('ngramRange').default([1, 1]),
  /** Character n-gram lengths (analyzer char_wb or word+char_wb), smallest and largest. @default [2, 5] */
  charNgramRange: ngramRange('charNgramRange').default([2, 5]),
  /** Fewest documents a term must be in: a count (>= 1) or a fraction in (0, 1). @default 1 */
  minDf: z.number().positive().default(1),
  /** Most documents a term may be in: a fraction in (0, 1] or a count (> 1). @default 1 */
  maxDf: z.number().positive().default(1),
  /** Keep only the most frequent terms; null keeps all. @default null */
  maxFeatures: positiveInt.nullable().default(null),
  /** @default true */
  useIdf: z.boolean().default(true),
  /** @default true */
  smoothIdf: z.boolean().default(true),
  /** @default false */
  sublinearTf: z.boolean().default(false),
  /** @default 'l2' */
  norm: z.enum(['l2', 'l1', 'none']).default('l2'),
});

const DocVectorsSpecSchema = z.strictObject({
  kind: z.literal('doc-vectors'),
  word2vec: Word2VecSpecSchema.prefault({}),
});

const KINDS = ['token-ids', 'tfidf', 'doc-vectors'];

/** A missing section or `kind` means token ids. */
function defaultKind(value: unknown): unknown {
  if (value === undefined) return { kind: 'token-ids' };
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !('kind' in value)) return { ...value, kind: 'token-ids' };
  return value;
}

export const FeaturesSpecSchema = z.preprocess(
  defaultKind,
  z.discriminatedUnion('kind', [TokenIdsSpecSchema, TfidfSpecSchema, DocVectorsSpecSchema], {
    error: (issue) =>
      `unknown features kind ${JSON.stringify((issue.input as { kind?: unknown } | undefined)?.kind)}; allowed: ${KINDS.join(', ')}`,
  }),
);

export type FeaturesSpec = z.output<typeof FeaturesSpecSchema>;
type Word2VecSpec = z.output<typeof Word2VecSpecSchema>;

function word2vecParams(spec: Word2VecSpec, vectorSize: number, seed: number): Word2VecParams {
  return { ...spec, vectorSize: spec.vectorSize ?? vectorSize, seed };
}

/** Only the n-gram ranges the analyzer uses; a word TF-IDF's params (and key) are what they were before char_wb. */
function tfidfParams(spec: Extract<FeaturesSpec, { kind: 'tfidf' }>): FeaturesParams {
  const { analyzer, ngramRange, charNgramRange, ...shared } = spec;
  if (analyzer === 'word') return { ...shared, ngramRange };
  if (analyzer === 'char_wb') return { ...shared, analyzer, charNgramRange };
  return { ...shared, analyzer, ngramRange, charNgramRange };
}

/**
 * The features stage's params. `embeddingDim` is the model's (when it has one): a Word2Vec embedding
 * without an explicit vectorSize takes it, so the vectors fit the Embedding layer.
 */
export function featuresParamsFromSpec(spec: FeaturesSpec, seed: number, embeddingDim: number | undefined): FeaturesParams {
  switch (spec.kind) {
    case 'token-ids': {
      const { embedding, ...rest } = spec;
      if (!embedding) return rest;
      return { ...rest, embedding: { word2vec: word2vecParams(embedding.word2vec, embeddingDim ?? 100, seed) } };
    }
    case 'tfidf':
      return tfidfParams(spec);
    case 'doc-vectors':
      return { kind: 'doc-vectors', word2vec: word2vecParams(spec.word2vec, 100, seed) };
  }
}
