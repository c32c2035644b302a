/**
 * `npm run bench -- clean [--repeat N] [--csv PATH]`: cleans halodoc_id_reviews.csv (30,000 rows)
 * with `PEER_REFERENCE_RULE` and, in the same run, with pandas (`bench/peers/clean.py`, which
 * imports reference.py's own `clean_text`). Both do the same work: read the CSV, drop null text or
 * score, drop duplicate raw texts (keep first), clean, drop empty results. Checks that both give the
 * same cleaned text for the same rows, prints the figures, returns ulasan rows/s ÷ pandas rows/s
 * (best ulasan path over best pandas variant, min over repeats).
 *
 * ulasan paths measured: `sql` (DuckDB read_csv + `sqlCleanExpression`, into a table) and `ts`
 * (DuckDB read_csv + dedupe, texts into JavaScript, `createTextCleaner`). Also printed: the reading
 * part alone and the cleaning part alone (rows already in memory) on both sides, so the ratio can be
 * read: on 2 busy cores most of the gain is in reading the CSV, not in the regexes.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { notFound } from '../core/errors';
import { PEER_REFERENCE_RULE, createTextCleaner, sqlCleanExpression } from '../activities/clean/steps';
import { parseCsv } from '../activities/clean/csv';
import { sqlIdentifier, sqlString } from '../activities/clean/patterns';

const run = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Options {
  readonly csv: string;
  readonly reference: string;
  readonly textColumn: string;
  readonly scoreColumn: string;
  readonly repeat: number;
}

function options(args: string[]): Options {
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const shared = process.env.ULASAN_SHARED_DATA ?? resolve(repoRoot, '../shared/data');
  const csv = flag('--csv') ?? join(shared, 'reviews/halodoc_id_reviews.csv');
  const reference = resolve(shared, '../peer/reference.py');
  for (const path of [csv, reference]) {
    if (!existsSync(path)) throw notFound(`${path} does not exist; set ULASAN_SHARED_DATA to the shared data folder`, { file: path });
  }
  return {
    csv,
    reference,
    textColumn: flag('--text-col') ?? 'Review Text',
    scoreColumn: flag('--score-col') ?? 'Rating',
    repeat: Number(flag('--repeat') ?? 7),
  };
}

/** The CSV's column names, from its first line (read here: DuckDB's dialect sniffing costs more than the cleaning). */
async function csvHeader(path: string): Promise<string[]> {
  const handle = await open(path);
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    return parseCsv(text.slice(0, text.search(/\r?\n/)))[0] ?? [];
  } finally {
    await handle.close();
  }
}

/**
 * Rows kept by reference.py before cleaning: non-null text and score, first of each raw text; `rn`
 * is the 0-based data row. Every column is read as VARCHAR under the given names, the standard CSV
 * dialect (comma, double quotes) assumed, as pandas assumes it.
 */
function sourceSql(o: Options, header: readonly string[]): string {
  const columns = `{${header.map((name) => `${sqlString(name)}: 'VARCHAR'`).join(', ')}}`;
  return `WITH raw AS (
      SELECT row_number() OVER () - 1 AS rn, ${sqlIdentifier(o.textColumn)} AS content, ${sqlIdentifier(o.scoreColumn)} AS score
      FROM read_csv(${sqlString(o.csv)}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
        columns = ${columns}))
    SELECT min(rn) AS rn, content FROM raw WHERE content IS NOT NULL AND score IS NOT NULL GROUP BY content`;
}

async function timed<T>(repeat: number, fn: () => Promise<T>): Promise<{ seconds: number[]; result: T }> {
  const seconds: number[] = [];
  let result: T | undefined;
  for (let i = 0; i < repeat; i++) {
    const start = performance.now();
    result = await fn();
    seconds.push((performance.now() - start) / 1000);
  }
  return { seconds, result: result as T };
}

