/**
 * Seeded, resumable training of the models from models/builders.ts, plus prediction.
 *
 * Determinism: batches are shuffled here with an Rng derived from (seed, epoch), never by tfjs `fit`'s unseeded
 * shuffle; dropout masks derive from (layer seed, global step); initial weights from the build seed. So a run that
 * resumes from the checkpoint of epoch k (weights, optimizer slots, scheduler state) replays the remaining epochs
 * exactly as an uninterrupted run would.
 *
 * `threads > 1` trains data-parallel in worker threads (parallel-fit.ts): each computes the gradient of its share of
 * every batch, the shares are summed in a fixed order, and every replica applies the same update. Results are then
 * deterministic for a given thread count, but differ in rounding (and dropout masks) from a one-thread run.
 *
 * Memory: the optimizer lives and dies inside `fitModel`, every batch runs in a tidy, and a fit that throws (a hook,
 * bad data) releases what it allocated before rethrowing.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from '../data/zod';
import { badInput } from '../core/errors';
import { scoreTokenIds } from './token-scores';
import { setDropoutStep } from './fused-layers';
import { startWorkerRunner } from './parallel-fit';
import { loadModel, serializeModel, type SerializedModel } from './model-io';
import {
  captureOptimizer,
  checkFinite,
  classWeights,
  createOptimizer,
  epochOrder,
  EPSILON,
  gatherRows,
  lossOf,
  modelShape,
  regularizationLosses,
  restoreOptimizer,
  setLearningRate,
  type ModelShape,
  type Optimizer,
  type OptimizerState,
} from './train-step';

export { loadModel, serializeModel, type SerializedModel } from './model-io';
export { regularizationLosses, type OptimizerState } from './train-step';

const MonitorSchema = z.enum(['val_loss', 'val_macro_f1']);
export type Monitor = z.infer<typeof MonitorSchema>;

export const FitOptionsSchema = z.object({
  /** @default 'adam' */
  optimizer: z.enum(['adam', 'adagrad', 'rmsprop', 'sgd']).default('adam'),
  /** @default 0.001 */
  learningRate: z.number().positive().default(1e-3),
  /** @default 32 */
  batchSize: z.number().int().positive().default(32),
  /** Total epochs, counting those done before a resume. @default 10 */
  epochs: z.number().int().positive().default(10),
  /** Seeds shuffling (dropout and initial weights are seeded at build time). @default 42 */
  seed: z.number().int().default(42),
  /** Per-class loss weights: 'balanced' (n / (classes · count)) or one weight per class. @default none */
  classWeight: z.union([z.literal('balanced'), z.array(z.number().positive())]).optional(),
  /** Stop when the monitored validation metric stops improving. Needs validation data. @default off */
  earlyStopping: z
    .object({
      /** @default 'val_loss' */
      monitor: MonitorSchema.default('val_loss'),
      /** Epochs without improvement before stopping. @default 3 */
      patience: z.number().int().nonnegative().default(3),
      /** Smallest change that counts as improvement. @default 0 */
      minDelta: z.number().nonnegative().default(0),
      /** Put back the weights of the best epoch when stopping or finishing. @default false */
      restoreBestWeights: z.boolean().default(false),
    })
    .optional(),
  /** Multiply the learning rate by `factor` when the metric plateaus. Needs validation data. @default off */
  reduceLrOnPlateau: z
    .object({
      /** @default 'val_loss' */
      monitor: MonitorSchema.default('val_loss'),
      /** @default 0.1 */
      factor: z.number().gt(0).lt(1).default(0.1),
      /** @default 2 */
      patience: z.number().int().nonnegative().default(2),
      /** @default 0.000001 */
      minLr: z.number().nonnegative().default(1e-6),
    })
    .optional(),
  /** Data-parallel worker threads; 1 trains in this thread. @default 1 */
  threads: z.number().int().positive().max(64).default(1),
  /** PyTorch-style (coupled) weight decay: adds decay·w to every trainable weight's gradient. @default none */
  weightDecay: z.number().positive().optional(),
});

export type FitOptions = z.input<typeof FitOptionsSchema>;
export type ResolvedFitOptions = z.output<typeof FitOptionsSchema>;

/** Token ids row-major (rows × seqLen) and class indices; validation data is optional. */
export interface TrainingData {
  xTrain: Int32Array;
  yTrain: Int32Array;
  xVal?: Int32Array;
  yVal?: Int32Array;
}

export interface EpochLogs {
  epoch: number;
  loss: number;
  valLoss?: number;
  valMacroF1?: number;
  valAccuracy?: number;
  learningRate: number;
  durationMs: number;
}

