/**
 * Split stage: adds a `split` column (train/val/test) to the labelled table. Strategies: `ratios`
 * (stratified by label, seeded), `by-date` (train on an earlier range, test on a later one),
 * `per-class-test-counts` (exact test rows per class) and `from-file` (the peer's row indices, so
 * results compare on identical rows). The random strategies keep identical texts in one split.
 * Rows a strategy leaves out go to `dropped.parquet` with the reason. Everything fitted later
 * (vocabulary, samplers, models) reads only the train rows.
 */
import { copyFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { copyToParquet, parquet, queryRows, tableFromLists, withConnection } from '../../data/duckdb';
import type { ArtifactStore } from '../../data/store/artifact-store';
import { runStage, type StageInputArtifact, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, Provenance, StageOutcome } from '../../data/store/types';
import { LABELS_FILE, readClassNames } from '../annotate/annotate';
import { describeWindow, type DateWindow } from '../annotate/windows';
import type { ActivityDeps } from '../context';
import { badInput } from '../../core/errors';
import { assignByDate, type DatedRow } from './by-date';
import { assignFromFile, readSplitFile, type SourceRow } from './from-file';
import { assignPerClassTestCounts } from './per-class';
import { checkSupport, type SupportCheck } from './support';
import { dateRangesOf, type SplitSpec, type SplitStrategy } from './split-spec';
import { assignSplits, SPLIT_NAMES, straddlingTexts, type SplitName, type SplitRatios } from './stratified';

export { SPLIT_NAMES, type SplitName } from './stratified';

export interface SplitParams {
  /** How rows are assigned. @default 'ratios' */
  strategy?: SplitStrategy;
  /**
   * `ratios`: the share of all rows in each split (summing to 1). The other strategies read only
   * `val`, the share of the non-test rows held out for validation (train is `1 - val`, test 0).
   */
  ratios: SplitRatios;
  /** Seed of every random choice. */
  seed: number;
  /** `by-date`: the ranges trained and tested on; train ends before test starts. */
  dates?: { train: DateWindow; test: DateWindow };
  /** `per-class-test-counts`: test rows per class name, or one number for every class. */
  testCounts?: number | Record<string, number>;
  /** `from-file`: absolute path of the split file. */
  file?: string;
}

export interface SplitInput {
  table: ArtifactRef;
  params: SplitParams;
  /** Minimum rows per class in the scored splits, checked on every run, cache hit or not (not part of the key). */
  support?: SupportCheck;
}

/**
 * The stage's key material: the strategy spelled out and, for `from-file`, the file's content hash
 * instead of its path (the path is the manifest's provenance: the same split file elsewhere is the
 * same split).
 */
export type SplitStageParams = Omit<SplitParams, 'file'> & { strategy: SplitStrategy; fileSha256?: string };

export const SPLIT_FILE = 'split.parquet';
export const DROPPED_FILE = 'dropped.parquet';
/** `from-file`: listed rows missing from the labelled table, with the stage that removed them. */
export const ABSENT_FILE = 'absent.parquet';

/** The split params of a validated `split:` section. */
export function splitParamsFromSpec(split: SplitSpec, seed: number): SplitParams {
  const carve = (val: number): SplitRatios => ({ train: 1 - val, val, test: 0 });
  switch (split.strategy) {
    case 'ratios': {
      if (split.valOfRest !== undefined) {
        const val = (1 - split.test) * split.valOfRest;
        return { strategy: 'ratios', ratios: { train: 1 - split.test - val, val, test: split.test }, seed };
      }
      return { strategy: 'ratios', ratios: { train: split.train ?? 1 - split.test, val: split.val ?? 0, test: split.test }, seed };
    }
    case 'by-date':
      return { strategy: 'by-date', ratios: carve(split.val), seed, dates: dateRangesOf(split) };
    case 'per-class-test-counts':
      return { strategy: 'per-class-test-counts', ratios: carve(split.val), seed, testCounts: split.test };
    case 'from-file':
      return { strategy: 'from-file', ratios: carve(split.val), seed, file: split.file };
  }
}

/** Fills the strategy in and hashes a split file, so editing the file changes the key; its path becomes provenance. */
export async function splitStageParams(params: SplitParams): Promise<{ params: SplitStageParams; provenance?: Provenance }> {
  const { file, ...rest } = params;
  const strategy = params.strategy ?? 'ratios';
  if (strategy !== 'from-file') return { params: { ...rest, strategy } };
  const path = requireField(file, 'file');
  return { params: { ...rest, strategy, fileSha256: (await readSplitFile(path)).sha256 }, provenance: { path, host: hostname() } };
}

function requireField<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw badInput(`the split params lack '${field}', which this strategy needs`, { stage: 'split', field: `split.${field}` });
  return value;
}

