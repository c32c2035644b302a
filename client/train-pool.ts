/**
 * A pool of worker threads for training grid cells in parallel on one machine. tfjs-wasm runs one
 * thread per backend, so parallel cells need separate threads, each loading its own backend.
 */
import { Worker } from 'node:worker_threads';
import { UlasanError } from '../activities/errors';
import type { StageOutcome } from '../activities/context';
import type { TrainInput } from '../activities/train/train';
import type { FailureType } from '../workflows/plans/failures';

interface Job {
  id: number;
  input: TrainInput;
  resolve: (outcome: StageOutcome) => void;
  reject: (error: Error) => void;
}

type Reply = { id: number; outcome: StageOutcome } | { id: number; error: { type?: FailureType; message: string } };

export class TrainPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private nextId = 0;

  constructor(size: number, storeRoot: string) {
    const boot = new URL('./thread-boot.mjs', import.meta.url);
    const entry = new URL('./train-thread.ts', import.meta.url).href;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(boot, { workerData: { entry, storeRoot } });
      worker.on('message', (reply: Reply) => this.settle(worker, reply));
      // A thread that dies (out of memory, a crash) is a lost worker: worth another try, like Temporal's.
      worker.on('error', (error) => this.fail(worker, new UlasanError('Transient', `training thread failed: ${error.message}`, { stage: 'train' }, { cause: error })));
      this.idle.push(worker);
    }
  }

  /** Trains one cell on the next free thread. */
  train(input: TrainInput): Promise<StageOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, input, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.busy.set(worker, job);
      worker.postMessage({ id: job.id, input: job.input });
    }
  }

  private settle(worker: Worker, reply: Reply): void {
    const job = this.busy.get(worker);
    this.busy.delete(worker);
    this.idle.push(worker);
    if (job) {
      if ('outcome' in reply) job.resolve(reply.outcome);
      else job.reject(reply.error.type ? new UlasanError(reply.error.type, reply.error.message) : new Error(reply.error.message));
    }
    this.dispatch();
  }

  private fail(worker: Worker, error: Error): void {
    this.busy.get(worker)?.reject(error);
    this.busy.delete(worker);
  }

  async close(): Promise<void> {
    await Promise.all([...this.idle, ...this.busy.keys()].map((worker) => worker.terminate()));
  }
}
