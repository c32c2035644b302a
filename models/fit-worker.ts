/**
 * A data-parallel training worker (see parallel-fit.ts): one model replica, its optimizer, and one share of every
 * batch. Started by `startWorkerRunner`; talks to it with ToWorker / FromWorker messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../kernels/backend';
import { setDropoutStep } from './fused-layers';
import { barrier, type FromWorker, type ToWorker, type WorkerInit } from './parallel-fit';
import { loadModel } from './model-io';
import {
  captureOptimizer,
  checkFinite,
  classWeights,
  createOptimizer,
  epochOrder,
  gatherRows,
  lossOf,
  modelShape,
  regularizationLosses,
  restoreOptimizer,
  setLearningRate,
  type ModelShape,
  type Optimizer,
} from './train-step';

class ShardTrainer {
  private readonly variables: tf.Variable[];
  private readonly offsets: number[];
  private readonly params: number;
  private readonly slots: Float32Array;
  private readonly control: Int32Array;
  private readonly shape: ModelShape;
  private readonly weights: Float32Array | undefined;

  constructor(
    private readonly model: tf.LayersModel,
    private readonly optimizer: Optimizer,
    private readonly init: WorkerInit,
  ) {
    this.variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.offsets = [];
    let at = 0;
    for (const v of this.variables) {
      this.offsets.push(at);
      at += v.size;
    }
    this.params = at;
    this.slots = new Float32Array(init.grads);
    this.control = new Int32Array(init.control);
    this.shape = modelShape(model);
    this.weights = classWeights(init.opts.classWeight, init.yTrain, this.shape.nClasses);
  }

  /** Trains one epoch; returns this worker's share of Σ (per-row loss). */
  epoch(epoch: number, learningRate: number): number {
    const { opts, index, threads, yTrain } = this.init;
    setLearningRate(this.optimizer, learningRate);
    const order = epochOrder(opts.seed, epoch, yTrain.length);
    const batches = Math.ceil(yTrain.length / opts.batchSize);
    let lossSum = 0;
    for (let k = 0; k < batches; k++) {
      const rows = order.slice(k * opts.batchSize, (k + 1) * opts.batchSize);
      const share = rows.slice(Math.floor((index * rows.length) / threads), Math.floor(((index + 1) * rows.length) / threads));
      setDropoutStep(this.model, (epoch * batches + k) * threads + index);
      lossSum += this.writeGradients(share, rows.length) * rows.length;
      barrier(this.control, threads);
      this.applySummedGradients();
      barrier(this.control, threads);
    }
    return lossSum;
  }

  /** Writes d(share loss)/dθ to this worker's slot; returns the share's contribution to the batch-mean loss. */
  private writeGradients(share: number[], batchRows: number): number {
    const { index, xTrain, yTrain } = this.init;
    const slot = this.slots.subarray(index * this.params, (index + 1) * this.params);
    const penalties = index === 0;
    if (share.length === 0 && !penalties) {
      slot.fill(0);
      return 0;
    }
    const labels = Int32Array.from(share, (r) => yTrain[r] as number);
    const sampleWeights = this.weights && Float32Array.from(labels, (label) => this.weights?.[label] as number);
    const x = gatherRows(xTrain, share, this.shape.seqLen);
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        let total: tf.Scalar = tf.scalar(0);
        if (share.length > 0) {
          const output = this.model.apply(tf.tensor2d(x, [share.length, this.shape.seqLen], 'int32'), { training: true });
          total = lossOf(output as tf.Tensor, labels, this.shape, sampleWeights, batchRows);
        }
        // The L2 penalty belongs to the batch, not to each share: only worker 0 adds it.
        if (penalties) for (const penalty of regularizationLosses(this.model, this.init.opts.weightDecay)) total = tf.add(total, penalty);
        return total;
      }, this.variables);
      this.variables.forEach((v, j) => {
        const grad = grads[v.name];
        const target = slot.subarray(this.offsets[j], (this.offsets[j] as number) + v.size);
        if (grad === undefined) target.fill(0);
        else target.set(grad.dataSync() as Float32Array);
      });
      return checkFinite(value.dataSync()[0] as number);
    });
  }

  /** Σ over slots in slot order (the same in every worker, on the backend: wasm adds with SIMD), then one step. */
  private applySummedGradients(): void {
    const { threads } = this.init;
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      this.variables.forEach((v, j) => {
        const offset = this.offsets[j] as number;
        const slot = (t: number) => tf.tensor(this.slots.subarray(t * this.params + offset, t * this.params + offset + v.size), v.shape);
        let sum = slot(0);
        for (let t = 1; t < threads; t++) sum = tf.add(sum, slot(t));
        named[v.name] = sum;
      });
      this.optimizer.applyGradients(named);
    });
  }
}

async function start(init: WorkerInit): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('fit-worker must run in a worker thread');
  const send = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  try {
    await selectBackend(init.backend, { env: {} });
    const model = await loadModel(init.model);
    const optimizer = await createOptimizer(init.opts.optimizer, init.opts.learningRate);
    if (init.optimizerState) await restoreOptimizer(optimizer, init.optimizerState);
    const trainer = new ShardTrainer(model, optimizer, init);
    port.on('message', (message: ToWorker) => {
      handle(message).catch((err: unknown) => fail(err));
    });
    const handle = async (message: ToWorker): Promise<void> => {
      switch (message.type) {
        case 'epoch': {
          const lossSum = trainer.epoch(message.epoch, message.learningRate);
          if (init.index !== 0) return send({ type: 'epoch', lossSum });
          const weights = model.getWeights().map((w) => (w.dataSync() as Float32Array).slice()); // copies: they are transferred
          return send({ type: 'epoch', lossSum, weights }, weights.map((w) => w.buffer as ArrayBuffer));
        }
        case 'optimizer':
          return send({ type: 'optimizer', state: await captureOptimizer(optimizer) });
        case 'close':
          model.dispose();
          optimizer.dispose();
          return send({ type: 'closed' });
      }
    };
    send({ type: 'ready' });
  } catch (err) {
    fail(err);
  }

  function fail(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    send({ type: 'error', message: `training worker ${init.index}: ${error.message}`, stack: error.stack });
  }
}

void start(workerData as WorkerInit);
