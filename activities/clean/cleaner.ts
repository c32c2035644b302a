import type { CleanConfig } from './config';
import { CHAR_STEP_NAMES, type CharStepName, charSteps } from './char-steps';
import type { CleanLexicons } from './lexicon';
import { isBlank } from './patterns';
import { type IndonesianStemmer, createStemmer } from './stemmer';
import {
  type SlangPreparation,
  TOKEN_STEP_NAMES,
  type TokenStep,
  type TokenStepName,
  tokenSteps,
  tokenize,
} from './token-steps';

/** Every step a trace can name; `input` means the raw text was already null or blank. */
export type CleanStepName = 'input' | CharStepName | TokenStepName;

/** What cleaning one text did, for quarantine reasons and per-step counts. */
export interface CleanTrace {
  /** The cleaned text (`''` when emptied). */
  readonly text: string;
  /** The first step after which nothing but whitespace was left, or null if the text survived. */
  readonly emptiedBy: CleanStepName | null;
  /** The steps that changed the text, in pipeline order. */
  readonly changedBy: readonly CleanStepName[];
}

/** A configured cleaner. Call it on raw text; it is pure and deterministic. */
export interface TextCleaner {
  (text: string | null | undefined): string;
  /** The same cleaning, recording which steps changed the text and which emptied it. */
  trace(text: string | null | undefined): CleanTrace;
  /**
   * Only the token steps, for text that already went through `sqlCleanExpression` with the same
   * config. `cleaner(raw) === cleaner.afterSql(sqlClean(raw))`.
   */
  afterSql(text: string): string;
  /**
   * `afterSql` with a trace (steps named are token steps only; a text already blank reports `input`:
   * ask `trace(raw)` which character step emptied it).
   */
  afterSqlTrace(text: string): CleanTrace;
  /** The active character steps, in order (what the SQL expression does). */
  readonly charSteps: readonly CharStepName[];
  /** The active token steps, in order (what only TypeScript does); empty means SQL does it all. */
  readonly tokenSteps: readonly TokenStepName[];
  /** How the slang lexicon was normalised, when slang is on (for the artifact manifest). */
  readonly slang: SlangPreparation | null;
}

export interface TextCleanerOptions {
  /** Share one stemmer (and its memo and dictionary) between cleaners. */
  readonly stemmer?: IndonesianStemmer;
}

/** Passes of the token steps at most: a stem can be a slang key, whose formal form then needs stemming. */
const MAX_TOKEN_PASSES = 4;
const MEMO_LIMIT = 500_000;
const HAS_WHITESPACE = /\s|[\u001c-\u001f\u0085]/u;

/**
 * Builds the full cleaner (character steps, then token steps). Lexicons must hold what the config
 * switches on (see `loadCleanLexicons`). Cleaning is idempotent: `clean(clean(x)) === clean(x)`.
 */
export function createTextCleaner(
  config: CleanConfig,
  lexicons: CleanLexicons = {},
  options: TextCleanerOptions = {},
): TextCleaner {
  const chars = charSteps(config);
  const charFns = chars.map((step) => step.js);
  const charClean = (text: string): string => charFns.reduce((acc, fn) => fn(acc), text);
  const lossless = chars.filter((s) => s.name === 'unicode' || s.name === 'case' || s.name === 'reduplication');
  const charNormalise = (text: string): string => lossless.reduce((acc, step) => step.js(acc), text);
  const needsStemmer = config.stem || config.squeezeElongation;
  const stemmer = options.stemmer ?? (needsStemmer ? createStemmer() : NO_STEMMER);
  const { steps, slang } = tokenSteps({ config, lexicons, stemmer, charClean, charNormalise });
  const finalToken = memoisedTokenPipeline(steps);

  // Collapsed text holds single spaces only: a plain split is much faster than the Unicode regex.
  const split = config.collapseWhitespace ? (text: string) => text.split(' ') : tokenize;
  const afterSql = (text: string): string => {
    if (steps.length === 0) return text;
    const out: string[] = [];
    for (const token of split(text)) {
      if (token === '') continue;
      const cleaned = finalToken(token);
      if (cleaned !== '') out.push(cleaned);
    }
    return out.join(' ');
  };
  const cleaner = ((text: string | null | undefined) => (text == null ? '' : afterSql(charClean(text)))) as TextCleaner;
  return Object.assign(cleaner, {
    trace: (text: string | null | undefined) => traceClean(text, chars, steps),
    afterSql,
    afterSqlTrace: (text: string) => traceClean(text, [], steps),
    charSteps: chars.map((s) => s.name),
    tokenSteps: steps.map((s) => s.name),
    slang,
  });
}

