/**
 * Grid activities. The expanded grid is a `grid-cells` artifact, so payloads carry its key: `lookupCells`
 * hands the plan one batch at a time (cells whose validation score — with cv, every fold's — is already
 * in the store come back with it and are never scheduled), `recordFailures` stores a run's failed
 * cells, and `recordGrid` rebuilds every cell's outcome from the store and records the `grid` stage:
 * validation metrics (cv: each fold's, their mean and sd), training time, backend and worker (read from
 * the cells' own manifests), the selection and the test score of the selected cell.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { notFound } from '../../core/errors';
import type { ArtifactStore } from '../../data/store/artifact-store';
import { runStage, stageKey, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import { featuresIdentity } from '../features/features';
import { foldStage } from '../split/folds';
import {
  epochsTrained,
  featuresOf,
  meanScores,
  overBudget,
  refitEpochsOf,
  watchesValidation,
  SELECTION_METRICS,
  type CachedCell,
  type CellFailure,
  type CellSlot,
  type ExpandedGridPlan,
  type GridCell,
  type GridCellsRef,
  type GridPlan,
  type LookupCellsInput,
  type RecordedCell,
  type RecordedEnsemble,
  type RecordGridInput,
  type SelectionMetric,
} from '../../workflows/plans/grid';
import type { ActivityDeps } from '../context';
import type { EnsembleMember } from '../evaluate/ensemble';
import { evaluateIdentity, METRICS_FILE } from '../evaluate/evaluate';
import { gridStandings, standingsLines } from './standings';
import type { ReportGrid } from '../report/report-model';
import { resampleStage, resampleStageParams } from '../resample/resample';
import { trainIdentity, trainStageParams } from '../train/train';

export const GRID_FILE = 'grid.json';
export const CELLS_FILE = 'cells.json';
export const FAILURES_FILE = 'failures.json';

/** Where a cell's artifacts hang off (see LookupCellsInput). */
export type CellPlace = Omit<LookupCellsInput, 'cells' | 'from' | 'count'>;

/** The features artifact a cell trains on: the plan's shared one, or its own off the split (its key, computed). */
function cellFeatures(place: CellPlace, cell: GridCell): ArtifactRef {
  if (!place.split || !place.planFeatures) return place.features!;
  const key = stageKey(featuresIdentity, featuresOf(cell, place.planFeatures), { split: place.split });
  return { key, stage: 'features' };
}

/** cv: each fold's held-out evaluation key for a cell. */
export function foldEvaluationKeys(place: CellPlace, cell: GridCell): string[] {
  const { folds, seed } = place.cv!;
  return Array.from({ length: folds }, (_, fold) => {
    const split = { key: stageKey(foldStage, { folds, fold, seed }, { split: place.split! }), stage: 'fold' };
    const features = { key: stageKey(featuresIdentity, featuresOf(cell, place.planFeatures!), { split }), stage: 'features' };
    return cellKeys(features, cell).valKey;
  });
}

/** The keys a cell's stages will have: resample, train (the cell key) and its validation evaluation. */
export function cellKeys(features: ArtifactRef, cell: GridCell): { resampleKey: string; trainKey: string; valKey: string } {
  // The same key material the resample and train activities compute (only what changes their output).
  const resampleKey = stageKey(resampleStage, resampleStageParams(cell.resample), { features });
  const train = cell.onFeatures ? features : { key: resampleKey, stage: 'resample' };
  const trainKey = stageKey(trainIdentity, trainStageParams(cell.train), { train, features });
  const valKey = stageKey(evaluateIdentity, { partition: 'val' }, { model: { key: trainKey, stage: 'train' }, features });
  return { resampleKey, trainKey, valKey };
}

/** A JSON file of params, as an artifact: the expanded grid, a batch of failures. Same params, same key. */
function jsonStage<P>(stage: string, file: string): StageDefinition<P> {
  return {
    stage,
    version: 1,
    inputNames: [],
    async compute({ params, outDir }) {
      await writeFile(join(outDir, file), JSON.stringify(params) + '\n');
      return { rowCounts: { entries: Object.keys(params as object).length } };
    },
  };
}

