/**
 * A Temporal worker for the pipeline's activities and workflows on one task queue (`ulasan worker`):
 * - the cpu and train activities run in a pool of threads (worker/activities.ts), at most `concurrency` at once:
 *   by default one per core on the `train` queue (a GPU host passes `--concurrency 1`), two per core elsewhere,
 *   where io activities overlap with the CPU-bound ones;
 * - workflow code comes from one prebuilt bundle (`ULASAN_WORKFLOW_BUNDLE`, else bundled once per process);
 * - it refuses to start without a writable store, and says which store it uses.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { UlasanError } from '../core/errors';
import { ActivityPool } from '../runtime/activity-pool';
import { ArtifactStore } from '../data/store/artifact-store';
import { createWorkerActivities } from './activities';

export interface WorkerOptions {
  taskQueue: string;
  /** Activities executed at once (1 on a GPU host: one model per GPU). @default defaultConcurrency(taskQueue) */
  concurrency?: number;
  address?: string;
  namespace?: string;
  /** How often running activities heartbeat at least: a cancel reaches them within this. @default 5 s */
  heartbeatIntervalMs?: number;
  log?: (message: string) => void;
}

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** The task queue of training workers, by convention (`ulasan run --train-queue train`). */
export const TRAIN_QUEUE = 'train';

/** Activities at once on a queue: one per core for training, two per core for the rest. */
export function defaultConcurrency(taskQueue: string): number {
  return taskQueue === TRAIN_QUEUE ? availableParallelism() : 2 * availableParallelism();
}

let bundle: Promise<WorkflowBundle> | undefined;

/** The workflow bundle, built once per process, or read from `ULASAN_WORKFLOW_BUNDLE` (written by `writeWorkflowBundle`). */
export function workflowBundle(): Promise<WorkflowBundle> {
  const prebuilt = process.env.ULASAN_WORKFLOW_BUNDLE;
  bundle ??= prebuilt ? readFile(prebuilt, 'utf8').then((code) => ({ code })) : bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  return bundle;
}

/** Bundles the workflows into a file that workers load with `ULASAN_WORKFLOW_BUNDLE` instead of bundling each. */
export async function writeWorkflowBundle(path: string): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  await writeFile(path, code);
}

/** Fails, naming the store and where its path came from, unless this process can create and write files in it. */
export async function assertWritableStore(root: string): Promise<void> {
  const source = process.env.ULASAN_HOME ? 'ULASAN_HOME' : 'the default ./.ulasan (ULASAN_HOME is unset)';
  const probe = join(root, `.write-probe-${process.pid}`);
  try {
    await mkdir(root, { recursive: true });
    await writeFile(probe, '');
    await rm(probe);
  } catch (err) {
    throw new UlasanError(
      'BadInput',
      `the worker cannot write its store ${root} (from ${source}): ${(err as Error).message}. ` +
        'Set ULASAN_HOME to a directory this worker can write and that the clients use too.',
      { file: root },
    );
  }
}

export async function runWorker(options: WorkerOptions): Promise<void> {
  const log = options.log ?? ((message: string) => console.error(message));
  const store = new ArtifactStore();
  await assertWritableStore(store.root);
  if (!process.env.ULASAN_HOME) log(`warning: ULASAN_HOME is unset: this worker uses ${store.root}; clients must use the same store.`);
  const concurrency = options.concurrency ?? defaultConcurrency(options.taskQueue);
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5_000;
  // Temporal's own format (<pid>@<host>): tests and operators find a worker's pollers by it.
  const identity = `${process.pid}@${hostname()}`;
  const pool = new ActivityPool(concurrency, store.root);
  const connection = await NativeConnection.connect({ address: options.address ?? process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
  try {
    const worker = await Worker.create({
      connection,
      identity,
      namespace: options.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue: options.taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createWorkerActivities(store, { pool, identity, heartbeatIntervalMs: heartbeatIntervalMs / 2 }),
      maxConcurrentActivityTaskExecutions: concurrency,
      maxHeartbeatThrottleInterval: heartbeatIntervalMs,
      defaultHeartbeatThrottleInterval: heartbeatIntervalMs,
    });
    const storeId = await store.id();
    const running = worker.run();
    log(`ulasan worker ready: queue ${options.taskQueue}, ${concurrency} activities at once, identity ${identity}, store ${store.root} (id ${storeId})`);
    await running;
  } finally {
    await pool.close();
    await connection.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runWorker({ taskQueue: process.env.ULASAN_TASK_QUEUE ?? 'ulasan' }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
