/**
 * `ulasan worker` and other `ulasan` commands as child processes, for end-to-end tests against a
 * Temporal server: a worker is ready once the server lists it (by its identity, `<pid>@<host>`) as a
 * poller of its task queue, so readiness needs nothing from the worker's output. `stopAll()` kills
 * whatever a test file started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';

const BIN = fileURLToPath(new URL('../../client/bin.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildRun {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  stdout(): string;
  /** The exit code, or the signal that ended it. */
  exited: Promise<number | string>;
  /** Sends `signal` (default SIGKILL: no clean-up) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

const running = new Set<ChildRun>();

/** Starts `ulasan <args>` with `env` over this process's environment. */
export function spawnUlasan(args: string[], env: NodeJS.ProcessEnv): ChildRun {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const run: ChildRun = {
    child,
    output: () => output,
    stdout: () => stdout,
    exited,
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  running.add(run);
  void exited.then(() => running.delete(run));
  return run;
}

/** Polls `condition` until it gives a value; fails naming `what` after `timeoutMs`. */
export async function pollUntil<T>(what: string, condition: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

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
export async function startWorkerChild(options: WorkerChildOptions): Promise<ChildRun> {
  const worker = spawnUlasan(['worker', '--queue', options.queue], { TEMPORAL_ADDRESS: options.address, ULASAN_HOME: options.storeRoot, ...options.env });
  const identity = `${worker.child.pid}@${hostname()}`;
  let ended = false;
  void worker.exited.then(() => (ended = true));
  await pollUntil(
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

/** Kills (SIGKILL) every child started here that still runs. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((run) => run.kill('SIGKILL')));
}
