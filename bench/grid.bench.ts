/**
 * `npm run bench -- grid`: an 8-cell grid of small models trained with 1 and with 2 at once, in the same run: locally
 * (the grid plan in-process, whole cells in a pool of 1 or 2 worker threads), and on a Temporal dev server with one
 * and then two `ulasan worker` processes on the train queue (when the Temporal CLI is installed). Both sides start
 * warm: every thread or worker process trains a cell of its own before the clock. Each measurement trains cells no
 * other measurement trained (learning rates of its own) over shared, cached upstream stages. Returns the local time
 * with 1 ÷ time with 2 (goal ≥ 1.7 on 2 cores); the Temporal ratio is printed above it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGridFile, storeGridCells } from '../activities/grid/grid';
import { gridPlanFromSpec } from '../client/grid-spec';
import { ActivityPool } from '../runtime/activity-pool';
import { realActivities, runGridLocal } from '../client/local-runner';
import { ArtifactStore } from '../data/store/artifact-store';
import type { ExpandedGridPlan, GridPlan } from '../workflows/plans/grid';
import { prepareFeatures, stageRecorder } from '../workflows/plans/pipeline';

const TRAIN_QUEUE = 'bench-grid-train';

/**
 * 8 cells of equal cost (4 learning rates × 2 dropout rates), so two workers share them evenly: a small CNN on 6,000
 * synthetic reviews, 3 epochs, sized so that training, not per-cell scheduling, dominates a cell. `variant` nudges
 * the learning rates, so each measurement trains cells of its own (same work, other keys). Selected on validation:
 * the default (auto) would cross-validate this split, five fits per cell, and time folds rather than cells.
 */
function expandedGrid(variant: number, parallel: number): ExpandedGridPlan {
  const learningRates = [0.002, 0.004, 0.006, 0.008].map((lr) => lr + variant * 1e-6);
  const spec = {
    name: 'bench-grid',
    seed: 42,
    source: { synthetic: { rows: 6000 } },
    label: { rule: 'binary' },
    split: { train: 0.7, val: 0.15, test: 0.15 },
    features: { maxVocab: 3000, maxLen: 64 },
    model: { arch: 'cnn-small', embeddingDim: 64, filters: 128 },
    train: { epochs: 3, batchSize: 32 },
    grid: { parallel, trainTaskQueue: TRAIN_QUEUE, selection: 'validation', values: { 'train.learningRate': learningRates, 'model.dropout': [0.2, 0.4] } },
  };
  return gridPlanFromSpec(spec, 'bench/grid.bench.ts');
}

/** The grid of `variant` cut to its first `cells` cells, stored. */
async function storedGrid(store: ArtifactStore, variant: number, parallel: number, cells = 8): Promise<GridPlan> {
  const expanded = expandedGrid(variant, parallel);
  return storeGridCells(store, { ...expanded, cells: expanded.cells.slice(0, cells) });
}

