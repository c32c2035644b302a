/**
 * `ulasan worker` child processes (spawned and tracked by processes.ts) whose readiness is read from the
 * server: a worker is ready once the server lists it (by its identity, `<pid>@<host>`) as a poller of
 * its task queue, so readiness needs nothing from the worker's output.
 */
import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import { startUlasan, waitUntil, type UlasanProcess } from './processes';

/** TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY in Temporal's API (the proto enum is not a dependency of ours). */
const ACTIVITY_TASK_QUEUE = 2;

/** Whether the server lists a poller with this identity on the queue's activity tasks. */
async function pollsActivities(client: Client, queue: string, identity: string): Promise<boolean> {
  const response = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: queue },
    taskQueueType: ACTIVITY_TASK_QUEUE,
  });
  return (response.pollers ?? []).some((poller) => poller.identity === identity);
}

export interface WorkerChildOptions {
  client: Client;
  address: string;
  queue: string;
  /** ULASAN_HOME of the worker. */
  storeRoot: string;
  env?: NodeJS.ProcessEnv;
  /** Loading tsx and bundling the workflows take a while on a loaded machine. @default 180000 */
  readyTimeoutMs?: number;
}

/** Spawns `ulasan worker --queue <queue>` and resolves once it polls the queue for activity tasks. */
export async function startWorkerChild(options: WorkerChildOptions): Promise<UlasanProcess> {
  const worker = startUlasan(['worker', '--queue', options.queue], { TEMPORAL_ADDRESS: options.address, ULASAN_HOME: options.storeRoot, ...options.env });
  const identity = `${worker.child.pid}@${hostname()}`;
  let ended = false;
  void worker.exited.then(() => (ended = true));
  await waitUntil(
    `ulasan worker --queue ${options.queue} to poll`,
    async () => {
      if (ended) throw new Error(`ulasan worker --queue ${options.queue} exited before polling:\n${worker.output()}`);
      return (await pollsActivities(options.client, options.queue, identity)) || undefined;
    },
    options.readyTimeoutMs ?? 180_000,
    500,
  );
  return worker;
}
