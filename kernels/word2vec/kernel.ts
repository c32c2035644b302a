/**
 * The Word2Vec training loop (negative sampling, CBOW or skip-gram), over flat typed arrays.
 *
 * It follows gensim's `word2vec_inner.pyx` step for step: out-of-vocabulary words are already gone,
 * frequent words are dropped with gensim's keep probability before windows are built, each centre
 * word's window is shrunk by a random `b` in [0, window), dot products beyond ±6 are skipped, the
 * sigmoid comes from the same 1000-entry table, and the learning rate decays linearly, recomputed
 * every 10,000 raw words. Two choices differ, for speed, without changing what is sampled: the
 * generator is xorshift32 inlined by hand (a call per random number costs real time here), and
 * negatives come from an alias table over the same unigram^0.75 distribution (one lookup instead of
 * gensim's binary search of `cum_table`, whose mispredicted branches cost more than the dot products).
 *
 * The functions here are self-contained (no imports, nothing from module scope but each other): the
 * multi-threaded mode ships their source text to worker threads with `Function.prototype.toString`.
 * The single-thread mode swaps the sentence step for the SIMD one in word2vec.wat (`SentenceTrainer`).
 */

/** Everything one kernel run needs; typed arrays may live on a SharedArrayBuffer (hogwild threads). */
export interface KernelInput {
  syn0: Float32Array;
  syn1neg: Float32Array;
  dim: number;
  /** Vocabulary indices of the in-vocabulary tokens of all sentences, back to back. */
  corpus: Int32Array;
  /** Sentence `s` is `corpus[starts[s] .. starts[s + 1])`. */
  starts: Int32Array;
  /** Raw token count of each sentence (out-of-vocabulary words included): drives the alpha decay. */
  rawLengths: Int32Array;
  /** The sentences this run trains on: `[firstSentence, endSentence)`. */
  firstSentence: number;
  endSentence: number;
  /** Keep word `w` when a uniform uint32 is <= `sampleInt[w]` (gensim's `sample_int`). */
  sampleInt: Uint32Array;
  useSample: boolean;
  /** Alias table over unigram^0.75: column `c` is kept when a uniform uint32 < `aliasProb[c]`, else `aliasIndex[c]`. */
  aliasProb: Uint32Array;
  aliasIndex: Int32Array;
  /** Sigmoid lookup over [-6, 6). */
  expTable: Float32Array;
  window: number;
  shrinkWindows: boolean;
  negative: number;
  skipGram: boolean;
  cbowMean: boolean;
  epochs: number;
  alpha: number;
  minAlpha: number;
  /** Non-zero 32-bit seed for the inline generator. */
  seed: number;
}

export interface KernelOutput {
  /** Words trained after subsampling, summed over epochs. */
  effectiveWords: number;
  /** Raw words seen (out-of-vocabulary included), summed over epochs. */
  rawWords: number;
}

/** Trains one subsampled sentence, written by the caller into `sen[0..n)`; returns the generator state. */
export interface SentenceTrainer {
  sen: Int32Array;
  train(n: number, alpha: number, rnd: number): number;
}

export const MAX_EXP = 6;
export const EXP_TABLE_SIZE = 1000;

/** gensim's EXP_TABLE: sigmoid at EXP_TABLE_SIZE points over [-MAX_EXP, MAX_EXP). */
export function makeExpTable(): Float32Array {
  const table = new Float32Array(EXP_TABLE_SIZE);
  for (let i = 0; i < EXP_TABLE_SIZE; i++) {
    const e = Math.exp(((i / EXP_TABLE_SIZE) * 2 - 1) * MAX_EXP);
    table[i] = e / (e + 1);
  }
  return table;
}

/**
 * Trains `epochs` passes over sentences `[firstSentence, endSentence)`, updating syn0 and syn1neg in place, with the
 * JavaScript sentence step unless `trainer` brings another (which then owns the vectors it updates).
 */
