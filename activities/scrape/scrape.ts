/**
 * The scrape stage's definition: snapshots in the artifact store. Scrapes accumulate per app/lang/country: each run that adds
 * reviews commits a new `scrape` artifact whose `reviews.parquet` is the previous snapshot plus this
 * run's new reviews (deduped by review id, previous rows kept), and a small index file
 * `<root>/scrapes/<app>__<lang>__<country>.json` points at the latest one. A run merges and moves the
 * index holding `<app>__<lang>__<country>.lock`, so concurrent runs of one app never drop each other's reviews.
 *
 * The content of a scrape is not known before it runs, so its key is computed after the fact from
 * `{appId, lang, country, sort, filterScore, sha256 of the merged reviews.parquet, the window}` and the
 * previous snapshot's key (its input). `ulasan verify` cannot re-scrape Google Play: the stage's compute
 * instead re-merges the artifact's own recorded `new-reviews.parquet` (whose hash is in the params, so
 * in the key) into the previous snapshot and compares bytes. That proves the snapshot is exactly
 * previous ∪ recorded pages; the fetch itself is not recomputable.
 *
 * A `combined` scrape artifact (several apps of one run) is an ordinary keyed stage over the per-app
 * snapshots and recomputes fully.
 */
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { copyToParquet, parquet, quoteLiteral, queryRows, withConnection } from '../../data/duckdb';
import { ArtifactStore, artifactKey, sha256File } from '../../data/store/artifact-store';
import { codeVersion } from '../../data/store/code-version';
import type { ComputeResult, StageDefinition, StageInputArtifact } from '../../data/store/stage';
import type { Manifest } from '../../data/store/types';
import { UlasanError } from '../../core/errors';
import type { ReviewSort, StopReason } from './play-client';

export const SCRAPE_STAGE = 'scrape';
export const SCRAPE_STAGE_VERSION = 1;
/** The accumulated snapshot: every review of the app/lang/country scraped so far. */
export const REVIEWS_FILE = 'reviews.parquet';
/** The reviews this run added, in Play's order (page, position): what `verify` re-merges. */
export const NEW_REVIEWS_FILE = 'new-reviews.parquet';
/** Every window (scrape run) that contributed to the snapshot, oldest first. */
export const WINDOWS_FILE = 'windows.json';

/** Columns of `reviews.parquet` / `new-reviews.parquet`, with their DuckDB types. */
export const SCRAPE_COLUMNS = {
  review_id: 'VARCHAR',
  app: 'VARCHAR',
  lang: 'VARCHAR',
  country: 'VARCHAR',
  user_name: 'VARCHAR',
  score: 'INTEGER',
  text: 'VARCHAR',
  date: 'TIMESTAMP',
  thumbs_up: 'INTEGER',
  reply_text: 'VARCHAR',
  reply_date: 'TIMESTAMP',
  app_version: 'VARCHAR',
  scraped_at: 'TIMESTAMP',
  page_number: 'INTEGER',
} as const;

/** How the import stage reads a scrape's `reviews.parquet` (see activities/import/columns.ts). */
export const SCRAPE_IMPORT_COLUMNS = {
  text: 'text',
  rating: 'score',
  id: 'review_id',
  date: 'date',
  user: 'user_name',
  app: 'app',
} as const;

const COLUMN_LIST = Object.keys(SCRAPE_COLUMNS).join(', ');

/** One scrape run of one app: what it asked for, how far it got and why it stopped. */
export interface ScrapeWindow {
  runId: string;
  appId: string;
  lang: string;
  country: string;
  sort: ReviewSort;
  filterScore: number | null;
  maxReviews: number | null;
  since: string | null;
  /** The newest review already stored when the run started (incremental stop), if any. */
  stopAtReviewId: string | null;
  /** Where the requests went when not Google Play itself (a fake server, a proxy). */
  baseUrl: string | null;
  /** Reviews Play returned before the stop point. */
  seen: number;
  /** Of those, not stored before: written to the snapshot. */
  new: number;
  /** Of those, already stored (an earlier run, or a page fetched again after a retry). */
  duplicates: number;
  pages: number;
  /** True when the window is fully covered (`end`, `caught-up`, `since`); false when `max` cut it short. */
  complete: boolean;
  stopReason: StopReason;
  startedAt: string;
  finishedAt: string;
}

