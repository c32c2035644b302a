/** The train stage's work (loaded on a cache miss, with tfjs): see train.ts. */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../../data/random';
import type { ComputeContext, ComputeResult, StageInputArtifact } from '../../data/store/stage';
import { LABELS_FILE, readClassNames } from '../annotate/annotate';
import { badInput, UlasanError } from '../../core/errors';
import { classificationMetrics, confusionCounts } from '../evaluate/metrics';
import { applyPriorAdjustment, macroF1OfCounts, tunePriorAdjustment, type PriorAdjustment } from '../evaluate/prior-adjustment';
import { readDense } from '../features/arrow-io';
import { EMBEDDING_FILE, partitionFile, VOCAB_FILE } from '../features/features';
import { readPartition, type FeaturePartition } from '../features/partition';
import { RESAMPLED_FILE } from '../resample/resample';
import { fitBaseline, scoreBaseline, type BaselineKind, type BaselineParams, type RowScores } from '../../models/baselines';
import { CheckpointDir } from '../../models/checkpoints';
import { fitModel, serializeModel, type EpochLogs, type FitOptions, type TrainingData } from '../../models/fit';
import { writeModelFiles } from '../../models/model-io';
import { buildModel, parseModelSpec, type ModelSpec } from '../../models/builders';
import { tfBackend } from '../../models/tf-runtime';
import { BASELINE_FILE, isBaselineParams, METADATA_FILE, PRIOR_ADJUSTMENT_FILE, type PriorAdjustmentOption, type BaselineTrainParams, type TrainHooks, type TrainParams, type TrainProgress, type TrainStageParams } from './train';
import { BASELINE_KINDS, type BaselineArch } from './train-spec';

type TrainContext = ComputeContext<TrainStageParams>;

interface Partitions {
  train: FeaturePartition;
  val: FeaturePartition;
  classes: string[];
}

export async function fitTrainStage(ctx: TrainContext, hooks: TrainHooks = {}): Promise<ComputeResult> {
  const features = ctx.inputs.features!;
  const classes = await readClassNames(features.file(LABELS_FILE));
  const train = await readPartition(ctx.inputs.train!.file(RESAMPLED_FILE));
  const val = await readPartition(features.file(partitionFile('val')));
  const data = { train, val, classes };
  const { params } = ctx;
  return isBaselineParams(params) ? fitBaselineStage({ ...ctx, params }, data) : fitNeuralStage({ ...ctx, params }, data, hooks);
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2) + '\n');
}

const inputKeys = (ctx: ComputeContext<unknown>) => ({ train: ctx.inputs.train!.key, features: ctx.inputs.features!.key });

// ---- baselines ----------------------------------------------------------------------------------

async function fitBaselineStage(ctx: ComputeContext<BaselineTrainParams>, { train, val, classes }: Partitions): Promise<ComputeResult> {
  const { params, outDir } = ctx;
  const arch: BaselineArch = params.model.arch;
  if (train.layout === 'token-ids') {
    throw badInput(
      `model.arch ${arch} trains on TF-IDF or document vectors, but features ${ctx.inputs.features!.key} hold token ids; ` +
        'set features.kind: tfidf (or doc-vectors), or pick a neural arch',
      { stage: 'train', key: ctx.key, field: 'model.arch' },
    );
  }
  const kind = BASELINE_KINDS[arch];
  const { arch: _arch, priorAdjustment, ...hyper } = params.model;
  void _arch;
  checkPriorAdjustment(priorAdjustment, val.rows, classes.length, ctx.key);
  const started = performance.now();
  // NB and logistic regression draw nothing, so their key has no seed; the generator is then unused.
  const rng = new Rng(params.seed ?? 0).fork('baseline');
  const model = fitBaseline(kind, train.x, train.labels, classes.length, hyper as unknown as BaselineParams[typeof kind], rng);
  const fitMs = Math.round(performance.now() - started);
  ctx.heartbeat({ epoch: 0 });
  const valScores = val.rows > 0 && val.layout !== 'token-ids' ? scoreBaseline(model, val.x) : undefined;
  const history = valScores ? [validationScores(valScores.labels, val.labels, classes)] : [];
  await writeFile(join(outDir, BASELINE_FILE), JSON.stringify(model) + '\n');
  const adjustment = priorAdjustmentOf(priorAdjustment, kind, valScores, val.labels);
  if (adjustment) await writeJson(join(outDir, PRIOR_ADJUSTMENT_FILE), adjustment);
  const dims = { features: train.x.cols, layout: train.layout, nClasses: classes.length };
  await writeJson(join(outDir, METADATA_FILE), { spec: params, kind, dims, classes, backend: 'js', history, data: inputKeys(ctx) });
  return {
    rowCounts: { train: train.rows, val: val.rows },
    summary: { backend: 'js', arch, kind, layout: train.layout, history, fitMs, ...(adjustment ? { priorAdjustment: adjustment } : {}) },
  };
}