export function runWord2VecKernel(k: KernelInput, trainer?: SentenceTrainer): KernelOutput {
  const corpus = k.corpus;
  const starts = k.starts;
  const rawLengths = k.rawLengths;
  const sampleInt = k.sampleInt;
  const useSample = k.useSample;
  const epochs = k.epochs;
  let maxLen = 0;
  let rawPerEpoch = 0;
  for (let s = k.firstSentence; s < k.endSentence; s++) {
    const len = (starts[s + 1] as number) - (starts[s] as number);
    if (len > maxLen) maxLen = len;
    rawPerEpoch += rawLengths[s] as number;
  }
  const neu1 = new Float32Array(k.dim);
  const work = new Float32Array(k.dim);
  const jsSen = new Int32Array(trainer ? 0 : maxLen);
  const step = trainer ?? {
    sen: jsSen,
    train: (n: number, alpha: number, rnd: number) =>
      k.skipGram
        ? skipGramSentence(k, jsSen, n, alpha, rnd, work)
        : cbowSentence(k, jsSen, n, alpha, rnd, neu1, work),
  };
  const sen = step.sen;
  let rnd = k.seed | 0 || 1;
  let alpha = k.alpha;
  let effectiveWords = 0;
  let rawWords = 0;

  for (let epoch = 0; epoch < epochs; epoch++) {
    let pushed = 0;
    let sinceAlpha = 0;
    for (let s = k.firstSentence; s < k.endSentence; s++) {
      // gensim recomputes alpha once per job of ~10,000 raw words, from the words pushed so far.
      if (sinceAlpha >= 10000) {
        const progress = (epoch + pushed / rawPerEpoch) / epochs;
        alpha = Math.max(k.minAlpha, k.alpha - (k.alpha - k.minAlpha) * progress);
        sinceAlpha = 0;
      }
      const raw = rawLengths[s] as number;
      pushed += raw;
      sinceAlpha += raw;
      let n = 0;
      const end = starts[s + 1] as number;
      for (let p = starts[s] as number; p < end; p++) {
        const w = corpus[p] as number;
        if (useSample) {
          rnd ^= rnd << 13;
          rnd ^= rnd >>> 17;
          rnd ^= rnd << 5;
          if ((sampleInt[w] as number) < rnd >>> 0) continue;
        }
        sen[n++] = w;
      }
      effectiveWords += n;
      rnd = step.train(n, alpha, rnd);
    }
    rawWords += pushed;
  }
  return { effectiveWords, rawWords };
}

/** One CBOW pass over a subsampled sentence `sen[0..n)`; returns the generator state. */
export function cbowSentence(
  k: KernelInput,
  sen: Int32Array,
  n: number,
  alpha: number,
  seed: number,
  neu1: Float32Array,
  work: Float32Array,
): number {
  const syn0 = k.syn0;
  const dim = k.dim;
  const window = k.window;
  const winScale = window / 4294967296;
  let rnd = seed;
  for (let i = 0; i < n; i++) {
    let b = 0;
    if (k.shrinkWindows) {
      rnd ^= rnd << 13;
      rnd ^= rnd >>> 17;
      rnd ^= rnd << 5;
      b = ((rnd >>> 0) * winScale) | 0;
    }
    const j = i - window + b < 0 ? 0 : i - window + b;
    const end = i + window + 1 - b > n ? n : i + window + 1 - b;
    const word = sen[i] as number;
    neu1.fill(0);
    let count = 0;
    for (let m = j; m < end; m++) {
      if (m === i) continue;
      axpy(1, syn0, (sen[m] as number) * dim, neu1, 0, dim);
      count++;
    }
    if (count === 0) continue;
    // cbow_mean: average the context, but (as gensim and the C tool do) apply the full error to each word.
    if (k.cbowMean) scale(1 / count, neu1, dim);
    rnd = negativeSampling(k, neu1, 0, word, alpha, rnd, work);
    if (!k.cbowMean) scale(1 / count, work, dim);
    for (let m = j; m < end; m++) {
      if (m !== i) axpy(1, work, 0, syn0, (sen[m] as number) * dim, dim);
    }
  }
  return rnd;
}

/** One skip-gram pass: each context word's input vector learns to predict the centre word. */
export function skipGramSentence(
  k: KernelInput,
  sen: Int32Array,
  n: number,
  alpha: number,
  seed: number,
  work: Float32Array,
): number {
  const syn0 = k.syn0;
  const dim = k.dim;
  const window = k.window;
  const winScale = window / 4294967296;
  let rnd = seed;
  for (let i = 0; i < n; i++) {
    let b = 0;
    if (k.shrinkWindows) {
      rnd ^= rnd << 13;
      rnd ^= rnd >>> 17;
      rnd ^= rnd << 5;
      b = ((rnd >>> 0) * winScale) | 0;
    }
    const j = i - window + b < 0 ? 0 : i - window + b;
    const end = i + window + 1 - b > n ? n : i + window + 1 - b;
    const word = sen[i] as number;
    for (let m = j; m < end; m++) {
      if (m === i) continue;
      const row1 = (sen[m] as number) * dim;
      rnd = negativeSampling(k, syn0, row1, word, alpha, rnd, work);
      axpy(1, work, 0, syn0, row1, dim);
    }
  }
  return rnd;
}

/**
 * The negative-sampling step for input vector l1[lo..lo+dim) against `word` and `k.negative` drawn words: gradients
 * into `work` (zeroed first), output vectors updated in place; dot products beyond ±6 are skipped, as gensim does.
 * Returns the generator state.
 */