/** Params of a scrape artifact: a per-app snapshot, or several apps' snapshots combined. */
export type ScrapeParams =
  | {
      kind: 'snapshot';
      appId: string;
      lang: string;
      country: string;
      sort: ReviewSort;
      filterScore: number | null;
      /** sha256 of the merged `reviews.parquet`. */
      sha256: string;
      /** sha256 and row count of `new-reviews.parquet`, which `verify` re-merges. */
      newReviews: { sha256: string; rows: number };
      window: ScrapeWindow;
    }
  | { kind: 'combined'; apps: string[] };

/** The pointer to an app's latest snapshot, kept at `<root>/scrapes/<app>__<lang>__<country>.json`. */
export interface ScrapeIndex {
  appId: string;
  lang: string;
  country: string;
  /** Key of the latest snapshot. */
  key: string;
  rows: number;
  /**
   * Where the next incremental run (sort newest, no star filter) stops: the snapshot's newest review,
   * or, while a gap is open (an incremental run hit `max` before reaching its stop), the old stop point,
   * so the next run fills the gap. Null: scrape from the top until the end or `max`.
   */
  stopAtReviewId: string | null;
  /** The last window run against this snapshot, including runs that added nothing. */
  lastWindow: ScrapeWindow;
  updatedAt: string;
}

export interface AppScope {
  appId: string;
  lang: string;
  country: string;
}

export function scopeName(scope: AppScope): string {
  return `${scope.appId}__${scope.lang}__${scope.country}`;
}

export function scrapesDir(root: string): string {
  return join(root, 'scrapes');
}

export function indexPath(root: string, scope: AppScope): string {
  return join(scrapesDir(root), `${scopeName(scope)}.json`);
}

/** The lock held while a run merges into the app's snapshot and moves its index (see file-lock.ts). */
export function lockPath(root: string, scope: AppScope): string {
  return join(scrapesDir(root), `${scopeName(scope)}.lock`);
}

export async function readScrapeIndex(root: string, scope: AppScope): Promise<ScrapeIndex | undefined> {
  const path = indexPath(root, scope);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as ScrapeIndex;
  } catch (err) {
    throw new UlasanError(
      'CorruptArtifact',
      `The scrape index ${path} is not valid JSON (${(err as Error).message}). Point it at the latest snapshot ` +
        'key again, or delete it to start a fresh snapshot (earlier snapshots stay in the store).',
      { stage: SCRAPE_STAGE, file: path },
    );
  }
}

/** Writes the index atomically (temp file + rename), so a reader never sees half of it. */
export async function writeScrapeIndex(root: string, index: ScrapeIndex): Promise<void> {
  const path = indexPath(root, index);
  await mkdir(scrapesDir(root), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(index, null, 2) + '\n');
  await rename(temp, path);
}

/** The snapshot an index points at, checked against its manifest; undefined when there is none yet. */
export async function latestSnapshot(store: ArtifactStore, scope: AppScope): Promise<ScrapeIndex | undefined> {
  const index = await readScrapeIndex(store.root, scope);
  if (!index) return undefined;
  const check = await store.check(index.key);
  if (check.status !== 'ok') {
    const detail = check.status === 'absent' ? 'is not in the store' : `is corrupt (${check.detail})`;
    throw new UlasanError(
      'CorruptArtifact',
      `The latest scrape snapshot ${index.key} of ${scopeName(scope)} ${detail}. Restore it, or delete ` +
        `${indexPath(store.root, scope)} to start a fresh snapshot.`,
      { stage: SCRAPE_STAGE, key: index.key },
    );
  }
  return index;
}

/** Review ids stored in a snapshot: the `seen` set of an incremental run. */
export async function snapshotReviewIds(store: ArtifactStore, key: string): Promise<Set<string>> {
  const rows = await withConnection((c) => queryRows(c, `SELECT review_id FROM ${parquet(store.path(key, REVIEWS_FILE))}`));
  return new Set(rows.map((row) => String(row.review_id)));
}

