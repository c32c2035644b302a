/**
 * Annotate stage: labels cleaned reviews from their star rating with a named, versioned rule
 * (`rules.ts`), once per date window (`windows.ts`), applies the minimum class size per table, and
 * measures every labelled table (`label-stats.ts`). The table the pipeline trains on is
 * `labelled.parquet`: the `trainWindow`'s table, or all rows. Rows it leaves out go to
 * `dropped.parquet` with the reason.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sha256Hex } from '../../data/canonical';
import { copyToParquet, parquet, queryRows, quoteLiteral, withConnection } from '../../data/duckdb';
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';
import { badInput } from '../../core/errors';
import {
  createLabelStatsAccumulator,
  loadPolarityLexicon,
  NEGATIVE_LEXICON_PATH,
  POSITIVE_LEXICON_PATH,
  type LabelStats,
  type PolarityLexicon,
} from './label-stats';
import { ALL_ROWS, ruleFromParams, ruleParams, type LabelRuleParams, type LabelSpec } from './label-spec';
import { labelRuleSqlCase, RATINGS, resolveLabelRule, type LabelRule } from './rules';
import {
  applyMinClassSize,
  describeWindow,
  parseDateWindows,
  remapSqlCase,
  windowSqlPredicate,
  type ClassSizeAction,
  type DateWindow,
  type MinClassSize,
} from './windows';

export interface AnnotateParams {
  /** The rule with every star's class index: `ruleParams(resolveLabelRule(spec))`. */
  rule: LabelRuleParams;
  /** Date windows; each gives `labelled-<name>.parquet` and its own statistics. @default [] */
  windows?: DateWindow[];
  /** The window whose table is `labelled.parquet` (what the pipeline trains on); null: all rows. @default null */
  trainWindow?: string | null;
  /** Minimum class size, applied to each table separately. @default off (0, drop) */
  minClassSize?: MinClassSize;
}

export interface AnnotateInput {
  table: ArtifactRef;
  params: AnnotateParams;
}

/** The stage's key material: every field filled in, plus the content hash of the polarity lexicons. */
export interface AnnotateStageParams extends Required<AnnotateParams> {
  lexiconSha256: string;
}

/** The file every later stage reads the class names from. */
export const LABELS_FILE = 'labels.json';

/** Class names, in label-index order, of an artifact that carries `labels.json` (given its path). */
export async function readClassNames(labelsPath: string): Promise<string[]> {
  return (JSON.parse(await readFile(labelsPath, 'utf8')) as { classes: string[] }).classes;
}
/** Label statistics of every table the stage wrote. */
export const LABEL_STATS_FILE = 'label-stats.json';
export const DROPPED_FILE = 'dropped.parquet';
/** `labelled.parquet` (the table trained on) or a window's `labelled-<name>.parquet`. */
export const labelledFile = (window?: string): string => (window === undefined ? 'labelled.parquet' : `labelled-${window}.parquet`);

const NO_MIN_CLASS_SIZE: MinClassSize = { minClassSize: 0, policy: 'drop', mergeInto: {} };

/** The annotate params of a validated `label:` section. */
export function annotateParamsFromSpec(label: LabelSpec): AnnotateParams {
  return {
    rule: ruleParams(resolveLabelRule(label.rule)),
    windows: label.windows === undefined ? [] : parseDateWindows(label.windows),
    trainWindow: label.trainWindow ?? null,
    minClassSize: { minClassSize: label.minClassSize, policy: label.smallClasses, mergeInto: label.mergeInto },
  };
}

/** Hash of the polarity lexicons, so editing one changes the key (the statistics depend on it). */
export async function polarityLexiconSha256(): Promise<string> {
  const [positive, negative] = await Promise.all([readFile(POSITIVE_LEXICON_PATH), readFile(NEGATIVE_LEXICON_PATH)]);
  return sha256Hex(`${sha256Hex(positive)}\n${sha256Hex(negative)}`);
}

/** Fills defaults, so a plan that leaves them out and one that spells them out share a key. */
export async function annotateStageParams(params: AnnotateParams): Promise<AnnotateStageParams> {
  return {
    rule: params.rule,
    windows: params.windows ?? [],
    trainWindow: params.trainWindow ?? null,
    minClassSize: keyedMinClassSize(params.rule, params.minClassSize),
    lexiconSha256: await polarityLexiconSha256(),
  };
}

/**
 * The minimum class size as keyed: when it is off (0) the policy and merge targets change nothing, so
 * they take their defaults and flipping them changes no key. They are still checked against the rule's
 * classes (applying a size of 0 to empty counts drops nothing but validates `mergeInto`).
 */
function keyedMinClassSize(rule: LabelRuleParams, minClassSize: MinClassSize | undefined): MinClassSize {
  if (minClassSize === undefined) return NO_MIN_CLASS_SIZE;
  if (minClassSize.minClassSize > 0) return minClassSize;
  applyMinClassSize(rule.classes, rule.classes.map(() => 0), { ...minClassSize, minClassSize: 0 });
  return NO_MIN_CLASS_SIZE;
}