/** Early-stopping and LR-plateau bookkeeping; JSON-safe. */
export interface TrainerState {
  /** The next epoch to run (= epochs completed). */
  nextEpoch: number;
  learningRate: number;
  history: EpochLogs[];
  early: { best: number | null; bestEpoch: number | null; wait: number };
  plateau: { best: number | null; wait: number };
  stopped: boolean;
}

export interface FitCheckpoint {
  /** Epochs completed: a resumed fit starts here. */
  epoch: number;
  state: TrainerState;
  model: SerializedModel;
  optimizer: OptimizerState;
}

export interface FitHooks {
  /**
   * After each epoch (0-based), before early stopping may end the fit. `checkpoint()` captures everything a
   * resumed fit needs; the train activity stores it and heartbeats its key.
   */
  onEpochEnd?: (epoch: number, logs: EpochLogs, model: tf.LayersModel, checkpoint: () => Promise<FitCheckpoint>) => Promise<void>;
  /**
   * After each batch (0-based) of a one-thread fit, synchronously: an epoch never yields, so this is where the train
   * activity heartbeats its progress and sees a cancellation (by throwing). Data-parallel fits only call onEpochEnd.
   */
  onBatchEnd?: (epoch: number, batch: number, batches: number) => void;
}

export interface FitResult {
  history: EpochLogs[];
  epochsRun: number;
  stoppedEarly: boolean;
  /** Best epoch by the early-stopping monitor, when early stopping is on. */
  bestEpoch?: number;
  finalLearningRate: number;
}

/** Runs training epochs on the model's weights, here or in workers. */
export interface EpochRunner {
  /** Trains one epoch at this learning rate; returns the mean training loss. The model holds the new weights. */
  trainEpoch(epoch: number, learningRate: number): Promise<number>;
  optimizerState(): Promise<OptimizerState>;
  close(): Promise<void>;
}

/** What a runner needs besides the model. */
export interface RunnerSetup {
  data: TrainingData;
  opts: ResolvedFitOptions;
  shape: ModelShape;
  optimizerState?: OptimizerState;
}

/**
 * Trains `model` in place. With `resume` (a checkpoint from an earlier attempt) the model's weights, the optimizer
 * state and the schedulers are restored and training continues at `resume.epoch`.
 */
export async function fitModel(
  model: tf.LayersModel,
  data: TrainingData,
  options: FitOptions = {},
  hooks: FitHooks = {},
  resume?: FitCheckpoint,
): Promise<FitResult> {
  const opts = FitOptionsSchema.parse(options);
  const shape = modelShape(model);
  checkData(data, shape);
  if ((opts.earlyStopping || opts.reduceLrOnPlateau) && data.xVal === undefined) {
    throw badInput('early stopping and reduce-LR-on-plateau need validation data (xVal, yVal)', { stage: 'train' });
  }
  if (resume) await restoreWeights(model, resume.model);
  const state = resume ? structuredClone(resume.state) : initialState(opts.learningRate);
  const setup: RunnerSetup = { data, opts, shape, optimizerState: resume?.optimizer };
  const runner = opts.threads > 1 ? await startWorkerRunner(model, setup) : await LocalRunner.start(model, setup, hooks.onBatchEnd);
  let best: tf.Tensor[] | undefined;
  try {
    while (state.nextEpoch < opts.epochs && !state.stopped) {
      const epoch = state.nextEpoch;
      const started = performance.now();
      const loss = await runner.trainEpoch(epoch, state.learningRate);
      const logs: EpochLogs = { epoch, loss, learningRate: state.learningRate, durationMs: 0 };
      if (data.xVal !== undefined && data.yVal !== undefined) {
        Object.assign(logs, validate(model, data.xVal, data.yVal, shape, opts.batchSize));
      }
      logs.durationMs = performance.now() - started;
      state.history.push(logs);
      state.nextEpoch = epoch + 1;
      if (updateEarlyStopping(state, logs, opts) && opts.earlyStopping?.restoreBestWeights) {
        tf.dispose(best);
        best = model.getWeights().map((w) => tf.keep(w.clone()));
      }
      updatePlateau(state, logs, opts);
      const checkpoint = async (): Promise<FitCheckpoint> => ({
        epoch: state.nextEpoch,
        state: structuredClone(state),
        model: await serializeModel(model),
        optimizer: await runner.optimizerState(),
      });
      await hooks.onEpochEnd?.(epoch, logs, model, checkpoint);
    }
    if (best !== undefined) model.setWeights(best);
    return {
      history: state.history,
      epochsRun: state.history.length,
      stoppedEarly: state.stopped,
      bestEpoch: state.early.bestEpoch ?? undefined,
      finalLearningRate: state.learningRate,
    };
  } finally {
    tf.dispose(best);
    await runner.close();
  }
}

