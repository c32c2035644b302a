/**
 * A grid finds its cells in the store by the same key material the stages use: a rerun schedules
 * nothing, and cells that differ only in options a baseline ignores are one artifact. Run in a pool of
 * threads, a grid writes the same keys as in one thread.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readGridFile, storeGridCells, type GridFile } from '../activities/grid/grid';
import { ArtifactStore } from '../data/store/artifact-store';
import type { Manifest } from '../data/store/types';
import type { GridResult } from '../workflows/plans/grid';
import { gridPlanFromSpec } from './grid-spec';
import { ActivityPool } from '../runtime/activity-pool';
import { runGridLocal } from './local-runner';

let root: string;
let first: GridResult;
let second: GridResult;
let firstCells: GridFile['cells'];
let secondCells: GridFile['cells'];

const plan = gridPlanFromSpec(
  {
    name: 'grid-keys',
    seed: 11,
    source: { synthetic: { rows: 300 } },
    split: { train: 0.6, val: 0.2, test: 0.2 },
    features: { kind: 'tfidf' },
    resample: { method: 'none' },
    model: { arch: 'nb' },
    grid: { values: { 'model.alpha': [0.5, 1], 'train.epochs': [1, 9] }, selection: 'validation' },
    evaluate: { minSupport: 5 }, // 300 synthetic rows leave ~6 negative rows in val and test; the test is about keys
  },
  'grid-keys.yaml',
);

/** The same data cross-validated (no validation split), cells varying their features too. */
const cvPlan = gridPlanFromSpec(
  {
    name: 'grid-keys-cv',
    seed: 11,
    source: { synthetic: { rows: 300 } },
    split: { train: 0.8, val: 0, test: 0.2 },
    features: { kind: 'tfidf' },
    resample: { method: 'none' },
    model: { arch: 'nb' },
    grid: { values: { 'features.minDf': [1, 2], 'model.alpha': [0.5, 1] }, selection: { method: 'cv', folds: 3 } },
    evaluate: { minSupport: 5 },
  },
  'grid-keys-cv.yaml',
);
let cvFirst: GridResult;
let cvSecond: GridResult;
let cvCells: GridFile['cells'];
let testScoringsBefore: Manifest[];
let testScoringsAfter: Manifest[];

/** Every committed manifest in the store that `keep` accepts. */
async function manifestsWhere(storeRoot: string, keep: (m: Manifest) => boolean): Promise<Manifest[]> {
  const found: Manifest[] = [];
  for (const prefix of (await readdir(storeRoot)).filter((name) => /^[0-9a-f]{2}$/.test(name))) {
    for (const key of await readdir(join(storeRoot, prefix))) {
      const manifest = JSON.parse(await readFile(join(storeRoot, prefix, key, 'manifest.json'), 'utf8')) as Manifest;
      if (keep(manifest)) found.push(manifest);
    }
  }
  return found;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-grid-keys-'));
  const store = new ArtifactStore(root);
  const stored = await storeGridCells(store, plan);
  first = await runGridLocal(stored, { store });
  firstCells = (await readGridFile(store, first.gridKey)).cells;
  second = await runGridLocal(stored, { store });
  secondCells = (await readGridFile(store, second.gridKey)).cells;
  const cvStored = await storeGridCells(store, cvPlan);
  testScoringsBefore = await manifestsWhere(root, (m) => (m.params as { partition?: string }).partition === 'test');
  cvFirst = await runGridLocal(cvStored, { store });
  testScoringsAfter = await manifestsWhere(root, (m) => (m.params as { partition?: string }).partition === 'test');
  cvCells = (await readGridFile(store, cvFirst.gridKey)).cells;
  cvSecond = await runGridLocal(cvStored, { store });
}, 180_000);
afterAll(() => rm(root, { recursive: true, force: true }));

