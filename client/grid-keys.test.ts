/**
 * A grid finds its cells in the store by the same key material the stages use: a rerun schedules
 * nothing, and cells that differ only in options a baseline ignores are one artifact. Run in a pool of
 * threads, a grid writes the same keys as in one thread.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readGridFile, storeGridCells, type GridFile } from '../activities/grid/grid';
import { ArtifactStore } from '../data/store/artifact-store';
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
    grid: { values: { 'model.alpha': [0.5, 1], 'train.epochs': [1, 9] } },
    evaluate: { minSupport: 5 }, // 300 synthetic rows leave ~6 negative rows in val and test; the test is about keys
  },
  'grid-keys.yaml',
);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-grid-keys-'));
  const store = new ArtifactStore(root);
  const stored = await storeGridCells(store, plan);
  first = await runGridLocal(stored, { store });
  firstCells = (await readGridFile(store, first.gridKey)).cells;
  second = await runGridLocal(stored, { store });
  secondCells = (await readGridFile(store, second.gridKey)).cells;
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
