import { charSteps, type CharStepName } from './char-steps';
import type { CleanConfig } from './config';
import { WHITESPACE_CLASS_BODY, sqlIdentifier, sqlString } from './patterns';

/** One character step as a DuckDB expression builder: `apply('"text"')` is that step on the column. */
export interface SqlCleanStep {
  readonly step: CharStepName;
  readonly apply: (expr: string) => string;
}

/** The character steps of a config as DuckDB expression builders, one per step in pipeline order. */
export function sqlCleanSteps(config: CleanConfig): SqlCleanStep[] {
  return charSteps(config).map((s) => ({ step: s.name, apply: s.sql }));
}

/**
 * A DuckDB expression doing every character step of the config on `column` (an identifier, quoted
 * here): NFC, `lower`, `regexp_replace` for URLs, mentions, hashtags, emoji, reduplication, digits,
 * punctuation, non-letters and hyphens, then whitespace collapse and `trim`. It gives exactly what
 * the TypeScript character steps give (tested against DuckDB), so the token steps can follow with
 * `cleaner.afterSql`. NULL stays NULL.
 */
export function sqlCleanExpression(column: string, config: CleanConfig): string {
  return sqlCleanExpressionOf(sqlIdentifier(column), config);
}

/** The same over any SQL expression (not quoted). */
export function sqlCleanExpressionOf(expr: string, config: CleanConfig): string {
  return charSteps(config).reduce((acc, s) => s.sql(acc), expr);
}

/** Whether cleaning needs the TypeScript pass after SQL (elongation, slang, stemming or stopwords on). */
export function needsTokenSteps(config: CleanConfig): boolean {
  return config.squeezeElongation || config.slang.enabled || config.stem || config.stopwords.enabled;
}

/**
 * A DuckDB query giving per-step row counts of the character steps over `column` of `from` (a table
 * name or a parenthesised subquery): one row with `rows`, `emptied_input`, and for each active step
 * `changed_<step>` and `emptied_<step>`, the same numbers `createStepCounter` gives from traces
 * (rows blank on input count only as `emptied_input`).
 * Each step is its own nested projection, so every regex runs once per row.
 */
export function sqlStepCountsQuery(from: string, column: string, config: CleanConfig): string {
  const steps = sqlCleanSteps(config);
  const blank = (expr: string): string => `regexp_full_match(${expr}, ${sqlString(`[${WHITESPACE_CLASS_BODY}]*`)})`;
  let inner = `SELECT ${sqlIdentifier(column)} AS s0 FROM ${from}`;
  steps.forEach((step, i) => {
    inner = `SELECT *, ${step.apply(`s${i}`)} AS s${i + 1} FROM (${inner})`;
  });
  const counts = steps.flatMap((step, i) => {
    const before = `s${i}`;
    const after = `s${i + 1}`;
    return [
      `count_if(NOT ${blank('s0')} AND ${before} <> ${after}) AS ${sqlIdentifier(`changed_${step.step}`)}`,
      `count_if(NOT ${blank(before)} AND ${blank(after)}) AS ${sqlIdentifier(`emptied_${step.step}`)}`,
    ];
  });
  const rows = `count(*) AS "rows", count_if(s0 IS NULL OR ${blank('s0')}) AS "emptied_input"`;
  return `SELECT ${[rows, ...counts].join(', ')} FROM (${inner})`;
}