interface LabelledRow extends DatedRow, SourceRow {
  reviewId: string;
}

/** What a strategy decided: each row's split (or why none), and facts for the manifest. */
interface Decision {
  splits: (SplitName | null)[];
  reasons: (string | null)[];
  description: string;
  mergedGroups: number;
  rowsInMergedGroups: number;
  facts: Record<string, unknown>;
  absent?: { sourceRow: number; listedIn: SplitName }[];
}

const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;
const noReasons = (n: number): null[] => new Array<null>(n).fill(null);

function byRatios(rows: LabelledRow[], params: SplitStageParams): Decision {
  const r = params.ratios;
  const a = assignSplits(rows, r, params.seed);
  const description = `stratified ratios train ${pct(r.train)} / val ${pct(r.val)} / test ${pct(r.test)}, seed ${params.seed}; identical texts kept in one split`;
  return { ...a, reasons: noReasons(rows.length), description, facts: {} };
}

function byDate(rows: LabelledRow[], params: SplitStageParams): Decision {
  const dates = requireField(params.dates, 'dates');
  const a = assignByDate(rows, dates, params.ratios.val, params.seed);
  const description =
    `by date: train ${describeWindow(dates.train)}, test ${describeWindow(dates.test)}, val ${pct(params.ratios.val)} of train (seed ${params.seed}); ` +
    'texts also in the test range left out of training';
  const ranges = { train: describeWindow(dates.train), test: describeWindow(dates.test) };
  return { ...a, description, facts: { ranges, days: a.days, trainRowsAlsoInTest: a.trainRowsAlsoInTest } };
}

function perClass(rows: LabelledRow[], params: SplitStageParams, classes: readonly string[]): Decision {
  const wanted = requireField(params.testCounts, 'testCounts');
  if (typeof wanted === 'object') {
    const unknown = Object.keys(wanted).filter((c) => !classes.includes(c));
    const missing = classes.filter((c) => wanted[c] === undefined);
    if (unknown.length > 0 || missing.length > 0) {
      const problem = unknown.length > 0 ? `unknown: ${unknown.join(', ')}` : `missing: ${missing.join(', ')}`;
      throw badInput(`split.test must give a count for each class (${classes.join(', ')}); ${problem}`, { stage: 'split', field: 'split.test' });
    }
  }
  const counts = classes.map((c) => (typeof wanted === 'number' ? wanted : wanted[c]!));
  const a = assignPerClassTestCounts(rows, counts, classes, params.ratios.val, params.seed);
  const testCounts = Object.fromEntries(classes.map((c, i) => [c, counts[i]!]));
  const description =
    `fixed test rows per class ${JSON.stringify(testCounts)}, val ${pct(params.ratios.val)} of the rest, seed ${params.seed}; ` +
    'identical texts kept in one split';
  return { ...a, reasons: noReasons(rows.length), description, facts: { testCounts, rowsInMixedGroups: a.rowsInMixedGroups } };
}

async function fromFile(rows: LabelledRow[], params: SplitStageParams, provenance: Provenance | undefined): Promise<Decision> {
  const file = await readSplitFile(requireField(provenance?.path, 'file'));
  if (params.fileSha256 !== undefined && file.sha256 !== params.fileSha256) {
    const hashes = `sha256 ${params.fileSha256.slice(0, 12)}…, now ${file.sha256.slice(0, 12)}…`;
    throw badInput(`split file ${file.path} changed since this split was keyed (${hashes}); re-run to key the new content`, {
      stage: 'split',
      file: file.path,
    });
  }
  const a = assignFromFile(rows, file, params.ratios.val, params.seed);
  const carved = params.ratios.val > 0 && !file.hasVal ? `, val ${pct(params.ratios.val)} carved from its train rows (seed ${params.seed})` : '';
  return {
    splits: a.splits,
    reasons: a.reasons,
    description: `row indices from the split file (sha256 ${file.sha256.slice(0, 12)}…)${carved}; duplicates are not regrouped`,
    mergedGroups: 0,
    rowsInMergedGroups: 0,
    facts: { sha256: file.sha256, listed: file.listed, notListed: a.notListed },
    absent: a.absent,
  };
}