function checkData(data: TrainingData, { seqLen, nClasses }: ModelShape): void {
  checkSplit('train', data.xTrain, data.yTrain, seqLen, nClasses);
  if (data.yTrain.length === 0) throw badInput('the training split is empty', { stage: 'train', field: 'yTrain' });
  if ((data.xVal === undefined) !== (data.yVal === undefined)) {
    throw badInput('give both xVal and yVal, or neither', { stage: 'train', field: data.xVal ? 'yVal' : 'xVal' });
  }
  if (data.xVal !== undefined && data.yVal !== undefined) checkSplit('val', data.xVal, data.yVal, seqLen, nClasses);
}

function checkSplit(split: string, x: Int32Array, y: Int32Array, seqLen: number, nClasses: number): void {
  if (x.length !== y.length * seqLen) {
    throw badInput(
      `x${split} has ${x.length} token ids but y${split} has ${y.length} labels: expected ${y.length} × ${seqLen}`,
      { stage: 'train', field: `x${split}` },
    );
  }
  const bad = y.findIndex((label) => !(label >= 0 && label < nClasses));
  if (bad >= 0) {
    throw badInput(`y${split}[${bad}] = ${y[bad]} is not a class index in [0, ${nClasses})`, {
      stage: 'train',
      row: bad,
      field: `y${split}`,
    });
  }
}

async function restoreWeights(model: tf.LayersModel, serialized: SerializedModel): Promise<void> {
  const saved = await loadModel(serialized);
  try {
    model.setWeights(saved.getWeights());
  } finally {
    saved.dispose();
  }
}

