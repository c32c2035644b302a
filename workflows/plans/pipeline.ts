/**
 * The pipeline DAG as a plain async function over an activities interface. The Temporal workflow
 * passes `proxyActivities`; the local runner passes the real functions wrapped with the same retry
 * profiles. No Temporal and no Node here: only the order of stages and what flows between them.
 */
import type { AnnotateInput, AnnotateParams } from '../../activities/annotate/annotate';
import type { CleanInput } from '../../activities/clean/clean';
import type { CleanConfig } from '../../activities/clean/config';
import type { ArtifactRef, StageOutcome } from '../../activities/context';
import type { EvaluateInput, EvaluateParams } from '../../activities/evaluate/evaluate';
import type { FeaturesInput, FeaturesParams } from '../../activities/features/features';
import type { ImportInput, ImportSource } from '../../activities/import/import';
import type { LeakySplitInput } from '../../activities/leaky/leaky-split';
import type { LabelFractionInput, PseudoLabelInput } from '../../activities/semi/semi';
import type { ReportInput, ReportParams } from '../../activities/report/report';
import type { ResampleInput, ResampleParams } from '../../activities/resample/resample';
import type { SplitInput, SplitParams } from '../../activities/split/split';
import type { SupportCheck } from '../../activities/split/support';
import type { TrainInput, TrainParams } from '../../activities/train/train';
import type { ProfileName, RunRouting } from '../../core/profiles';
import { Producers, type Step } from './recovery';

export interface PipelineActivities {
  importReviews(input: ImportInput): Promise<StageOutcome>;
  clean(input: CleanInput): Promise<StageOutcome>;
  annotate(input: AnnotateInput): Promise<StageOutcome>;
  split(input: SplitInput): Promise<StageOutcome>;
  features(input: FeaturesInput): Promise<StageOutcome>;
  resample(input: ResampleInput): Promise<StageOutcome>;
  trainModel(input: TrainInput): Promise<StageOutcome>;
  evaluate(input: EvaluateInput): Promise<StageOutcome>;
  report(input: ReportInput): Promise<StageOutcome>;
  leakySplit(input: LeakySplitInput): Promise<StageOutcome>;
  labelFraction(input: LabelFractionInput): Promise<StageOutcome>;
  pseudoLabel(input: PseudoLabelInput): Promise<StageOutcome>;
  /** Fails (BadInput) unless the worker's store has this id: client and workers must share one store. */
  checkStore(input: { storeId: string }): Promise<void>;
  /** The same check by a worker of the train queue. */
  checkTrainStore(input: { storeId: string }): Promise<void>;
}

/** Which timeout/retry profile each activity runs under; both runners read this. */
export const PIPELINE_PROFILES: Record<keyof PipelineActivities, ProfileName> = {
  importReviews: 'io',
  clean: 'cpu',
  annotate: 'cpu',
  split: 'cpu',
  features: 'cpu',
  resample: 'cpu',
  trainModel: 'train',
  evaluate: 'cpu',
  report: 'io',
  leakySplit: 'cpu',
  labelFraction: 'cpu',
  pseudoLabel: 'cpu',
  checkStore: 'io',
  checkTrainStore: 'train',
};

/** One experiment, resolved into each stage's params (the client builds it from the YAML spec), and where it runs. */
export interface PipelinePlan extends RunRouting {
  name: string;
  /** Id of the client's store (`ArtifactStore.id`), set when submitted to Temporal: workers with another store refuse the run before any work. */
  storeId?: string;
  source: ImportSource;
  clean: CleanConfig;
  annotate: AnnotateParams;
  split: SplitParams;
  features: FeaturesParams;
  resample: ResampleParams;
  train: TrainParams;
  evaluate: EvaluateParams;
  report: ReportParams;
  /**
   * `honest` (default): split first, fit and resample on train only. `leaky`: resample the whole
   * dataset before splitting, ONLY to reproduce published setups; `honest-vs-leaky`: both, side by side.
   */
  mode?: EvaluationMode;
  /** Semi-supervised labelling: keep this share of training labels, pseudo-label the rest, retrain. */
  semiSupervised?: { labelledFraction: number };
  /** Minimum rows per class in the scored split, checked right after the split. @default no check */
  support?: SupportCheck;
}

