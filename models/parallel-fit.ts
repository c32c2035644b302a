/**
 * Data-parallel training in worker threads (the `threads` fit option).
 *
 * Every worker loads a replica of the model and its own optimizer. For each batch (the same seeded order in every
 * worker), worker i computes the gradient of its share of the rows, scaled so that the shares sum to the batch
 * mean, and writes it to its slot of a SharedArrayBuffer. After a barrier each worker sums the slots in slot order
 * and applies the same update, so the replicas stay bit-identical without ever sending weights; after another
 * barrier the slots are free for the next batch. Worker 0 sends its weights back after every epoch, so the caller's
 * model is current for validation, hooks and checkpoints.
 *
 * Why workers: the wasm backend is single-threaded in Node, and its matmul (~20 GFLOP/s) bounds one thread.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { UlasanError } from '../core/errors';
import type { EpochRunner, ResolvedFitOptions, RunnerSetup } from './fit';
import { serializeModel, type SerializedModel } from './model-io';
import type { OptimizerState } from './train-step';

/** What each worker starts with. */
export interface WorkerInit {
  index: number;
  threads: number;
  /** tfjs backend to start in the worker: the caller's. */
  backend: 'wasm' | 'cpu' | 'tfjs-node';
  model: SerializedModel;
  xTrain: Int32Array;
  yTrain: Int32Array;
  opts: ResolvedFitOptions;
  /** threads × (trainable parameter count) float32 gradient slots. */
  grads: SharedArrayBuffer;
  /** Int32 [arrived, generation, aborted]. */
  control: SharedArrayBuffer;
  optimizerState?: OptimizerState;
}

export type ToWorker = { type: 'epoch'; epoch: number; learningRate: number } | { type: 'optimizer' } | { type: 'close' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'epoch'; lossSum: number; weights?: Float32Array[] }
  | { type: 'optimizer'; state: OptimizerState }
  | { type: 'closed' }
  | { type: 'error'; message: string; stack?: string };

const ARRIVED = 0;
const GENERATION = 1;
const ABORTED = 2;

/**
 * Waits until all `parties` threads arrive. Throws if another thread failed (the main thread sets ABORTED), so a
 * failing worker never leaves the others blocked.
 */
export function barrier(control: Int32Array, parties: number): void {
  const generation = Atomics.load(control, GENERATION);
  if (Atomics.add(control, ARRIVED, 1) === parties - 1) {
    Atomics.store(control, ARRIVED, 0);
    Atomics.add(control, GENERATION, 1);
    Atomics.notify(control, GENERATION);
    return;
  }
  while (Atomics.load(control, GENERATION) === generation) {
    if (Atomics.load(control, ABORTED) !== 0) throw new Error('another training thread failed');
    Atomics.wait(control, GENERATION, generation, 500);
  }
}

function abort(control: Int32Array): void {
  Atomics.store(control, ABORTED, 1);
  Atomics.notify(control, GENERATION);
}

/** The worker entry: TypeScript under tsx/vitest (registering tsx's loader first), JavaScript when compiled. */
function workerSource(): string {
  const typescript = import.meta.url.endsWith('.ts');
  const entry = new URL(typescript ? './fit-worker.ts' : './fit-worker.js', import.meta.url).href;
  if (!typescript) return `import(${JSON.stringify(entry)});`;
  // The ESM build of tsx's API (its CommonJS build cannot register the loader from an eval'd worker).
  const tsxRoot = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsx = pathToFileURL(join(tsxRoot, 'dist', 'esm', 'api', 'index.mjs')).href;
  return `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
}

function backendName(): WorkerInit['backend'] {
  const name = tf.getBackend();
  if (name === 'wasm' || name === 'cpu') return name;
  if (name === 'tensorflow') return 'tfjs-node';
  throw new Error(`data-parallel training does not support the '${name}' backend; use threads: 1`);
}

function shared<T extends Int32Array>(values: T): Int32Array {
  const copy = new Int32Array(new SharedArrayBuffer(values.byteLength));
  copy.set(values);
  return copy;
}

/** One worker with at most one request in flight. */
class Replica {
  private pending: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(
    readonly worker: Worker,
    private readonly onFailure: (err: Error) => void,
  ) {
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'error') this.fail(Object.assign(new Error(message.message), { stack: message.stack }));
      else this.settle(message);
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new UlasanError('Transient', `training worker exited with code ${code} (a lost thread: retried)`, { stage: 'train' })));
  }

  /** Resolves with the next message (the first one is 'ready'). */
  next(): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
  }

  request(message: ToWorker): Promise<FromWorker> {
    const reply = this.next();
    this.worker.postMessage(message);
    return reply;
  }

  private settle(message: FromWorker): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve(message);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
    this.onFailure(err);
  }
}

/** Starts `opts.threads` workers on replicas of `model`; resolves once all are ready. */
export async function startWorkerRunner(model: tf.LayersModel, setup: RunnerSetup): Promise<EpochRunner> {
  const { data, opts, optimizerState } = setup;
  const threads = opts.threads;
  const params = model.trainableWeights.reduce((n, w) => n + w.shape.reduce((s: number, d) => s * (d ?? 1), 1), 0);
  const control = new Int32Array(new SharedArrayBuffer(4 * 4));
  const base = {
    threads,
    backend: backendName(),
    model: await serializeModel(model),
    xTrain: shared(data.xTrain),
    yTrain: shared(data.yTrain),
    opts,
    grads: new SharedArrayBuffer(threads * params * 4),
    control: control.buffer as SharedArrayBuffer,
    optimizerState,
  };
  const source = workerSource();
  const replicas = Array.from({ length: threads }, (_, index) => {
    const workerData: WorkerInit = { ...base, index };
    return new Replica(new Worker(source, { eval: true, workerData }), () => abort(control));
  });
  const all = (message: ToWorker) => Promise.all(replicas.map((r) => r.request(message)));
  const closeAll = async () => {
    await Promise.allSettled(replicas.map((r) => r.request({ type: 'close' })));
    await Promise.all(replicas.map((r) => r.worker.terminate()));
  };
  try {
    await Promise.all(replicas.map((r) => r.next()));
  } catch (err) {
    abort(control);
    await closeAll();
    throw err;
  }
  return {
    async trainEpoch(epoch, learningRate) {
      const replies = await all({ type: 'epoch', epoch, learningRate });
      let lossSum = 0;
      for (const reply of replies) if (reply.type === 'epoch') lossSum += reply.lossSum;
      const first = replies[0];
      if (first?.type !== 'epoch' || first.weights === undefined) throw new Error('worker 0 sent no weights');
      const weights = first.weights;
      const tensors = model.weights.map((w, i) => tf.tensor(weights[i] as Float32Array, w.shape as number[]));
      try {
        model.setWeights(tensors);
      } finally {
        tf.dispose(tensors);
      }
      return lossSum / data.yTrain.length;
    },
    async optimizerState() {
      const reply = await (replicas[0] as Replica).request({ type: 'optimizer' });
      if (reply.type !== 'optimizer') throw new Error(`expected optimizer state, got '${reply.type}'`);
      return reply.state;
    },
    close: closeAll,
  };
}
