/**
 * The clean stage's work on a cache miss (see clean.ts): DuckDB SQL for the character steps, TypeScript for the
 * token steps, quarantine with reasons. Kept apart so that a cache-hit run loads none of the cleaning steps.
 */
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { copyToParquet, listParam, parquet, queryRows, tableFromLists, withConnection } from '../../data/duckdb';
import type { ComputeContext, ComputeResult } from '../../data/store/stage';
import { cleanLexiconsOf, type CleanParams } from './clean';
import {
  createStepCounter,
  createTextCleaner,
  needsTokenSteps,
  sqlCleanExpressionOf,
  sqlNormaliseForDedupe,
  sqlStepCountsQuery,
  type CleanConfig,
  type TextCleaner,
} from './steps';

const BATCH_ROWS = 20_000;

async function tokenPass(connection: DuckDBConnection, cleaner: TextCleaner) {
  const counter = createStepCounter();
  await connection.run(`CREATE OR REPLACE TEMP TABLE token_clean (source_row INTEGER, clean_text VARCHAR, emptied_by VARCHAR)`);
  for (let offset = 0; ; offset += BATCH_ROWS) {
    const batch = await queryRows(
      connection,
      `SELECT source_row, sql_text FROM sql_clean WHERE sql_text IS NOT NULL ORDER BY source_row LIMIT ${BATCH_ROWS} OFFSET ${offset}`,
    );
    if (batch.length === 0) break;
    const traces = batch.map((row) => cleaner.afterSqlTrace(String(row.sql_text)));
    traces.forEach((trace) => counter.add(trace));
    await connection.run(
      `INSERT INTO token_clean SELECT unnest($1)::INTEGER, unnest($2)::VARCHAR, unnest($3)::VARCHAR`,
      [
        await listParam(batch.map((row) => Number(row.source_row))),
        await listParam(traces.map((t) => t.text)),
        await listParam(traces.map((t) => t.emptiedBy ?? '')),
      ],
    );
  }
  return counter.counts();
}

/** Which character step emptied each row SQL left blank (few rows: traced in TypeScript for the reason). */
async function emptiedPass(connection: DuckDBConnection, cleaner: TextCleaner): Promise<void> {
  const rows = await queryRows(connection, `SELECT source_row, text FROM sql_clean WHERE coalesce(sql_text, '') = '' ORDER BY source_row`);
  const steps = rows.map((row) => cleaner.trace(row.text === null ? null : String(row.text)).emptiedBy ?? 'cleaning');
  await tableFromLists(connection, 'char_emptied', {
    source_row: ['INTEGER', rows.map((row) => Number(row.source_row))],
    step: ['VARCHAR', steps],
  });
}

/** The reason a row leaves the table, in priority order (NULL: kept). */
function reasonSql(config: CleanConfig): string {
  return `CASE
    WHEN id_rank > 1 THEN 'duplicate review id'
    ${config.dropEmpty ? `WHEN text IS NULL OR trim(text) = '' THEN 'empty input'` : ''}
    ${config.dedupeExact ? `WHEN text_rank > 1 THEN 'duplicate text'` : ''}
    WHEN coalesce(clean_text, '') = '' THEN concat('emptied by ', coalesce(nullif(emptied_by, ''), 'character steps'))
    ${config.dedupeCleaned ? `WHEN cleaned_rank > 1 THEN 'duplicate cleaned text'` : ''}
  END`;
}

export async function computeClean({ params, inputs, outDir, provenance, key }: ComputeContext<CleanParams>): Promise<ComputeResult> {
  const { config, lexicons } = await cleanLexiconsOf(params, provenance, key, 'restore them (or run again: new lexicons get a new key)');
  const cleaner = createTextCleaner(config, lexicons);
  return withConnection(async (connection) => {
    const source = parquet(inputs.table!.file('reviews.parquet'));
    // Materialised before any filter: DuckDB would otherwise push a filter into the scan and run every regex twice.
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE sql_clean AS
       SELECT *, ${sqlCleanExpressionOf('text', config)} AS sql_text,
              row_number() OVER (PARTITION BY review_id ORDER BY source_row) AS id_rank,
              row_number() OVER (PARTITION BY text ORDER BY source_row) AS text_rank
       FROM ${source}`,
    );
    const [sqlCounts] = await queryRows(connection, sqlStepCountsQuery(source, 'text', config));
    const tokenCounts = needsTokenSteps(config) ? await tokenPass(connection, cleaner) : undefined;
    await emptiedPass(connection, cleaner);
    const join_ = `${tokenCounts ? 'LEFT JOIN token_clean t USING (source_row)' : ''} LEFT JOIN char_emptied e USING (source_row)`;
    const cleanText = tokenCounts ? 't.clean_text' : 's.sql_text';
    const emptiedBy = `coalesce(e.step, ${tokenCounts ? 't.emptied_by' : 'NULL'})`;
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE judged AS
       SELECT *, ${reasonSql(config)} AS reason FROM (
         SELECT *, row_number() OVER (PARTITION BY ${sqlNormaliseForDedupe('clean_text')} ORDER BY source_row) AS cleaned_rank
         FROM (SELECT s.*, ${cleanText} AS clean_text, ${emptiedBy} AS emptied_by FROM sql_clean s ${join_}))`,
    );
    const tokens = config.tokenize ? `, string_split(clean_text, ' ') AS tokens` : '';
    await copyToParquet(
      connection,
      `SELECT source_row, review_id, app, rating, date, clean_text AS text, text AS raw_text${tokens}
       FROM judged WHERE reason IS NULL ORDER BY source_row`,
      join(outDir, 'clean.parquet'),
    );
    await copyToParquet(
      connection,
      `SELECT source_row, review_id, reason, text AS raw_text FROM judged WHERE reason IS NOT NULL ORDER BY source_row`,
      join(outDir, 'quarantine.parquet'),
    );
    const reasons = await queryRows(connection, `SELECT coalesce(reason, 'kept') AS reason, count(*)::INTEGER AS n FROM judged GROUP BY 1 ORDER BY 1`);
    const byReason = Object.fromEntries(reasons.map((row) => [String(row.reason), Number(row.n)]));
    const rows = byReason.kept ?? 0;
    const quarantined = Object.values(byReason).reduce((a, b) => a + b, 0) - rows;
    const characterSteps = Object.fromEntries(Object.entries(sqlCounts ?? {}).map(([name, n]) => [name, Number(n)]));
    const stepCounts = { characterSteps, tokenSteps: tokenCounts ?? null };
    return { rowCounts: { rows, quarantined }, summary: { rows, quarantined, byReason, stepCounts, slang: cleaner.slang ?? null } };
  });
}