async function sqlPath(connection: DuckDBConnection, o: Options): Promise<{ seconds: number[]; rows: Map<number, string> }> {
  // Materialise, then delete the emptied rows: a `WHERE clean <> ''` in the same query is pushed into
  // the scan by DuckDB's optimiser and evaluates the whole regex chain a second time.
  const query = (header: readonly string[]): string => `CREATE OR REPLACE TEMP TABLE cleaned AS
    SELECT rn, ${sqlCleanExpression('content', PEER_REFERENCE_RULE)} AS clean FROM (${sourceSql(o, header)}) ORDER BY rn`;
  const { seconds } = await timed(o.repeat, async () => {
    await connection.run(query(await csvHeader(o.csv)));
    await connection.run(`DELETE FROM cleaned WHERE clean = ''`);
  });
  // Wrapped: the client's UTF-8 decoding would drop a leading U+FEFF.
  const reader = await connection.runAndReadAll(`SELECT rn, '|' || clean || '|' AS clean FROM cleaned ORDER BY rn`);
  const rows = new Map<number, string>();
  for (const [rn, clean] of reader.getRowsJS()) rows.set(Number(rn), String(clean).slice(1, -1));
  return { seconds, rows };
}

async function tsPath(connection: DuckDBConnection, o: Options): Promise<{ seconds: number[]; rows: Map<number, string> }> {
  const clean = createTextCleaner(PEER_REFERENCE_RULE);
  const { seconds, result } = await timed(o.repeat, async () => {
    // Unwrapped: the client drops a leading U+FEFF, which this rule turns into nothing anyway.
    const header = await csvHeader(o.csv);
    const reader = await connection.runAndReadAll(`SELECT rn, content FROM (${sourceSql(o, header)}) ORDER BY rn`);
    const [rns = [], texts = []] = reader.getColumnsJS();
    const rows = new Map<number, string>();
    for (let i = 0; i < rns.length; i++) {
      const cleaned = clean(String(texts[i]));
      if (cleaned !== '') rows.set(Number(rns[i]), cleaned);
    }
    return rows;
  });
  return { seconds, rows: result };
}

/** The cleaning step alone, on the prepared rows already loaded (a DuckDB table; a JavaScript array). */
async function cleanOnly(connection: DuckDBConnection, o: Options): Promise<{ rows: number; sql: number[]; ts: number[] }> {
  await connection.run(`CREATE OR REPLACE TEMP TABLE source AS ${sourceSql(o, await csvHeader(o.csv))}`);
  const expression = sqlCleanExpression('content', PEER_REFERENCE_RULE);
  const sql = await timed(o.repeat, () => connection.run(`CREATE OR REPLACE TEMP TABLE cleaned_only AS SELECT rn, ${expression} AS clean FROM source`));
  const texts = (await connection.runAndReadAll('SELECT content FROM source')).getColumnsJS()[0]?.map(String) ?? [];
  const clean = createTextCleaner(PEER_REFERENCE_RULE);
  const ts = await timed(o.repeat, async () => texts.map((text) => clean(text)));
  return { rows: texts.length, sql: sql.seconds, ts: ts.seconds };
}

interface PeerFigures {
  pandas: string;
  python: string;
  map: { seconds: number[]; min: number; rows_out: number };
  str: { seconds: number[]; min: number; rows_out: number };
  variants_agree: boolean;
  read_dedupe_min: number;
  clean_only_map_min: number;
  clean_only_str_min: number;
}

async function peer(o: Options, out: string): Promise<{ figures: PeerFigures; rows: Map<number, string> }> {
  const script = join(repoRoot, 'bench/peers/clean.py');
  const args = [script, 'bench', '--csv', o.csv, '--reference', o.reference, '--repeat', String(o.repeat), '--out', out];
  const { stdout } = await run('/usr/bin/python3', args, { maxBuffer: 1 << 26 });
  const figures = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as PeerFigures;
  const pairs = JSON.parse(await readFile(out, 'utf8')) as [number, string][];
  return { figures, rows: new Map(pairs) };
}

