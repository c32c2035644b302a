import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../data/random';
import { UlasanError } from '../../core/errors';
import {
  aliasTable,
  buildVocab,
  documentVectors,
  mostSimilar,
  sampleInts,
  runWord2VecSimd,
  trainWord2Vec,
  word2VecKernelInput,
  type Word2VecModel,
} from './word2vec';
import { runWord2VecKernel } from '../../kernels/word2vec/kernel';

const gensim = JSON.parse(readFileSync(new URL('./word2vec.gensim.json', import.meta.url), 'utf8')) as {
  minCount: number;
  sample: number;
  nsExponent: number;
  sentences: string[][];
  counts: Record<string, number>;
  sampleInt: Record<string, number>;
  negativeProbability: Record<string, number>;
};

/**
 * Two topics whose members share every context: pets (kucing, anjing) appear among pet words, vehicles
 * (mobil, motor) among vehicle words, so each member's nearest neighbour must be its partner.
 */
function toyCorpus(seed: number, sentences = 1500): string[][] {
  const rng = new Rng(seed);
  const topics = [
    { members: ['kucing', 'anjing'], context: ['makan', 'bulu', 'lucu', 'peliharaan', 'kandang', 'mainan'] },
    { members: ['mobil', 'motor'], context: ['bensin', 'jalan', 'roda', 'mesin', 'bengkel', 'parkir'] },
  ];
  return Array.from({ length: sentences }, () => {
    const topic = rng.pick(topics);
    const words = Array.from({ length: 5 }, () => rng.pick(topic.context));
    words.splice(rng.int(6), 0, rng.pick(topic.members));
    return words;
  });
}

const fast = { vectorSize: 24, minCount: 1, sample: 0, epochs: 8 } as const;

