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
import type { ReportInput, ReportParams } from '../../activities/report/report';
import type { ResampleInput, ResampleParams } from '../../activities/resample/resample';
import type { SplitInput, SplitParams } from '../../activities/split/split';
import type { TrainInput, TrainParams } from '../../activities/train/train';
import type { ProfileName } from './profiles';

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
};

/** One experiment, resolved into each stage's params (the client builds it from the YAML spec). */
export interface PipelinePlan {
  name: string;
  source: ImportSource;
  clean: CleanConfig;
  annotate: AnnotateParams;
  split: SplitParams;
  features: FeaturesParams;
  resample: ResampleParams;
  train: TrainParams;
  evaluate: EvaluateParams;
  report: ReportParams;
}

/** How one stage went in this run. */
export interface StageRecord {
  stage: string;
  key: string;
  cache: 'hit' | 'miss';
  reason?: string;
  ms: number;
}

export interface PipelineResult {
  /** The evaluation artifact holding the reported metrics.json. */
  metricsKey: string;
  reportKey: string;
  stages: StageRecord[];
}

/** Appends each stage's outcome to `stages` and passes its ref on. */
export function stageRecorder(stages: StageRecord[]) {
  return async (stage: string, pending: Promise<StageOutcome>) => {
    const outcome = await pending;
    stages.push({ stage, key: outcome.ref.key, cache: outcome.cache, reason: outcome.reason, ms: Math.round(outcome.ms) });
    return outcome.ref;
  };
}

/** The stages every experiment shares: import → clean → annotate → split → features. */
export type UpstreamPlan = Pick<PipelinePlan, 'source' | 'clean' | 'annotate' | 'split' | 'features'>;

export async function prepareFeatures(
  acts: Pick<PipelineActivities, 'importReviews' | 'clean' | 'annotate' | 'split' | 'features'>,
  plan: UpstreamPlan,
  record: ReturnType<typeof stageRecorder>,
): Promise<ArtifactRef> {
  const reviews = await record('import', acts.importReviews({ source: plan.source }));
  const cleaned = await record('clean', acts.clean({ table: reviews, config: plan.clean }));
  const labelled = await record('annotate', acts.annotate({ table: cleaned, params: plan.annotate }));
  const split = await record('split', acts.split({ table: labelled, params: plan.split }));
  return record('features', acts.features({ split, params: plan.features }));
}

export async function runPipeline(acts: PipelineActivities, plan: PipelinePlan): Promise<PipelineResult> {
  const stages: StageRecord[] = [];
  const record = stageRecorder(stages);
  const features = await prepareFeatures(acts, plan, record);
  const train = await record('resample', acts.resample({ features, params: plan.resample }));
  const model = await record('train', acts.trainModel({ train, features, params: plan.train }));
  const evaluation = await record('evaluate', acts.evaluate({ model, features, params: plan.evaluate }));
  const report = await record('report', acts.report({ evaluation, params: plan.report }));
  return { metricsKey: evaluation.key, reportKey: report.key, stages };
}
