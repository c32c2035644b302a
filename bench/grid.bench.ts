/**
 * `npm run bench -- grid`: an 8-cell grid of small models trained with 1 and with 2 at once, in the same
 * run: locally (the grid plan in-process, cells in worker threads), and on a Temporal dev server with one
 * and then two `ulasan worker` processes on the train queue (when the Temporal CLI is installed; workers
 * start and are warmed by a cell before the clock). Each measurement trains cells no other measurement trained (learning rates of
 * its own) over shared, cached upstream stages. Returns the local time with 1 ÷ time with 2 (goal ≥ 1.7 on
 * 2 cores); the Temporal ratio is printed above it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGridFile, storeGridCells } from '../activities/grid/grid';
import { gridPlanFromSpec } from '../client/grid-spec';
import { realActivities, runGridLocal } from '../client/local-runner';
import { ArtifactStore } from '../data/store/artifact-store';
import type { ExpandedGridPlan, GridPlan } from '../workflows/plans/grid';
import { prepareFeatures, stageRecorder } from '../workflows/plans/pipeline';

const TRAIN_QUEUE = 'bench-grid-train';

/**
 * 8 cells: 4 learning rates × 2 batch sizes, a small CNN on 6,000 synthetic reviews, 3 epochs. `variant`
 * nudges the learning rates, so each measurement trains cells of its own (same work, other keys).
 */
function expandedGrid(variant: number, parallel: number): ExpandedGridPlan {
  const learningRates = [0.002, 0.004, 0.006, 0.008].map((lr) => lr + variant * 1e-6);
  const spec = {
    name: 'bench-grid',
    seed: 42,
    source: { synthetic: { rows: 6000 } },
    label: { rule: 'binary' },
    split: { train: 0.7, val: 0.15, test: 0.15 },
    features: { maxVocab: 3000, maxLen: 32 },
    model: { arch: 'cnn-small', embeddingDim: 32, filters: 32 },
    train: { epochs: 3 },
    grid: { parallel, trainTaskQueue: TRAIN_QUEUE, values: { 'train.learningRate': learningRates, 'train.batchSize': [32, 64] } },
  };
  return gridPlanFromSpec(spec, 'bench/grid.bench.ts');
}

async function timed<T>(work: () => Promise<T>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/** Locally: one at a time in this process, or two at once in threads; both start cold (tfjs loads in the timed part). */
async function local(store: ArtifactStore, variant: number, parallel: number): Promise<number> {
  const plan = await storeGridCells(store, expandedGrid(variant, parallel));
  return timed(() => runGridLocal(plan, { store }));
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
      const expanded = expandedGrid(variant, 2);
      const plan: GridPlan = { ...(await storeGridCells(store, { ...expanded, cells: expanded.cells.slice(0, cells) })), storeId: await store.id() };
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
    console.log(`local, 8 cells: ${one.toFixed(1)} s one at a time, ${two.toFixed(1)} s two at once (threads): ${(one / two).toFixed(2)}×`);
    const temporal = await onTemporal(store, [21, 22]);
    if (temporal) {
      const [t1, t2] = temporal;
      console.log(`temporal, 8 cells: ${t1.toFixed(1)} s on 1 train worker process, ${t2.toFixed(1)} s on 2: ${(t1 / t2).toFixed(2)}×`);
    }
    return one / two;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