export const gridCellsStage = jsonStage<GridCell[]>('grid-cells', CELLS_FILE);
export const gridFailuresStage = jsonStage<Record<string, CellFailure>>('grid-failures', FAILURES_FILE);

/** Stores the expanded grid (before a run or a submit) and returns the plan that refers to it by key. */
export async function storeGridCells(store: ArtifactStore, expanded: ExpandedGridPlan): Promise<GridPlan> {
  const outcome = await runStage(store, gridCellsStage, expanded.cells, {});
  return { ...expanded, cells: { key: outcome.ref.key, count: expanded.cells.length } };
}

async function readJsonArtifact<T>(store: ArtifactStore, key: string, file: string, what: string): Promise<T> {
  const path = store.path(key, file);
  const text = await store.readCommitted(path).catch(() => {
    throw notFound(`No ${what} ${key} in the store at ${store.root}: do the client and this worker share ULASAN_HOME?`, { key, file: path });
  });
  return JSON.parse(text) as T;
}

export const readGridCells = (store: ArtifactStore, cells: GridCellsRef) => readJsonArtifact<GridCell[]>(store, cells.key, CELLS_FILE, 'grid-cells artifact');

function pickMetrics(summary: Record<string, unknown>): Partial<Record<SelectionMetric, number>> {
  return Object.fromEntries(SELECTION_METRICS.filter((n) => typeof summary[n] === 'number').map((n) => [n, summary[n] as number]));
}

/** Each metric's standard deviation over folds (n − 1 in the denominator). */
function sdScores(folds: Partial<Record<SelectionMetric, number>>[], mean: Partial<Record<SelectionMetric, number>>): Partial<Record<SelectionMetric, number>> {
  const sd = (m: SelectionMetric) => Math.sqrt(folds.reduce((sum, f) => sum + (f[m]! - mean[m]!) ** 2, 0) / Math.max(1, folds.length - 1));
  return Object.fromEntries((Object.keys(mean) as SelectionMetric[]).map((m) => [m, sd(m)]));
}

/** cv: a cell's fold scores, when every fold's held-out evaluation is in the store and intact. */
async function cachedCvCell(store: ArtifactStore, place: CellPlace, cell: GridCell): Promise<(CachedCell & { folds: Partial<Record<SelectionMetric, number>>[] }) | undefined> {
  const foldKeys = foldEvaluationKeys(place, cell);
  const folds: Partial<Record<SelectionMetric, number>>[] = [];
  const foldModels: EnsembleMember[] = [];
  const epochs: (number | undefined)[] = [];
  for (const key of foldKeys) {
    const check = await store.check(key);
    if (check.status !== 'ok') return undefined;
    const { model, features } = check.manifest.inputs;
    folds.push(pickMetrics(check.manifest.summary));
    foldModels.push({ model: model!, features: features! });
    if (watchesValidation(cell)) epochs.push(epochsTrained((await store.manifest(model!)).summary));
  }
  const refitEpochs = refitEpochsOf(epochs);
  return { foldKeys, foldModels, val: meanScores(folds), folds, ...(refitEpochs !== undefined ? { refitEpochs } : {}) };
}

/** The stored scores of a cell, when its train and validation artifacts (cv: every fold's evaluation) are in the store and intact. */
async function cachedCell(store: ArtifactStore, place: CellPlace, cell: GridCell): Promise<CachedCell | undefined> {
  if (place.cv) {
    const cached = await cachedCvCell(store, place, cell);
    if (!cached) return undefined;
    const { folds: _folds, ...scores } = cached;
    void _folds;
    return scores;
  }
  const features = cellFeatures(place, cell);
  const { trainKey, valKey } = cellKeys(features, cell);
  const check = await store.check(valKey);
  if (check.status !== 'ok' || (await store.check(trainKey)).status !== 'ok') return undefined;
  const own = place.features && features.key !== place.features.key ? { featuresKey: features.key } : {};
  return { trainKey, valKey, val: pickMetrics(check.manifest.summary), ...own };
}

