/** A Temporal worker for every pipeline activity and workflow. */
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { ArtifactStore } from '../data/store/artifact-store';
import { createWorkerActivities } from './activities';

export interface WorkerOptions {
  taskQueue: string;
  /** Activities executed at once (1 on a GPU host: one model per GPU). @default Temporal's default */
  concurrency?: number;
  address?: string;
  namespace?: string;
}

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export async function runWorker(options: WorkerOptions): Promise<void> {
  const connection = await NativeConnection.connect({ address: options.address ?? process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
  try {
    const store = new ArtifactStore();
    const identity = `${process.pid}@${hostname()}`;
    const worker = await Worker.create({
      connection,
      identity,
      namespace: options.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue: options.taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createWorkerActivities(store, identity),
      ...(options.concurrency ? { maxConcurrentActivityTaskExecutions: options.concurrency } : {}),
    });
    const storeId = await store.id();
    const running = worker.run();
    console.error(`ulasan worker ready: queue ${options.taskQueue}, identity ${identity}, store ${store.root} (id ${storeId})`);
    await running;
  } finally {
    await connection.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runWorker({ taskQueue: process.env.ULASAN_TASK_QUEUE ?? 'ulasan' }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
