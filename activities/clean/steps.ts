/**
 * The cleaning steps of the clean stage, as one public module. The stage's compute (`clean-compute.ts`)
 * runs the character steps in DuckDB with `sqlCleanExpressionOf`, the token steps in TypeScript with
 * `cleaner.afterSqlTrace` (counting steps); the predict stage cleans new texts with the same cleaner (`createTextCleaner`).
 *
 * Pipeline, in order, each step switchable (`CleanConfigSchema`):
 *   case → unicode (format characters, NFC) → urls → mentions → hashtags → emoji →
 *   reduplication (`hati2`) → digits → punctuation → nonLetters → hyphens (keep `sehari-hari`) →
 *   whitespace                                                        [SQL or TypeScript, identical]
 *   elongation (`bagusss`) → slang (`gak` → `tidak`) → stem → stopwords   [TypeScript only]
 *
 * Notes for the stage, measured with DuckDB 1.5 and @duckdb/node-api:
 * - Materialise the cleaned column before filtering on it: `WHERE clean <> ''` in the same query is
 *   pushed into the scan and evaluates the whole regex chain a second time.
 * - The node client's UTF-8 decoding drops a leading U+FEFF from strings it reads back; the default
 *   rule removes format characters in SQL already, but compare raw strings with that in mind.
 * - Per-step counts: `sqlStepCountsQuery` for the SQL side, `createStepCounter` over traces for the
 *   token side (or for everything, tracing in TypeScript).
 */
export {
  CleanConfigSchema,
  PEER_REFERENCE_RULE,
  SENTIMENT_STOPWORD_KEEP,
  parseCleanConfig,
  type CleanConfig,
  type CleanConfigInput,
} from './config';
export { CHAR_STEP_NAMES, type CharStepName } from './char-steps';
export { TOKEN_STEP_NAMES, tokenize, type SlangPreparation, type TokenStepName } from './token-steps';
export {
  createStepCounter,
  createTextCleaner,
  type StepCounts,
  type CleanStepName,
  type CleanTrace,
  type TextCleaner,
  type TextCleanerOptions,
} from './cleaner';
export {
  needsTokenSteps,
  sqlCleanExpression,
  sqlCleanExpressionOf,
  sqlCleanSteps,
  sqlStepCountsQuery,
  type SqlCleanStep,
} from './sql';
export { normaliseForDedupe, sqlNormaliseForDedupe } from './dedupe';
export {
  BUILTIN_SLANG_LEXICON_PATH,
  loadCleanLexicons,
  loadSlangLexicon,
  loadStopwords,
  parseSlangLexicon,
  parseWordList,
  stopwordsIsoIndonesian,
  type CleanLexicons,
  type LoadedCleanLexicons,
  type SlangLexicon,
} from './lexicon';
export { createStemmer, type IndonesianStemmer } from './stemmer';
