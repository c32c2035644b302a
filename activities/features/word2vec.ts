/**
 * Word2Vec (CBOW and skip-gram with negative sampling) over typed arrays, with gensim's vocabulary,
 * subsampling, negative table, window and learning-rate rules, so a model trained here is
 * comparable with one from `gensim.models.Word2Vec`. Fit on the training split only: the caller
 * passes the training texts' tokens.
 *
 * Single-threaded training is deterministic: every random number comes from `seed`. With
 * `threads > 1` the sentences are split across worker threads that update shared vectors without
 * locks (hogwild, as gensim and the C tool do); that is faster but not reproducible, and the result
 * says `deterministic: false`.
 */
import { performance } from 'node:perf_hooks';
import { badInput, notFound } from '../../core/errors';
import { Rng } from '../../data/random';
import { makeExpTable, runWord2VecKernel, type KernelInput, type KernelOutput } from '../../kernels/word2vec/kernel';
import { createWasmTrainer } from '../../kernels/word2vec/wasm';
import { runKernelThreads } from '../../kernels/word2vec/threads';

export interface Word2VecOptions {
  /** `cbow` predicts a word from the mean of its context; `skipgram` predicts context from the word. @default 'cbow' */
  architecture?: 'cbow' | 'skipgram';
  /** Dimensions per word vector. @default 100 */
  vectorSize?: number;
  /** Largest distance between the centre word and a context word. @default 5 */
  window?: number;
  /** Shrink each window by a random amount in [0, window), as gensim and the C tool do. @default true */
  shrinkWindows?: boolean;
  /** Words seen fewer times are dropped from the vocabulary (and from the windows). @default 5 */
  minCount?: number;
  /** Negative samples per positive example. @default 5 */
  negative?: number;
  /** Exponent of the unigram distribution negatives are drawn from. @default 0.75 */
  nsExponent?: number;
  /** Threshold for down-sampling frequent words (gensim's `sample`); 0 turns it off. @default 0.001 */
  sample?: number;
  /** Initial learning rate. @default 0.025 */
  alpha?: number;
  /** Learning rate reached, linearly, by the end of the last epoch. @default 0.0001 */
  minAlpha?: number;
  /** Passes over the corpus. @default 5 */
  epochs?: number;
  /** CBOW uses the mean (true) or the sum (false) of the context vectors. @default true */
  cbowMean?: boolean;
  /** Longer sentences are cut into pieces of this many tokens (gensim's MAX_WORDS_IN_BATCH). @default 10000 */
  maxSentenceLength?: number;
  /** Worker threads; above 1 training is hogwild and not deterministic. @default 1 */
  threads?: number;
}

export interface Word2VecStats {
  /** Raw words trained on: corpus tokens (out-of-vocabulary included) times epochs, as gensim's `raw_word_count`. */
  words: number;
  /** Words left after min_count and subsampling, summed over epochs (gensim's "effective words"). */
  effectiveWords: number;
  /** Seconds in the training loop (vocabulary building excluded). */
  seconds: number;
  /** `words / seconds`: raw words per second. */
  wordsPerSecond: number;
  /** Seconds spent counting words and encoding the corpus. */
  vocabSeconds: number;
  threads: number;
  /** True when the same seed gives the same vectors (single-threaded). */
  deterministic: boolean;
}

/** What lookups need: a trained model, or vectors read back from an artifact. */
export interface WordVectors {
  /** Row `i` of `vectors` belongs to `vocab[i]`. */
  vocab: string[];
  /** `vocab.length × dim` vectors, row-major. */
  vectors: Float32Array;
  dim: number;
}

export interface Word2VecModel extends WordVectors {
  /** Words by descending count (ties: first seen first). */
  vocab: string[];
  /** Training-corpus count of each vocabulary word. */
  counts: Int32Array;
  /** The input vectors (gensim's `wv.vectors`). */
  vectors: Float32Array;
  stats: Word2VecStats;
}

type ResolvedOptions = Required<Word2VecOptions>;

