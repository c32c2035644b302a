/**
 * Train stage: fits one model on the (resampled) training partition, with the validation partition
 * scored after every epoch.
 * - Neural archs (cnn, lstm, gru, bilstm, cnn-bilstm, cnn-small; models/builders.ts) train on token ids with
 *   `fitModel` (fit.ts), the Embedding optionally initialised from the features' Word2Vec
 *   `embedding.arrow`. Seeded: initial weights, dropout and batch order, so the same inputs give the
 *   same model.json and weights.bin. After every epoch a checkpoint goes under the store root
 *   (`.checkpoints/<train key>/`) and `{epoch, checkpointKey}` is heartbeaten; a restarted attempt
 *   resumes from the last checkpoint instead of epoch 0.
 * - Baselines (nb, complement-nb, linear-svm, logistic-regression, random-forest; baselines/) train on
 *   TF-IDF (CSR) or document vectors (dense) and are saved as `baseline.json`.
 * The work (tfjs, apache-arrow) is in train-compute.ts, loaded only on a cache miss.
 */
import { runStage, type StageDefinition, type StageIdentity } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';
import type { LinearSvmParams, LogisticRegressionParams, NaiveBayesParams, RandomForestParams } from '../../models/baselines';
import type { FitOptions } from '../../models/fit';
import type { ModelSpecInput } from '../../models/builders';
import { isBaselineArch } from './train-spec';

/**
 * Per-class score offsets stored with the model (evaluate/prior-adjustment.ts): tuned on the validation
 * split's scores, or given (tuned elsewhere, e.g. on cross-validation folds). @default none
 */
export interface PriorAdjustmentOption {
  priorAdjustment?: 'none' | 'validation' | { offsets: number[] };
}

/** A classic baseline and its hyperparameters (scikit-learn's names and defaults). */
export type BaselineSpecInput = PriorAdjustmentOption &
  (
    | ({ arch: 'nb' | 'complement-nb' } & NaiveBayesParams)
    | ({ arch: 'linear-svm' } & LinearSvmParams)
    | ({ arch: 'logistic-regression' } & LogisticRegressionParams)
    | ({ arch: 'random-forest' } & RandomForestParams)
  );

/** What to train: a neural spec (models/builders.ts) or a baseline. */
export type TrainModelInput = ModelSpecInput | BaselineSpecInput;

export interface TrainParams extends Pick<FitOptions, 'optimizer' | 'classWeight' | 'earlyStopping' | 'reduceLrOnPlateau' | 'threads' | 'weightDecay'> {
  model: TrainModelInput;
  /** Total epochs (neural only). */
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Seeds initial weights, dropout, batch order and the random baselines. */
  seed: number;
}

/**
 * A baseline's key material: its hyperparameters, and the seed only for the baselines that draw random
 * numbers (linear SVM's visiting order, random forest's bootstraps and feature draws). The neural fit
 * options (epochs, batch, learning rate, optimizer, class weights, early stopping, LR schedule,
 * threads) do not touch a baseline, so they are not in its key.
 */
export interface BaselineTrainParams {
  model: BaselineSpecInput;
  seed?: number;
}

/** What the train stage's key is computed from: every neural fit option, or a baseline's own. */
export type TrainStageParams = TrainParams | BaselineTrainParams;

/** Baselines whose fit draws from the seeded generator. */
const SEEDED_BASELINES: ReadonlySet<string> = new Set(['linear-svm', 'random-forest']);

export const isBaselineParams = (params: TrainStageParams): params is BaselineTrainParams => isBaselineArch(params.model.arch);

/** The train params that can change the model: all of them for a neural arch, the baseline's own for a baseline. */
export function trainStageParams(params: TrainParams): TrainStageParams {
  const { model, seed } = params;
  if (!isBaselineArch(model.arch)) return params;
  return SEEDED_BASELINES.has(model.arch) ? { model: model as BaselineSpecInput, seed } : { model: model as BaselineSpecInput };
}