/** Refuses, before the fit, an adjustment the data cannot take: tuning with no validation rows, offsets of another length. */
function checkPriorAdjustment(option: PriorAdjustmentOption['priorAdjustment'], valRows: number, nClasses: number, key: string): void {
  const context = { stage: 'train', key, field: 'model.priorAdjustment' };
  if (option === 'validation' && valRows === 0) {
    throw badInput('model.priorAdjustment: validation tunes on the validation split, which is empty here; give split.val a share such as 0.15', context);
  }
  if (typeof option === 'object' && option.offsets.length !== nClasses) {
    throw badInput(`model.priorAdjustment.offsets has ${option.offsets.length} offsets for ${nClasses} classes; give one per class`, context);
  }
}

/**
 * The adjustment stored with the model: offsets tuned for macro-F1 on the validation scores, or the ones
 * given (tuned elsewhere, e.g. on cross-validation folds), with the validation macro-F1 before and after
 * when there are validation rows. Tuned on validation, the validation macro-F1 a grid then selects on is
 * the tuned one (optimistic for this cell); the test split never sees the tuning.
 */
function priorAdjustmentOf(
  option: PriorAdjustmentOption['priorAdjustment'],
  kind: BaselineKind,
  valScores: RowScores | undefined,
  truth: Int32Array,
): PriorAdjustment | undefined {
  if (option === undefined || option === 'none') return undefined;
  const offsets = option === 'validation' ? Array.from(tunePriorAdjustment(valScores!, truth)) : option.offsets;
  const space = kind === 'linearSvm' ? 'decision' : 'log-probability';
  const tunedOn = option === 'validation' ? 'val' : 'given';
  if (!valScores) return { offsets, space, tunedOn };
  const macroF1 = (predicted: Int32Array) => macroF1OfCounts(confusionCounts(truth, predicted, valScores.k), valScores.k);
  return { offsets, space, tunedOn, metric: 'macroF1', before: macroF1(valScores.labels), after: macroF1(applyPriorAdjustment(valScores, offsets).labels) };
}

function validationScores(predicted: Int32Array, truth: Int32Array, classes: string[]): { epoch: number; valAccuracy: number; valMacroF1: number } {
  const metrics = classificationMetrics(truth, predicted, classes);
  return { epoch: 0, valAccuracy: metrics.accuracy, valMacroF1: metrics.macro.f1 };
}

// ---- neural -------------------------------------------------------------------------------------

interface Vocab {
  seqLen: number;
  tokens: string[];
}

async function fitNeuralStage(ctx: ComputeContext<TrainParams>, { train, val, classes }: Partitions, hooks: TrainHooks): Promise<ComputeResult> {
  const { params, outDir, store, key } = ctx;
  const features = ctx.inputs.features!;
  if (train.layout !== 'token-ids' || val.layout !== 'token-ids') {
    throw badInput(
      `model.arch ${params.model.arch} trains on token ids, but features ${features.key} hold ${train.layout} rows; ` +
        'set features.kind: token-ids, or pick a baseline arch (nb, linear-svm, logistic-regression, random-forest)',
      { stage: 'train', key, field: 'model.arch' },
    );
  }
  const backend = await tfBackend();
  const spec = parseModelSpec(params.model);
  const vocab = JSON.parse(await readFile(features.file(VOCAB_FILE), 'utf8')) as Vocab;
  const dims = { vocabSize: vocab.tokens.length, seqLen: train.matrix.seqLen, nClasses: classes.length };
  const embeddingMatrix = await readEmbedding(features, spec, dims.vocabSize, key);
  const checkpoints = new CheckpointDir(store.root, key);
  const hint = hooks.resume?.();
  const resumed = await checkpoints.load(hint);
  const progress = progressReporter(ctx, resumed?.checkpointKey);
  const model = buildModel(spec, { ...dims, seed: params.seed, embeddingMatrix });
  let fit: Awaited<ReturnType<typeof fitModel>>;
  try {
    fit = await fitModel(model, trainingData(train, val), fitOptions(params), {
      onBatchEnd: (epoch, batch, batches) => {
        ctx.throwIfCancelled();
        progress.batch(epoch, batch, batches);
      },
      onEpochEnd: async (epoch, logs, _model, checkpoint) => {
        const { loss, valMacroF1, valAccuracy, durationMs } = logs;
        const scores = { epochs: params.epochs, loss, valMacroF1, valAccuracy, durationMs };
        const done = progress.epoch(epoch, await checkpoints.save(await checkpoint()), scores);
        await hooks.afterCheckpoint?.(done);
        ctx.throwIfCancelled();
      },
    }, resumed?.checkpoint);
    await writeModelFiles(outDir, await serializeModel(model));
  } finally {
    model.dispose();
  }
  // Durations vary run to run: they go in the manifest summary, never into the hashed metadata.json.
  const history = fit.history.map(withoutDuration);
  const metadata = {
    spec: params,
    model: spec,
    dims,
    classes,
    embedding: embeddingMatrix ? 'word2vec' : 'random',
    backend: backend.name,
    history,
    fit: { epochsRun: fit.epochsRun, stoppedEarly: fit.stoppedEarly, bestEpoch: fit.bestEpoch ?? null, finalLearningRate: fit.finalLearningRate },
    data: inputKeys(ctx),
  };
  await writeJson(join(outDir, METADATA_FILE), metadata);
  await checkpoints.clear();
  return {
    rowCounts: { train: train.rows, val: val.rows },
    summary: {
      backend: backend.name,
      ...(backend.skipped.length > 0 ? { backendSkipped: backend.skipped } : {}),
      arch: spec.arch,
      embedding: metadata.embedding,
      history,
      epochMs: fit.history.map((h) => Math.round(h.durationMs)),
      ...(resumed ? { resumedFrom: resumed.checkpointKey, resumedAtEpoch: resumed.checkpoint.epoch } : {}),
      ...(hintedCheckpoint(hint) ? { resumeHint: hintedCheckpoint(hint) } : {}),
      ...(fit.stoppedEarly ? { stoppedEarly: true, bestEpoch: fit.bestEpoch } : {}),
    },
  };
}

