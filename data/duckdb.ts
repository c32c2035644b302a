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

/** Column types `tableFromLists` fills, with the values each takes. */
export type ListColumn = ['INTEGER' | 'DOUBLE', ArrayLike<number>] | ['VARCHAR', ArrayLike<string>];

/**
 * A temp table from equal-length column lists, filled row by row through DuckDB's appender: one native call per
 * value, where binding the lists as parameters (`unnest($1)`) built a DuckDB value object per element first
 * (~30x slower at 30,000 rows). The table holds the same values either way.
 */
export async function tableFromLists(connection: DuckDBConnection, name: string, columns: Record<string, ListColumn>): Promise<void> {
  const entries = Object.values(columns);
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${name} (${Object.entries(columns).map(([column, [type]]) => `${column} ${type}`).join(', ')})`);
  const rows = entries[0]?.[1].length ?? 0;
  const appender = await connection.createAppender(name);
  try {
    for (let row = 0; row < rows; row++) {
      for (const [type, values] of entries) {
        if (type === 'VARCHAR') appender.appendVarchar(values[row]!);
        else if (type === 'INTEGER') appender.appendInteger(values[row]!);
        else appender.appendDouble(values[row]!);
      }
      appender.endRow();
    }
  } finally {
    appender.closeSync();
  }
}
