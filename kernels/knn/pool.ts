/**
 * Worker threads for the dense kNN scan, behind a synchronous call.
 *
 * The workers instantiate the same SIMD module on the same shared WebAssembly memory and run
 * `scanDenseTiles` from its source text (`eval: true`), so this works the same under tsx, vitest
 * and compiled JavaScript. The calling thread posts one job per worker, scans its own share, then
 * blocks in `Atomics.wait` until every worker has counted itself done: the resamplers stay
 * synchronous and pure. Workers are unref'd, so an idle pool never keeps the process alive.
 */
import { Worker } from 'node:worker_threads';
import { UlasanError } from '../../core/errors';
import { type DenseScanArrays, type DenseScanJob, scanDenseTiles } from './scan';
import type { Kernels } from './simd';

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
var __name = (fn) => fn;
const scanDenseTiles = ${scanDenseTiles.toString()};
const { module, memory } = workerData;
const { exports } = new WebAssembly.Instance(module, { env: { mem: memory } });
parentPort.on('message', ({ job, arrays, control, errors }) => {
  try {
    scanDenseTiles(job, arrays, exports.gram, exports.filter, memory.buffer);
  } catch (error) {
    const text = new TextEncoder().encode(String((error && error.stack) || error));
    errors.set(text.subarray(0, errors.length));
    Atomics.store(control, 1, 1);
  }
  Atomics.add(control, 0, 1);
  Atomics.notify(control, 0);
});
`;

/** A worker that made no progress for this long is taken for dead. */
const STALL_MS = 120_000;

export class ScanPool {
  private readonly workers: Worker[];

  constructor(
    readonly kernels: Kernels,
    size: number,
  ) {
    if (!kernels.shared || !kernels.module) throw new RangeError('ScanPool needs SIMD kernels on shared memory');
    this.workers = Array.from({ length: size }, () => {
      const workerData = { module: kernels.module, memory: kernels.memory };
      const worker = new Worker(workerSource, { eval: true, workerData });
      worker.unref();
      return worker;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** Runs jobs[0] on this thread and jobs[1..] on workers; returns when all are done. */
  run(jobs: DenseScanJob[], arrays: Omit<DenseScanArrays, 'progress'>): void {
    if (jobs.length - 1 > this.workers.length) {
      throw new RangeError(`ScanPool has ${this.workers.length} workers, got ${jobs.length - 1} jobs`);
    }
    const control = new Int32Array(new SharedArrayBuffer(8));
    const progress = new Int32Array(new SharedArrayBuffer(4));
    const errors = new Uint8Array(new SharedArrayBuffer(4096));
    const shared = { ...arrays, progress };
    jobs.slice(1).forEach((job, i) => this.workers[i]?.postMessage({ job, arrays: shared, control, errors }));
    const first = jobs[0];
    const { gram, filter, memory } = this.kernels;
    if (first) scanDenseTiles(first, { ...arrays, progress: null }, gram, filter, memory.buffer);
    this.waitFor(control, progress, jobs.length - 1);
    if (Atomics.load(control, 1) !== 0) {
      const text = new TextDecoder().decode(errors.slice()).replace(/\0+$/, '');
      throw new UlasanError('Internal', `A kNN worker thread failed: ${text}`, { stage: 'resample' });
    }
  }

  private waitFor(control: Int32Array, progress: Int32Array, expected: number): void {
    let lastSeen = -1;
    let lastChange = Date.now();
    for (;;) {
      const done = Atomics.load(control, 0);
      if (done >= expected) return;
      const seen = done * 1_000_000 + Atomics.load(progress, 0);
      if (seen !== lastSeen) {
        lastSeen = seen;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > STALL_MS) {
        const message = `kNN worker threads made no progress for ${STALL_MS / 1000} s (${done}/${expected} done).`;
        throw new UlasanError('Internal', message, { stage: 'resample' });
      }
      Atomics.wait(control, 0, done, 500);
    }
  }

  close(): Promise<number[]> {
    return Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
