import { badInput } from '../../core/errors';
import type { CleanConfig } from './config';
import { createSqueezer } from './elongation';
import type { CleanLexicons } from './lexicon';
import { WHITESPACE_CLASS_BODY, jsPattern } from './patterns';
import type { IndonesianStemmer } from './stemmer';

/** The token-level steps, in the order they run (TypeScript only: RE2 has no back-references). */
export const TOKEN_STEP_NAMES = ['elongation', 'slang', 'stem', 'stopwords'] as const;

export type TokenStepName = (typeof TOKEN_STEP_NAMES)[number];

/** One token-level step: maps one token to its replacement (`''` removes it, spaces split it). */
export interface TokenStep {
  readonly name: TokenStepName;
  readonly apply: (token: string) => string;
}

/** How the slang lexicon was turned into the map the cleaner uses; recorded for lineage. */
export interface SlangPreparation {
  /** Entries in the lexicon as loaded. */
  readonly entries: number;
  /** Entries the cleaner uses. */
  readonly used: number;
  /** Slang of several words (`gak papa`): tokens are looked up one at a time, so these cannot match. */
  readonly skippedMultiWord: number;
  /** Slang the cleaning steps would change (`b4` loses its digit): the cleaned token is ambiguous. */
  readonly skippedAlteredByCleaning: number;
  /** Slang whose formal form equals itself after cleaning, or whose cleaned key repeats an earlier one. */
  readonly skippedRedundant: number;
  /** Entries in a cycle (`a → b`, `b → a`): dropped, since no replacement order is right. */
  readonly droppedInCycles: number;
}

const WHITESPACE_RUN = new RegExp(`[${jsPattern(WHITESPACE_CLASS_BODY)}]+`, 'u');

/** Splits text into tokens on whitespace runs. */
export function tokenize(text: string): string[] {
  return text.split(WHITESPACE_RUN).filter((token) => token !== '');
}

interface TokenStepDeps {
  readonly config: CleanConfig;
  readonly lexicons: CleanLexicons;
  readonly stemmer: IndonesianStemmer;
  /** The character-level steps of the same config, to normalise lexicon entries like the text. */
  readonly charClean: (text: string) => string;
  /** The lossless part of those (unicode, case, reduplication), to see what cleaning would alter. */
  readonly charNormalise: (text: string) => string;
}

/** The token steps a config switches on, in order, plus how the slang lexicon was prepared. */
export function tokenSteps(deps: TokenStepDeps): { steps: TokenStep[]; slang: SlangPreparation | null } {
  const { config, lexicons, stemmer } = deps;
  const stopwords = config.stopwords.enabled ? stopwordSet(deps) : null;
  const rawSlang = config.slang.enabled ? requireLexicon(lexicons.slang, 'slang', 'slang.enabled') : null;
  // Elongation's vocabulary: root words and words that stem to one, stopwords, both sides of the slang lexicon.
  const known = new Set<string>(stopwords ?? []);
  for (const [slang, formal] of rawSlang ?? []) {
    known.add(deps.charNormalise(slang));
    for (const word of tokenize(deps.charClean(formal))) known.add(word);
  }
  const squeeze = createSqueezer({
    isWord: (word) => known.has(word.toLowerCase()) || stemmer.isRootWord(word.toLowerCase()),
    isDerived: (word) => stemmer.stem(word.toLowerCase()) !== word.toLowerCase(),
  });
  const slang = rawSlang ? prepareSlang(rawSlang, deps, squeeze) : null;

  const steps: TokenStep[] = [];
  if (config.squeezeElongation) steps.push({ name: 'elongation', apply: squeeze });
  if (slang) steps.push({ name: 'slang', apply: (token) => slang.map.get(token) ?? token });
  if (config.stem) steps.push({ name: 'stem', apply: (token) => stemmer.stem(token) });
  if (stopwords) steps.push({ name: 'stopwords', apply: (token) => (stopwords.has(token) ? '' : token) });
  return { steps, slang: slang?.report ?? null };
}

function requireLexicon<T>(value: T | undefined, name: string, flag: string): T {
  if (value === undefined) {
    throw badInput(`clean config has ${flag} but no ${name} lexicon was given; load it with loadCleanLexicons(config)`, {
      stage: 'clean',
      field: flag,
    });
  }
  return value;
}

/**
 * The stopword set, minus `keep`. With stemming on, stopwords run on stems, so the stems of the
 * stopwords join the set (`diberikan` is a stopword, so its stem `beri` is one too).
 */
function stopwordSet(deps: TokenStepDeps): Set<string> {
  const { config, stemmer } = deps;
  const listed = requireLexicon(deps.lexicons.stopwords, 'stopword', 'stopwords.enabled');
  const set = new Set<string>();
  for (const word of listed) {
    const cleaned = deps.charClean(word);
    if (cleaned === '' || cleaned.includes(' ')) continue;
    set.add(cleaned);
    if (config.stem) set.add(stemmer.stem(cleaned));
  }
  for (const word of config.stopwords.keep) set.delete(deps.charClean(word));
  return set;
}

/**
 * Normalises lexicon entries the way the text is normalised (so `Gak` or `bgttt` in a lexicon still
 * match), then closes chains (`a → b`, `b → c` becomes `a → c`) so that replacing once is final and
 * cleaning stays idempotent.
 */
function prepareSlang(
  raw: ReadonlyMap<string, string>,
  deps: TokenStepDeps,
  squeeze: (token: string) => string,
): { map: Map<string, string>; report: SlangPreparation } {
  const direct = new Map<string, string>();
  let skippedMultiWord = 0;
  let skippedAlteredByCleaning = 0;
  let skippedRedundant = 0;
  for (const [slang, formal] of raw) {
    const cleaned = deps.charClean(slang);
    const tokens = tokenize(cleaned);
    if (tokens.length !== 1) {
      if (tokens.length > 1) skippedMultiWord++;
      else skippedAlteredByCleaning++;
      continue;
    }
    const token = tokens[0] ?? '';
    if (token !== deps.charNormalise(slang).trim()) {
      skippedAlteredByCleaning++;
      continue;
    }
    const key = squeeze(token);
    const value = tokenize(deps.charClean(formal)).map(squeeze).join(' ');
    if (value === key || direct.has(key)) {
      skippedRedundant++;
      continue;
    }
    direct.set(key, value);
  }
  const { map, droppedInCycles } = closeChains(direct);
  const report = {
    entries: raw.size,
    used: map.size,
    skippedMultiWord,
    skippedAlteredByCleaning,
    skippedRedundant,
    droppedInCycles,
  };
  return { map, report };
}

function closeChains(direct: Map<string, string>): { map: Map<string, string>; droppedInCycles: number } {
  const resolved = new Map<string, string | null>();
  const resolving = new Set<string>();
  const resolve = (key: string): string | null => {
    const done = resolved.get(key);
    if (done !== undefined) return done;
    if (resolving.has(key)) return null;
    resolving.add(key);
    let result: string | null = '';
    const parts: string[] = [];
    for (const token of tokenize(direct.get(key) ?? '')) {
      const next = direct.has(token) ? resolve(token) : token;
      if (next === null) {
        result = null;
        break;
      }
      if (next !== '') parts.push(next);
    }
    if (result !== null) result = parts.join(' ');
    resolving.delete(key);
    resolved.set(key, result);
    return result;
  };
  const map = new Map<string, string>();
  let droppedInCycles = 0;
  for (const key of direct.keys()) {
    const value = resolve(key);
    if (value === null) droppedInCycles++;
    else map.set(key, value);
  }
  return { map, droppedInCycles };
}