/** One labelled table: a window's, or all rows (`window` null). */
interface TablePlan {
  name: string;
  window: DateWindow | null;
  file: string;
}

/** A written table: its classes after the minimum class size, and its statistics. */
interface TableResult extends TablePlan {
  classes: readonly string[];
  remap: readonly (number | null)[];
  actions: readonly ClassSizeAction[];
  stats: LabelStats;
}

function tablePlans(params: AnnotateStageParams): { tables: TablePlan[]; train: TablePlan } {
  const names = params.windows.map((w) => w.name);
  if (names.includes(ALL_ROWS)) {
    throw badInput(`window name '${ALL_ROWS}' is reserved for the table of all rows`, { stage: 'annotate', field: 'windows' });
  }
  if (params.trainWindow !== null && !names.includes(params.trainWindow)) {
    throw badInput(`trainWindow '${params.trainWindow}' is not one of the windows (${names.join(', ') || 'none'})`, {
      stage: 'annotate',
      field: 'trainWindow',
    });
  }
  const tables: TablePlan[] = params.windows.map((w) => ({ name: w.name, window: w, file: labelledFile(w.name) }));
  if (params.trainWindow === null) tables.push({ name: ALL_ROWS, window: null, file: labelledFile() });
  const train = tables.find((t) => t.name === (params.trainWindow ?? ALL_ROWS))!;
  return { tables, train };
}

const inTable = (table: TablePlan): string => (table.window === null ? 'TRUE' : windowSqlPredicate(table.window, 'date'));

/** Class counts of a table under the rule, then the minimum class size applied to them. */
async function resolveClasses(connection: DuckDBConnection, rule: LabelRule, table: TablePlan, policy: MinClassSize) {
  const rows = await queryRows(
    connection,
    `SELECT rule_label, count(*)::INTEGER AS n FROM base WHERE rule_label IS NOT NULL AND ${inTable(table)} GROUP BY 1`,
  );
  const counts = rule.classes.map((_, i) => Number(rows.find((r) => Number(r.rule_label) === i)?.n ?? 0));
  return applyMinClassSize(rule.classes, counts, policy, table.name);
}

async function writeTable(
  connection: DuckDBConnection,
  rule: LabelRule,
  table: TablePlan,
  policy: MinClassSize,
  outDir: string,
  lexicon: PolarityLexicon,
): Promise<TableResult> {
  const resolution = await resolveClasses(connection, rule, table, policy);
  const label = `(${remapSqlCase(resolution.remap, 'rule_label')})::INTEGER`;
  const path = join(outDir, table.file);
  await copyToParquet(
    connection,
    `SELECT * EXCLUDE (rule_label), ${label} AS label FROM base
     WHERE rule_label IS NOT NULL AND ${inTable(table)} AND ${label} IS NOT NULL ORDER BY source_row`,
    path,
  );
  const polarity = resolution.classes.map((c) => rule.polarity[rule.classes.indexOf(c)] ?? 'neutral');
  const stats = createLabelStatsAccumulator({ classes: resolution.classes, polarity, lexicon });
  const result = await connection.stream(`SELECT text, label FROM ${parquet(path)} ORDER BY source_row`);
  for await (const chunk of result.yieldRowsJs()) {
    for (const [text, value] of chunk) stats.add(String(text ?? ''), Number(value));
  }
  return { ...table, classes: resolution.classes, remap: resolution.remap, actions: resolution.actions, stats: stats.result() };
}

/** Why a row of the clean table is not in `labelled.parquet`, as a SQL expression (NULL: it is). */
function droppedReasonSql(rule: LabelRule, train: TableResult, policy: MinClassSize): string {
  const unlabelled = RATINGS.filter((r) => rule.indexOfRating[r] === null)
    .map((r) => `WHEN TRY_CAST(rating AS DOUBLE) = ${r} THEN ${quoteLiteral(`rating ${r} has no class under rule ${rule.id}`)}`)
    .join(' ');
  const where = train.window ? `train window ${train.name} (${describeWindow(train.window)})` : '';
  const window = train.window
    ? `WHEN TRY_CAST(date AS DATE) IS NULL THEN ${quoteLiteral(`no date, so outside ${where}`)}
       WHEN NOT (${inTable(train)}) THEN ${quoteLiteral(`date outside ${where}`)}`
    : '';
  const small = train.remap
    .map((to, from) => (to === null ? `WHEN rule_label = ${from} THEN ${quoteLiteral(smallClassReason(rule, from, train, policy))}` : ''))
    .join(' ');
  const noClass = unlabelled === '' ? `'rating is not 1-5'` : `CASE ${unlabelled} ELSE 'rating is not 1-5' END`;
  return `CASE WHEN rule_label IS NULL THEN ${noClass} ${window} ${small} END`;
}

function smallClassReason(rule: LabelRule, index: number, train: TableResult, policy: MinClassSize): string {
  const name = rule.classes[index] ?? '';
  const count = train.actions.find((a) => a.class === name)?.count ?? 0;
  return `class ${name} dropped: ${count} rows in table ${train.name}, fewer than minClassSize ${policy.minClassSize}`;
}

