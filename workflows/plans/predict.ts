/**
 * Scoring reviews with a trained model: import the reviews when they come as a file, then the predict
 * stage. Both runners call this plan (the local runner with the real activities, `predictWorkflow` with
 * proxies); predict runs under the `train` profile, on the train queue's workers where a model is loaded.
 */
import type { ArtifactRef, StageOutcome } from '../../activities/context';
import type { ImportSource } from '../../activities/import/import';
import type { PredictInput } from '../../activities/predict/predict';
import { PIPELINE_PROFILES, stageRecorder, type PipelineActivities, type StageRecord } from './pipeline';
import type { ProfileName } from '../../core/profiles';

export type PredictActivities = Pick<PipelineActivities, 'importReviews'> & {
  predict(input: PredictInput): Promise<StageOutcome>;
};

/** predict loads models: the `train` profile, as training. */
export const PREDICT_PROFILES: Record<keyof PredictActivities, ProfileName> = {
  importReviews: PIPELINE_PROFILES.importReviews,
  predict: 'train',
};

export interface PredictPlan {
  /** A train artifact key (the client resolves run ids and tags to one). */
  model: string;
  /** Reviews to label: a file to import, or a table artifact already in the store. */
  input: { source: ImportSource } | { table: ArtifactRef };
  /** Temporal: the task queue of the workers that load models (as a grid's `trainTaskQueue`). @default the workflow's queue */
  trainTaskQueue?: string;
}

export interface PredictResult {
  predictionsKey: string;
  tableKey: string;
  modelKey: string;
  stages: StageRecord[];
  summary: Record<string, unknown>;
}

export async function runPredict(acts: PredictActivities, plan: PredictPlan): Promise<PredictResult> {
  const stages: StageRecord[] = [];
  const record = stageRecorder(stages);
  const { input } = plan;
  const table = 'table' in input ? input.table : await record('import', () => acts.importReviews({ source: input.source }));
  const outcome = await acts.predict({ model: { key: plan.model, stage: 'train' }, table });
  await record('predict', async () => outcome);
  return { predictionsKey: outcome.ref.key, tableKey: table.key, modelKey: plan.model, stages, summary: outcome.summary };
}