describe('grid cells and keys', () => {
  it('gives cells that differ only in train.epochs one train key (NB has no epochs)', () => {
    const alphaOf = (id: string) => (plan.cells.find((cell) => cell.id === id)!.train.model as { alpha: number }).alpha;
    const byAlpha = (alpha: number) => new Set(firstCells.filter((c) => alphaOf(c.id) === alpha).map((c) => c.trainKey));
    expect(firstCells).toHaveLength(4);
    expect(byAlpha(0.5).size).toBe(1);
    expect(byAlpha(1).size).toBe(1);
    expect([...byAlpha(0.5)][0]).not.toBe([...byAlpha(1)][0]);
  });

  it('finds every cell in the store on a rerun', () => {
    expect(second.counts).toEqual({ done: 0, cached: 4, failed: 0 });
    expect(secondCells.map((c) => c.trainKey)).toEqual(firstCells.map((c) => c.trainKey));
  });

  it('cv: records each cell\'s fold evaluations with their mean and sd, and finds every fold in the store on a rerun', async () => {
    expect(cvCells).toHaveLength(4);
    for (const cell of cvCells) {
      expect(cell.foldKeys).toHaveLength(3);
      expect(cell.val!.macroF1).toBeGreaterThan(0);
      expect(cell.sd!.macroF1).toBeGreaterThanOrEqual(0);
    }
    // Cells differing in features have different fold evaluations; only the selected cell has a model (its refit).
    expect(new Set(cvCells.map((c) => c.foldKeys![0])).size).toBe(4);
    const grid = await readGridFile(new ArtifactStore(root), cvFirst.gridKey);
    // The top 3 cells' soft vote, scored in every fold; the selected candidate (a cell or the vote) alone was refitted.
    expect(grid.ensemble).toMatchObject({ members: expect.any(Array), foldKeys: expect.any(Array) });
    expect(grid.ensemble!.members).toHaveLength(3);
    expect(grid.ensemble!.foldKeys).toHaveLength(3);
    expect(grid.ensemble!.val.macroF1).toBeGreaterThan(0);
    if (cvFirst.selected === 'ensemble') expect(grid.ensemble!.refits).toHaveLength(3);
    else expect(cvCells.filter((c) => c.trainKey).map((c) => c.id)).toEqual([cvFirst.selected]);
    expect(cvSecond.counts).toEqual({ done: 0, cached: 4, failed: 0 });
    expect(cvSecond.gridKey).toBe(cvFirst.gridKey);
    const store = new ArtifactStore(root);
    const fold = await store.manifest((await store.manifest((await store.manifest(cvCells[0]!.foldKeys![0]!)).inputs.features!)).inputs.split!);
    expect(fold.stage).toBe('fold');
    // No fold holds a test row, and the whole cv grid scored the test split exactly once: its selected candidate.
    const folds = await manifestsWhere(root, (m) => m.stage === 'fold');
    expect(folds.length).toBe(3);
    expect(folds.every((m) => m.rowCounts.test === 0 && m.rowCounts.val! > 0)).toBe(true);
    const scoredOnTest = testScoringsAfter.filter((m) => !testScoringsBefore.some((b) => b.key === m.key));
    expect(scoredOnTest.map((m) => m.key)).toEqual([cvFirst.metricsKey]);
  });
});

describe('a grid in a pool of threads', () => {
  let pooledRoot: string;
  afterAll(() => rm(pooledRoot, { recursive: true, force: true }));

  it('runs every cell\'s resample, training and evaluation in the threads and writes the same keys', async () => {
    pooledRoot = await mkdtemp(join(tmpdir(), 'ulasan-grid-pool-'));
    const store = new ArtifactStore(pooledRoot);
    const pool = new ActivityPool(2, pooledRoot);
    const jobs = vi.spyOn(pool, 'run');
    try {
      const pooled = await runGridLocal(await storeGridCells(store, { ...plan, parallel: 2 }), { store, pool });
      expect(pooled.gridKey).toBe(first.gridKey);
      expect((await readGridFile(store, pooled.gridKey)).cells.map((c) => c.trainKey)).toEqual(firstCells.map((c) => c.trainKey));
    } finally {
      await pool.close();
    }
    const ran = jobs.mock.calls.map(([name]) => name);
    // 4 cells (2 distinct models), each resampled, trained and scored on validation; plus the upstream stages and the test score.
    expect(ran.filter((name) => name === 'trainModel')).toHaveLength(4);
    expect(ran.filter((name) => name === 'evaluate')).toHaveLength(5);
    expect(ran).toEqual(expect.arrayContaining(['clean', 'features', 'resample']));
    expect(ran.some((name) => ['lookupCells', 'recordGrid', 'report'].includes(name)), 'io activities stay on the main thread').toBe(false);
  }, 180_000);
});
