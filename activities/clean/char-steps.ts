import type { CleanConfig } from './config';
import {
  DIGIT_RULE,
  EMOJI_RULE,
  FORMAT_CHAR_RULE,
  HASHTAG_RULE,
  LOWER_CASE_URL_RULE,
  HYPHEN_RULES,
  MENTION_RULE,
  NON_ASCII_LETTER_KEEP_DASH_RULE,
  NON_ASCII_LETTER_RULE,
  NON_LETTER_KEEP_DASH_RULE,
  NON_LETTER_RULE,
  PUNCTUATION_KEEP_DASH_RULE,
  PUNCTUATION_RULE,
  REDUPLICATION_RULE,
  URL_RULE,
  WHITESPACE_RULE,
  jsReplacer,
  sqlReplace,
  type RegexRule,
} from './patterns';

/** The character-level steps, in the order they run. */
export const CHAR_STEP_NAMES = [
  'case',
  'unicode',
  'urls',
  'mentions',
  'hashtags',
  'emoji',
  'reduplication',
  'digits',
  'punctuation',
  'nonLetters',
  'hyphens',
  'whitespace',
] as const;

export type CharStepName = (typeof CHAR_STEP_NAMES)[number];

/** One character-level step, as a TypeScript function and as a DuckDB expression builder. */
export interface CharStep {
  readonly name: CharStepName;
  readonly js: (text: string) => string;
  readonly sql: (expr: string) => string;
}

/**
 * A step from regex rules. `guard`, when given, is a cheap test that is false only when no rule can
 * match; the TypeScript side then skips the regexes (most reviews hold no `2`, `@` or dash).
 */
const fromRules = (name: CharStepName, rules: readonly RegexRule[], guard?: (text: string) => boolean): CharStep => {
  const replacers = rules.map(jsReplacer);
  const apply = (text: string): string => replacers.reduce((acc, replace) => replace(acc), text);
  return {
    name,
    js: guard ? (text) => (guard(text) ? apply(text) : text) : apply,
    sql: (expr) => rules.reduce((acc, r) => sqlReplace(acc, r), expr),
  };
};

const URL_MARK = /:\/\/|[wW][wW][wW]\./;
const DASH = /\p{Pd}/u;

/**
 * Full Unicode lower-casing, as Python's `str.lower` (the peer) and JavaScript's `toLowerCase` do:
 * `İ` (U+0130) becomes `i` + combining dot above. DuckDB's `lower` maps it to a plain `i`, so the SQL
 * spells that one mapping out first. (One known difference remains: JavaScript and Python lower-case
 * a word-final `Σ` to `ς`, DuckDB to `σ`; Greek is removed by the peer rule anyway.)
 */
export const sqlLowerCase = (expr: string): string => `lower(replace(${expr}, '\u0130', 'i\u0307'))`;

/** Spaces-only trim: after collapsing, the only whitespace left is the ASCII space (as DuckDB's `trim`). */
const trimSpaces = (text: string): string => {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) === 32) start++;
  while (end > start && text.charCodeAt(end - 1) === 32) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
};

function nonLetterRule(config: CleanConfig): RegexRule {
  const keepDash = config.keepWordHyphens;
  if (config.nonLetters === 'ascii') return keepDash ? NON_ASCII_LETTER_KEEP_DASH_RULE : NON_ASCII_LETTER_RULE;
  return keepDash ? NON_LETTER_KEEP_DASH_RULE : NON_LETTER_RULE;
}

/** The character-level steps a config switches on, in order. */
export function charSteps(config: CleanConfig): CharStep[] {
  const steps: CharStep[] = [];
  if (config.caseFold) steps.push({ name: 'case', js: (t) => t.toLowerCase(), sql: sqlLowerCase });
  if (config.normalizeUnicode) {
    // After case folding, which can leave a letter and an accent for NFC to compose;
    // format characters first, since removing one can also bring a letter and its accent together.
    const stripFormat = jsReplacer(FORMAT_CHAR_RULE);
    steps.push({
      name: 'unicode',
      js: (t) => stripFormat(t).normalize('NFC'),
      sql: (e) => `nfc_normalize(${sqlReplace(e, FORMAT_CHAR_RULE)})`,
    });
  }
  if (config.removeUrls) {
    steps.push(fromRules('urls', [config.caseFold ? LOWER_CASE_URL_RULE : URL_RULE], (t) => URL_MARK.test(t)));
  }
  if (config.removeMentions) steps.push(fromRules('mentions', [MENTION_RULE], (t) => t.includes('@')));
  if (config.removeHashtags) steps.push(fromRules('hashtags', [HASHTAG_RULE], (t) => t.includes('#')));
  if (config.removeEmoji) steps.push(fromRules('emoji', [EMOJI_RULE]));
  if (config.expandReduplication) steps.push(fromRules('reduplication', [REDUPLICATION_RULE], (t) => t.includes('2')));
  if (config.removeDigits) steps.push(fromRules('digits', [DIGIT_RULE]));
  if (config.removePunctuation) {
    steps.push(fromRules('punctuation', [config.keepWordHyphens ? PUNCTUATION_KEEP_DASH_RULE : PUNCTUATION_RULE]));
  }
  if (config.nonLetters !== 'off') steps.push(fromRules('nonLetters', [nonLetterRule(config)]));
  if (config.keepWordHyphens && (config.removePunctuation || config.nonLetters !== 'off')) {
    steps.push(fromRules('hyphens', HYPHEN_RULES, (t) => DASH.test(t)));
  }
  if (config.collapseWhitespace) {
    const collapse = jsReplacer(WHITESPACE_RULE);
    steps.push({
      name: 'whitespace',
      js: (t) => trimSpaces(collapse(t)),
      sql: (e) => `trim(${sqlReplace(e, WHITESPACE_RULE)})`,
    });
  }
  return steps;
}

