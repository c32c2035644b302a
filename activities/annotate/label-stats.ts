import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { tokenize } from '../clean/token-steps';
import type { Polarity } from './rules';

/** Strong polarity words and phrases (token sequences), for the label-noise estimate. */
export interface PolarityLexicon {
  readonly positive: readonly (readonly string[])[];
  readonly negative: readonly (readonly string[])[];
}

/**
 * Negators: a lexicon hit right after one of these (within two tokens) counts for the opposite
 * side (`tidak bagus` is negative evidence, `tidak kecewa` positive). Slang forms are listed for
 * text cleaned without slang normalisation.
 */
export const NEGATORS: ReadonlySet<string> = new Set([
  'tidak', 'tak', 'bukan', 'belum', 'jangan', 'kurang', 'gak', 'ga', 'gk', 'nggak', 'ngga', 'enggak', 'tdk', 'not', 'no', 'never',
]);

const NEGATION_REACH = 2;

export const POSITIVE_LEXICON_PATH = fileURLToPath(new URL('../../data/lexicons/polarity-id-positive.txt', import.meta.url));
export const NEGATIVE_LEXICON_PATH = fileURLToPath(new URL('../../data/lexicons/polarity-id-negative.txt', import.meta.url));

/** One entry per line (a word or a phrase), `#` comments and blank lines skipped, lower-cased. */
export function parsePolarityList(text: string): string[][] {
  return text
    .split(/\r?\n|\r/)
    .map((line) => line.trim().toLowerCase())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => tokenize(line));
}

/** The project's polarity lists (data/lexicons/polarity-id-*.txt), or others by path. */
export async function loadPolarityLexicon(
  paths: { positive?: string; negative?: string } = {},
): Promise<PolarityLexicon> {
  const [positive, negative] = await Promise.all([
    readFile(paths.positive ?? POSITIVE_LEXICON_PATH, 'utf8'),
    readFile(paths.negative ?? NEGATIVE_LEXICON_PATH, 'utf8'),
  ]);
  return { positive: parsePolarityList(positive), negative: parsePolarityList(negative) };
}

/** One side of the noise estimate: reviews labelled one way that contain the other way's words. */
export interface NoiseSide {
  /** Labelled rows on this side. */
  readonly of: number;
  /** Of those, rows containing a strong word of the opposite polarity. */
  readonly count: number;
  /** count / of (0 when of is 0). */
  readonly share: number;
  /** Up to `examples` such rows, first in input order, with the words that matched. */
  readonly examples: readonly { readonly text: string; readonly words: readonly string[] }[];
}

/** Label statistics of one window (one labelled table). */
export interface LabelStats {
  readonly rows: number;
  /** Rows per class, in class order. */
  readonly classCounts: Readonly<Record<string, number>>;
  /** Largest class ÷ smallest class; null when a class is empty. */
  readonly imbalanceRatio: number | null;
  /** Share of rows whose text repeats an earlier row's text (`sangat membantu` …). */
  readonly duplicateTextShare: number;
  /** Distinct texts that occur with more than one label: label noise that no model can fit. */
  readonly conflictingTexts: number;
  /** The label-noise estimate from strong polarity words. */
  readonly noise: {
    readonly positiveWithNegativeWords: NoiseSide;
    readonly negativeWithPositiveWords: NoiseSide;
  };
}

export interface LabelStatsOptions {
  readonly classes: readonly string[];
  /** Per class, from the rule (`LabelRule.polarity`). */
  readonly polarity: readonly Polarity[];
  readonly lexicon: PolarityLexicon;
  /** Also match a token's root (pass the clean stage's stemmer), so `dikecewakan` finds `kecewa`. */
  readonly stem?: (word: string) => string;
  /** Examples kept per side. @default 5 */
  readonly examples?: number;
}

/** Accumulates rows one at a time, so a window of any size streams through. */
export interface LabelStatsAccumulator {
  /** `text`: the cleaned text; `label`: the class index. */
  add(text: string, label: number): void;
  result(): LabelStats;
}

const CONFLICT = -1;

