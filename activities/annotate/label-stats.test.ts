import { describe, expect, it } from 'vitest';
import { createStemmer } from '../clean/stemmer';
import {
  computeLabelStats,
  createLabelStatsAccumulator,
  createPolarityFinder,
  loadPolarityLexicon,
  parsePolarityList,
  type PolarityLexicon,
} from './label-stats';
import { resolveLabelRule } from './rules';

const LEXICON: PolarityLexicon = {
  positive: parsePolarityList('# praise\nbagus\nmembantu\nluar biasa\n'),
  negative: parsePolarityList('kecewa\r\nlemot\r\ntidak berguna\r\n'),
};

describe('polarity finder', () => {
  const find = createPolarityFinder(LEXICON);

  it('finds words and phrases of the asked polarity', () => {
    expect(find('aplikasi luar biasa dan membantu', 'positive')).toEqual(['luar biasa', 'membantu']);
    expect(find('aplikasi luar biasa dan membantu', 'negative')).toEqual([]);
    expect(find('aplikasinya tidak berguna', 'negative')).toEqual(['tidak berguna']);
  });

  it('flips a word after a negator within two tokens', () => {
    expect(find('tidak bagus', 'negative')).toEqual(['tidak bagus']);
    expect(find('tidak bagus', 'positive')).toEqual([]);
    expect(find('gak terlalu kecewa', 'positive')).toEqual(['gak terlalu kecewa']);
    expect(find('tidak pernah sekali pun bagus', 'positive')).toEqual(['bagus']);
  });

  it('matches roots through a stemmer when given one', () => {
    const stemmer = createStemmer();
    expect(createPolarityFinder(LEXICON)('sangat dikecewakan', 'negative')).toEqual([]);
    expect(createPolarityFinder(LEXICON, (w) => stemmer.stem(w))('sangat dikecewakan', 'negative')).toEqual(['dikecewakan']);
  });
});

describe('label statistics', () => {
  const rule = resolveLabelRule('ternary');
  const options = { classes: rule.classes, polarity: rule.polarity, lexicon: LEXICON };
  const rows = [
    { text: 'sangat membantu', label: 2 },
    { text: 'sangat membantu', label: 2 },
    { text: 'sangat membantu', label: 0 },
    { text: 'bagus tapi lemot', label: 2 },
    { text: 'kecewa', label: 0 },
    { text: 'aplikasi bagus', label: 0 },
    { text: 'biasa saja', label: 1 },
    { text: 'tidak bagus', label: 0 },
  ];

  it('counts classes, imbalance, duplicates and conflicting texts', () => {
    const stats = computeLabelStats(rows, options);
    expect(stats.rows).toBe(8);
    expect(stats.classCounts).toEqual({ negative: 4, neutral: 1, positive: 3 });
    expect(stats.imbalanceRatio).toBe(4);
    expect(stats.duplicateTextShare).toBe(2 / 8);
    expect(stats.conflictingTexts).toBe(1);
  });

  it('estimates label noise from strong words of the other side, with examples', () => {
    const { noise } = computeLabelStats(rows, options);
    expect(noise.positiveWithNegativeWords).toEqual({
      of: 3,
      count: 1,
      share: 1 / 3,
      examples: [{ text: 'bagus tapi lemot', words: ['lemot'] }],
    });
    expect(noise.negativeWithPositiveWords).toEqual({
      of: 4,
      count: 2,
      share: 0.5,
      examples: [
        { text: 'sangat membantu', words: ['membantu'] },
        { text: 'aplikasi bagus', words: ['bagus'] },
      ],
    });
  });

  it('keeps at most the asked number of examples, and no ratio with an empty class', () => {
    const acc = createLabelStatsAccumulator({ ...options, examples: 1 });
    for (let i = 0; i < 4; i++) acc.add(`bagus ${i}`, 0);
    const stats = acc.result();
    expect(stats.noise.negativeWithPositiveWords.count).toBe(4);
    expect(stats.noise.negativeWithPositiveWords.examples).toHaveLength(1);
    expect(stats.imbalanceRatio).toBeNull();
    expect(() => acc.add('x', 3)).toThrow('label 3 is not a class index of negative, neutral, positive');
  });

  it('ships polarity lists that parse', async () => {
    const lexicon = await loadPolarityLexicon();
    expect(lexicon.positive.length).toBeGreaterThan(20);
    expect(lexicon.negative.length).toBeGreaterThan(20);
    expect(lexicon.negative).toContainEqual(['kecewa']);
    expect(lexicon.positive).toContainEqual(['luar', 'biasa']);
  });
});