/** Loads NDJSON page logs (page-log.ts) into the temp table `new_rows`, deduped, in Play's order. */
async function loadPageLogs(connection: DuckDBConnection, logs: string[]): Promise<void> {
  const types = Object.entries({ ...SCRAPE_COLUMNS, position: 'INTEGER' })
    .map(([name, type]) => `${name}: '${type}'`)
    .join(', ');
  const source =
    logs.length === 0
      ? `(SELECT ${Object.entries(SCRAPE_COLUMNS)
          .map(([name, type]) => `NULL::${type} AS ${name}`)
          .join(', ')}, NULL::INTEGER AS position WHERE false)`
      : `read_json([${logs.map(quoteLiteral).join(', ')}], format = 'newline_delimited', columns = {${types}})`;
  await connection.run(`CREATE OR REPLACE TEMP TABLE new_rows AS SELECT * FROM ${source}`);
  // The log holds each review once by construction (resume cuts it, `seen` dedupes); should a review
  // still appear twice, the first occurrence wins. The check is cheap, the window is not: only on need.
  const [dup] = await queryRows(connection, `SELECT count(*) - count(DISTINCT review_id) AS n FROM new_rows`);
  if (Number(dup?.n ?? 0) > 0) {
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE new_rows AS
       SELECT * FROM new_rows QUALIFY row_number() OVER (PARTITION BY review_id ORDER BY page_number, position) = 1`,
    );
  }
}

/** Writes this run's new reviews, in Play's order; returns their count. */
export async function writeNewReviews(logs: string[], outDir: string): Promise<number> {
  return withConnection(async (connection) => {
    await loadPageLogs(connection, logs);
    await copyToParquet(connection, `SELECT ${COLUMN_LIST} FROM new_rows ORDER BY page_number, position`, join(outDir, NEW_REVIEWS_FILE));
    const [row] = await queryRows(connection, `SELECT count(*)::INTEGER AS n FROM new_rows`);
    return Number(row?.n ?? 0);
  });
}

export interface SnapshotCounts {
  rows: number;
  /** Rows of the merged snapshot not in the previous one. */
  added: number;
}

/**
 * Merges `new-reviews.parquet` (already in `outDir`) into the previous snapshot: `reviews.parquet`
 * (previous rows win on a shared review id; newest first, then review id) and `windows.json`.
 */
export async function writeSnapshot(
  outDir: string,
  previous: { reviews: string; windows: ScrapeWindow[] } | undefined,
  window: ScrapeWindow,
): Promise<SnapshotCounts> {
  const counts = await withConnection(async (connection) => {
    const fresh = `SELECT ${COLUMN_LIST}, 1 AS src FROM ${parquet(join(outDir, NEW_REVIEWS_FILE))}`;
    // A review already stored keeps its stored row (first scraped wins); new-reviews.parquet is deduped.
    const union = previous
      ? `SELECT ${COLUMN_LIST}, 0 AS src FROM ${parquet(previous.reviews)}
         UNION ALL
         SELECT * FROM (${fresh}) WHERE review_id NOT IN (SELECT review_id FROM ${parquet(previous.reviews)})`
      : fresh;
    await connection.run(`CREATE OR REPLACE TEMP TABLE merged AS ${union}`);
    await copyToParquet(connection, `SELECT ${COLUMN_LIST} FROM merged ORDER BY date DESC, review_id`, join(outDir, REVIEWS_FILE));
    const [row] = await queryRows(
      connection,
      `SELECT count(*)::INTEGER AS rows, count(*) FILTER (WHERE src = 1)::INTEGER AS added FROM merged`,
    );
    return { rows: Number(row?.rows ?? 0), added: Number(row?.added ?? 0) };
  });
  await writeFile(join(outDir, WINDOWS_FILE), JSON.stringify([...(previous?.windows ?? []), window], null, 2) + '\n');
  return counts;
}

async function readWindows(dir: string): Promise<ScrapeWindow[]> {
  return JSON.parse(await readFile(join(dir, WINDOWS_FILE), 'utf8')) as ScrapeWindow[];
}

/** The snapshot's newest review (its first row: newest first, then review id). */
async function newestReviewId(outDir: string): Promise<string | null> {
  const [row] = await withConnection((c) => queryRows(c, `SELECT review_id FROM ${parquet(join(outDir, REVIEWS_FILE))} LIMIT 1`));
  return row ? String(row.review_id) : null;
}

/** True for a window whose reviews run newest-first without gaps: where an incremental stop is sound. */
export function isIncremental(window: Pick<ScrapeWindow, 'sort' | 'filterScore'>): boolean {
  return window.sort === 'newest' && window.filterScore === null;
}

/**
 * The stop point for the next incremental run. A helpfulness/rating or star-filtered run samples the
 * reviews, so its newest says nothing about what lies below it: the stop stays. An incremental run cut
 * short by `max` before its stop leaves a gap: the stop stays until a run reaches it.
 */
export function nextStopAt(window: ScrapeWindow, previousStop: string | null, snapshotNewest: string | null): string | null {
  if (!isIncremental(window)) return previousStop;
  // Cut short: the segment read is contiguous from the top, but whatever lay below it, down to the stop
  // this run was heading for (or the one pending before a full run), was not reached.
  if (window.stopReason === 'max') return window.stopAtReviewId ?? previousStop ?? snapshotNewest;
  return snapshotNewest;
}

export interface CommitSnapshotInput {
  /** The run's NDJSON page log(s); none when it stored nothing. */
  pageLogs: string[];
  /** The snapshot to merge into (the latest at commit time), if any. */
  previous: ScrapeIndex | undefined;
  window: ScrapeWindow;
}

export interface CommitSnapshotResult {
  key: string;
  /** False when the run added nothing to an existing snapshot: the key is then the previous one. */
  changed: boolean;
  rows: number;
  added: number;
  index: ScrapeIndex;
}

/**
 * Merges a run's pages into the previous snapshot and commits the result under its content-derived key,
 * then points the index at it. A run that adds nothing to an existing snapshot commits nothing.
 */
export async function commitSnapshot(store: ArtifactStore, input: CommitSnapshotInput): Promise<CommitSnapshotResult> {
  const { previous, window } = input;
  const outDir = await store.tempDir(SCRAPE_STAGE);
  try {
    const started = performance.now();
    const newRows = await writeNewReviews(input.pageLogs, outDir);
    const previousFiles = previous
      ? { reviews: store.path(previous.key, REVIEWS_FILE), windows: await readWindows(store.dir(previous.key)) }
      : undefined;
    const counts = await writeSnapshot(outDir, previousFiles, window);
    const stop = nextStopAt(window, previous?.stopAtReviewId ?? null, await newestReviewId(outDir));
    const indexFor = (key: string): ScrapeIndex => ({
      appId: window.appId,
      lang: window.lang,
      country: window.country,
      key,
      rows: counts.rows,
      stopAtReviewId: stop,
      lastWindow: window,
      updatedAt: window.finishedAt,
    });
    // Nothing new (caught up, or a retry after this run's own commit): keep the snapshot, record the window.
    if (previous && counts.added === 0) {
      const index = indexFor(previous.key);
      await writeScrapeIndex(store.root, index);
      return { key: previous.key, changed: false, rows: counts.rows, added: 0, index };
    }
    const manifest = await commitScrapeDir(store, outDir, previous?.key, window, newRows, counts, started);
    const index = indexFor(manifest.key);
    await writeScrapeIndex(store.root, index);
    return { key: manifest.key, changed: true, rows: counts.rows, added: counts.added, index };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

async function commitScrapeDir(
  store: ArtifactStore,
  outDir: string,
  previousKey: string | undefined,
  window: ScrapeWindow,
  newRows: number,
  counts: SnapshotCounts,
  started: number,
): Promise<Manifest> {
  const params: ScrapeParams = {
    kind: 'snapshot',
    appId: window.appId,
    lang: window.lang,
    country: window.country,
    sort: window.sort,
    filterScore: window.filterScore,
    sha256: (await sha256File(join(outDir, REVIEWS_FILE))).sha256,
    newReviews: { sha256: (await sha256File(join(outDir, NEW_REVIEWS_FILE))).sha256, rows: newRows },
    window,
  };
  const inputKeys = previousKey ? [previousKey] : [];
  const key = artifactKey({ stage: SCRAPE_STAGE, stageVersion: SCRAPE_STAGE_VERSION, params, inputKeys });
  return store.commit(outDir, {
    key,
    stage: SCRAPE_STAGE,
    stageVersion: SCRAPE_STAGE_VERSION,
    params,
    inputs: previousKey ? { previous: previousKey } : {},
    inputKeys,
    codeVersion: codeVersion(),
    rowCounts: { rows: counts.rows, new: newRows, added: counts.added },
    summary: {
      producedBy:
        `google-play-scraper reviews (paginate, sort ${window.sort}) fetched by ulasan scrapeApp from ` +
        `${window.baseUrl ?? 'https://play.google.com'}; not recomputable from the internet: verify re-merges ` +
        `${NEW_REVIEWS_FILE} into the previous snapshot`,
      appId: window.appId,
      lang: window.lang,
      country: window.country,
      rows: counts.rows,
      added: counts.added,
      window,
    },
    timings: { computeMs: Math.round(performance.now() - started) },
    createdAt: new Date().toISOString(),
  });
}

/** Recomputes a snapshot from its recorded new reviews and its previous snapshot (for `ulasan verify`). */
async function recomputeSnapshot(
  params: Extract<ScrapeParams, { kind: 'snapshot' }>,
  previous: StageInputArtifact | undefined,
  ctx: { outDir: string; key: string; store: ArtifactStore },
): Promise<SnapshotCounts> {
  const recorded = ctx.store.path(ctx.key, NEW_REVIEWS_FILE);
  const { sha256 } = await sha256File(recorded).catch((err: unknown) => {
    throw new UlasanError('NotFound', `Scrape ${ctx.key} has no readable ${NEW_REVIEWS_FILE} to re-merge.`, {
      stage: SCRAPE_STAGE,
      key: ctx.key,
      file: recorded,
    }, { cause: err });
  });
  if (sha256 !== params.newReviews.sha256) {
    throw new UlasanError(
      'CorruptArtifact',
      `${recorded} does not match the hash its scrape key was made from (${params.newReviews.sha256.slice(0, 12)}…); ` +
        'the recorded pages were altered, so the snapshot cannot be re-derived.',
      { stage: SCRAPE_STAGE, key: ctx.key, file: recorded },
    );
  }
  await copyFile(recorded, join(ctx.outDir, NEW_REVIEWS_FILE));
  const previousFiles = previous
    ? { reviews: previous.file(REVIEWS_FILE), windows: await readWindows(previous.dir) }
    : undefined;
  return writeSnapshot(ctx.outDir, previousFiles, params.window);
}

/** Several apps' snapshots as one table (ordered by app, newest first) and their windows. */
async function writeCombined(inputs: StageInputArtifact[], outDir: string): Promise<number> {
  const files = inputs.map((input) => quoteLiteral(input.file(REVIEWS_FILE))).join(', ');
  const rows = await withConnection(async (connection) => {
    const select = `SELECT ${COLUMN_LIST} FROM read_parquet([${files}])`;
    await copyToParquet(connection, `${select} ORDER BY app, date DESC, review_id`, join(outDir, REVIEWS_FILE));
    const [row] = await queryRows(connection, `SELECT count(*)::INTEGER AS n FROM read_parquet([${files}])`);
    return Number(row?.n ?? 0);
  });
  const windows: ScrapeWindow[] = [];
  for (const input of inputs) windows.push(...(await readWindows(input.dir)));
  await writeFile(join(outDir, WINDOWS_FILE), JSON.stringify(windows, null, 2) + '\n');
  return rows;
}

/**
 * The `scrape` stage for `ulasan verify` and for combining apps. Snapshots are committed by
 * `commitSnapshot` (their key is known only after scraping) with an optional `previous` input;
 * combined artifacts run through `runStage` with one input per app (see `combinedStage`).
 */
export const scrapeStage: StageDefinition<ScrapeParams> = {
  stage: SCRAPE_STAGE,
  version: SCRAPE_STAGE_VERSION,
  inputNames: ['previous'],
  async compute({ params, inputs, outDir, key, store }): Promise<ComputeResult> {
    if (params.kind === 'combined') {
      const rows = await writeCombined(params.apps.map((app) => inputArtifact(inputs, app, key)), outDir);
      return { rowCounts: { rows }, summary: { apps: params.apps, rows } };
    }
    const counts = await recomputeSnapshot(params, inputs.previous, { outDir, key, store });
    return { rowCounts: { rows: counts.rows, new: params.newReviews.rows, added: counts.added }, summary: { ...counts } };
  },
};

function inputArtifact(inputs: Record<string, StageInputArtifact>, name: string, key: string): StageInputArtifact {
  const input = inputs[name];
  if (!input) throw new UlasanError('Internal', `Combined scrape ${key} has no input for app ${name}.`, { stage: SCRAPE_STAGE, key });
  return input;
}

/** The scrape stage with one named input per app, for `runStage` over a combined run. */
export function combinedStage(apps: readonly string[]): StageDefinition<ScrapeParams> {
  return { ...scrapeStage, inputNames: [...apps] };
}
