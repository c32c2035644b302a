import { describe, expect, it } from 'vitest';
import { createStemmer } from './stemmer';

describe('Sastrawi stemmer (sastrawijs) from ESM/TypeScript', () => {
  const stemmer = createStemmer();

  it('strips Indonesian affixes down to the root', () => {
    const cases: Record<string, string> = {
      menahan: 'tahan',
      pewarna: 'warna',
      membanggakan: 'bangga',
      pertumbuhan: 'tumbuh',
      pelayanannya: 'layan',
      dokternya: 'dokter',
      diperiksa: 'periksa',
      menggunakan: 'guna',
      memuaskan: 'muas',
      kesehatan: 'sehat',
      Membantu: 'bantu',
    };
    for (const [word, root] of Object.entries(cases)) expect(stemmer.stem(word), word).toBe(root);
  });

  it('leaves roots and unknown words alone', () => {
    for (const word of ['bagus', 'kecewa', 'tidak', 'bgt', 'xyzabc']) expect(stemmer.stem(word)).toBe(word);
  });

  it('stems reduplicated words as the PHP original does', () => {
    expect(stemmer.stem('anak-anak')).toBe('anak');
    expect(stemmer.stem('buah-buahan')).toBe('buah');
    expect(stemmer.stem('sehari-hari')).toBe('hari');
    expect(stemmer.stem('bagus-jelek')).toBe('bagus-jelek');
  });

  it('is idempotent and knows its dictionary', () => {
    for (const word of ['pelayanannya', 'anak-anak', 'mempermudah', 'berobat']) {
      const root = stemmer.stem(word);
      expect(stemmer.stem(root)).toBe(root);
    }
    expect(stemmer.isRootWord('tinggi')).toBe(true);
    expect(stemmer.isRootWord('membantu')).toBe(false);
  });
});