export interface TrainInput {
  train: ArtifactRef;
  features: ArtifactRef;
  params: TrainParams;
}

/** Spec, dimensions, classes, backend, per-epoch history and input keys of the trained model. */
export const METADATA_FILE = 'metadata.json';
/** A baseline model (JSON); its presence is how evaluate tells a baseline from a tfjs model. */
export const BASELINE_FILE = 'baseline.json';
/** Per-class score offsets (`PriorAdjustment`), present when the model was trained with a prior adjustment. */
export const PRIOR_ADJUSTMENT_FILE = 'prior-adjustment.json';

/**
 * What the train activity heartbeats, and what a restarted attempt resumes from: after every epoch `{epoch,
 * checkpointKey}`; within an epoch, every few batches, also `batch` and `batches` (checkpointKey then names the last
 * checkpoint stored, absent before the first).
 */
export interface TrainProgress {
  /** The epoch finished, or (with `batch`) running (0-based). */
  epoch: number;
  /** The batch just trained in `epoch` (0-based), for progress within an epoch. */
  batch?: number;
  batches?: number;
  /** Names the stored checkpoint holding the state after an epoch (`<train key>/epoch-<n>`). */
  checkpointKey?: string;
  /** For progress displays (not read on resume): epochs in all, and the finished epoch's loss, validation scores and time. */
  epochs?: number;
  loss?: number;
  valMacroF1?: number;
  valAccuracy?: number;
  durationMs?: number;
}

export interface TrainHooks {
  /**
   * The last progress an earlier attempt reported (on Temporal: `activityInfo().heartbeatDetails`). Its
   * checkpoint is resumed from; without it (or when it is gone) the newest checkpoint stored for the key is.
   */
  resume?: () => unknown;
  /** Called after each epoch's checkpoint is stored and heartbeaten (a test throws here to kill a run). */
  afterCheckpoint?: (progress: TrainProgress) => void | Promise<void>;
}

/** What keys the train stage; its work is train-compute.ts (joined, with hooks, in activities/stages.ts). */
export const trainIdentity: StageIdentity = {
  stage: 'train',
  // 2: models/builders.ts architectures and baselines, fitModel, per-epoch checkpoints; model.json from serializeModel.
  // 3: Adam's update on wasm runs in float32 SIMD (adam.wat), so weights differ in the last bits from version 2.
  // 4: LSTM cell maths on wasm in float32 SIMD (lstm-cell.wat), likewise.
  // 5: Conv1D → GlobalMaxPooling1D as one ConvGlobalMax layer (cnn with global-max pooling, cnn-small).
  // 6: the dense Conv1D filter gradient on wasm is one SIMD pass (transpose-scatter-conv-grads.wat), summed in its own order.
  // 7: ConvGlobalMax compares float32 sums (its SIMD forward pass and the JavaScript one agree bit for bit).
  // 8: the dense Conv1D input gradient on wasm is one SIMD pass too (transpose-scatter-conv-grads.wat convInputGrad).
  // 9: a baseline's key holds only its hyperparameters (and the seed where it draws random numbers).
  version: 9,
  inputNames: ['train', 'features'],
};

/** The train stage with hooks (activities/stages.ts `createTrainStage`). */
export type TrainStageOf = (hooks: TrainHooks) => StageDefinition<TrainStageParams>;

export function createTrainActivity(deps: ActivityDeps, stageOf: TrainStageOf, hooks: TrainHooks = {}) {
  // On Temporal, the last heartbeat of an earlier attempt names the checkpoint to resume from.
  const resume = hooks.resume ?? deps.resumeFrom;
  const stage = stageOf({ ...hooks, ...(resume ? { resume } : {}) });
  return async function trainModel(input: TrainInput): Promise<StageOutcome> {
    return runStage(deps.store, stage, trainStageParams(input.params), { train: input.train, features: input.features }, deps);
  };
}
