/**
 * Grid activities: `lookupCells` finds cells whose validation score is already in the store (so they
 * are never scheduled), and the `grid` stage records every cell's validation metrics, training time
 * and backend (read from the cells' own manifests), the selection and the test score of the selected cell.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactStore } from '../../data/store/artifact-store';
import { runStage, stageKey, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { CachedCell, GridCell, RecordGridInput, SelectionMetric } from '../../workflows/plans/grid';
import type { ActivityDeps } from '../context';
import { evaluateStage, METRICS_FILE } from '../evaluate/evaluate';
import { resampleStage, resampleStageParams } from '../resample/resample';
import { trainStage, trainStageParams } from '../train/train';

export const GRID_FILE = 'grid.json';

/** The keys a cell's stages will have: resample, train (the cell key) and its validation evaluation. */
export function cellKeys(features: ArtifactRef, cell: GridCell): { resampleKey: string; trainKey: string; valKey: string } {
  // The same key material the resample and train activities compute (only what changes their output).
  const resampleKey = stageKey(resampleStage, resampleStageParams(cell.resample), { features });
  const trainKey = stageKey(trainStage, trainStageParams(cell.train), { train: { key: resampleKey, stage: 'resample' }, features });
  const valKey = stageKey(evaluateStage, { partition: 'val' }, { model: { key: trainKey, stage: 'train' }, features });
  return { resampleKey, trainKey, valKey };
}

export function createLookupCellsActivity(deps: ActivityDeps) {
  return async function lookupCells(input: { features: ArtifactRef; cells: GridCell[] }): Promise<Record<string, CachedCell | null>> {
    const found: Record<string, CachedCell | null> = {};
    for (const cell of input.cells) {
      const { trainKey, valKey } = cellKeys(input.features, cell);
      const check = await deps.store.check(valKey);
      const hit = check.status === 'ok' && (await deps.store.check(trainKey)).status === 'ok';
      found[cell.id] = hit ? { trainKey, valKey, val: pickMetrics(check.manifest.summary) } : null;
    }
    return found;
  };
}

function pickMetrics(summary: Record<string, unknown>): Partial<Record<SelectionMetric, number>> {
  const names: SelectionMetric[] = ['macroF1', 'balancedAccuracy', 'gMean', 'accuracy'];
  return Object.fromEntries(names.filter((n) => typeof summary[n] === 'number').map((n) => [n, summary[n] as number]));
}

export type GridParams = RecordGridInput['params'];

/** Each cell with its params, training time and backend, read from the cell's train manifest. */
async function describeCells(store: ArtifactStore, params: GridParams) {
  const cells = [];
  for (const [index, cell] of params.cells.entries()) {
    const train = cell.trainKey ? await store.manifest(cell.trainKey) : undefined;
    const backend = (train?.summary.backend as string | undefined) ?? null;
    cells.push({ ...cell, params: params.plan[index], trainMs: train?.timings.computeMs ?? null, backend });
  }
  return cells;
}

export const gridStage: StageDefinition<GridParams> = {
  stage: 'grid',
  version: 1,
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
    return runStage(deps.store, gridStage, input.params, { test: input.test }, deps);
  };
}