async function decide(rows: LabelledRow[], params: SplitStageParams, classes: readonly string[], provenance?: Provenance): Promise<Decision> {
  switch (params.strategy) {
    case 'ratios':
      return byRatios(rows, params);
    case 'by-date':
      return byDate(rows, params);
    case 'per-class-test-counts':
      return perClass(rows, params, classes);
    case 'from-file':
      return fromFile(rows, params, provenance);
    default:
      throw badInput(`unknown split strategy ${JSON.stringify(params.strategy)}`, { stage: 'split', field: 'split.strategy' });
  }
}

async function readLabelled(connection: DuckDBConnection, path: string): Promise<LabelledRow[]> {
  const rows = await queryRows(
    connection,
    `SELECT source_row, review_id, text, label, CAST(TRY_CAST(date AS DATE) AS VARCHAR) AS day FROM ${parquet(path)} ORDER BY source_row`,
  );
  return rows.map((row) => ({
    sourceRow: Number(row.source_row),
    reviewId: String(row.review_id),
    text: String(row.text ?? ''),
    label: Number(row.label),
    day: row.day === null || row.day === undefined ? null : String(row.day),
  }));
}

/**
 * Why listed rows are missing from the labelled table, read from the lineage: annotate's dropped
 * rows, then clean's and import's quarantine. Files an older artifact lacks are skipped.
 */
