import { z } from '../../data/zod';

/**
 * Words kept even when stopword removal is on: negations, and degree words and `baik` that the
 * stopwords-iso list contains but that carry the sentiment of a review (`tidak bagus`, `kurang`).
 */
export const SENTIMENT_STOPWORD_KEEP = [
  'tidak',
  'tak',
  'bukan',
  'belum',
  'jangan',
  'kurang',
  'enggak',
  'nggak',
  'gak',
  'tanpa',
  'baik',
  'sangat',
  'paling',
  'terlalu',
  'cukup',
  'lebih',
] as const;

const SlangSchema = z
  .object({
    /** Replace slang tokens by their formal form from the lexicon. @default true */
    enabled: z.boolean().default(true),
    /**
     * `builtin` (the project's `data/lexicons/slang-id.csv`) or a path to a lexicon: CSV with a
     * `slang,formal` header (extra columns ignored; a repeated slang keeps its first row) or JSON
     * `{ "slang": "formal" }`. Relative paths resolve against the directory given to the loader.
     * @default 'builtin'
     */
    lexicon: z.string().min(1).default('builtin'),
  })
  .strict();

const StopwordsSchema = z
  .object({
    /** Remove stopwords (after stemming, matching the token or its stem). @default false */
    enabled: z.boolean().default(false),
    /** `stopwords-iso` (its Indonesian list) or a path to a file with one word per line. @default 'stopwords-iso' */
    source: z.string().min(1).default('stopwords-iso'),
    /** Words never removed, whatever the list says. @default SENTIMENT_STOPWORD_KEEP */
    keep: z.array(z.string()).default([...SENTIMENT_STOPWORD_KEEP]),
  })
  .strict();

/**
 * The cleaning rule of the clean stage (`clean:` in an experiment spec). Every step is switchable;
 * they always run in the order of the fields below. The regex-able steps (`caseFold` …
 * `collapseWhitespace`) run in DuckDB through `sqlCleanExpression`, the token steps (`squeezeElongation`
 * … `stopwords`) in TypeScript; `createTextCleaner` runs them all.
 */
export const CleanConfigSchema = z
  .object({
    /** Drop rows whose raw text is null or blank (quarantined as `empty input`). Applied by the stage. @default true */
    dropEmpty: z.boolean().default(true),
    /** Drop rows whose raw text repeats an earlier row's (keep first). Applied by the stage. @default true */
    dedupeExact: z.boolean().default(true),
    /** Drop rows whose cleaned text repeats an earlier row's (keep first). Applied by the stage. @default false */
    dedupeCleaned: z.boolean().default(false),
    /** Lower-case, full Unicode mapping as Python and JavaScript (`İ` → `i` + combining dot). @default true */
    caseFold: z.boolean().default(true),
    /**
     * Remove invisible format characters (zero-width space, BOM, soft hyphen, direction marks), then
     * Unicode NFC, so composed and decomposed accents compare equal.
     * @default true
     */
    normalizeUnicode: z.boolean().default(true),
    /** Remove `http(s)://…` and `www.…` up to the next whitespace. @default true */
    removeUrls: z.boolean().default(true),
    /** Remove `@name`. @default true */
    removeMentions: z.boolean().default(true),
    /** Remove `#tag` (the word too: hashtags in reviews are mostly promotion). @default true */
    removeHashtags: z.boolean().default(true),
    /** Replace emoji and pictographic symbols by a space. @default true */
    removeEmoji: z.boolean().default(true),
    /** Expand reduplication written with a 2 (`hati2` → `hati-hati`) before digits go. @default true */
    expandReduplication: z.boolean().default(true),
    /** Replace digits (any Unicode number) by a space. @default true */
    removeDigits: z.boolean().default(true),
    /** Replace punctuation and non-emoji symbols by a space. @default true */
    removePunctuation: z.boolean().default(true),
    /**
     * Keep hyphens between two letters (`sehari-hari` stays one token); other dashes become spaces.
     * Only matters when `removePunctuation` or `nonLetters` is on.
     * @default true
     */
    keepWordHyphens: z.boolean().default(true),
    /**
     * Replace what is left that is not a letter: `off`; `letters` keeps any Unicode letter;
     * `ascii` keeps only `a-z`/`A-Z` (the peer rule: accented letters and non-Latin scripts go).
     * @default 'off'
     */
    nonLetters: z.enum(['off', 'letters', 'ascii']).default('off'),
    /** Collapse whitespace runs to one space and trim. @default true */
    collapseWhitespace: z.boolean().default(true),
    /**
     * Squeeze runs of 3+ identical letters (`bagusss` → `bagus`); legitimate doubles (`tinggi`,
     * `maaf`) are never touched, and a run squeezes to two letters when only that form is a known
     * word (`maaaf` → `maaf`).
     * @default true
     */
    squeezeElongation: z.boolean().default(true),
    slang: SlangSchema.prefault({}),
    /** Reduce words to their root with Sastrawi (`pelayanannya` → `layan`). @default false */
    stem: z.boolean().default(false),
    stopwords: StopwordsSchema.prefault({}),
    /** Also write the space-separated tokens as a list column. @default true */
    tokenize: z.boolean().default(true),
  })
  .strict();

export type CleanConfig = z.output<typeof CleanConfigSchema>;
export type CleanConfigInput = z.input<typeof CleanConfigSchema>;

/** Parses a `clean:` block, filling defaults; `undefined` gives the defaults. */
export function parseCleanConfig(input: unknown): CleanConfig {
  return CleanConfigSchema.parse(input ?? {});
}

/**
 * The cleaning rule of `../shared/peer/reference.py` (`clean_text`), for comparing with the peer:
 * lower-case; remove URLs, @mentions, #hashtags; every character not in `[a-z]` or whitespace to a
 * space (digits, punctuation, emoji, accents, other scripts); collapse whitespace and strip; drop
 * null and raw-duplicate texts first and empty results after. No NFC (Python does none), no hyphen
 * keeping, no token steps.
 */
export const PEER_REFERENCE_RULE: CleanConfig = CleanConfigSchema.parse({
  dropEmpty: true,
  dedupeExact: true,
  dedupeCleaned: false,
  caseFold: true,
  normalizeUnicode: false,
  removeUrls: true,
  removeMentions: true,
  removeHashtags: true,
  removeEmoji: false,
  expandReduplication: false,
  removeDigits: false,
  removePunctuation: false,
  keepWordHyphens: false,
  nonLetters: 'ascii',
  collapseWhitespace: true,
  squeezeElongation: false,
  slang: { enabled: false },
  stem: false,
  stopwords: { enabled: false },
  tokenize: false,
});