function initialState(learningRate: number): TrainerState {
  return {
    nextEpoch: 0,
    learningRate,
    history: [],
    early: { best: null, bestEpoch: null, wait: 0 },
    plateau: { best: null, wait: 0 },
    stopped: false,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Training in this thread

class LocalRunner implements EpochRunner {
  private readonly variables: tf.Variable[];
  private readonly weights: Float32Array | undefined;
  private readonly batches: number;

  private constructor(
    private readonly model: tf.LayersModel,
    private readonly optimizer: Optimizer,
    private readonly setup: RunnerSetup,
    private readonly onBatchEnd: FitHooks['onBatchEnd'],
  ) {
    const { data, opts, shape } = setup;
    this.variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.weights = classWeights(opts.classWeight, data.yTrain, shape.nClasses);
    this.batches = Math.ceil(data.yTrain.length / opts.batchSize);
  }

  static async start(model: tf.LayersModel, setup: RunnerSetup, onBatchEnd?: FitHooks['onBatchEnd']): Promise<LocalRunner> {
    const optimizer = await createOptimizer(setup.opts.optimizer, setup.opts.learningRate);
    try {
      if (setup.optimizerState) await restoreOptimizer(optimizer, setup.optimizerState);
      return new LocalRunner(model, optimizer, setup, onBatchEnd);
    } catch (err) {
      optimizer.dispose();
      throw err;
    }
  }

  async trainEpoch(epoch: number, learningRate: number): Promise<number> {
    const { data, opts } = this.setup;
    setLearningRate(this.optimizer, learningRate);
    const order = epochOrder(opts.seed, epoch, data.yTrain.length);
    let lossSum = 0;
    for (let k = 0; k < this.batches; k++) {
      const rows = order.slice(k * opts.batchSize, (k + 1) * opts.batchSize);
      setDropoutStep(this.model, epoch * this.batches + k);
      lossSum += this.step(rows) * rows.length;
      this.onBatchEnd?.(epoch, k, this.batches);
    }
    return lossSum / data.yTrain.length;
  }

  optimizerState(): Promise<OptimizerState> {
    return captureOptimizer(this.optimizer);
  }

  async close(): Promise<void> {
    this.optimizer.dispose();
  }

  private step(rows: number[]): number {
    const { data, shape } = this.setup;
    const x = gatherRows(data.xTrain, rows, shape.seqLen);
    const labels = Int32Array.from(rows, (r) => data.yTrain[r] as number);
    const sampleWeights = this.weights && Float32Array.from(labels, (label) => this.weights?.[label] as number);
    const loss: tf.Scalar = tf.tidy(() => {
      const xs = tf.tensor2d(x, [rows.length, shape.seqLen], 'int32');
      const value = this.optimizer.minimize(
        () => {
          const output = this.model.apply(xs, { training: true }) as tf.Tensor;
          let total = lossOf(output, labels, shape, sampleWeights);
          for (const penalty of regularizationLosses(this.model, this.setup.opts.weightDecay)) total = tf.add(total, penalty);
          return total as tf.Scalar;
        },
        true,
        this.variables,
      );
      if (value === null) throw new Error('optimizer.minimize returned no loss');
      return value;
    });
    try {
      return checkFinite(loss.dataSync()[0] as number);
    } finally {
      loss.dispose();
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Validation, schedulers

function validate(
  model: tf.LayersModel,
  x: Int32Array,
  y: Int32Array,
  shape: ModelShape,
  batchSize: number,
): Pick<EpochLogs, 'valLoss' | 'valMacroF1' | 'valAccuracy'> {
  const { labels: classes, scores: probabilities } = scoreTokenIds(model, x, y.length, shape.seqLen, batchSize);
  let loss = 0;
  for (let i = 0; i < y.length; i++) {
    // float32, as the model gives it (a binary head's 1 − p too): the recorded losses stay bit for bit.
    const p = Math.fround(probabilities[i * shape.nClasses + (y[i] as number)] as number);
    loss -= Math.log(Math.min(Math.max(p, EPSILON), 1 - EPSILON));
  }
  const correct = classes.reduce((sum, c, i) => sum + (c === y[i] ? 1 : 0), 0);
  return { valLoss: loss / y.length, valMacroF1: macroF1(y, classes, shape.nClasses), valAccuracy: correct / y.length };
}

/**
 * Macro F1 over the classes present in the labels or the predictions (scikit-learn's default label set).
 * Not yet models/class-scores.ts's: that one sums F1 from precision and recall and differs in the last bit,
 * which would change the train stage's recorded history (metadata.json) and so need a new train version.
 */
export function macroF1(truth: Int32Array, predicted: Int32Array, nClasses: number): number {
  const tp = new Float64Array(nClasses);
  const fp = new Float64Array(nClasses);
  const fn = new Float64Array(nClasses);
  truth.forEach((t, i) => {
    const p = predicted[i] as number;
    if (p === t) tp[t] = (tp[t] as number) + 1;
    else {
      fp[p] = (fp[p] as number) + 1;
      fn[t] = (fn[t] as number) + 1;
    }
  });
  let sum = 0;
  let present = 0;
  for (let c = 0; c < nClasses; c++) {
    const support = (tp[c] as number) + (fn[c] as number) + (fp[c] as number);
    if (support === 0) continue;
    present += 1;
    sum += (2 * (tp[c] as number)) / (2 * (tp[c] as number) + (fp[c] as number) + (fn[c] as number));
  }
  return present === 0 ? 0 : sum / present;
}

/** Lower loss is better; higher F1 is. */
function isBetter(monitor: Monitor, value: number, best: number | null, minDelta: number): boolean {
  if (best === null) return true;
  return monitor === 'val_loss' ? value < best - minDelta : value > best + minDelta;
}

function monitored(logs: EpochLogs, monitor: Monitor): number {
  const value = monitor === 'val_loss' ? logs.valLoss : logs.valMacroF1;
  if (value === undefined) throw new Error(`${monitor} was not computed`);
  return value;
}

/** Returns whether this epoch is the best so far. */
function updateEarlyStopping(state: TrainerState, logs: EpochLogs, opts: ResolvedFitOptions): boolean {
  const es = opts.earlyStopping;
  if (es === undefined) return false;
  const value = monitored(logs, es.monitor);
  if (isBetter(es.monitor, value, state.early.best, es.minDelta)) {
    state.early = { best: value, bestEpoch: logs.epoch, wait: 0 };
    return true;
  }
  state.early.wait += 1;
  if (state.early.wait >= es.patience) state.stopped = true;
  return false;
}

function updatePlateau(state: TrainerState, logs: EpochLogs, opts: ResolvedFitOptions): void {
  const rp = opts.reduceLrOnPlateau;
  if (rp === undefined) return;
  const value = monitored(logs, rp.monitor);
  if (isBetter(rp.monitor, value, state.plateau.best, 0)) {
    state.plateau = { best: value, wait: 0 };
    return;
  }
  state.plateau.wait += 1;
  if (state.plateau.wait >= rp.patience) {
    state.learningRate = Math.max(rp.minLr, state.learningRate * rp.factor);
    state.plateau.wait = 0;
  }
}
