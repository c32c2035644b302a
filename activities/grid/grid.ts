/**
 * Grid activities. The expanded grid is a `grid-cells` artifact, so payloads carry its key: `lookupCells`
 * hands the plan one batch at a time (cells whose validation score is already in the store come back
 * with it and are never scheduled; the rest with their specs), `recordFailures` stores a run's failed
 * cells, and `recordGrid` rebuilds every cell's outcome from the store and records the `grid` stage:
 * validation metrics, training time, backend and worker (read from the cells' own manifests), the
 * selection and the test score of the selected cell.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { notFound } from '../../core/errors';
import type { ArtifactStore } from '../../data/store/artifact-store';
import { runStage, stageKey, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import {
  SELECTION_METRICS,
  type CachedCell,
  type CellFailure,
  type CellSlot,
  type ExpandedGridPlan,
  type GridCell,
  type GridCellsRef,
  type GridPlan,
  type RecordedCell,
  type RecordGridInput,
  type SelectionMetric,
} from '../../workflows/plans/grid';
import type { ActivityDeps } from '../context';
import { evaluateIdentity, METRICS_FILE } from '../evaluate/evaluate';
import type { ReportGrid } from '../report/report-model';
import { resampleStage, resampleStageParams } from '../resample/resample';
import { trainIdentity, trainStageParams } from '../train/train';

export const GRID_FILE = 'grid.json';
export const CELLS_FILE = 'cells.json';
export const FAILURES_FILE = 'failures.json';

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

/** The stored scores of a cell, when its train and validation artifacts are both in the store and intact. */
async function cachedCell(store: ArtifactStore, features: ArtifactRef, cell: GridCell): Promise<CachedCell | undefined> {
  const { trainKey, valKey } = cellKeys(features, cell);
  const check = await store.check(valKey);
  if (check.status !== 'ok' || (await store.check(trainKey)).status !== 'ok') return undefined;
  return { trainKey, valKey, val: pickMetrics(check.manifest.summary) };
}

export function createLookupCellsActivity(deps: ActivityDeps) {
  return async function lookupCells(input: { features: ArtifactRef; cells: GridCellsRef; from: number; count: number }): Promise<CellSlot[]> {
    const all = await readGridCells(deps.store, input.cells);
    const slots: CellSlot[] = [];
    for (const [offset, cell] of all.slice(input.from, input.from + input.count).entries()) {
      const cached = await cachedCell(deps.store, input.features, cell);
      slots.push({ index: input.from + offset, id: cell.id, ...(cached ? { cached } : { cell }) });
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
  metric: SelectionMetric;
  selected: string;
  cells: RecordedCell[];
  plan: GridCell[];
}

/** Every cell's outcome as the store knows it: scored (its validation artifact) or failed (a stored failure). */
async function recordedCells(store: ArtifactStore, input: RecordGridInput, plan: GridCell[]): Promise<RecordedCell[]> {
  const failures: Record<string, CellFailure> = {};
  for (const key of input.failures) Object.assign(failures, await readJsonArtifact<Record<string, CellFailure>>(store, key, FAILURES_FILE, 'grid-failures artifact'));
  const cells: RecordedCell[] = [];
  for (const cell of plan) {
    const scored = await cachedCell(store, input.features, cell);
    if (scored) cells.push({ id: cell.id, ...scored });
    else if (failures[cell.id]) cells.push({ id: cell.id, error: failures[cell.id] });
    else throw notFound(`Grid cell ${cell.id} has neither a validation score nor a recorded failure in the store at ${store.root}.`, { key: cellKeys(input.features, cell).valKey });
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
  version: 2,
  inputNames: ['test'],
  async compute({ params, inputs, outDir, store }) {
    const cells = await describeCells(store, params);
    const test = JSON.parse(await readFile(inputs.test!.file(METRICS_FILE), 'utf8')) as unknown;
    const { name, metric, selected } = params;
    await writeFile(join(outDir, GRID_FILE), JSON.stringify({ name, metric, selected, cells, test }, null, 2) + '\n');
    const failed = params.cells.filter((c) => c.error !== undefined).length;
    return { rowCounts: { cells: cells.length, failed }, summary: { metric, selected, failed } };
  },
};

export function createRecordGridActivity(deps: ActivityDeps) {
  return async function recordGrid(input: RecordGridInput): Promise<StageOutcome> {
    const plan = await readGridCells(deps.store, input.cells);
    const cells = await recordedCells(deps.store, input, plan);
    const params: GridParams = { name: input.name, metric: input.metric, selected: input.selected, cells, plan };
    return runStage(deps.store, gridStage, params, { test: input.test }, deps);
  };
}

/** The grid artifact as written: what the CLI prints and the report draws. */
export interface GridFile {
  name: string;
  metric: SelectionMetric;
  selected: string;
  cells: (RecordedCell & { params: GridCell; trainMs: number | null; backend: string | null; worker: string | null })[];
}

export const readGridFile = (store: ArtifactStore, gridKey: string) => readJsonArtifact<GridFile>(store, gridKey, GRID_FILE, 'grid artifact');

/** The grid as the report shows it: every scored cell's params and validation metrics, and the selection. */
export async function reportGrid(store: ArtifactStore, gridKey: string): Promise<ReportGrid> {
  const grid = await readGridFile(store, gridKey);
  const scored = grid.cells.filter((c) => c.trainKey && c.val);
  const cells = scored.map((c) => ({ key: c.trainKey!, params: { resample: c.params.resample, train: c.params.train }, valMetrics: c.val as Record<string, number> }));
  return { selectedKey: grid.cells.find((c) => c.id === grid.selected)?.trainKey, selectionMetric: grid.metric, cells };
}
