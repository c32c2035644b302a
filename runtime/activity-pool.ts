/**
 * A pool of worker threads that run activities off the main thread. tfjs-wasm runs one thread per backend, so
 * parallel training needs separate threads, each loading its own backend; on a Temporal worker the main thread must
 * stay free to heartbeat and poll while CPU-bound stages run. Threads start on demand, up to `size`.
 *
 * A job may carry what Temporal gives the activity: the heartbeat details of an earlier attempt (`resume`), the
 * execution recorded in manifests, a cancellation signal and a heartbeat callback. Cancellation reaches the thread
 * through shared memory (an epoch never yields, so a message would wait for it): training checks it after every batch
 * and stops, cleaning up on its way out. A thread that does not stop within `CANCEL_GRACE_MS` is terminated.
 */
import { Worker } from 'node:worker_threads';
import { UlasanError, type FailureContext } from '../core/errors';
import type { Activities } from '../activities';
import type { Execution } from '../activities/context';
import type { FailureType } from '../core/failures';

export type ActivityName = keyof Activities;

export interface PoolJobOptions {
  /** Heartbeat details of an earlier attempt: training resumes from the checkpoint they name. */
  resume?: unknown;
  execution?: Execution;
  signal?: AbortSignal;
  onHeartbeat?: (details: unknown) => void;
  onWarn?: (message: string) => void;
}

/** What goes to a thread: the job, and the flag it reads to see a cancellation. */
export interface ThreadRequest {
  id: number;
  name: ActivityName;
  input: unknown;
  resume?: unknown;
  execution?: Execution;
  cancelFlag: SharedArrayBuffer;
}

export type ThreadReply =
  | { id: number; heartbeat: unknown }
  | { id: number; warn: string }
  | { id: number; result: unknown }
  | { id: number; error: { type?: FailureType; name: string; message: string; context?: FailureContext; cancelled?: boolean } };

interface Job extends PoolJobOptions {
  request: ThreadRequest;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

/** How long a cancelled job's thread may take to stop before it is terminated. */
const CANCEL_GRACE_MS = 5_000;

export class ActivityPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private threads = 0;
  private nextId = 0;

  constructor(
    readonly size: number,
    private readonly storeRoot: string,
  ) {}

  /** Runs one activity on the next free thread. */
  run<N extends ActivityName>(name: N, input: Parameters<Activities[N]>[0], options: PoolJobOptions = {}): ReturnType<Activities[N]> {
    return new Promise<unknown>((resolve, reject) => {
      if (options.signal?.aborted) return reject(options.signal.reason);
      const cancelFlag = new SharedArrayBuffer(4);
      const request: ThreadRequest = { id: this.nextId++, name, input, resume: options.resume, execution: options.execution, cancelFlag };
      const job: Job = { ...options, request, resolve, reject };
      options.signal?.addEventListener('abort', () => this.cancel(job), { once: true });
      this.queue.push(job);
      this.dispatch();
    }) as ReturnType<Activities[N]>;
  }

  private dispatch(): void {
    while (this.queue.length > 0 && (this.idle.length > 0 || this.threads < this.size)) {
      const worker = this.idle.pop() ?? this.startThread();
      const job = this.queue.shift()!;
      this.busy.set(worker, job);
      worker.postMessage(job.request);
    }
  }

  private startThread(): Worker {
    const boot = new URL('./thread-boot.mjs', import.meta.url);
    const entry = new URL('./activity-thread.ts', import.meta.url).href;
    const worker = new Worker(boot, { workerData: { entry, storeRoot: this.storeRoot } });
    worker.on('message', (reply: ThreadReply) => this.onReply(worker, reply));
    worker.on('error', (error) => this.retire(worker, error));
    worker.on('exit', () => this.retire(worker, new Error('activity thread exited')));
    this.threads++;
    return worker;
  }

  private onReply(worker: Worker, reply: ThreadReply): void {
    const job = this.busy.get(worker);
    if (!job || job.request.id !== reply.id) return;
    if ('heartbeat' in reply) return job.onHeartbeat?.(reply.heartbeat);
    if ('warn' in reply) return job.onWarn?.(reply.warn);
    this.busy.delete(worker);
    this.idle.push(worker);
    if ('result' in reply) job.resolve(reply.result);
    else if (reply.error.cancelled && job.signal?.aborted) job.reject(job.signal.reason);
    else job.reject(rebuildError(reply.error));
    this.dispatch();
  }

  /** A queued job leaves the queue; a running one is told through its flag, and its thread terminated if it does not stop. */
  private cancel(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      return job.reject(job.signal?.reason);
    }
    Atomics.store(new Int32Array(job.request.cancelFlag), 0, 1);
    const worker = [...this.busy].find(([, running]) => running === job)?.[0];
    if (!worker) return;
    setTimeout(() => {
      if (this.busy.get(worker) === job) void worker.terminate();
    }, CANCEL_GRACE_MS).unref();
  }

  /** A thread that died (terminated, crashed) fails its job and leaves the pool; the next job starts a new one. */
  private retire(worker: Worker, error: Error): void {
    const job = this.busy.get(worker);
    this.busy.delete(worker);
    const idle = this.idle.indexOf(worker);
    if (idle >= 0) this.idle.splice(idle, 1);
    if (job || idle >= 0) this.threads--;
    // A thread that died (out of memory, a crash) is a lost worker: worth another try, like a lost Temporal worker.
    if (job) job.reject(job.signal?.aborted ? job.signal.reason : new UlasanError('Transient', `${job.request.name} thread failed: ${error.message}`, {}, { cause: error }));
    this.dispatch();
  }

  async close(): Promise<void> {
    const workers = [...this.idle, ...this.busy.keys()];
    this.idle.length = 0;
    this.busy.clear();
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

function rebuildError(error: Extract<ThreadReply, { error: unknown }>['error']): Error {
  if (error.type) return new UlasanError(error.type, error.message, error.context ?? {});
  return Object.assign(new Error(error.message), { name: error.name });
}