export function negativeSampling(
  k: KernelInput,
  l1: Float32Array,
  lo: number,
  word: number,
  alpha: number,
  seed: number,
  work: Float32Array,
): number {
  const syn1 = k.syn1neg;
  const dim = k.dim;
  const aliasProb = k.aliasProb;
  const aliasIndex = k.aliasIndex;
  const expTable = k.expTable;
  const colScale = aliasProb.length / 4294967296;
  let rnd = seed;
  work.fill(0);
  for (let d = 0; d <= k.negative; d++) {
    let target = word;
    let label = 1;
    if (d > 0) {
      rnd ^= rnd << 13;
      rnd ^= rnd >>> 17;
      rnd ^= rnd << 5;
      const col = ((rnd >>> 0) * colScale) | 0;
      rnd ^= rnd << 13;
      rnd ^= rnd >>> 17;
      rnd ^= rnd << 5;
      target = rnd >>> 0 < (aliasProb[col] as number) ? col : (aliasIndex[col] as number);
      if (target === word) continue;
      label = 0;
    }
    const f0 = dot(l1, lo, syn1, target * dim, dim);
    if (f0 <= -6 || f0 >= 6) continue;
    const g = (label - (expTable[((f0 + 6) * 83.33333333333333) | 0] as number)) * alpha;
    updatePair(g, l1, lo, syn1, target * dim, work, dim);
  }
  return rnd;
}

/** sum(a[ao..ao+n) * b[bo..bo+n)) with four accumulators, so the adds pipeline. */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let d0 = 0;
  let d1 = 0;
  let d2 = 0;
  let d3 = 0;
  const n4 = n & ~3;
  let t = 0;
  for (; t < n4; t += 4) {
    d0 += (a[ao + t] as number) * (b[bo + t] as number);
    d1 += (a[ao + t + 1] as number) * (b[bo + t + 1] as number);
    d2 += (a[ao + t + 2] as number) * (b[bo + t + 2] as number);
    d3 += (a[ao + t + 3] as number) * (b[bo + t + 3] as number);
  }
  for (; t < n; t++) d0 += (a[ao + t] as number) * (b[bo + t] as number);
  return d0 + d1 + d2 + d3;
}

/** y[yo..yo+n) += g * x[xo..xo+n). */
export function axpy(g: number, x: Float32Array, xo: number, y: Float32Array, yo: number, n: number): void {
  const n4 = n & ~3;
  let t = 0;
  for (; t < n4; t += 4) {
    y[yo + t] = (y[yo + t] as number) + g * (x[xo + t] as number);
    y[yo + t + 1] = (y[yo + t + 1] as number) + g * (x[xo + t + 1] as number);
    y[yo + t + 2] = (y[yo + t + 2] as number) + g * (x[xo + t + 2] as number);
    y[yo + t + 3] = (y[yo + t + 3] as number) + g * (x[xo + t + 3] as number);
  }
  for (; t < n; t++) y[yo + t] = (y[yo + t] as number) + g * (x[xo + t] as number);
}

/** x[0..n) *= g. */
export function scale(g: number, x: Float32Array, n: number): void {
  for (let t = 0; t < n; t++) x[t] = (x[t] as number) * g;
}

/** work += g * syn1[row..]; syn1[row..] += g * l1[lo..], reading syn1 before it changes (gensim's order). */
export function updatePair(
  g: number,
  l1: Float32Array,
  lo: number,
  syn1: Float32Array,
  row: number,
  work: Float32Array,
  n: number,
): void {
  const n4 = n & ~3;
  let t = 0;
  for (; t < n4; t += 4) {
    const a0 = syn1[row + t] as number;
    const a1 = syn1[row + t + 1] as number;
    const a2 = syn1[row + t + 2] as number;
    const a3 = syn1[row + t + 3] as number;
    work[t] = (work[t] as number) + g * a0;
    work[t + 1] = (work[t + 1] as number) + g * a1;
    work[t + 2] = (work[t + 2] as number) + g * a2;
    work[t + 3] = (work[t + 3] as number) + g * a3;
    syn1[row + t] = a0 + g * (l1[lo + t] as number);
    syn1[row + t + 1] = a1 + g * (l1[lo + t + 1] as number);
    syn1[row + t + 2] = a2 + g * (l1[lo + t + 2] as number);
    syn1[row + t + 3] = a3 + g * (l1[lo + t + 3] as number);
  }
  for (; t < n; t++) {
    const s1 = syn1[row + t] as number;
    work[t] = (work[t] as number) + g * s1;
    syn1[row + t] = s1 + g * (l1[lo + t] as number);
  }
}

/** Source text of every kernel function, for `new Worker(..., { eval: true })`. */
export const KERNEL_SOURCE = [runWord2VecKernel, cbowSentence, skipGramSentence, negativeSampling, dot, axpy, scale, updatePair]
  .map((fn) => fn.toString())
  .join('\n');