export function createLookupCellsActivity(deps: ActivityDeps) {
  return async function lookupCells(input: LookupCellsInput): Promise<CellSlot[]> {
    const all = await readGridCells(deps.store, input.cells);
    const slots: CellSlot[] = [];
    for (const [offset, cell] of all.slice(input.from, input.from + input.count).entries()) {
      const cached = await cachedCell(deps.store, input, cell);
      slots.push({ index: input.from + offset, id: cell.id, cell, ...(cached ? { cached } : {}) });
    }
    return slots;
  };
}

export function createRecordFailuresActivity(deps: ActivityDeps) {
  return async function recordFailures(input: { failures: Record<string, CellFailure> }): Promise<string> {
    return (await runStage(deps.store, gridFailuresStage, input.failures, {}, deps)).ref.key;
  };
}

export interface GridParams {
  name: string;
  /** cv: the soft vote of the top cells. */
  ensemble?: RecordedEnsemble;
  metric: SelectionMetric;
  selected: string;
  /** cv: the folds cells were scored on (absent: validation). */
  cv?: { folds: number; seed: number };
  cells: RecordedCell[];
  plan: GridCell[];
}

/** A cell's scores as the grid records them: validation's, or (cv) the folds' mean and sd. */
async function recordedScores(store: ArtifactStore, place: CellPlace, cell: GridCell): Promise<Omit<RecordedCell, 'id'> | undefined> {
  if (!place.cv) return cachedCell(store, place, cell);
  const cached = await cachedCvCell(store, place, cell);
  return cached && { foldKeys: cached.foldKeys, val: cached.val, sd: sdScores(cached.folds, cached.val) };
}

/** cv: the soft vote's fold scores (mean and sd) and members, as the grid records them. */
async function recordedEnsemble(store: ArtifactStore, ensemble: RecordedEnsemble): Promise<GridFile['ensemble']> {
  const folds: Partial<Record<SelectionMetric, number>>[] = [];
  for (const key of ensemble.foldKeys) folds.push(pickMetrics((await store.manifest(key)).summary));
  const val = meanScores(folds);
  return { ...ensemble, val, sd: sdScores(folds, val) };
}

/** Every cell's outcome as the store knows it: scored (its validation artifact) or failed (a stored failure). */
async function recordedCells(store: ArtifactStore, input: RecordGridInput, plan: GridCell[]): Promise<RecordedCell[]> {
  const failures: Record<string, CellFailure> = {};
  for (const key of input.failures) Object.assign(failures, await readJsonArtifact<Record<string, CellFailure>>(store, key, FAILURES_FILE, 'grid-failures artifact'));
  const cells: RecordedCell[] = [];
  for (const cell of plan) {
    if (overBudget(cell, input.trainRows)) {
      cells.push({ id: cell.id, skipped: `family ${cell.family ?? '(none)'} runs on training splits of at most ${cell.maxTrainRows} rows; this one has ${input.trainRows}` });
      continue;
    }
    const scored = await recordedScores(store, input, cell);
    if (scored) cells.push({ id: cell.id, ...scored, ...(cell.id === input.selected && input.selectedTrainKey ? { trainKey: input.selectedTrainKey } : {}) });
    else if (failures[cell.id]) cells.push({ id: cell.id, error: failures[cell.id] });
    else throw notFound(`Grid cell ${cell.id} has neither a validation score nor a recorded failure in the store at ${store.root}.`, { key: cellKeys(cellFeatures(input, cell), cell).valKey });
  }
  return cells;
}