function compare(ours: Map<number, string>, theirs: Map<number, string>): { mismatches: number; examples: string[] } {
  const examples: string[] = [];
  let mismatches = 0;
  for (const rn of new Set([...ours.keys(), ...theirs.keys()])) {
    const a = ours.get(rn);
    const b = theirs.get(rn);
    if (a === b) continue;
    mismatches++;
    if (examples.length < 5) examples.push(`row ${rn}: ulasan ${JSON.stringify(a)} pandas ${JSON.stringify(b)}`);
  }
  return { mismatches, examples };
}

const fmt = (seconds: number[]): string => seconds.map((s) => `${(s * 1000).toFixed(0)}ms`).join(' ');

export default async function cleanBenchmark(args: string[]): Promise<number> {
  const o = options(args);
  const dir = await mkdtemp(join(tmpdir(), 'ulasan-bench-clean-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const inputRows = Number(
      (await connection.runAndReadAll(`SELECT count(*) FROM read_csv(${sqlString(o.csv)}, header = true, all_varchar = true)`)).getRowsJS()[0]?.[0],
    );
    const readOnly = await timed(o.repeat, async () =>
      connection.run(`SELECT count(*) FROM (${sourceSql(o, await csvHeader(o.csv))})`),
    );
    const sql = await sqlPath(connection, o);
    const ts = await tsPath(connection, o);
    const { figures, rows: pandasRows } = await peer(o, join(dir, 'pandas.json'));

    const best = (seconds: number[]): number => Math.min(...seconds);
    const rate = (seconds: number[]): number => inputRows / best(seconds);
    const sqlCheck = compare(sql.rows, pandasRows);
    const tsCheck = compare(ts.rows, pandasRows);
    console.log(`clean: ${o.csv} (${inputRows} rows), rule PEER_REFERENCE_RULE, ${o.repeat} repeats, min taken`);
    console.log(`  ulasan sql (DuckDB read_csv + sqlCleanExpression): ${fmt(sql.seconds)} -> ${rate(sql.seconds).toFixed(0)} rows/s, ${sql.rows.size} rows out`);
    console.log(`  ulasan ts  (DuckDB read_csv + createTextCleaner):  ${fmt(ts.seconds)} -> ${rate(ts.seconds).toFixed(0)} rows/s, ${ts.rows.size} rows out`);
    console.log(`  pandas ${figures.pandas} map(clean_text): ${fmt(figures.map.seconds)} -> ${rate(figures.map.seconds).toFixed(0)} rows/s, ${figures.map.rows_out} rows out`);
    console.log(`  pandas ${figures.pandas} .str.replace:     ${fmt(figures.str.seconds)} -> ${rate(figures.str.seconds).toFixed(0)} rows/s, ${figures.str.rows_out} rows out (agrees with map: ${figures.variants_agree})`);
    console.log(
      `  of which reading + null/duplicate filtering: ulasan ${(best(readOnly.seconds) * 1000).toFixed(0)}ms (all columns VARCHAR, header read first), pandas ${(figures.read_dedupe_min * 1000).toFixed(0)}ms (type inference)`,
    );
    const ms = (seconds: number): string => `${(seconds * 1000).toFixed(0)}ms`;
    const only = await cleanOnly(connection, o);
    console.log(
      `  cleaning alone, rows already in memory (${only.rows} rows): ulasan sql ${ms(best(only.sql))}, ts ${ms(best(only.ts))}; pandas map ${ms(figures.clean_only_map_min)}, str ${ms(figures.clean_only_str_min)}`,
    );
    console.log(`  same cleaned texts as pandas: sql ${sqlCheck.mismatches} mismatches, ts ${tsCheck.mismatches} mismatches`);
    for (const example of [...sqlCheck.examples, ...tsCheck.examples]) console.log(`    ${example}`);
    if (sqlCheck.mismatches + tsCheck.mismatches > 0 || !figures.variants_agree) {
      console.log('  WARNING: outputs differ; the ratio compares different work');
    }
    const ours = Math.min(best(sql.seconds), best(ts.seconds));
    const theirs = Math.min(figures.map.min, figures.str.min);
    console.log(`  best ulasan ${(inputRows / ours).toFixed(0)} rows/s vs best pandas ${(inputRows / theirs).toFixed(0)} rows/s`);
    return theirs / ours;
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
