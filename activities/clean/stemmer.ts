import { Stemmer } from 'sastrawijs';

/** An Indonesian stemmer plus the root-word dictionary behind it. */
export interface IndonesianStemmer {
  /** The root of one lower-case word (`pelayanannya` → `layan`); unknown words come back unchanged. */
  stem(word: string): string;
  /** Whether a word is in the root-word dictionary (about 30,000 KBBI roots). */
  isRootWord(word: string): boolean;
}

const PLURAL = /^([^-]+)-([^-]+)$/;
const MEMO_LIMIT = 500_000;

/**
 * Sastrawi (sastrawijs, the JavaScript port of the PHP library; its bundled `.d.ts` types it) with a
 * per-process memo, since review vocabularies are small and repetitive.
 *
 * The port lacks the PHP original's handling of reduplicated words, so it is added here as the
 * original does it: `x-y` stems both halves and returns the common root when they agree
 * (`anak-anak` → `anak`, `buah-buahan` → `buah`, `sehari-hari` → `hari`), else the word unchanged.
 *
 * Every result is a dictionary root or the (lower-cased) input, so stemming is idempotent.
 */
export function createStemmer(): IndonesianStemmer {
  const sastrawi = new Stemmer();
  const memo = new Map<string, string>();
  const stemOne = (word: string): string => {
    const plural = PLURAL.exec(word);
    if (plural) {
      const left = sastrawi.stem(plural[1] ?? '');
      const right = sastrawi.stem(plural[2] ?? '');
      return left === right ? left : word.toLowerCase();
    }
    return sastrawi.stem(word);
  };
  return {
    stem(word) {
      let root = memo.get(word);
      if (root === undefined) {
        root = stemOne(word);
        // A bound keeps a long stream of unusual tokens from growing the memo without limit.
        if (memo.size >= MEMO_LIMIT) memo.clear();
        memo.set(word, root);
      }
      return root;
    },
    isRootWord: (word) => sastrawi.find(word),
  };
}