/** Each cell with its params, training time, backend and the worker that trained it, read from the cell's train manifest. */
async function describeCells(store: ArtifactStore, params: GridParams) {
  const cells = [];
  for (const [index, cell] of params.cells.entries()) {
    const train = cell.trainKey ? await store.manifest(cell.trainKey) : undefined;
    const backend = (train?.summary.backend as string | undefined) ?? null;
    const worker = train?.execution?.workerIdentity ?? null;
    cells.push({ ...cell, params: params.plan[index], trainMs: train?.timings.computeMs ?? null, backend, worker });
  }
  return cells;
}

export const gridStage: StageDefinition<GridParams> = {
  stage: 'grid',
  // 2: a failed cell's error is {type, message} (the real failure, the same on both runners); cells name their worker.
  // 3: cells carry their own features; cv cells their fold evaluations, mean and sd; the selection method.
  version: 3,
  inputNames: ['test'],
  async compute({ params, inputs, outDir, store }) {
    const cells = await describeCells(store, params);
    const test = JSON.parse(await readFile(inputs.test!.file(METRICS_FILE), 'utf8')) as unknown;
    const { name, metric, selected } = params;
    const ensemble = params.ensemble ? { ensemble: await recordedEnsemble(store, params.ensemble) } : {};
    const selection = params.cv ? { method: 'cv', ...params.cv } : { method: 'validation' };
    await writeFile(join(outDir, GRID_FILE), JSON.stringify({ name, metric, selected, selection, cells, ...ensemble, test }, null, 2) + '\n');
    const failed = params.cells.filter((c) => c.error !== undefined).length;
    return { rowCounts: { cells: cells.length, failed }, summary: { metric, selected, failed } };
  },
};

export function createRecordGridActivity(deps: ActivityDeps) {
  return async function recordGrid(input: RecordGridInput): Promise<StageOutcome> {
    const plan = await readGridCells(deps.store, input.cells);
    const cells = await recordedCells(deps.store, input, plan);
    const params: GridParams = {
      name: input.name,
      metric: input.metric,
      selected: input.selected,
      ...(input.cv ? { cv: input.cv } : {}),
      ...(input.ensemble ? { ensemble: input.ensemble } : {}),
      cells,
      plan,
    };
    return runStage(deps.store, gridStage, params, { test: input.test }, deps);
  };
}

/** The grid artifact as written: what the CLI prints and the report draws. */
export interface GridFile {
  name: string;
  metric: SelectionMetric;
  selected: string;
  selection?: { method: 'validation' } | { method: 'cv'; folds: number; seed: number };
  /** cv: the soft vote of the top cells, scored in every fold like a cell. */
  ensemble?: RecordedEnsemble & { val: Partial<Record<SelectionMetric, number>>; sd: Partial<Record<SelectionMetric, number>> };
  cells: (RecordedCell & { params: GridCell; trainMs: number | null; backend: string | null; worker: string | null })[];
}

export const readGridFile = (store: ArtifactStore, gridKey: string) => readJsonArtifact<GridFile>(store, gridKey, GRID_FILE, 'grid artifact');

/** The grid as the report shows it: every scored cell's params and validation metrics, and the selection. */
export async function reportGrid(store: ArtifactStore, gridKey: string): Promise<ReportGrid> {
  const grid = await readGridFile(store, gridKey);
  // A cv cell has no model of its own (only the winner is refitted): it is named by its first fold's evaluation.
  const keyOf = (c: GridFile['cells'][number]) => c.trainKey ?? c.foldKeys?.[0];
  const scored = grid.cells.filter((c) => keyOf(c) && c.val);
  const cells = scored.map((c) => ({
    key: keyOf(c)!,
    params: { ...(c.params.features ? { features: c.params.features } : {}), resample: c.params.resample, train: c.params.train },
    valMetrics: c.val as Record<string, number>,
  }));
  const selected = grid.cells.find((c) => c.id === grid.selected);
  const standings = gridStandings(grid);
  return {
    selectedKey: selected && keyOf(selected),
    selectionMetric: grid.metric,
    cells,
    standings: standingsLines(standings),
    ...(standings.method === 'cv' ? { crossValidated: true } : {}),
  };
}