async function timed<T>(work: () => Promise<T>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/**
 * Locally: the grid plan in this process, its cells in a pool of 1 or 2 threads, each warmed by a cell of its own
 * (thread started, tfjs loaded, kernels assembled and compiled) before the clock, as the Temporal workers are.
 * Seconds of wall and of CPU (every thread of this process).
 */
async function local(store: ArtifactStore, variant: number, parallel: number): Promise<{ wall: number; cpu: number }> {
  const pool = new ActivityPool(parallel, store.root);
  try {
    await runGridLocal(await storedGrid(store, variant + 50, parallel, parallel), { store, pool });
    const plan = await storedGrid(store, variant, parallel);
    const cpu = process.cpuUsage();
    const wall = await timed(() => runGridLocal(plan, { store, pool }));
    const { user, system } = process.cpuUsage(cpu);
    return { wall, cpu: (user + system) / 1e6 };
  } finally {
    await pool.close();
  }
}

/** Times the grid on a dev server with 1, then 2, train worker processes; undefined without the Temporal CLI. */
async function onTemporal(store: ArtifactStore, variants: [number, number]): Promise<[number, number] | undefined> {
  const { TEMPORAL_CLI, startDevServer } = await import('../worker/testing/dev-server');
  if (!process.env.TEMPORAL_ADDRESS && !existsSync(TEMPORAL_CLI)) {
    console.warn(`SKIPPED: the Temporal half (no Temporal CLI at ${TEMPORAL_CLI}; run infra/install-temporal.sh)`);
    return undefined;
  }
  const { startWorkerProcess, stopAll } = await import('../worker/testing/processes');
  const { runGridOnTemporal } = await import('../client/temporal-runner');
  const env = await startDevServer();
  try {
    const queue = `bench-grid-${Date.now()}`;
    const worker = (q: string, args: string[] = []) => startWorkerProcess({ address: env.address, queue: q, storeRoot: store.root, args, readyTimeoutMs: 300_000 });
    await Promise.all([worker(queue), worker(TRAIN_QUEUE, ['--concurrency', '1'])]);
    const submit = async (variant: number, cells = 8) => {
      const plan: GridPlan = { ...(await storedGrid(store, variant, 2, cells)), storeId: await store.id() };
      let gridKey = '';
      const seconds = await timed(async () => (gridKey = (await runGridOnTemporal(plan, { address: env.address, taskQueue: queue })).gridKey));
      if (cells === 8) console.log(`  ${seconds.toFixed(1)} s; ${await trainTimesByWorker(store, gridKey)}`);
      return seconds;
    };
    // Workers are warmed (tfjs loaded, kernels assembled) by a cell each before their measurement.
    await submit(variants[0] + 50, 1);
    const one = await submit(variants[0]);
    await worker(TRAIN_QUEUE, ['--concurrency', '1']);
    await submit(variants[1] + 50, 2);
    const two = await submit(variants[1]);
    return [one, two];
  } finally {
    await stopAll();
    await env.teardown();
  }
}

/** Cells and mean training time per train worker, from the grid artifact: shows whether both workers trained, and how fast. */
async function trainTimesByWorker(store: ArtifactStore, gridKey: string): Promise<string> {
  const byWorker = new Map<string, number[]>();
  for (const cell of (await readGridFile(store, gridKey)).cells) byWorker.set(cell.worker ?? '?', [...(byWorker.get(cell.worker ?? '?') ?? []), cell.trainMs ?? 0]);
  const mean = (ms: number[]) => ms.reduce((a, b) => a + b, 0) / ms.length / 1000;
  return [...byWorker].map(([worker, ms]) => `worker ${worker}: ${ms.length} cells, ${mean(ms).toFixed(1)} s training each`).join('; ');
}

export default async function gridBenchmark(): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), 'ulasan-bench-grid-'));
  try {
    const store = new ArtifactStore(root);
    // Upstream stages (import … features) once, outside the clock: every measurement below hits them.
    await prepareFeatures(realActivities(store, () => undefined), expandedGrid(0, 1), stageRecorder([]));
    const one = await local(store, 11, 1);
    const two = await local(store, 12, 2);
    const cpu = `CPU ${one.cpu.toFixed(1)} s and ${two.cpu.toFixed(1)} s (load ${loadavg()[0]!.toFixed(1)})`;
    console.log(`local, 8 cells: ${one.wall.toFixed(1)} s one at a time, ${two.wall.toFixed(1)} s two at once (threads): ${(one.wall / two.wall).toFixed(2)}×; ${cpu}`);
    const temporal = await onTemporal(store, [21, 22]);
    if (temporal) {
      const [t1, t2] = temporal;
      console.log(`temporal, 8 cells: ${t1.toFixed(1)} s on 1 train worker process, ${t2.toFixed(1)} s on 2: ${(t1 / t2).toFixed(2)}×`);
    }
    return one.wall / two.wall;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
