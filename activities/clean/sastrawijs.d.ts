/**
 * Types for `sastrawijs` 1.1 (the Sastrawi Indonesian stemmer). The package ships `dist/*.d.ts`,
 * but its `exports` map has no `types` condition, so TypeScript's Bundler resolution cannot find
 * them; this declares the part ulasan uses.
 */
declare module 'sastrawijs' {
  export class Stemmer {
    /** Builds the stemmer over a root-word dictionary (the bundled KBBI list of ~30,000 roots by default). */
    constructor(dictionary?: string[]);
    /** The root of a word (lower-cased); the word itself when no root is found. */
    stem(word: string): string;
    /** Whether a word is in the root-word dictionary. */
    find(word: string): boolean;
  }
  export class Tokenizer {
    tokenize(sentence: string): string[];
  }
}