async function explainAbsent(
  connection: DuckDBConnection,
  store: ArtifactStore,
  labelled: StageInputArtifact,
  absent: { sourceRow: number; listedIn: SplitName }[],
): Promise<void> {
  await tableFromLists(connection, 'absent', {
    source_row: ['INTEGER', absent.map((a) => a.sourceRow)],
    listed_in: ['VARCHAR', absent.map((a) => a.listedIn)],
  });
  const sources = await lineageReasonFiles(store, labelled);
  const joins = sources.map(
    (s, i) => `LEFT JOIN (SELECT source_row, any_value(reason) AS reason FROM ${parquet(s.path)} GROUP BY 1) r${i} USING (source_row)`,
  );
  const whens = sources.map((s, i) => `WHEN r${i}.reason IS NOT NULL THEN '${s.stage}'`).join(' ');
  const reasons = [...sources.map((_, i) => `r${i}.reason`), `'not a row of the imported source'`].join(', ');
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE absent_explained AS
     SELECT source_row, listed_in, ${whens === '' ? `'none'` : `CASE ${whens} ELSE 'none' END`} AS removed_by,
            coalesce(${reasons}) AS reason
     FROM absent ${joins.join(' ')}`,
  );
}

async function lineageReasonFiles(store: ArtifactStore, labelled: StageInputArtifact): Promise<{ stage: string; path: string }[]> {
  const files: { stage: string; path: string }[] = [];
  const add = async (key: string | undefined, stage: string, file: string): Promise<string | undefined> => {
    if (key === undefined) return undefined;
    const manifest = await store.manifest(key).catch(() => undefined);
    if (manifest?.stage !== stage) return undefined;
    if (manifest.files[file]) files.push({ stage, path: store.path(key, file) });
    return manifest.inputs.table;
  };
  const clean = await add(labelled.key, 'annotate', DROPPED_FILE);
  const imported = await add(clean, 'clean', 'quarantine.parquet');
  await add(imported, 'import', 'quarantine.parquet');
  return files;
}

async function absentSummary(connection: DuckDBConnection) {
  const count = (sql: string) => queryRows(connection, sql);
  const byStage = await count(`SELECT removed_by AS k, count(*)::INTEGER AS n FROM absent_explained GROUP BY 1 ORDER BY 1`);
  const byReason = await count(`SELECT reason AS k, count(*)::INTEGER AS n FROM absent_explained GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20`);
  const byListed = await count(`SELECT listed_in AS k, count(*)::INTEGER AS n FROM absent_explained GROUP BY 1 ORDER BY 1`);
  const examples = await count(`SELECT source_row, listed_in, removed_by, reason FROM absent_explained ORDER BY source_row LIMIT 5`);
  const asRecord = (rows: Record<string, unknown>[]) => Object.fromEntries(rows.map((r) => [String(r.k), Number(r.n)]));
  const total = byStage.reduce((s, r) => s + Number(r.n), 0);
  return { count: total, listedIn: asRecord(byListed), removedBy: asRecord(byStage), byReason: asRecord(byReason), examples };
}

/** Rows per split and class index, as the reports read them. */
function countsPerSplit(rows: readonly LabelledRow[], splits: readonly (SplitName | null)[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const name of SPLIT_NAMES) {
    const counts = new Map<number, number>();
    rows.forEach((row, i) => {
      if (splits[i] === name) counts.set(row.label, (counts.get(row.label) ?? 0) + 1);
    });
    if (counts.size > 0) out[name] = Object.fromEntries([...counts.entries()].sort((a, b) => a[0] - b[0]).map(([k, n]) => [String(k), n]));
  }
  return out;
}

async function writeTables(connection: DuckDBConnection, source: string, rows: readonly LabelledRow[], decision: Decision, outDir: string) {
  await tableFromLists(connection, 'assignment', {
    source_row: ['INTEGER', rows.map((row) => row.sourceRow)],
    split: ['VARCHAR', decision.splits.map((s) => s ?? '')],
    reason: ['VARCHAR', decision.reasons.map((r) => r ?? '')],
  });
  await copyToParquet(
    connection,
    `SELECT t.*, a.split FROM ${source} t JOIN assignment a USING (source_row) WHERE a.split <> '' ORDER BY t.source_row`,
    join(outDir, SPLIT_FILE),
  );
  await copyToParquet(
    connection,
    `SELECT t.source_row, t.review_id, t.label, a.reason FROM ${source} t JOIN assignment a USING (source_row)
     WHERE a.split = '' ORDER BY t.source_row`,
    join(outDir, DROPPED_FILE),
  );
}

function droppedByReason(decision: Decision): Record<string, number> {
  const out: Record<string, number> = {};
  decision.reasons.forEach((r, i) => {
    if (decision.splits[i] === null && r !== null) out[r] = (out[r] ?? 0) + 1;
  });
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

export const splitStage: StageDefinition<SplitStageParams> = {
  stage: 'split',
  // 3: a from-file split is keyed by the file's content, not its path; rows it leaves out say
  //    "not listed in the split file" (the bytes no longer depend on the file's name).
  version: 3,
  inputNames: ['table'],
  async compute({ params, inputs, outDir, store, provenance }) {
    const table = inputs.table!;
    const classes = await readClassNames(table.file(LABELS_FILE));
    return withConnection(async (connection) => {
      const source = parquet(table.file('labelled.parquet'));
      const rows = await readLabelled(connection, table.file('labelled.parquet'));
      const decision = await decide(rows, params, classes, provenance);
      await writeTables(connection, source, rows, decision, outDir);
      await copyFile(table.file(LABELS_FILE), join(outDir, LABELS_FILE));
      const facts: Record<string, unknown> = { ...decision.facts };
      if (decision.absent) {
        await explainAbsent(connection, store, table, decision.absent);
        await copyToParquet(connection, `SELECT * FROM absent_explained ORDER BY source_row`, join(outDir, ABSENT_FILE));
        facts.absent = await absentSummary(connection);
      }
      const perSplit = countsPerSplit(rows, decision.splits);
      const total = (split: SplitName): number => Object.values(perSplit[split] ?? {}).reduce((a, b) => a + b, 0);
      const dropped = droppedByReason(decision);
      return {
        rowCounts: {
          train: total('train'),
          val: total('val'),
          test: total('test'),
          dropped: Object.values(dropped).reduce((a, b) => a + b, 0),
        },
        summary: {
          strategy: params.strategy,
          description: decision.description,
          perSplitLabelCounts: perSplit,
          mergedGroups: decision.mergedGroups,
          rowsInMergedGroups: decision.rowsInMergedGroups,
          straddlingTexts: straddlingTexts(rows, decision.splits),
          droppedByReason: dropped,
          ...facts,
        },
      };
    });
  },
};

export function createSplitActivity(deps: ActivityDeps) {
  return async function split(input: SplitInput): Promise<StageOutcome> {
    const { params, provenance } = await splitStageParams(input.params);
    const outcome = await runStage(deps.store, splitStage, params, { table: input.table }, { ...deps, ...(provenance ? { provenance } : {}) });
    if (!input.support) return outcome;
    const classes = await readClassNames(deps.store.path(outcome.ref.key, LABELS_FILE));
    const counts = (outcome.summary?.perSplitLabelCounts ?? {}) as Record<string, Record<string, number>>;
    const warnings = checkSupport(counts, classes, input.support, outcome.ref.key);
    return warnings.length > 0 ? { ...outcome, warnings } : outcome;
  };
}