const DEFAULTS: ResolvedOptions = {
  architecture: 'cbow',
  vectorSize: 100,
  window: 5,
  shrinkWindows: true,
  minCount: 5,
  negative: 5,
  nsExponent: 0.75,
  sample: 1e-3,
  alpha: 0.025,
  minAlpha: 0.0001,
  epochs: 5,
  cbowMean: true,
  maxSentenceLength: 10000,
  threads: 1,
};

const STAGE = 'features';

/** Trains Word2Vec on tokenised training sentences; `seed` fixes initial vectors and all sampling. */
export async function trainWord2Vec(
  sentences: readonly (readonly string[])[],
  options: Word2VecOptions = {},
  seed = 0,
): Promise<Word2VecModel> {
  const opts = resolveOptions(options);
  const t0 = performance.now();
  const shared = opts.threads > 1;
  const { vocab, input } = word2VecKernelInput(sentences, opts, seed, shared);
  const t1 = performance.now();
  const out = shared ? await runKernelThreads(input, opts.threads) : await runWord2VecSimd(input);
  const seconds = (performance.now() - t1) / 1000;
  return {
    vocab: vocab.words,
    counts: vocab.counts,
    vectors: shared ? Float32Array.from(input.syn0) : input.syn0,
    dim: input.dim,
    stats: {
      words: out.rawWords,
      effectiveWords: out.effectiveWords,
      seconds,
      wordsPerSecond: seconds > 0 ? out.rawWords / seconds : 0,
      vocabSeconds: (t1 - t0) / 1000,
      threads: opts.threads,
      deterministic: !shared,
    },
  };
}

/** The vocabulary and everything the kernels need, with vectors initialised from `seed`. */
export function word2VecKernelInput(
  sentences: readonly (readonly string[])[],
  options: Word2VecOptions,
  seed: number,
  shared = false,
): { vocab: Vocab; input: KernelInput } {
  const opts = resolveOptions(options);
  const vocab = buildVocab(sentences, opts.minCount);
  const encoded = encodeCorpus(sentences, vocab.index, opts.maxSentenceLength);
  const rng = new Rng(seed);
  const dim = opts.vectorSize;
  const syn0 = allocate(vocab.words.length * dim, shared);
  initVectors(syn0, dim, rng.fork('init'));
  const negatives = aliasTable(vocab.counts, opts.nsExponent);
  const input: KernelInput = {
    syn0,
    syn1neg: allocate(vocab.words.length * dim, shared),
    dim,
    corpus: encoded.corpus,
    starts: encoded.starts,
    rawLengths: encoded.rawLengths,
    firstSentence: 0,
    endSentence: encoded.rawLengths.length,
    sampleInt: sampleInts(vocab.counts, opts.sample),
    useSample: opts.sample > 0,
    aliasProb: negatives.prob,
    aliasIndex: negatives.alias,
    expTable: makeExpTable(),
    window: opts.window,
    shrinkWindows: opts.shrinkWindows,
    negative: opts.negative,
    skipGram: opts.architecture === 'skipgram',
    cbowMean: opts.cbowMean,
    epochs: opts.epochs,
    alpha: opts.alpha,
    minAlpha: opts.minAlpha,
    seed: rng.fork('train').nextUint32() | 1,
  };
  return { vocab, input };
}

/** Single-thread training with the SIMD sentence step (word2vec.wat); deterministic. */
export async function runWord2VecSimd(input: KernelInput): Promise<KernelOutput> {
  const trainer = await createWasmTrainer(input);
  const out = runWord2VecKernel(input, trainer);
  trainer.copyOut();
  return out;
}

function resolveOptions(options: Word2VecOptions): ResolvedOptions {
  const opts: ResolvedOptions = { ...DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (opts as Record<string, unknown>)[key] = value;
  }
  const positiveInts: (keyof ResolvedOptions)[] = ['vectorSize', 'window', 'minCount', 'negative', 'epochs'];
  for (const key of [...positiveInts, 'maxSentenceLength', 'threads'] as const) {
    const value = opts[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw badInput(`word2vec option ${key} must be an integer >= 1, got ${String(value)}`, {
        stage: STAGE,
        field: key,
      });
    }
  }
  for (const key of ['sample', 'alpha', 'minAlpha', 'nsExponent'] as const) {
    if (!Number.isFinite(opts[key]) || opts[key] < 0) {
      throw badInput(`word2vec option ${key} must be a finite number >= 0, got ${opts[key]}`, {
        stage: STAGE,
        field: key,
      });
    }
  }
  if (opts.architecture !== 'cbow' && opts.architecture !== 'skipgram') {
    throw badInput(`word2vec option architecture must be 'cbow' or 'skipgram', got ${String(opts.architecture)}`, {
      stage: STAGE,
      field: 'architecture',
    });
  }
  return opts;
}

