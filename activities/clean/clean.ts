/**
 * Clean stage: normalises review text in DuckDB SQL and dedupes by review id. Rows emptied by
 * cleaning and repeated review ids go to `quarantine.parquet` with the reason.
 */
import { join } from 'node:path';
import { copyToParquet, parquet, queryRows, withConnection } from '../../data/duckdb';
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';

/** Which cleaning steps run (in this order). */
export interface CleanParams {
  /** @default true */
  lowercase: boolean;
  /** @default true */
  stripUrls: boolean;
  /** @default true */
  stripMentions: boolean;
  /** @default true */
  stripHashtags: boolean;
  /** Replace everything that is not a letter (digits, punctuation, emoji) with a space. @default true */
  lettersOnly: boolean;
}

export const DEFAULT_CLEAN_PARAMS: CleanParams = {
  lowercase: true,
  stripUrls: true,
  stripMentions: true,
  stripHashtags: true,
  lettersOnly: true,
};

export interface CleanInput {
  table: ArtifactRef;
  params: CleanParams;
}

/** The SQL expression applying the enabled steps to `column`. */
export function cleanTextSql(column: string, params: CleanParams): string {
  let expr = column;
  if (params.lowercase) expr = `lower(${expr})`;
  if (params.stripUrls) expr = `regexp_replace(${expr}, '(https?://|www\\.)\\S*', ' ', 'g')`;
  if (params.stripMentions) expr = `regexp_replace(${expr}, '@\\w+', ' ', 'g')`;
  if (params.stripHashtags) expr = `regexp_replace(${expr}, '#\\w+', ' ', 'g')`;
  if (params.lettersOnly) expr = `regexp_replace(${expr}, '[^\\p{L}\\s]+', ' ', 'g')`;
  return `trim(regexp_replace(${expr}, '\\s+', ' ', 'g'))`;
}

export const cleanStage: StageDefinition<CleanParams> = {
  stage: 'clean',
  version: 1,
  inputNames: ['table'],
  async compute({ params, inputs, outDir }) {
    return withConnection(async (connection) => {
      await connection.run(
        `CREATE OR REPLACE TEMP TABLE cleaned AS
         SELECT *, ${cleanTextSql('coalesce(text, \'\')', params)} AS clean_text,
                row_number() OVER (PARTITION BY review_id ORDER BY source_row) AS id_rank
         FROM ${parquet(inputs.table!.file('reviews.parquet'))}`,
      );
      await connection.run(
        `CREATE OR REPLACE TEMP TABLE judged AS
         SELECT *, CASE
           WHEN id_rank > 1 THEN 'duplicate review id'
           WHEN clean_text = '' THEN 'empty after cleaning'
         END AS reason
         FROM cleaned`,
      );
      await copyToParquet(
        connection,
        `SELECT source_row, review_id, app, rating, date, clean_text AS text, text AS raw_text
         FROM judged WHERE reason IS NULL ORDER BY source_row`,
        join(outDir, 'clean.parquet'),
      );
      await copyToParquet(
        connection,
        `SELECT source_row, review_id, reason, text AS raw_text FROM judged WHERE reason IS NOT NULL ORDER BY source_row`,
        join(outDir, 'quarantine.parquet'),
      );
      const reasons = await queryRows(
        connection,
        `SELECT coalesce(reason, 'kept') AS reason, count(*)::INTEGER AS n FROM judged GROUP BY 1 ORDER BY 1`,
      );
      const byReason = Object.fromEntries(reasons.map((row) => [String(row.reason), Number(row.n)]));
      const rows = byReason.kept ?? 0;
      const quarantined = Object.values(byReason).reduce((a, b) => a + b, 0) - rows;
      return { rowCounts: { rows, quarantined }, summary: { rows, quarantined, byReason } };
    });
  },
};

export function createCleanActivity(deps: ActivityDeps) {
  return async function clean(input: CleanInput): Promise<StageOutcome> {
    return runStage(deps.store, cleanStage, input.params, { table: input.table }, deps);
  };
}