export type EvaluationMode = 'honest' | 'leaky' | 'honest-vs-leaky';

/** How one stage went in this run. */
export interface StageRecord {
  stage: string;
  key: string;
  cache: 'hit' | 'miss';
  reason?: string;
  ms: number;
  /** Warnings the stage raised (too few rows per class in a scored split, allowed by the user). */
  warnings?: string[];
}

/** Every warning the recorded stages raised, in stage order. */
export const stageWarnings = (stages: readonly StageRecord[]): string[] => stages.flatMap((s) => s.warnings ?? []);

export interface PipelineResult {
  /** The evaluation artifact holding the reported metrics.json. */
  metricsKey: string;
  reportKey: string;
  stages: StageRecord[];
  /** With `honest-vs-leaky`: the leaky evaluation, reported beside the honest one. */
  leakyMetricsKey?: string;
}

/**
 * Runs each step, appends its outcome to `stages` and passes its ref on. A step whose input turns out
 * unreadable has that input's producer redone once (recovery.ts); `producers` is shared with grid cells.
 */
export function stageRecorder(stages: StageRecord[], producers: Producers = new Producers()) {
  const record = async (stage: string, step: Step) => {
    const outcome = await producers.run(async (recovery) => {
      const done = await step();
      const warnings = done.warnings?.length ? { warnings: done.warnings } : {};
      stages.push({ stage, key: done.ref.key, cache: done.cache, reason: recovery ?? done.reason, ms: Math.round(done.ms), ...warnings });
      return done;
    });
    return outcome.ref;
  };
  return Object.assign(record, { producers });
}

/**
 * The plan as a worker on another host can run it: a `file` source names a path that may exist only
 * where the client runs, so the client imports it first (into the store it shares with the workers)
 * and hands workers the import artifact's key instead. Other sources travel as they are.
 */
export async function withSourceImported<P extends { source: ImportSource }>(
  plan: P,
  importReviews: PipelineActivities['importReviews'],
): Promise<{ plan: P; imported?: StageOutcome }> {
  if (plan.source.kind !== 'file') return { plan };
  const imported = await importReviews({ source: plan.source });
  return { plan: { ...plan, source: { kind: 'stored', key: imported.ref.key } }, imported };
}

/** The stages every experiment shares: import → clean → annotate → split → features. */
export type UpstreamPlan = Pick<PipelinePlan, 'source' | 'clean' | 'annotate' | 'split' | 'features' | 'support'>;

/** import → clean → annotate → split; returns the split and its manifest summary (rows per split and class). */
export async function prepareSplit(
  acts: Pick<PipelineActivities, 'importReviews' | 'clean' | 'annotate' | 'split'>,
  plan: Omit<UpstreamPlan, 'features'>,
  record: ReturnType<typeof stageRecorder>,
): Promise<{ split: ArtifactRef; summary: Record<string, unknown> }> {
  const reviews = await record('import', () => acts.importReviews({ source: plan.source }));
  const cleaned = await record('clean', () => acts.clean({ table: reviews, config: plan.clean }));
  const labelled = await record('annotate', () => acts.annotate({ table: cleaned, params: plan.annotate }));
  let summary: Record<string, unknown> = {};
  const split = await record('split', async () => {
    const outcome = await acts.split({ table: labelled, params: plan.split, ...(plan.support ? { support: plan.support } : {}) });
    summary = outcome.summary;
    return outcome;
  });
  return { split, summary };
}

export async function prepareFeatures(
  acts: Pick<PipelineActivities, 'importReviews' | 'clean' | 'annotate' | 'split' | 'features'>,
  plan: UpstreamPlan,
  record: ReturnType<typeof stageRecorder>,
): Promise<ArtifactRef> {
  const { split } = await prepareSplit(acts, plan, record);
  return record('features', () => acts.features({ split, params: plan.features }));
}

/**
 * The leaky features of the published studies: features and resampling (`leakyResample`) over ALL labelled
 * rows (a split with everything in train), then a random split of the resampled rows, copies on both sides.
 */
