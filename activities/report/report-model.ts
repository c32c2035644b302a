/**
 * What a report shows, gathered from the evaluation artifact and its lineage: the headline metrics,
 * the data at each stage, class counts before and after each step, learning curves, the lineage of
 * every number, and (when a grid or a leaky comparison is given) those too. Rendering reads only this
 * model, so HTML, Markdown and JSON always agree. No clock readings: the same artifacts give the same model.
 */
import { readFile } from 'node:fs/promises';
import type { ArtifactStore } from '../../data/store/artifact-store';
import { collectLineage } from '../../data/store/lineage';
import type { Manifest } from '../../data/store/types';
import { METRICS_FILE } from '../evaluate/evaluate';
import type { ClassificationMetrics } from '../evaluate/metrics';
import type { BootstrapResult } from '../evaluate/uncertainty';
import { badInput } from '../../core/errors';

/** The evaluate stage's `metrics.json`. `bootstrap` is absent in documents from evaluate v1. */
export type MetricsDocument = ClassificationMetrics & {
  partition: string;
  model: string;
  features: string;
  bootstrap?: BootstrapResult;
};

/**
 * One trained configuration of a hyperparameter grid, as a grid stage hands it to the report.
 * The report sorts and colours cells by their validation metrics; test metrics exist only for the
 * selected cell (the test split is scored once).
 */
export interface GridCell {
  /** Artifact key of the cell's trained model (its learning curve is drawn when it is in the store). */
  key: string;
  /** The hyperparameters that vary across the grid (model, sampler, lr, ...). */
  params: Record<string, unknown>;
  /** Validation metrics by name, e.g. `{ macroF1: 0.71, accuracy: 0.88 }`. */
  valMetrics: Record<string, number>;
  /**
   * Wall-clock figures (e.g. `{ trainMs, inferenceMsPer1000 }`). They are clock readings: the artifact
   * report leaves them out (its bytes must not depend on the clock) and the per-run report shows them.
   */
  timings?: Record<string, number>;
}

export interface ReportGrid {
  cells: GridCell[];
  /** Key of the cell chosen on validation data (the one the headline test metrics belong to). */
  selectedKey?: string;
  /** The validation metric the selection maximised. @default 'macroF1' */
  selectionMetric?: string;
  /** How cells were compared, the winner, runner-up and each family's gain (activities/grid/standings.ts). */
  standings?: string[];
  /** cv: cells were scored by cross-validation of the training split (their metrics are fold means). */
  crossValidated?: boolean;
}

/** The figures set side by side for honest and leaky evaluations. */
export interface MetricsDigest {
  key: string;
  accuracy: number;
  balancedAccuracy: number;
  macroF1: number;
  weightedF1: number;
  n: number;
  /** Share of test rows identical to a training row (from the features or leaky-split summary), when recorded. */
  testCopiesOfTrain?: number;
}

export interface LeakyComparison {
  honest: MetricsDigest;
  /** The same setup with resampling before the split: reproduced only to show the inflation. */
  leaky: MetricsDigest;
}

/** One artifact in the lineage, as shown to auditors (no timestamps, so the report is clock-free). */
export interface LineageNode {
  stage: string;
  stageVersion: number;
  key: string;
  inputs: Record<string, string>;
  params: unknown;
  rowCounts: Record<string, number>;
  codeVersion: string;
}

/** A stage's row counts and what it did, for the dataset table. */
export interface DatasetStep {
  stage: string;
  key: string;
  rowCounts: Record<string, number>;
  detail: string;
}

/** One bar of a distribution chart. */
export interface CountRow {
  /** Where the count is from, e.g. `labelled`, `train`, `train (resampled)`. */
  group: string;
  label: string;
  count: number;
  /** The artifact whose manifest (or table) holds the count. */
  key: string;
}

/** One point of a learning curve. */
export interface CurvePoint {
  epoch: number;
  series: string;
  value: number;
}

export interface LearningCurve {
  /** Train artifact key. */
  key: string;
  label: string;
  points: CurvePoint[];
}

export interface ReportModel {
  title: string;
  /** The evaluation artifact holding the headline numbers. */
  metricsKey: string;
  synthetic: boolean;
  metrics: MetricsDocument;
  dataset: DatasetStep[];
  /** Earliest and latest review date after cleaning (the data window), when the table has dates. */
  window?: { from: string; to: string; key: string };
  /** Star ratings as imported and after cleaning. */
  ratings: CountRow[];
  /** Class counts after labelling, per split, and in the training split after resampling. */
  classes: CountRow[];
  curves: LearningCurve[];
  lineage: LineageNode[];
  grid?: ReportGrid;
  leaky?: LeakyComparison;
  /**
   * Set when the headline evaluation itself is leaky (its lineage resampled before splitting): every
   * page then says so at the top.
   */
  leakyMode?: { key: string; testCopiesOfTrain?: number };
  /** Warnings about the data the run raised (too few rows per class, allowed): shown with the headline. */
  warnings?: string[];
}

