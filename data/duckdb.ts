/**
 * DuckDB access: one instance per process, a connection per unit of work closed in `finally`,
 * values always bound as parameters and identifiers quoted.
 */
// Loaded on first use: a run whose stages are all cache hits never pays for loading DuckDB.
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';

let instance: Promise<DuckDBInstance> | undefined;

/** The process-wide in-memory DuckDB instance (tables live in Parquet files, not in DuckDB). */
export function duckdb(): Promise<DuckDBInstance> {
  // Threads: DuckDB's own pool; the pipeline is I/O-light, two threads match these machines.
  instance ??= import('@duckdb/node-api').then(({ DuckDBInstance }) => DuckDBInstance.create(':memory:', { threads: '2' }));
  return instance;
}

/** Runs `work` with a fresh connection and always closes it. */
export async function withConnection<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const connection = await (await duckdb()).connect();
  try {
    return await work(connection);
  } finally {
    connection.closeSync();
  }
}

/** Quotes an identifier for SQL (`"a""b"`). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string literal, for the few places DuckDB does not accept a bound parameter (COPY targets). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export type Row = Record<string, DuckDBValue>;

/** Runs a query with bound parameters and returns plain JSON-like row objects. */
export async function queryRows(
  connection: DuckDBConnection,
  sql: string,
  params: DuckDBValue[] = [],
): Promise<Record<string, unknown>[]> {
  const reader = await connection.runAndReadAll(sql, params);
  return reader.getRowObjectsJson() as Record<string, unknown>[];
}

/**
 * Writes the result of `selectSql` to a Parquet file. Callers put an ORDER BY in the query so the
 * file's bytes depend only on the data (content-addressed artifacts need reproducible bytes).
 */
export async function copyToParquet(
  connection: DuckDBConnection,
  selectSql: string,
  path: string,
  params: DuckDBValue[] = [],
): Promise<void> {
  // Single-threaded COPY keeps row-group layout, and so the bytes, independent of scheduling.
  await connection.run(`SET threads = 1`);
  try {
    await connection.run(
      `COPY (${selectSql}) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
      params,
    );
  } finally {
    await connection.run(`RESET threads`);
  }
}

/** SQL for reading a Parquet file: `FROM ${parquet(path)}`. */
export function parquet(path: string): string {
  return `read_parquet(${quoteLiteral(path)})`;
}

/** A list value to bind as one parameter (e.g. `unnest($1)`). */
export async function listParam(values: readonly (string | number)[]): Promise<DuckDBValue> {
  const { listValue } = await import('@duckdb/node-api');
  return listValue([...values]);
}

/** A temp table from equal-length column lists (DuckDB cannot bind an empty list, so none is bound then). */
export async function tableFromLists(
  connection: DuckDBConnection,
  name: string,
  columns: Record<string, ['INTEGER' | 'VARCHAR', readonly (string | number)[]]>,
): Promise<void> {
  const entries = Object.entries(columns);
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${name} (${entries.map(([column, [type]]) => `${column} ${type}`).join(', ')})`);
  if ((entries[0]?.[1][1].length ?? 0) === 0) return;
  const select = entries.map(([, [type]], i) => `unnest($${i + 1})::${type}`).join(', ');
  await connection.run(`INSERT INTO ${name} SELECT ${select}`, await Promise.all(entries.map(([, [, values]]) => listParam(values))));
}