const NO_STEMMER: IndonesianStemmer = { stem: (word) => word, isRootWord: () => false };

function splitOutput(text: string): string[] {
  if (text === '') return [];
  return HAS_WHITESPACE.test(text) ? tokenize(text) : [text];
}

function runPass(tokens: readonly string[], steps: readonly TokenStep[], onStep?: StepObserver): string[] {
  let current = tokens as string[];
  for (const step of steps) {
    const next: string[] = [];
    for (const token of current) next.push(...splitOutput(step.apply(token)));
    onStep?.(step.name, current, next);
    current = next;
  }
  return current;
}

type StepObserver = (name: TokenStepName, before: readonly string[], after: readonly string[]) => void;

const sameTokens = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((token, i) => token === b[i]);

/** Token → its final form (space-separated, possibly empty), iterated to a fixed point, memoised. */
function memoisedTokenPipeline(steps: readonly TokenStep[]): (token: string) => string {
  const memo = new Map<string, string>();
  return (token) => {
    let result = memo.get(token);
    if (result !== undefined) return result;
    let tokens = [token];
    for (let pass = 0; pass < MAX_TOKEN_PASSES; pass++) {
      const next = runPass(tokens, steps);
      if (sameTokens(next, tokens)) break;
      tokens = next;
    }
    result = tokens.join(' ');
    // A bound keeps a long stream of unusual tokens from growing the memo without limit.
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(token, result);
    return result;
  };
}

function traceClean(
  raw: string | null | undefined,
  chars: readonly { name: CharStepName; js: (t: string) => string }[],
  steps: readonly TokenStep[],
): CleanTrace {
  if (raw == null || isBlank(raw)) return { text: '', emptiedBy: 'input', changedBy: [] };
  const changed = new Set<CleanStepName>();
  let emptiedBy: CleanStepName | null = null;
  let text = raw;
  for (const step of chars) {
    const next = step.js(text);
    if (next !== text) changed.add(step.name);
    if (emptiedBy === null && isBlank(next)) emptiedBy = step.name;
    text = next;
  }
  if (steps.length === 0) return { text, emptiedBy, changedBy: inPipelineOrder(changed) };
  let tokens = tokenize(text);
  const observe: StepObserver = (name, before, after) => {
    if (!sameTokens(before, after)) changed.add(name);
    if (emptiedBy === null && after.length === 0) emptiedBy = name;
  };
  for (let pass = 0; pass < MAX_TOKEN_PASSES; pass++) {
    const next = runPass(tokens, steps, observe);
    if (sameTokens(next, tokens)) break;
    tokens = next;
  }
  return { text: tokens.join(' '), emptiedBy, changedBy: inPipelineOrder(changed) };
}

const PIPELINE_ORDER: readonly CleanStepName[] = ['input', ...CHAR_STEP_NAMES, ...TOKEN_STEP_NAMES];

/** A later token pass can change a step that ran before another: report in pipeline order anyway. */
const inPipelineOrder = (steps: ReadonlySet<CleanStepName>): CleanStepName[] =>
  PIPELINE_ORDER.filter((name) => steps.has(name));

/** Per-step row counts for the clean artifact's manifest. */
export interface StepCounts {
  /** Rows seen. */
  readonly rows: number;
  /** Rows each step changed. */
  readonly changed: Readonly<Partial<Record<CleanStepName, number>>>;
  /** Rows each step emptied (`input`: null or blank before cleaning). */
  readonly emptied: Readonly<Partial<Record<CleanStepName, number>>>;
}

/** Accumulates traces into per-step row counts, keyed in pipeline order. */
export function createStepCounter(): { add(trace: CleanTrace): void; counts(): StepCounts } {
  let rows = 0;
  const changed = new Map<CleanStepName, number>();
  const emptied = new Map<CleanStepName, number>();
  const bump = (map: Map<CleanStepName, number>, step: CleanStepName): void => {
    map.set(step, (map.get(step) ?? 0) + 1);
  };
  const ordered = (map: Map<CleanStepName, number>): Partial<Record<CleanStepName, number>> =>
    Object.fromEntries(PIPELINE_ORDER.filter((s) => map.has(s)).map((s) => [s, map.get(s)]));
  return {
    add(trace) {
      rows++;
      for (const step of trace.changedBy) bump(changed, step);
      if (trace.emptiedBy !== null) bump(emptied, trace.emptiedBy);
    },
    counts: () => ({ rows, changed: ordered(changed), emptied: ordered(emptied) }),
  };
}
