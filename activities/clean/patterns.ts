/**
 * The regular expressions of the regex-able cleaning steps, written once in the syntax shared by
 * RE2 (DuckDB's `regexp_replace`) and JavaScript's `u`-mode RegExp, so the SQL path and the
 * TypeScript path run the very same patterns.
 *
 * The common subset used here: character classes, `\p{..}` general categories, `\x{HHHH}` code
 * points (rewritten to `\u{HHHH}` for JavaScript), `^`/`$` (whole-string anchors in both: DuckDB
 * does not turn on multi-line mode), greedy `+`, and capture groups referenced from the replacement
 * (`\1` in RE2, `$1` in JavaScript). No `\s`, `\w`, `\b` or `\S`: their meaning differs between
 * RE2 (ASCII only), JavaScript and Python (Unicode), so the classes are spelled out.
 */

/**
 * Whitespace exactly as Python's `re` `\s` (and `str.strip`) sees it on `str` patterns, which is what
 * the peer rule in `reference.py` uses: ASCII `\t\n\v\f\r `, the separators U+001C–U+001F, NEL,
 * NBSP, and the Unicode space separators. (RE2's `\s` is ASCII without `\v`; JavaScript's adds
 * U+FEFF and lacks U+001C–U+001F and U+0085.)
 */
export const WHITESPACE_CLASS_BODY =
  '\\x{9}-\\x{D}\\x{1C}-\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}';

/** Python's `\w` on `str` (letters, digits and other numbers, underscore), up to Unicode version. */
const WORD_CLASS_BODY = '\\p{L}\\p{N}_';

/** One regex replacement, applied globally. `replacement` uses RE2 syntax (`\1`). */
export interface RegexRule {
  readonly pattern: string;
  readonly replacement: string;
}

const rule = (pattern: string, replacement = ' '): RegexRule => ({ pattern, replacement });

/**
 * URLs: `https?://` or `www.` followed by a run of non-whitespace, as in the peer rule (trailing
 * punctuation is part of the run and goes with it). Spelled case-insensitively so the step also
 * works with case folding off.
 */
export const URL_RULE = rule(
  `[hH][tT][tT][pP][sS]?://[^${WHITESPACE_CLASS_BODY}]+|[wW][wW][wW]\\.[^${WHITESPACE_CLASS_BODY}]+`,
);

/**
 * Invisible format characters (Cf: zero-width space, BOM, soft hyphen, direction marks, word
 * joiner, zero-width joiner). Removed outright, not replaced by a space: they have no visible width,
 * and a soft hyphen sits inside a word.
 */
export const FORMAT_CHAR_RULE = rule('\\p{Cf}+', '');

/** The URL rule for text already lower-cased: a literal prefix lets RE2 skip ahead faster. */
export const LOWER_CASE_URL_RULE = rule(
  `https?://[^${WHITESPACE_CLASS_BODY}]+|www\\.[^${WHITESPACE_CLASS_BODY}]+`,
);

export const MENTION_RULE = rule(`@[${WORD_CLASS_BODY}]+`);
export const HASHTAG_RULE = rule(`#[${WORD_CLASS_BODY}]+`);

/**
 * Emoji and other pictographs: the "other symbol" category (So: emoji, dingbats, ©, ™, °), skin-tone
 * modifiers (Sk, listed so the emoji step alone removes them), zero-width joiner, variation
 * selectors, the keycap combiner and tag characters. Replaced by a space so an emoji inside a word
 * (`bagus👍banget`) separates the words instead of gluing them.
 */
export const EMOJI_RULE = rule(
  '[\\p{So}\\x{1F3FB}-\\x{1F3FF}\\x{200D}\\x{FE00}-\\x{FE0F}\\x{20E3}\\x{E0020}-\\x{E007F}]+',
);

/**
 * Indonesian writes reduplication with a trailing 2 (`hati2`, `anak2`, `sehari2`): expand it to the
 * hyphenated form before digits are removed. The trailing group stands in for a look-ahead, which
 * RE2 lacks; it never holds a letter, so consuming it cannot hide the next match. A combining mark
 * after the 2 blocks the expansion: the mark would land on the copied letter and NFC would then
 * compose it on a second pass, breaking idempotency. A prefixed word is copied whole (`berhari2` →
 * `berhari-berhari`, not the proper `berhari-hari`): telling prefix from root needs the stemmer.
 */