/** Manifest-sized statistics (the examples stay in label-stats.json). */
function compactStats(t: TableResult) {
  const { stats } = t;
  const side = (s: LabelStats['noise']['positiveWithNegativeWords']) => ({ of: s.of, count: s.count, share: s.share });
  return {
    range: t.window ? describeWindow(t.window) : '..',
    rows: stats.rows,
    classCounts: stats.classCounts,
    imbalanceRatio: stats.imbalanceRatio,
    duplicateTextShare: stats.duplicateTextShare,
    conflictingTexts: stats.conflictingTexts,
    noise: {
      positiveWithNegativeWords: side(stats.noise.positiveWithNegativeWords),
      negativeWithPositiveWords: side(stats.noise.negativeWithPositiveWords),
    },
    classSizeActions: t.actions,
  };
}

async function writeDropped(connection: DuckDBConnection, rule: LabelRule, train: TableResult, policy: MinClassSize, outDir: string) {
  await connection.run(`CREATE OR REPLACE TEMP TABLE judged AS SELECT *, ${droppedReasonSql(rule, train, policy)} AS reason FROM base`);
  await copyToParquet(
    connection,
    `SELECT source_row, review_id, rating, date, reason FROM judged WHERE reason IS NOT NULL ORDER BY source_row`,
    join(outDir, DROPPED_FILE),
  );
  const rows = await queryRows(connection, `SELECT reason, count(*)::INTEGER AS n FROM judged WHERE reason IS NOT NULL GROUP BY 1 ORDER BY 1`);
  return Object.fromEntries(rows.map((r) => [String(r.reason), Number(r.n)]));
}

async function writeJsonFiles(outDir: string, rule: LabelRule, train: TableResult, tables: TableResult[], policy: MinClassSize) {
  const labels = { rule: rule.name, version: rule.version, id: rule.id, classes: train.classes, window: train.window ? train.name : null };
  await writeFile(join(outDir, LABELS_FILE), JSON.stringify(labels) + '\n');
  const stats = {
    rule: rule.id,
    trainTable: train.name,
    minClassSize: policy,
    tables: Object.fromEntries(
      tables.map((t) => [t.name, { file: t.file, window: t.window, classes: t.classes, classSizeActions: t.actions, stats: t.stats }]),
    ),
  };
  await writeFile(join(outDir, LABEL_STATS_FILE), JSON.stringify(stats, null, 2) + '\n');
}

export const annotateStage: StageDefinition<AnnotateStageParams> = {
  stage: 'annotate',
  // 3: with minClassSize 0 the policy and merge targets take their defaults (keyedMinClassSize).
  version: 3,
  inputNames: ['table'],
  async compute({ params, inputs, outDir, heartbeat }) {
    const rule = ruleFromParams(params.rule);
    const { tables, train: trainPlan } = tablePlans(params);
    if ((await polarityLexiconSha256()) !== params.lexiconSha256) {
      const message = 'the polarity lexicons (data/lexicons/polarity-id-*.txt) changed since these params were made; re-run to get a new key';
      throw badInput(message, { stage: 'annotate', field: 'lexiconSha256' });
    }
    const lexicon = await loadPolarityLexicon();
    return withConnection(async (connection) => {
      await connection.run(
        `CREATE OR REPLACE TEMP TABLE base AS
         SELECT *, (${labelRuleSqlCase(rule, 'rating')})::INTEGER AS rule_label FROM ${parquet(inputs.table!.file('clean.parquet'))}`,
      );
      const results: TableResult[] = [];
      for (const table of tables) {
        results.push(await writeTable(connection, rule, table, params.minClassSize, outDir, lexicon));
        heartbeat({ table: table.name });
      }
      const train = results.find((t) => t.name === trainPlan.name)!;
      if (train.file !== labelledFile()) await copyFile(join(outDir, train.file), join(outDir, labelledFile()));
      const droppedByReason = await writeDropped(connection, rule, train, params.minClassSize, outDir);
      await writeJsonFiles(outDir, rule, train, results, params.minClassSize);
      const dropped = Object.values(droppedByReason).reduce((a, b) => a + b, 0);
      return {
        rowCounts: {
          rows: train.stats.rows,
          dropped,
          ...Object.fromEntries(results.filter((t) => t.window).map((t) => [`rows.${t.name}`, t.stats.rows])),
        },
        summary: {
          rule: rule.id,
          ruleName: rule.name,
          ruleVersion: rule.version,
          classes: train.classes,
          classCounts: train.stats.classCounts,
          trainTable: train.name,
          minClassSize: params.minClassSize,
          classSizeActions: train.actions,
          droppedByReason,
          labelStats: Object.fromEntries(results.map((t) => [t.name, compactStats(t)])),
        },
      };
    });
  },
};

export function createAnnotateActivity(deps: ActivityDeps) {
  return async function annotate(input: AnnotateInput): Promise<StageOutcome> {
    return runStage(deps.store, annotateStage, await annotateStageParams(input.params), { table: input.table }, deps);
  };
}