export function createLabelStatsAccumulator(options: LabelStatsOptions): LabelStatsAccumulator {
  const find = createPolarityFinder(options.lexicon, options.stem);
  const maxExamples = options.examples ?? 5;
  const counts = options.classes.map(() => 0);
  const labelOfText = new Map<string, number>();
  let rows = 0;
  let duplicates = 0;
  const sides = {
    positive: { of: 0, count: 0, examples: [] as { text: string; words: string[] }[] },
    negative: { of: 0, count: 0, examples: [] as { text: string; words: string[] }[] },
  };
  return {
    add(text, label) {
      if (!Number.isInteger(label) || label < 0 || label >= counts.length) {
        throw new RangeError(`label ${label} is not a class index of ${options.classes.join(', ')}`);
      }
      rows++;
      counts[label] = (counts[label] ?? 0) + 1;
      const seen = labelOfText.get(text);
      if (seen === undefined) labelOfText.set(text, label);
      else {
        duplicates++;
        if (seen !== label) labelOfText.set(text, CONFLICT);
      }
      const lean = options.polarity[label];
      if (lean !== 'positive' && lean !== 'negative') return;
      const side = sides[lean];
      side.of++;
      const words = find(text, lean === 'positive' ? 'negative' : 'positive');
      if (words.length === 0) return;
      side.count++;
      if (side.examples.length < maxExamples) side.examples.push({ text, words });
    },
    result() {
      const nonEmpty = counts.every((n) => n > 0);
      const side = (s: typeof sides.positive): NoiseSide => ({ ...s, share: s.of === 0 ? 0 : s.count / s.of });
      return {
        rows,
        classCounts: Object.fromEntries(options.classes.map((c, i) => [c, counts[i] ?? 0])),
        imbalanceRatio: nonEmpty && counts.length > 0 ? Math.max(...counts) / Math.min(...counts) : null,
        duplicateTextShare: rows === 0 ? 0 : duplicates / rows,
        conflictingTexts: [...labelOfText.values()].filter((l) => l === CONFLICT).length,
        noise: { positiveWithNegativeWords: side(sides.positive), negativeWithPositiveWords: side(sides.negative) },
      };
    },
  };
}

/** All rows at once (tests, small windows). */
export function computeLabelStats(rows: Iterable<{ text: string; label: number }>, options: LabelStatsOptions): LabelStats {
  const acc = createLabelStatsAccumulator(options);
  for (const row of rows) acc.add(row.text, row.label);
  return acc.result();
}

/**
 * Returns a function listing the strong words of one polarity in a text: an entry's polarity flips
 * when a negator stands within two tokens before it.
 */
export function createPolarityFinder(
  lexicon: PolarityLexicon,
  stem?: (word: string) => string,
): (text: string, want: 'positive' | 'negative') => string[] {
  const entries = [
    ...lexicon.positive.map((tokens) => ({ tokens, polarity: 'positive' as const })),
    ...lexicon.negative.map((tokens) => ({ tokens, polarity: 'negative' as const })),
  ].filter((e) => e.tokens.length > 0);
  const byFirst = new Map<string, typeof entries>();
  for (const entry of entries) {
    const first = entry.tokens[0] ?? '';
    byFirst.set(first, [...(byFirst.get(first) ?? []), entry]);
  }
  return (text, want) => {
    const tokens = tokenize(text.toLowerCase());
    const found: string[] = [];
    tokens.forEach((token, i) => {
      const candidates = [...(byFirst.get(token) ?? []), ...(stem && stem(token) !== token ? (byFirst.get(stem(token)) ?? []) : [])];
      for (const entry of candidates) {
        if (!entry.tokens.every((t, k) => k === 0 || tokens[i + k] === t)) continue;
        const negated = tokens.slice(Math.max(0, i - NEGATION_REACH), i).some((t) => NEGATORS.has(t));
        const polarity = negated ? flip(entry.polarity) : entry.polarity;
        const phrase = (negated ? tokens.slice(Math.max(0, i - NEGATION_REACH), i + entry.tokens.length) : tokens.slice(i, i + entry.tokens.length)).join(' ');
        if (polarity === want && !found.includes(phrase)) found.push(phrase);
      }
    });
    return found;
  };
}

const flip = (p: 'positive' | 'negative'): 'positive' | 'negative' => (p === 'positive' ? 'negative' : 'positive');