export async function prepareLeakyFeatures(
  acts: Pick<PipelineActivities, 'importReviews' | 'clean' | 'annotate' | 'split' | 'features' | 'resample' | 'leakySplit'>,
  plan: UpstreamPlan & { leakyResample: ResampleParams },
  record: ReturnType<typeof stageRecorder>,
): Promise<ArtifactRef> {
  // Everything in train: nothing is scored on this split, so no support check.
  const whole = { ...plan, split: { ...plan.split, strategy: 'ratios' as const, ratios: { train: 1, val: 0, test: 0 } }, support: undefined };
  const features = await prepareFeatures(acts, whole, record);
  const resampled = await record('resample', () => acts.resample({ features, params: plan.leakyResample }));
  return record('leaky-split', () => acts.leakySplit({ resampled, features, params: { ratios: plan.split.ratios, seed: plan.split.seed } }));
}

/**
 * The leaky setup of the published studies: features and resampling over ALL labelled rows (a split
 * with everything in train), then a random split of the resampled rows. Returns the evaluation.
 */
async function runLeakyBranch(acts: PipelineActivities, plan: PipelinePlan, record: ReturnType<typeof stageRecorder>): Promise<ArtifactRef> {
  const leaky = await prepareLeakyFeatures(acts, { ...plan, leakyResample: plan.resample }, record);
  const model = await record('train', () => acts.trainModel({ train: leaky, features: leaky, params: plan.train }));
  return record('evaluate', () => acts.evaluate({ model, features: leaky, params: plan.evaluate }));
}

async function runHonestBranch(acts: PipelineActivities, plan: PipelinePlan, record: ReturnType<typeof stageRecorder>): Promise<ArtifactRef> {
  const features = await prepareFeatures(acts, plan, record);
  const train = await record('resample', () => acts.resample({ features, params: plan.resample }));
  const model = await record('train', () => acts.trainModel({ train, features, params: plan.train }));
  return record('evaluate', () => acts.evaluate({ model, features, params: plan.evaluate }));
}

/**
 * Semi-supervised labelling: a teacher trained on the labelled fraction pseudo-labels the rest (its
 * labelling accuracy against the held-back ratings is recorded), then a student trains on both.
 */
async function runSemiSupervisedBranch(acts: PipelineActivities, plan: PipelinePlan, record: ReturnType<typeof stageRecorder>): Promise<ArtifactRef> {
  const features = await prepareFeatures(acts, plan, record);
  const params = { fraction: plan.semiSupervised!.labelledFraction, seed: plan.split.seed };
  const fraction = await record('label-fraction', () => acts.labelFraction({ features, params }));
  const teacher = await record('train', () => acts.trainModel({ train: fraction, features: fraction, params: plan.train }));
  const pseudo = await record('pseudo-label', () => acts.pseudoLabel({ model: teacher, fraction }));
  const student = await record('train', () => acts.trainModel({ train: pseudo, features: pseudo, params: plan.train }));
  return record('evaluate', () => acts.evaluate({ model: student, features: pseudo, params: plan.evaluate }));
}

/** Asks a worker of each queue the run uses whether it shares the client's store. */
export async function checkStores(acts: Pick<PipelineActivities, 'checkStore' | 'checkTrainStore'>, storeId: string): Promise<void> {
  await Promise.all([acts.checkStore({ storeId }), acts.checkTrainStore({ storeId })]);
}

export async function runPipeline(acts: PipelineActivities, plan: PipelinePlan): Promise<PipelineResult> {
  if (plan.storeId) await checkStores(acts, plan.storeId);
  const stages: StageRecord[] = [];
  const record = stageRecorder(stages);
  const mode = plan.mode ?? 'honest';
  const branch = plan.semiSupervised ? runSemiSupervisedBranch : mode === 'leaky' ? runLeakyBranch : runHonestBranch;
  const evaluation = await branch(acts, plan, record);
  const leaky = mode === 'honest-vs-leaky' ? await runLeakyBranch(acts, plan, record) : undefined;
  const params = withWarnings(plan.report, stageWarnings(stages));
  const report = await record('report', () => acts.report({ evaluation, params, ...(leaky ? { leaky } : {}) }));
  return { metricsKey: evaluation.key, reportKey: report.key, stages, ...(leaky ? { leakyMetricsKey: leaky.key } : {}) };
}

/** Report params with the run's warnings for its headline (none: the params, and so the key, unchanged). */
export function withWarnings(params: ReportParams, warnings: readonly string[]): ReportParams {
  return warnings.length > 0 ? { ...params, warnings: [...warnings] } : params;
}