interface Vocab {
  words: string[];
  counts: Int32Array;
  index: Map<string, number>;
}

/** Counts words and keeps those seen `minCount` times or more, most frequent first. */
export function buildVocab(sentences: readonly (readonly string[])[], minCount: number): Vocab {
  const raw = new Map<string, number>();
  for (const sentence of sentences) {
    for (const word of sentence) raw.set(word, (raw.get(word) ?? 0) + 1);
  }
  // Map iteration is first-seen order and Array.prototype.sort is stable, so ties stay first-seen first.
  const kept = [...raw].filter(([, count]) => count >= minCount).sort((a, b) => b[1] - a[1]);
  if (kept.length === 0) {
    throw badInput(
      `word2vec: no word occurs ${minCount} or more times in ${sentences.length} training sentences (${raw.size} distinct words); lower minCount or pass more text`,
      { stage: STAGE, field: 'minCount' },
    );
  }
  const words = kept.map(([word]) => word);
  return {
    words,
    counts: Int32Array.from(kept, ([, count]) => count),
    index: new Map(words.map((word, i) => [word, i])),
  };
}

interface EncodedCorpus {
  corpus: Int32Array;
  starts: Int32Array;
  rawLengths: Int32Array;
}

/** Flattens sentences to vocabulary ids (unknown words dropped), cutting long ones at `maxLength` raw tokens. */
function encodeCorpus(
  sentences: readonly (readonly string[])[],
  index: Map<string, number>,
  maxLength: number,
): EncodedCorpus {
  let total = 0;
  let pieces = 0;
  for (const sentence of sentences) {
    total += sentence.length;
    pieces += Math.max(1, Math.ceil(sentence.length / maxLength));
  }
  const corpus = new Int32Array(total);
  const starts = new Int32Array(pieces + 1);
  const rawLengths = new Int32Array(pieces);
  let n = 0;
  let piece = 0;
  for (const sentence of sentences) {
    for (let from = 0; from === 0 || from < sentence.length; from += maxLength) {
      const to = Math.min(sentence.length, from + maxLength);
      for (let i = from; i < to; i++) {
        const id = index.get(sentence[i] as string);
        if (id !== undefined) corpus[n++] = id;
      }
      rawLengths[piece] = to - from;
      starts[++piece] = n;
    }
  }
  return { corpus: corpus.subarray(0, n), starts, rawLengths };
}

/**
 * gensim's `sample_int`: a word is kept with probability `(sqrt(c / t) + 1) * t / c`, where `c` is
 * its count and `t = sample × (retained words)`, scaled to uint32.
 */
export function sampleInts(counts: Int32Array, sample: number): Uint32Array {
  let retained = 0;
  for (const count of counts) retained += count;
  const threshold = sample < 1 ? sample * retained : sample;
  const out = new Uint32Array(counts.length);
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] as number;
    const p = sample > 0 ? Math.min(1, (Math.sqrt(count / threshold) + 1) * (threshold / count)) : 1;
    out[i] = Math.floor(p * (2 ** 32 - 1));
  }
  return out;
}

/**
 * Vose's alias table over count^exponent (gensim's negative-sampling distribution): draw a column
 * uniformly, keep it when a uniform uint32 is below `prob[column]`, otherwise take `alias[column]`.
 */
