import { describe, expect, it } from 'vitest';
import { createSqueezer, hasRun } from './elongation';

const WORDS = new Set(['bagus', 'maaf', 'maf', 'tinggi', 'tingi', 'saat', 'sat', 'kasih', 'keren', 'bantu']);
const squeeze = createSqueezer({
  isWord: (word) => WORDS.has(word),
  // A stand-in for "stems to a root": a known word after a `mem` prefix.
  isDerived: (word) => word.startsWith('mem') && WORDS.has(word.slice(3)),
});

describe('elongation squeezing', () => {
  it('squeezes runs of three or more', () => {
    expect(squeeze('bagusss')).toBe('bagus');
    expect(squeeze('baaaguuusss')).toBe('bagus');
    expect(squeeze('kerennnnn')).toBe('keren');
    expect(squeeze('wkwkwk')).toBe('wkwkwk');
    expect(squeeze('hmmm')).toBe('hm');
  });

  it('never touches a legitimate double, and prefers a double-letter word when both forms are words', () => {
    expect(squeeze('tinggi')).toBe('tinggi');
    expect(squeeze('maaf')).toBe('maaf');
    expect(squeeze('maaaaf')).toBe('maaf');
    expect(squeeze('saaat')).toBe('saat');
    expect(squeeze('tinggggi')).toBe('tinggi');
  });

  it('squeezes a final double only when that turns an unknown word into a known one', () => {
    expect(squeeze('kasihh')).toBe('kasih');
    expect(squeeze('membantuu')).toBe('membantu');
    expect(squeeze('zz')).toBe('zz');
  });

  it('prefers single letters among merely derivable forms', () => {
    expect(squeeze('membantuuu')).toBe('membantu');
  });

  it('leaves no run of three behind', () => {
    for (const token of ['aaaa', 'xxxyyyzzzwwwvvv', 'ééééé', 'mantappp']) expect(hasRun(squeeze(token))).toBe(false);
  });
});
