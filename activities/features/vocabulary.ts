/** A token vocabulary fitted on training texts, and the padded id encoding built from it. */

export const PAD_ID = 0;
export const OOV_ID = 1;

export interface Vocabulary {
  /** Index = token id; ids 0 and 1 are `<pad>` and `<oov>`. */
  tokens: string[];
}

export interface VocabularyOptions {
  /** Largest vocabulary, including `<pad>` and `<oov>`. @default 10000 */
  maxSize: number;
  /** Tokens seen fewer times in training are out of vocabulary. @default 1 */
  minCount: number;
}

export const tokenize = (text: string): string[] => (text === '' ? [] : text.split(' '));

/** Most frequent training tokens first; ties in token order, so the vocabulary is deterministic. */
export function fitVocabulary(trainTexts: Iterable<string>, options: VocabularyOptions): Vocabulary {
  const counts = new Map<string, number>();
  for (const text of trainTexts) for (const token of tokenize(text)) counts.set(token, (counts.get(token) ?? 0) + 1);
  const ranked = [...counts.entries()]
    .filter(([, count]) => count >= options.minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, Math.max(0, options.maxSize - 2))
    .map(([token]) => token);
  return { tokens: ['<pad>', '<oov>', ...ranked] };
}

/** The sequence length covering `percentile`% of training texts (at least 1). */
export function lengthAtPercentile(trainTexts: readonly string[], percentile: number): number {
  const lengths = trainTexts.map((t) => tokenize(t).length).sort((a, b) => a - b);
  if (lengths.length === 0) return 1;
  const index = Math.min(lengths.length - 1, Math.ceil((percentile / 100) * lengths.length) - 1);
  return Math.max(1, lengths[Math.max(0, index)]!);
}

/** Encodes texts as `rows × seqLen` ids: truncated at the end, padded with 0 at the end. */
export function encodePadded(texts: readonly string[], vocabulary: Vocabulary, seqLen: number): Int32Array {
  const index = new Map(vocabulary.tokens.map((token, id) => [token, id]));
  const ids = new Int32Array(texts.length * seqLen); // zero-filled = PAD_ID
  texts.forEach((text, row) => {
    const tokens = tokenize(text);
    for (let i = 0; i < Math.min(seqLen, tokens.length); i++) ids[row * seqLen + i] = index.get(tokens[i]!) ?? OOV_ID;
  });
  return ids;
}
