/**
 * Import stage: turns a review source (a CSV/JSON/Parquet file with a column mapping, or the seeded
 * synthetic generator) into `reviews.parquet` plus `quarantine.parquet` for rows whose rating or date
 * cannot be read. Nothing is dropped silently: rows + quarantined = data rows in the source. Reviews to
 * predict are imported with ratings optional: no rating column needed, and a row without a readable
 * rating keeps a null rating (counted as `unrated`) rather than going to quarantine.
 */
import { open, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { copyToParquet, queryRows, quoteIdent, quoteLiteral, withConnection } from '../../data/duckdb';
import type { ArtifactStore } from '../../data/store/artifact-store';
import { runStage, type StageDefinition, type StageInputArtifact } from '../../data/store/stage';
import type { Provenance, StageOutcome } from '../../data/store/types';
import { DEFAULT_SYNTHETIC_APP, syntheticReviewsCsv } from '../../data/sample/synthetic';
import type { ActivityDeps } from '../context';
import { badInput, notFound } from '../../core/errors';
import { NEW_REVIEWS_FILE, REVIEWS_FILE, SCRAPE_IMPORT_COLUMNS, type ScrapeParams } from '../scrape/scrape';
import { resolveColumns, type ColumnMapping, type TextEncoding } from './columns';
import { readableSource, REPLACEMENT_CHAR, type Decoding } from './decode';
import { sourceSha256 } from './source-hash';

export type ReviewFileFormat = 'csv' | 'tsv' | 'json' | 'parquet';

/** Whether every row needs a star rating (training) or not (prediction). */
export type RatingsMode = 'required' | 'optional';

/** Where the reviews come from, as written in the experiment spec. */
export type ImportSource =
  | { kind: 'synthetic'; rows: number; seed: number; app?: string }
  | {
      kind: 'file';
      path: string;
      format?: ReviewFileFormat;
      columns?: Partial<ColumnMapping>;
      app?: string;
      encoding?: TextEncoding;
      sample?: RowSample;
      /**
       * 'optional' for reviews to predict: a file without a rating column imports, and a row whose rating is
       * missing or unreadable keeps a null rating instead of being quarantined. @default 'required'
       */
      ratings?: RatingsMode;
    }
  /**
   * A `scrape` artifact (one app's snapshot, or a combined run) by key: its reviews.parquet; with
   * `reviews: 'new'`, one app's snapshot's new-reviews.parquet (only what that scrape run added: a night's window).
   */
  | { kind: 'scrape'; key: string; reviews?: 'new' }
  /**
   * An import artifact already in the store, by key: what the client hands Temporal workers after
   * importing a file itself, so no worker is told a path that exists only on the client.
   */
  | { kind: 'stored'; key: string };

/**
 * Resolved params: what the artifact key is computed from. A file source is its content hash and the
 * options that change the table (format, columns, app, encoding), never its path: the same bytes at
 * another path, or on another machine, are the same artifact. The path goes into the manifest's
 * provenance instead.
 */
export type ImportParams =
  | { kind: 'synthetic'; rows: number; seed: number; app: string }
  | {
      kind: 'file';
      sha256: string;
      format: ReviewFileFormat;
      columns: ColumnMapping;
      app: string | null;
      encoding?: TextEncoding;
      sample?: RowSample;
      /** Only 'optional' is written, so a labelled import keeps the key it always had. */
      ratings?: 'optional';
    }
  /** The scrape artifact is the stage's `scrape` input (its key is in the stage key), read as Parquet. */
  | { kind: 'scrape'; format: 'parquet'; columns: ColumnMapping; app: null; reviews?: 'new' };

type FileParams = Extract<ImportParams, { kind: 'file' }>;

/**
 * Keep a seeded sample of a file's data rows (e.g. a smoke budget's few thousand of 30,000), taken before
 * anything is judged, so `rows + quarantined` is the sample's size. The same rows for the same seed on any
 * machine: rows are ordered by an integer hash of their row number and the seed, and the first `rows` kept.
 */
export interface RowSample {
  rows: number;
  seed: number;
}

export interface ImportInput {
  source: ImportSource;
}

/** Column names of the reviews table every later stage reads. */
export const REVIEW_COLUMNS = ['source_row', 'review_id', 'app', 'user_name', 'rating', 'text', 'date'] as const;

export const importStage: StageDefinition<ImportParams> = {
  stage: 'import',
  // 2: a file source is keyed by content and options, not by path (the path is provenance); `encoding`.
  version: 2,
  inputNames: [],
  async compute({ params, inputs, outDir, provenance, key }) {
    return withConnection(async (connection) => {
      const sourcePath =
        params.kind === 'synthetic'
          ? await writeSyntheticCsv(params, outDir)
          : params.kind === 'scrape'
            ? scrapeReviewsFile(inputs.scrape, params.reviews)
            : await sourceFileWithHash(params, provenance, key);
      const readable = params.kind === 'file' && params.format !== 'parquet' ? await readableSource(sourcePath, params.encoding ?? 'utf-8', outDir) : undefined;
      try {
        await connection.run(`SET threads = 1`); // file order = row order: source_row must be the file's row number
        await readOrExplain(sourcePath, params.kind === 'file' ? params.format : params.kind === 'scrape' ? 'parquet' : 'csv', () =>
          loadSource(connection, readable?.path ?? sourcePath, params, readable?.lossy ?? false),
        );
        return await writeTables(connection, outDir, readable, ratingsOptional(params));
      } finally {
        await connection.run(`RESET threads`);
        await readable?.dispose();
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

/** The reviews.parquet (or new-reviews.parquet) of the scrape input, refusing any other kind of artifact. */
function scrapeReviewsFile(scrape: StageInputArtifact | undefined, reviews: 'new' | undefined): string {
  if (!scrape) throw badInput('An import from a scrape needs the scrape artifact as its input.', { stage: 'import' });
  if (scrape.manifest.stage !== 'scrape') {
    throw badInput(`source.key: ${scrape.key} is a ${scrape.manifest.stage} artifact, not a scrape; pass the key ulasan scrape printed.`, {
      stage: 'import',
      key: scrape.key,
      field: 'source.key',
    });
  }
  if (reviews !== 'new') return scrape.file(REVIEWS_FILE);
  if ((scrape.manifest.params as ScrapeParams).kind === 'combined') {
    throw badInput(`source.reviews: 'new' reads one app's scrape run, but ${scrape.key} combines several apps; score one app per schedule.`, {
      stage: 'import',
      key: scrape.key,
      field: 'source.reviews',
    });
  }
  return scrape.file(NEW_REVIEWS_FILE);
}

/**
 * The source file named by the provenance, refused unless it still holds the bytes the key was made
 * from (`ulasan verify` on another machine, or a file edited since): reading other bytes under this
 * key would make the artifact lie.
 */
async function sourceFileWithHash(params: FileParams, provenance: Provenance | undefined, key: string): Promise<string> {
  const context = { stage: 'import', key, field: 'source.file' };
  const path = provenance?.path;
  if (!path) throw badInput(`import ${key} records no source path to read sha256 ${params.sha256} from.`, context);
  const { sha256 } = await sourceSha256(path, { verifyHashes: true }).catch(() => {
    throw notFound(`source file ${path} (on ${provenance.host}) cannot be read; import ${key} needs it to recompute.`, {
      ...context,
      file: path,
    });
  });
  if (sha256 !== params.sha256) {
    throw badInput(
      `source file ${path} now has sha256 ${sha256}, but import ${key} was made from sha256 ${params.sha256}; ` +
        'restore the original file (or import the new one: it gets its own key).',
      { ...context, file: path },
    );
  }
  return path;
}

/** Delimiters a CSV header may use (semicolon CSVs come from spreadsheet exports in comma-decimal locales). */
const CSV_DELIMITERS = [',', ';', '\t', '|'] as const;

/**
 * The delimiter of a CSV, read from its header line: the candidate it holds most often outside quotes, ',' when it
 * holds none (a one-column file). DuckDB's own sniffer looks at the rows too, and a one-column file whose texts hold
 * a ';' or '|' was read as split on it.
 */
export function csvDelimiterOf(headerLine: string): string {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const char of headerLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (CSV_DELIMITERS as readonly string[]).includes(char)) counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  let best = ',';
  for (const delimiter of CSV_DELIMITERS) if ((counts.get(delimiter) ?? 0) > (counts.get(best) ?? 0)) best = delimiter;
  return best;
}

/** The first line of a text file (up to 64 KiB), without its line break or a UTF-8 byte order mark. */
async function firstLineOf(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(65_536);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf-8').replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  } finally {
    await handle.close();
  }
}

/** SQL reading a review file; text files are UTF-8 by then (see decode.ts). */
async function readerSql(path: string, format: ReviewFileFormat): Promise<string> {
  const file = quoteLiteral(path);
  switch (format) {
    case 'csv':
      return `read_csv(${file}, header = true, all_varchar = true, delim = ${quoteLiteral(csvDelimiterOf(await firstLineOf(path)))})`;
    case 'tsv':
      return `read_csv(${file}, header = true, all_varchar = true, delim = '\t')`;
    case 'json':
      return `read_json(${file}, format = 'auto')`;
    case 'parquet':
      return `read_parquet(${file})`;
  }
}

/** DuckDB's reader errors are about the file, not a fault that may pass: typed, naming the file and format. */
async function readOrExplain<T>(path: string, format: ReviewFileFormat, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    const message = (err as Error)?.message ?? '';
    // Only the reader's complaints about the file; a Parser or Binder error is ulasan's own SQL: a bug.
    if (!/^(Invalid Input|Conversion|IO) Error: /.test(message)) throw err;
    const [what = message] = message.split('\n');
    const line = /on Line: (\d+)/.exec(message)?.[1];
    throw badInput(
      `${path} cannot be read as ${format}${line ? ` (line ${line})` : ''}: ${what.replace(/^[A-Za-z ]+ Error: /, '')}. ` +
        'Check that the file is a review table in that format, or give the right one (--format / source.format: csv, tsv, json, parquet).',
      { stage: 'import', file: path, field: 'source.format', ...(line ? { row: Number(line) } : {}) },
    );
  }
}

const ratingsOptional = (params: ImportParams): boolean => params.kind === 'file' && params.ratings === 'optional';

/** The rating a kept row gets: 1..5, else null (only rows imported with ratings optional have other values). */
const KEPT_RATING_SQL = `CASE WHEN rating_num IN (1, 2, 3, 4, 5) THEN rating_num::INTEGER END`;

async function loadSource(connection: DuckDBConnection, path: string, params: ImportParams, lossy: boolean): Promise<void> {
  const format = params.kind === 'synthetic' ? 'csv' : params.format;
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE src AS
     SELECT (row_number() OVER () - 1)::INTEGER AS source_row, COLUMNS(*)::VARCHAR FROM ${await readerSql(path, format)}`,
  );
  if (params.kind === 'file' && params.sample) await keepSample(connection, params.sample);
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
       WHEN ${lossy ? UNDECODABLE_SQL : 'false'} THEN 'bytes not valid in the encoding of the file (replaced by U+FFFD); fix the file or pass --encoding'
       ${ratingsOptional(params) ? '' : RATING_REASONS_SQL}
       WHEN date_raw IS NOT NULL AND trim(date_raw) <> '' AND date IS NULL THEN concat('unparseable date: ', date_raw)
     END AS reason
     FROM typed`,
  );
}

/** Keeps `sample.rows` rows of `src`: the smallest by (row number + seed) · 2654435761 mod 2^32 (Knuth's multiplicative hash), ties by row. */
async function keepSample(connection: DuckDBConnection, sample: RowSample): Promise<void> {
  await connection.run(
    `DELETE FROM src WHERE source_row NOT IN (
       SELECT source_row FROM src ORDER BY ((source_row::UBIGINT + $1::UBIGINT) * 2654435761) % 4294967296, source_row LIMIT $2)`,
    [sample.seed, sample.rows],
  );
}

/** Why a row's rating makes it unusable for training (not asked when ratings are optional). */
const RATING_REASONS_SQL = `WHEN rating_num IS NULL THEN concat('rating is not a number: ', coalesce(rating_raw, 'NULL'))
       WHEN rating_num NOT IN (1, 2, 3, 4, 5) THEN concat('rating is not an integer 1..5: ', rating_raw)`;

/** A row holding a byte its encoding could not decode (only asked when decoding was lossy). */
const UNDECODABLE_SQL = `contains(concat_ws('', review_id, app, user_name, rating_raw, text, date_raw), '${REPLACEMENT_CHAR}')`;

async function writeTables(
  connection: DuckDBConnection,
  outDir: string,
  decoding: Decoding | undefined,
  optionalRatings: boolean,
): Promise<{ rowCounts: Record<string, number>; summary: Record<string, unknown> }> {
  await copyToParquet(
    connection,
    `SELECT source_row, review_id, app, user_name, ${KEPT_RATING_SQL} AS rating, text, date
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
    `SELECT ${KEPT_RATING_SQL} AS rating, count(*)::INTEGER AS n FROM judged WHERE reason IS NULL GROUP BY 1 ORDER BY 1`,
  );
  const rated = ratings.filter((r) => r.rating !== null);
  const rowCounts = { rows: Number(counts?.rows), quarantined: Number(counts?.quarantined) };
  // The encoding is reported only where the file was not plain UTF-8, so earlier summaries stay as they were.
  const encoding = decoding && (decoding.encoding !== 'utf-8' || decoding.lossy) ? { encoding: decoding.encoding, lossy: decoding.lossy } : {};
  // Rows without a rating are counted only where ratings were optional, so labelled imports' summaries stay as they were.
  const unrated = optionalRatings ? { unrated: Number(ratings.find((r) => r.rating === null)?.n ?? 0) } : {};
  return { rowCounts, summary: { ...rowCounts, ratings: Object.fromEntries(rated.map((r) => [String(r.rating), r.n])), ...unrated, ...encoding } };
}

function detectFormat(path: string): ReviewFileFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.tsv') return 'tsv';
  if (ext === '.json' || ext === '.jsonl' || ext === '.ndjson') return 'json';
  if (ext === '.parquet') return 'parquet';
  return 'csv';
}

async function readHeader(path: string, format: ReviewFileFormat, encoding: TextEncoding | undefined): Promise<string[]> {
  const readable = format === 'parquet' ? undefined : await readableSource(path, encoding ?? 'utf-8', tmpdir());
  try {
    return await readOrExplain(path, format, () =>
      withConnection(async (connection) => {
        const rows = await queryRows(connection, `DESCRIBE SELECT * FROM ${await readerSql(readable?.path ?? path, format)}`);
        return rows.map((row) => String(row.column_name));
      }),
    );
  } finally {
    await readable?.dispose();
  }
}

const FORMATS: readonly ReviewFileFormat[] = ['csv', 'tsv', 'json', 'parquet'];

/** The named file must be a readable regular file in a format ulasan reads. */
async function checkSourceFile(path: string, format: string): Promise<void> {
  const found = await stat(path).catch(() => {
    throw notFound(`source.path: file ${path} does not exist or cannot be read.`, { file: path, field: 'source.path' });
  });
  if (!found.isFile()) {
    throw badInput(`source.path: ${path} is a ${found.isDirectory() ? 'directory' : 'special file'}, not a review file; give the path of a CSV, TSV, JSON or Parquet file.`, {
      file: path,
      field: 'source.path',
    });
  }
  if (!FORMATS.includes(format as ReviewFileFormat)) {
    throw badInput(`format '${format}' is not one ulasan reads; allowed: ${FORMATS.join(', ')}.`, { file: path, field: 'source.format' });
  }
}

/** Keyed params of a file source, and where it was read (the manifest's provenance, not the key's). */
export interface ResolvedFileSource {
  params: FileParams;
  provenance: Provenance;
}

/** Resolves a file source: content hash, format, full column mapping, encoding (CSV/TSV only); path as provenance. */
export async function resolveFileSource(
  source: Extract<ImportSource, { kind: 'file' }>,
  options: { store?: ArtifactStore; verifyHashes?: boolean } = {},
): Promise<ResolvedFileSource> {
  const path = resolve(source.path);
  const format = source.format ?? detectFormat(path);
  await checkSourceFile(path, format);
  const encoding = format === 'csv' || format === 'tsv' ? (source.encoding ?? 'utf-8') : undefined;
  const ratings = source.ratings ?? 'required';
  const columns = resolveColumns(await readHeader(path, format, encoding), source.columns ?? {}, path, ratings);
  const { sha256 } = await sourceSha256(path, { stampDir: options.store?.root, verifyHashes: options.verifyHashes });
  const sample = source.sample ? { sample: { rows: source.sample.rows, seed: source.sample.seed } } : {};
  const params: FileParams = {
    kind: 'file',
    sha256,
    format,
    columns,
    app: source.app ?? null,
    ...(encoding ? { encoding } : {}),
    ...sample,
    ...(ratings === 'optional' ? { ratings } : {}),
  };
  return { params, provenance: { path, host: hostname() } };
}

/** Resolves a synthetic or scrape source into keyed params. */
export function resolveGeneratedParams(source: Extract<ImportSource, { kind: 'synthetic' | 'scrape' }>): ImportParams {
  if (source.kind === 'synthetic') {
    return { kind: 'synthetic', rows: source.rows, seed: source.seed, app: source.app ?? DEFAULT_SYNTHETIC_APP };
  }
  // `reviews` only when given: every existing scrape import keeps its key.
  return { kind: 'scrape', format: 'parquet', columns: { ...SCRAPE_IMPORT_COLUMNS }, app: null, ...(source.reviews ? { reviews: source.reviews } : {}) };
}

/** A `stored` source: the import artifact must be in this store and verify; a worker that lacks it says why. */
async function storedImport(deps: ActivityDeps, key: string): Promise<StageOutcome> {
  const started = performance.now();
  const check = await deps.store.check(key, { verifyHashes: deps.verifyHashes });
  if (check.status !== 'ok' || check.manifest.stage !== 'import') {
    const why = check.status === 'ok' ? `is a ${check.manifest.stage} artifact` : check.status === 'absent' ? 'is not there' : `is corrupt (${check.detail})`;
    throw notFound(
      `source.key: import artifact ${key} ${why} in the store at ${deps.store.root} on ${hostname()}; ` +
        'the client imported the source into its ULASAN_HOME: give workers and client the same ULASAN_HOME.',
      { stage: 'import', key, field: 'source.key' },
    );
  }
  return { ref: { key, stage: 'import' }, cache: 'hit', ms: performance.now() - started, summary: check.manifest.summary };
}

/** The import activity. */
export function createImportActivity(deps: ActivityDeps) {
  return async function importReviews(input: ImportInput): Promise<StageOutcome> {
    const { source } = input;
    switch (source.kind) {
      case 'stored':
        return storedImport(deps, source.key);
      case 'scrape':
        // The scrape is a real input, so lineage and `verify --deep` walk back to it.
        return runStage(deps.store, { ...importStage, inputNames: ['scrape'] }, resolveGeneratedParams(source), { scrape: { key: source.key, stage: 'scrape' } }, deps);
      case 'synthetic':
        return runStage(deps.store, importStage, resolveGeneratedParams(source), {}, deps);
      case 'file': {
        const { params, provenance } = await resolveFileSource(source, deps);
        return runStage(deps.store, importStage, params, {}, { ...deps, provenance });
      }
    }
  };
}