describe('trainWord2Vec', () => {
  const architectures = ['cbow', 'skipgram'] as const;

  it.each(architectures)('%s: the same seed gives identical vectors, another seed others', async (architecture) => {
    const corpus = toyCorpus(1, 300);
    const a = await trainWord2Vec(corpus, { ...fast, architecture, sample: 1e-2 }, 42);
    const b = await trainWord2Vec(corpus, { ...fast, architecture, sample: 1e-2 }, 42);
    const c = await trainWord2Vec(corpus, { ...fast, architecture, sample: 1e-2 }, 43);
    expect(a.stats.deterministic).toBe(true);
    expect(Buffer.from(a.vectors.buffer).equals(Buffer.from(b.vectors.buffer))).toBe(true);
    expect(a.vocab).toEqual(b.vocab);
    expect(Buffer.from(a.vectors.buffer).equals(Buffer.from(c.vectors.buffer))).toBe(false);
  });

  it.each(architectures)('%s: words sharing contexts become each other’s nearest neighbour', async (architecture) => {
    const model = await trainWord2Vec(toyCorpus(2), { ...fast, architecture }, 7);
    expect(mostSimilar(model, 'kucing', 1)[0]?.word).toBe('anjing');
    expect(mostSimilar(model, 'anjing', 1)[0]?.word).toBe('kucing');
    expect(mostSimilar(model, 'mobil', 1)[0]?.word).toBe('motor');
    expect(mostSimilar(model, 'motor', 1)[0]?.word).toBe('mobil');
    // And across topics they are far apart.
    const cross = mostSimilar(model, 'kucing', model.vocab.length).find((s) => s.word === 'mobil');
    expect(cross?.similarity).toBeLessThan((mostSimilar(model, 'kucing', 1)[0]?.similarity ?? 0) - 0.3);
  });

  // dim 10 is not a multiple of 4: the SIMD rows carry two padding floats that must stay out of the results.
  it.each(architectures)('%s: the SIMD kernel follows the JavaScript kernel draw for draw', async (architecture) => {
    const options = { ...fast, vectorSize: 10, architecture, sample: 1e-2, epochs: 3 };
    const js = word2VecKernelInput(toyCorpus(4, 300), options, 5).input;
    const simd = word2VecKernelInput(toyCorpus(4, 300), options, 5).input;
    expect(Buffer.from(simd.syn0.buffer).equals(Buffer.from(js.syn0.buffer))).toBe(true);
    const jsOut = runWord2VecKernel(js);
    const simdOut = await runWord2VecSimd(simd);
    expect(simdOut).toEqual(jsOut);
    // Same words, windows and negatives; only float32 (SIMD) against float64 (JavaScript) sums differ.
    let largest = 0;
    let moved = 0;
    for (let i = 0; i < js.syn0.length; i++) {
      largest = Math.max(largest, Math.abs((js.syn0[i] as number) - (simd.syn0[i] as number)));
      moved = Math.max(moved, Math.abs(js.syn0[i] as number));
    }
    expect(moved).toBeGreaterThan(0.1);
    expect(largest).toBeLessThan(1e-4);
  });

  it('reports gensim-style word counts', async () => {
    const corpus = toyCorpus(3, 200);
    const model = await trainWord2Vec([...corpus, ['langka']], { ...fast, minCount: 2, epochs: 3 }, 1);
    expect(model.vocab).not.toContain('langka');
    expect(model.stats.words).toBe(3 * (200 * 6 + 1)); // raw words include the out-of-vocabulary one
    expect(model.stats.effectiveWords).toBe(3 * 200 * 6); // no subsampling: every in-vocabulary word trains
    expect(model.stats.wordsPerSecond).toBeGreaterThan(0);
    expect(model.vectors.length).toBe(model.vocab.length * model.dim);
    expect(Array.from(model.counts)).toEqual([...model.counts].sort((a, b) => b - a));
  });

  it('hogwild threads train too, and say they are not deterministic', async () => {
    const model = await trainWord2Vec(toyCorpus(2), { ...fast, threads: 2 }, 7);
    expect(model.stats.deterministic).toBe(false);
    expect(model.stats.threads).toBe(2);
    expect(model.vectors.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(mostSimilar(model, 'kucing', 1)[0]?.word).toBe('anjing');
    expect(mostSimilar(model, 'mobil', 1)[0]?.word).toBe('motor');
  });

  it('refuses a corpus with no word above minCount, saying what to change', async () => {
    await expect(trainWord2Vec([['a', 'b']], { minCount: 2 })).rejects.toThrow(
      'word2vec: no word occurs 2 or more times in 1 training sentences (2 distinct words); lower minCount or pass more text',
    );
    await expect(trainWord2Vec([['a']], { window: 0 })).rejects.toMatchObject({
      type: 'BadInput',
      context: { field: 'window' },
    });
  });
});

describe('gensim parity of the sampling tables', () => {
  const vocab = buildVocab(gensim.sentences, gensim.minCount);

  it('keeps the same words with the same counts', () => {
    expect(Object.fromEntries(vocab.words.map((w, i) => [w, vocab.counts[i]]))).toEqual(gensim.counts);
  });

  it('has gensim’s subsampling keep thresholds (sample_int)', () => {
    const ints = sampleInts(vocab.counts, gensim.sample);
    vocab.words.forEach((word, i) => {
      expect(Math.abs((ints[i] as number) - (gensim.sampleInt[word] as number))).toBeLessThanOrEqual(1);
    });
    expect(vocab.words.some((word) => (gensim.sampleInt[word] as number) < 2 ** 32 - 1)).toBe(true); // it bites
  });

  it('draws negatives with gensim’s unigram^0.75 probabilities', () => {
    const { prob, alias } = aliasTable(vocab.counts, gensim.nsExponent);
    const n = prob.length;
    const implied = new Float64Array(n);
    for (let col = 0; col < n; col++) {
      const keep = (prob[col] as number) / 2 ** 32;
      implied[col] = (implied[col] as number) + keep / n;
      implied[alias[col] as number] = (implied[alias[col] as number] as number) + (1 - keep) / n;
    }
    vocab.words.forEach((word, i) => {
      expect(implied[i]).toBeCloseTo(gensim.negativeProbability[word] as number, 6);
    });
  });
});

describe('mostSimilar and documentVectors', () => {
  const model: Word2VecModel = {
    vocab: ['a', 'b', 'c'],
    counts: Int32Array.from([3, 2, 1]),
    vectors: Float32Array.from([1, 0, 0.9, 0.1, -1, 0]),
    dim: 2,
    stats: {
      words: 0,
      effectiveWords: 0,
      seconds: 0,
      wordsPerSecond: 0,
      vocabSeconds: 0,
      threads: 1,
      deterministic: true,
    },
  };

  it('ranks by cosine similarity and excludes the word itself', () => {
    const similar = mostSimilar(model, 'a', 2);
    expect(similar.map((s) => s.word)).toEqual(['b', 'c']);
    expect(similar[0]?.similarity).toBeCloseTo(0.9 / Math.hypot(0.9, 0.1), 6);
    expect(similar[1]?.similarity).toBeCloseTo(-1, 6);
  });

  it('throws NotFound for an unknown word', () => {
    expect(() => mostSimilar(model, 'zzz')).toThrow(UlasanError);
    expect(() => mostSimilar(model, 'zzz')).toThrow("'zzz' is not in the vocabulary (3 words)");
  });

  it('averages in-vocabulary word vectors per text, zeros when none', () => {
    const docs = documentVectors(model, [['a', 'b', 'x'], ['x', 'y'], [], ['b', 'b', 'c']]);
    const expected = [0.95, 0.05, 0, 0, 0, 0, (0.9 + 0.9 - 1) / 3, (0.1 + 0.1) / 3];
    expect(docs.length).toBe(8);
    expected.forEach((value, i) => expect(docs[i]).toBeCloseTo(value, 6));
  });
});
