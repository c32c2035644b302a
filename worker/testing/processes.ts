/**
 * Real `ulasan` processes for end-to-end tests against a Temporal server: `ulasan worker` children
 * (spawn, wait until they poll, kill -9, stop) and CLI commands (`ulasan run ... --temporal`) run to
 * completion or in the background. Every process a test starts is tracked, so `stopAll()` in an
 * `afterEach`/`afterAll` leaves nothing running. Waits poll for a condition with a bounded timeout
 * instead of sleeping a fixed time, so the tests hold on a loaded 2-core machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../client/bin.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Printed by `ulasan worker` once it polls its task queue (worker/main.ts). */
export const WORKER_READY = /^ulasan worker ready: /m;

export interface UlasanProcess {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** stdout alone (where `--json` prints its summary). */
  stdout(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string>;
  /** Waits until the output matches `pattern`; fails, with the output, after `timeoutMs` or when the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends a signal (default SIGKILL: the worker gets no chance to clean up) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

const running = new Set<UlasanProcess>();

/** Starts `node client/bin.js <args>` with `env` on top of this process's environment. */
export function startUlasan(args: string[], env: NodeJS.ProcessEnv = {}): UlasanProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stdout = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    append(chunk);
  });
  child.stderr!.on('data', append);
  const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  let ended = false;
  const proc: UlasanProcess = {
    child,
    output: () => output,
    stdout: () => stdout,
    exited,
    waitForOutput(pattern, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match) return done(() => resolve(match));
          if (ended) done(() => reject(new Error(`ulasan ${args.join(' ')} exited before printing ${pattern}:\n${output}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${pattern} from ulasan ${args.join(' ')} within ${timeoutMs} ms:\n${output}`))), timeoutMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal = 'SIGKILL') {
      if (!ended) child.kill(signal);
      return exited;
    },
  };
  void exited.then(() => {
    ended = true;
    running.delete(proc);
    for (const listener of listeners) listener();
  });
  running.add(proc);
  return proc;
}

export interface WorkerProcessOptions {
  address: string;
  queue: string;
  /** The store the worker writes (ULASAN_HOME). */
  storeRoot: string;
  /** Extra `ulasan worker` flags, e.g. ['--concurrency', '1']. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long it may take to connect and start polling (loading tsx and the bundle). @default 120 s */
  readyTimeoutMs?: number;
}

/** Spawns `ulasan worker --queue <queue>` and resolves once it polls its queue. */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<UlasanProcess> {
  const worker = startUlasan(['worker', '--queue', options.queue, ...(options.args ?? [])], {
    TEMPORAL_ADDRESS: options.address,
    ULASAN_HOME: options.storeRoot,
    ...options.env,
  });
  await worker.waitForOutput(WORKER_READY, options.readyTimeoutMs ?? 120_000);
  return worker;
}

export interface CliResult {
  code: number | string;
  stdout: string;
  output: string;
}

/** Runs `ulasan <args>` to completion (bounded by `timeoutMs`, then killed) and returns its exit code and output. */
export async function runUlasan(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 300_000): Promise<CliResult> {
  const proc = startUlasan(args, env);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  try {
    const code = await proc.exited;
    return { code, stdout: proc.stdout(), output: proc.output() };
  } finally {
    clearTimeout(timer);
  }
}

/** The JSON object `--json` prints as the last line of stdout. */
export function lastJsonLine<T>(stdout: string): T {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as T;
}

/** Polls `condition` until it returns a value other than undefined/false; fails naming `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, condition: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 120_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Kills (SIGKILL) every process started here that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((proc) => proc.kill('SIGKILL')));
}