/** What the report stage adds to the lineage: its title and the optional grid and leaky evaluation. */
export interface ReportExtras {
  title: string;
  grid?: ReportGrid;
  /** Evaluation key of the same setup run in leaky mode. */
  leakyEvaluation?: string;
  warnings?: string[];
}

/** Per-rating counts and date range of one review table; supplied by the caller (DuckDB in the stage). */
export interface TableFacts {
  ratings: Record<string, number>;
  from?: string;
  to?: string;
}

export type TableFactsReader = (path: string) => Promise<TableFacts>;

/** The series a learning curve draws; anything else in the history (durations, learning rate) is not a curve. */
export const CURVE_SERIES = ['loss', 'valLoss', 'accuracy', 'valAccuracy', 'valMacroF1'] as const;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A `{name: count}` record from a manifest summary, or undefined when the field is missing or malformed. */
export function countsOf(value: unknown): Record<string, number> | undefined {
  if (!isRecord(value)) return undefined;
  const entries = Object.entries(value).filter((entry): entry is [string, number] => typeof entry[1] === 'number');
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

export const lineageNode = (m: Manifest): LineageNode => ({
  stage: m.stage,
  stageVersion: m.stageVersion,
  key: m.key,
  inputs: m.inputs,
  params: m.params,
  rowCounts: m.rowCounts,
  codeVersion: m.codeVersion,
});

export function digest(key: string, metrics: ClassificationMetrics, chain: readonly Manifest[] = []): MetricsDigest {
  const copies = testCopies(chain);
  return {
    key,
    accuracy: metrics.accuracy,
    balancedAccuracy: metrics.balancedAccuracy,
    macroF1: metrics.macro.f1,
    weightedF1: metrics.weighted.f1,
    n: metrics.n,
    ...(copies === undefined ? {} : { testCopiesOfTrain: copies }),
  };
}

/** The leaky split in a lineage: a manifest whose summary says `leaky: true` (the leaky-split stage). */
const leakyStep = (chain: readonly Manifest[]): Manifest | undefined => chain.find((m) => m.summary.leaky === true);

/** Share of test rows that are copies of training rows, from the leaky split or else the features summary. */
function testCopies(chain: readonly Manifest[]): number | undefined {
  const source = leakyStep(chain) ?? [...chain].reverse().find((m) => typeof m.summary.testCopiesOfTrain === 'number');
  const value = source?.summary.testCopiesOfTrain;
  return typeof value === 'number' ? value : undefined;
}

/** Class name of a count key: split and resample summaries count by class index. */
function className(classes: readonly string[], key: string): string {
  return /^\d+$/.test(key) ? (classes[Number(key)] ?? key) : key;
}

function countRows(group: string, key: string, counts: Record<string, number> | undefined, classes: readonly string[]): CountRow[] {
  if (!counts) return [];
  return Object.keys(counts)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((label) => ({ group, label: className(classes, label), count: counts[label]!, key }));
}

const short = (key: string): string => key.slice(0, 12);

function describeStep(m: Manifest): string {
  const p = isRecord(m.params) ? m.params : {};
  const s = m.summary;
  switch (m.stage) {
    case 'import':
      return p.kind === 'synthetic'
        ? `synthetic reviews: ${String(p.rows)} rows, seed ${String(p.seed)}, app ${String(p.app)}`
        : p.kind === 'scrape'
          ? `scrape ${short(m.inputKeys[0] ?? '?')}`
          : // The content, not the path: the report's bytes must not depend on where the file sat (the path is in lineage).
            `file sha256 ${String(p.sha256).slice(0, 12)}… (${String(p.format)}${p.encoding && p.encoding !== 'utf-8' ? `, ${String(p.encoding)}` : ''})`;
    case 'clean': {
      const reasons = countsOf(s.byReason);
      const removed = reasons ? Object.entries(reasons).filter(([reason]) => reason !== 'kept') : [];
      return removed.length > 0 ? `quarantined: ${removed.map(([r, n]) => `${r} ${n}`).join(', ')}` : 'nothing quarantined';
    }
    case 'annotate':
      return `rule ${String(s.rule ?? (isRecord(p.rule) ? `${String(p.rule.name)}@${String(p.rule.version)}` : '?'))}; classes ${JSON.stringify(s.classes ?? [])}`;
    case 'split':
      return `ratios ${JSON.stringify(p.ratios)}, seed ${String(p.seed)}; identical texts kept in one split` +
        (typeof s.mergedGroups === 'number' ? ` (${s.mergedGroups} groups of duplicates)` : '');
    case 'features':
      return `${String(p.kind)}: ${featuresShape(p, s)}, fitted on ${String(s.fittedOn ?? '?')}` +
        (typeof s.testCopiesOfTrain === 'number' ? `; test rows identical to a training row: ${s.testCopiesOfTrain}` : '');
    case 'resample': {
      const sampler = isRecord(p.sampler) ? p.sampler : p;
      const changes = ['generated', 'duplicated', 'removed'].filter((k) => typeof s[k] === 'number' && s[k] > 0).map((k) => `${k} ${String(s[k])}`);
      return `${String(s.method ?? sampler.method)} on the ${String(p.partition)} partition${p.seed === undefined ? '' : `, seed ${String(p.seed)}`}` +
        (changes.length > 0 ? ` (${changes.join(', ')})` : '');
    }
    case 'train':
      return `${String(s.arch ?? (isRecord(p.model) ? p.model.arch : '?'))} on ${String(s.backend ?? '?')}, ${trainOptions(p)}`;
    case 'evaluate':
      return `scored once on the ${String(p.partition)} partition`;
    case 'leaky-split':
      return `LEAKY: random split AFTER resampling, seed ${String(p.seed)}` +
        (typeof s.testCopiesOfTrain === 'number' ? `; test rows copied from training: ${(100 * s.testCopiesOfTrain).toFixed(1)}%` : '');
    default:
      return JSON.stringify(m.params);
  }
}

/** What a features artifact holds, in the terms of its kind (a TF-IDF has terms, not a sequence length). */
function featuresShape(p: Record<string, unknown>, s: Record<string, unknown>): string {
  switch (p.kind) {
    case 'tfidf':
      return `${String(s.vocabSize)} terms` + (typeof p.analyzer === 'string' ? ` (${p.analyzer})` : '');
    case 'doc-vectors':
      return `mean of ${String(s.dim)}-dimensional Word2Vec vectors over ${String(s.vocabSize)} words`;
    default:
      return `vocabulary ${String(s.vocabSize)}, length ${String(s.seqLen)}` + (isRecord(p.embedding) ? ', Word2Vec embedding' : '');
  }
}

/** Train options in the artifact's key: a neural fit's, or a baseline's hyperparameters (never options it ignores). */
function trainOptions(p: Record<string, unknown>): string {
  const seed = p.seed === undefined ? '' : `, seed ${String(p.seed)}`;
  if (typeof p.epochs !== 'number') {
    const { arch: _arch, ...hyper } = isRecord(p.model) ? p.model : {};
    void _arch;
    const listed = Object.entries(hyper).map(([name, value]) => `${name} ${JSON.stringify(value)}`);
    return (listed.length > 0 ? listed.join(', ') : 'defaults') + seed;
  }
  const optimizer = typeof p.optimizer === 'string' ? `${p.optimizer}, ` : '';
  return `${p.epochs} epochs, batch ${String(p.batchSize)}, ${optimizer}lr ${String(p.learningRate)}${seed}`;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Learning curve of a train artifact: its `metadata.json` history, else the manifest summary's. */
async function learningCurve(store: ArtifactStore, manifest: Manifest, label: string): Promise<LearningCurve | undefined> {
  // A model fitted without epochs (a baseline) has a single validation score, not a curve.
  if (!isRecord(manifest.params) || typeof manifest.params.epochs !== 'number') return undefined;
  const metadata = await readJson<{ history?: unknown }>(store.path(manifest.key, 'metadata.json'));
  const history = metadata?.history ?? manifest.summary.history;
  if (!Array.isArray(history)) return undefined;
  const points = history.flatMap((entry: unknown, index) => {
    if (!isRecord(entry)) return [];
    const epoch = typeof entry.epoch === 'number' ? entry.epoch : index;
    return CURVE_SERIES.filter((series) => typeof entry[series] === 'number' && Number.isFinite(entry[series])).map((series) => ({
      epoch,
      series,
      value: entry[series] as number,
    }));
  });
  return points.length > 0 ? { key: manifest.key, label, points } : undefined;
}

const stageOf = (chain: readonly Manifest[], stage: string): Manifest | undefined => chain.find((m) => m.stage === stage);

function classRows(chain: readonly Manifest[], classes: readonly string[]): CountRow[] {
  const annotate = stageOf(chain, 'annotate');
  const split = stageOf(chain, 'split');
  const resample = stageOf(chain, 'resample');
  const perSplit = split && isRecord(split.summary.perSplitLabelCounts) ? split.summary.perSplitLabelCounts : {};
  return [
    ...(annotate ? countRows('labelled', annotate.key, countsOf(annotate.summary.classCounts), classes) : []),
    ...(split ? ['train', 'val', 'test'].flatMap((name) => countRows(name, split.key, countsOf(perSplit[name]), classes)) : []),
    ...(resample ? countRows('train (resampled)', resample.key, countsOf(resample.summary.after), classes) : []),
  ];
}

async function ratingsAndWindow(
  chain: readonly Manifest[],
  store: ArtifactStore,
  readFacts: TableFactsReader,
): Promise<{ ratings: CountRow[]; window?: ReportModel['window'] }> {
  const ratings: CountRow[] = [];
  let window: ReportModel['window'];
  for (const [stage, file, group] of [['import', 'reviews.parquet', 'imported'], ['clean', 'clean.parquet', 'cleaned']] as const) {
    const manifest = stageOf(chain, stage);
    if (!manifest?.files[file]) continue;
    const facts = await readFacts(store.path(manifest.key, file));
    ratings.push(...countRows(group, manifest.key, facts.ratings, []).map((row) => ({ ...row, label: `${row.label}★` })));
    if (stage === 'clean' && facts.from && facts.to) window = { from: facts.from, to: facts.to, key: manifest.key };
  }
  return { ratings, window };
}

/** Nested params as dotted paths (`model.filters`), so cells can be compared field by field. */
export function flattenParams(value: unknown, prefix = ''): Record<string, unknown> {
  if (!isRecord(value)) return { [prefix || 'value']: value };
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .flatMap((k) => Object.entries(flattenParams(value[k], prefix ? `${prefix}.${k}` : k))),
  );
}

/**
 * The grid as the report shows it: params flattened and narrowed to those that vary across cells
 * (a plan may pass each cell's whole resample/train params), and no clock readings.
 */
export function gridForReport(grid: ReportGrid): ReportGrid {
  const flat = grid.cells.map((c) => flattenParams(c.params));
  const names = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const varying = grid.cells.length < 2 ? names : names.filter((n) => new Set(flat.map((f) => JSON.stringify(f[n]))).size > 1);
  const cells = grid.cells.map((cell, i) => ({
    key: cell.key,
    params: Object.fromEntries(varying.map((n) => [n, flat[i]![n]])),
    valMetrics: cell.valMetrics,
  }));
  return { ...grid, cells };
}

async function readMetrics(store: ArtifactStore, key: string): Promise<MetricsDocument> {
  const metrics = await readJson<MetricsDocument>(store.path(key, METRICS_FILE));
  if (!metrics || !Array.isArray(metrics.classes)) {
    throw badInput(`Artifact ${key} has no readable ${METRICS_FILE}; give the report an evaluation artifact key.`, {
      stage: 'report',
      key,
      file: METRICS_FILE,
    });
  }
  return metrics;
}

/** Reads everything the report shows from the store. `readFacts` counts ratings and dates in a review table. */
export async function buildReportModel(
  store: ArtifactStore,
  evaluationKey: string,
  extras: ReportExtras,
  readFacts: TableFactsReader,
): Promise<ReportModel> {
  const metrics = await readMetrics(store, evaluationKey);
  const chain = await collectLineage(store, evaluationKey);
  const source = chain[0];
  const curves: LearningCurve[] = [];
  for (const m of chain.filter((c) => c.stage === 'train')) {
    const curve = await learningCurve(store, m, `selected model ${short(m.key)}`);
    if (curve) curves.push(curve);
  }
  for (const cell of extras.grid?.cells ?? []) {
    if (curves.some((c) => c.key === cell.key) || !(await store.has(cell.key))) continue;
    const curve = await learningCurve(store, await store.manifest(cell.key), `cell ${short(cell.key)}`);
    if (curve) curves.push(curve);
  }
  const model: ReportModel = {
    title: extras.title,
    metricsKey: evaluationKey,
    synthetic: source?.stage === 'import' && isRecord(source.params) && source.params.kind === 'synthetic',
    metrics,
    dataset: chain.map((m) => ({ stage: m.stage, key: m.key, rowCounts: m.rowCounts, detail: describeStep(m) })),
    ...(await ratingsAndWindow(chain, store, readFacts)),
    classes: classRows(chain, metrics.classes),
    curves,
    lineage: chain.map(lineageNode),
  };
  if (extras.grid) model.grid = gridForReport(extras.grid);
  if (extras.warnings?.length) model.warnings = extras.warnings;
  const leaky = leakyStep(chain);
  if (leaky) model.leakyMode = { key: leaky.key, ...(testCopies(chain) === undefined ? {} : { testCopiesOfTrain: testCopies(chain) }) };
  if (extras.leakyEvaluation) {
    const leakyChain = await collectLineage(store, extras.leakyEvaluation);
    model.leaky = {
      honest: digest(evaluationKey, metrics, chain),
      leaky: digest(extras.leakyEvaluation, await readMetrics(store, extras.leakyEvaluation), leakyChain),
    };
  }
  return model;
}