/** Heartbeats between checkpoints at most this often: often enough for a short heartbeat timeout, rarely enough to cost nothing. */
const BATCH_HEARTBEAT_MS = 500;

/**
 * What training heartbeats: `{epoch, checkpointKey}` and the epoch's scores after each epoch's checkpoint, and in between, every few
 * batches (time-throttled), `{epoch, batch, batches, checkpointKey}` with the last checkpoint stored, so a retry
 * resumes from it and a long epoch never looks like a dead worker.
 */
function progressReporter(ctx: TrainContext, resumedKey: string | undefined) {
  let checkpointKey = resumedKey;
  let last = performance.now();
  return {
    batch(epoch: number, batch: number, batches: number): void {
      const now = performance.now();
      if (now - last < BATCH_HEARTBEAT_MS) return;
      last = now;
      ctx.heartbeat({ epoch, batch, batches, ...(checkpointKey ? { checkpointKey } : {}) } satisfies TrainProgress);
    },
    /** After an epoch's checkpoint; `scores` are for progress displays (batch heartbeats carry none, so displays skip them). */
    epoch(epoch: number, key: string, scores: Omit<TrainProgress, 'epoch' | 'batch' | 'batches' | 'checkpointKey'>): TrainProgress {
      checkpointKey = key;
      last = performance.now();
      const done: TrainProgress = { epoch, checkpointKey: key, ...scores };
      ctx.heartbeat(done);
      return done;
    },
  };
}

/** The checkpoint key an earlier attempt's heartbeat details named, if any (recorded: where the retry was told to resume). */
function hintedCheckpoint(hint: unknown): string | undefined {
  const key = (hint as TrainProgress | undefined)?.checkpointKey;
  return typeof key === 'string' ? key : undefined;
}

function withoutDuration(logs: EpochLogs): Omit<EpochLogs, 'durationMs'> {
  const { durationMs: _durationMs, ...rest } = logs;
  void _durationMs;
  return rest;
}

function trainingData(train: FeaturePartition & { layout: 'token-ids' }, val: FeaturePartition & { layout: 'token-ids' }): TrainingData {
  const data: TrainingData = { xTrain: train.matrix.ids, yTrain: train.labels };
  // No validation split (val ratio 0): train without per-epoch validation.
  if (val.rows > 0) Object.assign(data, { xVal: val.matrix.ids, yVal: val.labels });
  return data;
}

function fitOptions(params: TrainParams): FitOptions {
  const { epochs, batchSize, learningRate, seed, optimizer, classWeight, earlyStopping, reduceLrOnPlateau, threads, weightDecay } = params;
  return {
    epochs,
    batchSize,
    learningRate,
    seed,
    ...(optimizer ? { optimizer } : {}),
    ...(classWeight ? { classWeight } : {}),
    ...(earlyStopping ? { earlyStopping } : {}),
    ...(reduceLrOnPlateau ? { reduceLrOnPlateau } : {}),
    ...(threads ? { threads } : {}),
    ...(weightDecay ? { weightDecay } : {}),
  };
}

/** The features' Word2Vec embedding (vocab-aligned), when they have one; its width must be the model's. */
async function readEmbedding(features: StageInputArtifact, spec: ModelSpec, vocabSize: number, key: string): Promise<Float32Array | undefined> {
  const path = features.file(EMBEDDING_FILE);
  if (!existsSync(path)) return undefined;
  const embedding = await readDense(path);
  if (embedding.cols !== spec.embeddingDim) {
    throw badInput(
      `features ${features.key} carry Word2Vec vectors of dimension ${embedding.cols}, but model.embeddingDim is ${spec.embeddingDim}; ` +
        `set model.embeddingDim: ${embedding.cols} (or features.embedding.word2vec.vectorSize: ${spec.embeddingDim})`,
      { stage: 'train', key, field: 'model.embeddingDim' },
    );
  }
  if (embedding.rows !== vocabSize) {
    throw new UlasanError('CorruptArtifact', `${path} has ${embedding.rows} rows for a vocabulary of ${vocabSize}; recompute the features.`, {
      stage: 'train',
      key: features.key,
      file: path,
    });
  }
  return embedding.data;
}