export const REDUPLICATION_RULE = rule('(\\p{L}+)2([^\\p{L}\\p{M}\\p{N}]|$)', '\\1-\\1\\2');

export const DIGIT_RULE = rule('\\p{N}+');

/** Punctuation and non-emoji symbols (math, currency, modifier symbols such as `^` and backtick). */
export const PUNCTUATION_RULE = rule('[\\p{P}\\p{Sm}\\p{Sc}\\p{Sk}]+');

/** The same without dash punctuation (Pd), which the hyphen rules then handle. */
export const PUNCTUATION_KEEP_DASH_RULE = rule('[\\p{Pc}\\p{Ps}\\p{Pe}\\p{Pi}\\p{Pf}\\p{Po}\\p{Sm}\\p{Sc}\\p{Sk}]+');

/** Everything but ASCII letters and whitespace: the peer rule's `[^a-z\s]` (case-folded first). */
export const NON_ASCII_LETTER_RULE = rule(`[^a-zA-Z${WHITESPACE_CLASS_BODY}]+`);
export const NON_ASCII_LETTER_KEEP_DASH_RULE = rule(`[^a-zA-Z\\p{Pd}${WHITESPACE_CLASS_BODY}]+`);
/** Everything but letters (with their combining marks) and whitespace. */
export const NON_LETTER_RULE = rule(`[^\\p{L}\\p{M}${WHITESPACE_CLASS_BODY}]+`);
export const NON_LETTER_KEEP_DASH_RULE = rule(`[^\\p{L}\\p{M}\\p{Pd}${WHITESPACE_CLASS_BODY}]+`);

/**
 * Keeps word-internal hyphens (`sehari-hari`, `anak-anak`) and removes the rest, in three passes:
 * dash runs not preceded by a letter, dash runs not followed by a letter, then each remaining run
 * (between two letters) becomes one ASCII hyphen. Three passes because RE2 has no look-around.
 */
export const HYPHEN_RULES: readonly RegexRule[] = [
  rule('(^|[^\\p{L}\\p{M}\\p{Pd}])\\p{Pd}+', '\\1 '),
  rule('\\p{Pd}+([^\\p{L}\\p{M}\\p{Pd}]|$)', ' \\1'),
  rule('\\p{Pd}+', '-'),
];

/** Whitespace other than the ASCII space. */
const OTHER_WHITESPACE_CLASS_BODY = WHITESPACE_CLASS_BODY.replace('\\x{1C}-\\x{20}', '\\x{1C}-\\x{1F}');

/**
 * Collapses whitespace runs to one space. Spelled to match only the runs that need it (two or more
 * characters, or any whitespace but the space): a lone space, by far the commonest run, is left
 * alone, which made the DuckDB pass cheaper than `[ws]+` in our runs. Same result.
 */
export const WHITESPACE_RULE = rule(
  `[${WHITESPACE_CLASS_BODY}]*[${OTHER_WHITESPACE_CLASS_BODY}][${WHITESPACE_CLASS_BODY}]*|  [${WHITESPACE_CLASS_BODY}]*`,
);

/** The pattern in JavaScript syntax. */
export function jsPattern(pattern: string): string {
  return pattern.replace(/\\x\{/g, '\\u{');
}

/** The replacement in JavaScript syntax (`\1` → `$1`). */
export function jsReplacement(replacement: string): string {
  return replacement.replace(/\\(\d)/g, '$$$1');
}

/** A global JavaScript replacer for one rule. */
export function jsReplacer(r: RegexRule): (text: string) => string {
  const re = new RegExp(jsPattern(r.pattern), 'gu');
  const replacement = jsReplacement(r.replacement);
  return (text) => text.replace(re, replacement);
}

/** A DuckDB expression applying one rule to `expr`. */
export function sqlReplace(expr: string, r: RegexRule): string {
  return `regexp_replace(${expr}, ${sqlString(r.pattern)}, ${sqlString(r.replacement)}, 'g')`;
}

/** A SQL string literal (single quotes doubled; DuckDB does not treat backslashes as escapes). */
export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A SQL identifier, double-quoted. */
export function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Whether a string holds nothing but whitespace (in the sense above). */
export function isBlank(text: string): boolean {
  return BLANK_RE.test(text);
}

const BLANK_RE = new RegExp(`^[${jsPattern(WHITESPACE_CLASS_BODY)}]*$`, 'u');
