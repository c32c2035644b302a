/**
 * Import stage: turns a review source (a CSV/JSON/Parquet file with a column mapping, or the seeded
 * synthetic generator) into `reviews.parquet` plus `quarantine.parquet` for rows whose rating or date
 * cannot be read. Nothing is dropped silently: rows + quarantined = data rows in the source.
 */
import { access, rm, writeFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { copyToParquet, queryRows, quoteIdent, quoteLiteral, withConnection } from '../../data/duckdb';
import { sha256File } from '../../data/store/artifact-store';
import { runStage, type StageDefinition, type StageInputArtifact } from '../../data/store/stage';
import type { StageOutcome } from '../../data/store/types';
import { DEFAULT_SYNTHETIC_APP, syntheticReviewsCsv } from '../../data/sample/synthetic';
import type { ActivityDeps } from '../context';
import { badInput, notFound } from '../errors';
import { SCRAPE_IMPORT_COLUMNS } from '../scrape/snapshot';
import { resolveColumns, type ColumnMapping } from './columns';

export type ReviewFileFormat = 'csv' | 'tsv' | 'json' | 'parquet';

/** Where the reviews come from, as written in the experiment spec. */
export type ImportSource =
  | { kind: 'synthetic'; rows: number; seed: number; app?: string }
  | { kind: 'file'; path: string; format?: ReviewFileFormat; columns?: Partial<ColumnMapping>; app?: string }
  /** A `scrape` artifact (one app's snapshot, or a combined run) by key: its reviews.parquet. */
  | { kind: 'scrape'; key: string };

/** Resolved params: what the artifact key is computed from (a file source carries its content hash). */
export type ImportParams =
  | { kind: 'synthetic'; rows: number; seed: number; app: string }
  | { kind: 'file'; path: string; sha256: string; format: ReviewFileFormat; columns: ColumnMapping; app: string | null }
  /** The scrape artifact is the stage's `scrape` input (its key is in the stage key), read as Parquet. */
  | { kind: 'scrape'; format: 'parquet'; columns: ColumnMapping; app: null };

export interface ImportInput {
  source: ImportSource;
}

/** Column names of the reviews table every later stage reads. */
export const REVIEW_COLUMNS = ['source_row', 'review_id', 'app', 'user_name', 'rating', 'text', 'date'] as const;

export const importStage: StageDefinition<ImportParams> = {
  stage: 'import',
  version: 1,
  inputNames: [],
  async compute({ params, inputs, outDir }) {
    return withConnection(async (connection) => {
      const sourcePath =
        params.kind === 'synthetic'
          ? await writeSyntheticCsv(params, outDir)
          : params.kind === 'scrape'
            ? scrapeReviewsFile(inputs.scrape)
            : params.path;
      try {
        await connection.run(`SET threads = 1`); // file order = row order: source_row must be the file's row number
        await loadSource(connection, sourcePath, params);
        return await writeTables(connection, outDir);
      } finally {
        await connection.run(`RESET threads`);
        if (params.kind === 'synthetic') await rm(sourcePath, { force: true });
      }
    });
  },
};

async function writeSyntheticCsv(params: { rows: number; seed: number; app: string }, outDir: string): Promise<string> {
  const path = join(outDir, '.synthetic-source.csv');
  await writeFile(path, syntheticReviewsCsv({ rows: params.rows, seed: params.seed, app: params.app }));
  return path;
}

/** The reviews.parquet of the scrape input, refusing any other kind of artifact. */
function scrapeReviewsFile(scrape: StageInputArtifact | undefined): string {
  if (!scrape) throw badInput('An import from a scrape needs the scrape artifact as its input.', { stage: 'import' });
  if (scrape.manifest.stage !== 'scrape') {
    throw badInput(`source.key: ${scrape.key} is a ${scrape.manifest.stage} artifact, not a scrape; pass the key ulasan scrape printed.`, {
      stage: 'import',
      key: scrape.key,
      field: 'source.key',
    });
  }
  return scrape.file('reviews.parquet');
}

function readerSql(path: string, format: ReviewFileFormat): string {
  const file = quoteLiteral(path);
  switch (format) {
    case 'csv':
      return `read_csv(${file}, header = true, all_varchar = true)`;
    case 'tsv':
      return `read_csv(${file}, header = true, all_varchar = true, delim = '\t')`;
    case 'json':
      return `read_json(${file}, format = 'auto')`;
    case 'parquet':
      return `read_parquet(${file})`;
  }
}

async function loadSource(connection: DuckDBConnection, path: string, params: ImportParams): Promise<void> {
  const format = params.kind === 'synthetic' ? 'csv' : params.format;
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE src AS
     SELECT (row_number() OVER () - 1)::INTEGER AS source_row, COLUMNS(*)::VARCHAR FROM ${readerSql(path, format)}`,
  );
  const columns =
    params.kind === 'synthetic'
      ? { text: 'text', rating: 'rating', id: 'review_id', date: 'date', user: 'user_name', app: 'app' }
      : params.columns;
  const app = params.kind === 'synthetic' ? params.app : params.app;
  const col = (name: string | undefined): string => (name === undefined ? 'NULL::VARCHAR' : quoteIdent(name));
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE typed AS
     SELECT source_row,
            COALESCE(NULLIF(trim(${col(columns.id)}), ''), concat('row-', source_row)) AS review_id,
            COALESCE($1, NULLIF(trim(${col(columns.app)}), ''), 'unknown') AS app,
            ${col(columns.user)} AS user_name,
            ${col(columns.rating)} AS rating_raw,
            TRY_CAST(trim(${col(columns.rating)}) AS DOUBLE) AS rating_num,
            ${col(columns.text)} AS text,
            ${col(columns.date)} AS date_raw,
            TRY_CAST(trim(${col(columns.date)}) AS TIMESTAMP) AS date
     FROM src`,
    [app],
  );
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE judged AS
     SELECT *, CASE
       WHEN rating_num IS NULL THEN concat('rating is not a number: ', coalesce(rating_raw, 'NULL'))
       WHEN rating_num NOT IN (1, 2, 3, 4, 5) THEN concat('rating is not an integer 1..5: ', rating_raw)
       WHEN date_raw IS NOT NULL AND trim(date_raw) <> '' AND date IS NULL THEN concat('unparseable date: ', date_raw)
     END AS reason
     FROM typed`,
  );
}

async function writeTables(connection: DuckDBConnection, outDir: string): Promise<{ rowCounts: Record<string, number>; summary: Record<string, unknown> }> {
  await copyToParquet(
    connection,
    `SELECT source_row, review_id, app, user_name, rating_num::INTEGER AS rating, text, date
     FROM judged WHERE reason IS NULL ORDER BY source_row`,
    join(outDir, 'reviews.parquet'),
  );
  await copyToParquet(
    connection,
    `SELECT source_row, review_id, reason, rating_raw, date_raw, text FROM judged WHERE reason IS NOT NULL ORDER BY source_row`,
    join(outDir, 'quarantine.parquet'),
  );
  const [counts] = await queryRows(
    connection,
    `SELECT count(*) FILTER (WHERE reason IS NULL)::INTEGER AS rows,
            count(*) FILTER (WHERE reason IS NOT NULL)::INTEGER AS quarantined
     FROM judged`,
  );
  const ratings = await queryRows(
    connection,
    `SELECT rating_num::INTEGER AS rating, count(*)::INTEGER AS n FROM judged WHERE reason IS NULL GROUP BY 1 ORDER BY 1`,
  );
  const rowCounts = { rows: Number(counts?.rows), quarantined: Number(counts?.quarantined) };
  return { rowCounts, summary: { ...rowCounts, ratings: Object.fromEntries(ratings.map((r) => [String(r.rating), r.n])) } };
}

function detectFormat(path: string): ReviewFileFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.tsv') return 'tsv';
  if (ext === '.json' || ext === '.jsonl' || ext === '.ndjson') return 'json';
  if (ext === '.parquet') return 'parquet';
  return 'csv';
}

async function readHeader(path: string, format: ReviewFileFormat): Promise<string[]> {
  return withConnection(async (connection) => {
    const rows = await queryRows(connection, `DESCRIBE SELECT * FROM ${readerSql(path, format)}`);
    return rows.map((row) => String(row.column_name));
  });
}

/** Resolves a spec source into keyed params: absolute path, content hash, format and full column mapping. */
export async function resolveImportParams(source: ImportSource): Promise<ImportParams> {
  if (source.kind === 'synthetic') {
    return { kind: 'synthetic', rows: source.rows, seed: source.seed, app: source.app ?? DEFAULT_SYNTHETIC_APP };
  }
  if (source.kind === 'scrape') return { kind: 'scrape', format: 'parquet', columns: { ...SCRAPE_IMPORT_COLUMNS }, app: null };
  const path = resolve(source.path);
  await access(path).catch((err: unknown) => {
    throw notFound(`source.path: file ${path} does not exist or cannot be read.`, { file: path, field: 'source.path' });
    void err;
  });
  const format = source.format ?? detectFormat(path);
  const columns = resolveColumns(await readHeader(path, format), source.columns ?? {}, path);
  const { sha256 } = await sha256File(path);
  return { kind: 'file', path, sha256, format, columns, app: source.app ?? null };
}

/** The import activity. */
export function createImportActivity(deps: ActivityDeps) {
  return async function importReviews(input: ImportInput): Promise<StageOutcome> {
    const params = await resolveImportParams(input.source);
    if (input.source.kind === 'scrape') {
      // The scrape is a real input, so lineage and `verify --deep` walk back to it.
      const scrape = { key: input.source.key, stage: 'scrape' };
      return runStage(deps.store, { ...importStage, inputNames: ['scrape'] }, params, { scrape }, deps);
    }
    return runStage(deps.store, importStage, params, {}, deps);
  };
}