export function aliasTable(counts: Int32Array, exponent: number): { prob: Uint32Array; alias: Int32Array } {
  const n = counts.length;
  const scaled = new Float64Array(n);
  let total = 0;
  for (const count of counts) total += count ** exponent;
  for (let i = 0; i < n; i++) scaled[i] = (((counts[i] as number) ** exponent) / total) * n;
  const prob = new Uint32Array(n).fill(0xffffffff);
  const alias = Int32Array.from({ length: n }, (_, i) => i);
  const small: number[] = [];
  const large: number[] = [];
  for (let i = n - 1; i >= 0; i--) ((scaled[i] as number) < 1 ? small : large).push(i);
  for (;;) {
    const less = small.pop();
    const more = large.pop();
    if (less === undefined || more === undefined) break; // the rest are (up to rounding) exactly 1: keep themselves
    prob[less] = Math.floor((scaled[less] as number) * 0xffffffff);
    alias[less] = more;
    scaled[more] = (scaled[more] as number) + (scaled[less] as number) - 1;
    ((scaled[more] as number) < 1 ? small : large).push(more);
  }
  return { prob, alias };
}

function allocate(length: number, shared: boolean): Float32Array {
  return shared ? new Float32Array(new SharedArrayBuffer(length * 4)) : new Float32Array(length);
}

/** Uniform in [-0.5, 0.5) / dim, like gensim's `prep_vectors`. */
function initVectors(syn0: Float32Array, dim: number, rng: Rng): void {
  for (let i = 0; i < syn0.length; i++) syn0[i] = (rng.next() - 0.5) / dim;
}

const wordIndexCache = new WeakMap<WordVectors, Map<string, number>>();

/** The row of `word` in `model.vectors`, or undefined when it is not in the vocabulary. */
export function wordIndex(model: WordVectors, word: string): number | undefined {
  let index = wordIndexCache.get(model);
  if (!index) {
    index = new Map(model.vocab.map((w, i) => [w, i]));
    wordIndexCache.set(model, index);
  }
  return index.get(word);
}

export interface Similar {
  word: string;
  similarity: number;
}

/** The `topN` words with the highest cosine similarity to `word` (itself excluded), best first. */
export function mostSimilar(model: WordVectors, word: string, topN = 10): Similar[] {
  const row = wordIndex(model, word);
  if (row === undefined) {
    throw notFound(
      `word2vec most-similar: '${word}' is not in the vocabulary (${model.vocab.length} words); check the spelling or lower minCount`,
      { stage: STAGE, field: 'word' },
    );
  }
  const { vectors, dim } = model;
  const norms = rowNorms(vectors, dim);
  const q = row * dim;
  const scores: Similar[] = [];
  for (let i = 0; i < model.vocab.length; i++) {
    if (i === row) continue;
    let dot = 0;
    const r = i * dim;
    for (let t = 0; t < dim; t++) dot += (vectors[q + t] as number) * (vectors[r + t] as number);
    const denom = (norms[row] as number) * (norms[i] as number);
    scores.push({ word: model.vocab[i] as string, similarity: denom > 0 ? dot / denom : 0 });
  }
  // Ties keep vocabulary order (stable sort), so the answer is deterministic.
  return scores.sort((a, b) => b.similarity - a.similarity).slice(0, topN);
}

function rowNorms(vectors: Float32Array, dim: number): Float64Array {
  const rows = vectors.length / dim;
  const norms = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let t = i * dim; t < (i + 1) * dim; t++) sum += (vectors[t] as number) ** 2;
    norms[i] = Math.sqrt(sum);
  }
  return norms;
}

/**
 * One row per sentence: the mean of its in-vocabulary word vectors (each occurrence counts), or
 * zeros when it has none. Returns `sentences.length × dim`, row-major.
 */
export function documentVectors(model: WordVectors, sentences: readonly (readonly string[])[]): Float32Array {
  const { vectors, dim } = model;
  const out = new Float32Array(sentences.length * dim);
  const sum = new Float64Array(dim);
  sentences.forEach((sentence, s) => {
    sum.fill(0);
    let count = 0;
    for (const word of sentence) {
      const row = wordIndex(model, word);
      if (row === undefined) continue;
      for (let t = 0; t < dim; t++) sum[t] = (sum[t] as number) + (vectors[row * dim + t] as number);
      count++;
    }
    if (count === 0) return;
    for (let t = 0; t < dim; t++) out[s * dim + t] = (sum[t] as number) / count;
  });
  return out;
}
