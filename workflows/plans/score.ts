/**
 * Nightly scoring: a window of reviews (tonight's scrape, or any source) through the model's own
 * cleaning and label rule, labelled by the model (predict), and checked for drift against the
 * window the model was trained on (drift-check). Alerts come back in the result, status `drift`,
 * never silently. The client resolves the model's cleaning, label rule and training window from its
 * lineage into the plan, so this stays free of I/O; both runners call it.
 */
import type { AnnotateParams } from '../../activities/annotate/annotate';
import type { CleanConfig } from '../../activities/clean/config';
import type { ArtifactRef, StageOutcome } from '../../activities/context';
import type { ImportSource } from '../../activities/import/import';
import type { DriftCheckInput, DriftThresholds } from '../../activities/lineage/drift-check';
import { PIPELINE_PROFILES, stageRecorder, type PipelineActivities, type StageRecord } from './pipeline';
import { PREDICT_PROFILES, type PredictActivities } from './predict';
import type { ProfileName } from '../../core/profiles';

/** The pipeline's first stages, predict, and the drift check. */
export type ScoringActivities = Pick<PipelineActivities, 'importReviews' | 'clean' | 'annotate'> &
  PredictActivities & {
    driftCheck(input: DriftCheckInput): Promise<StageOutcome>;
  };

export const SCORING_PROFILES: Record<keyof ScoringActivities, ProfileName> = {
  importReviews: PIPELINE_PROFILES.importReviews,
  clean: PIPELINE_PROFILES.clean,
  annotate: PIPELINE_PROFILES.annotate,
  predict: PREDICT_PROFILES.predict,
  driftCheck: 'cpu',
};

export interface ScoringPlan {
  name: string;
  source: ImportSource;
  /** The train artifact (a tag resolved by the client). */
  model: string;
  /** The model's recorded cleaning and label rule. */
  clean: CleanConfig;
  label: AnnotateParams;
  /** The model's training window: the labelled table of its lineage. */
  reference: ArtifactRef;
  thresholds: DriftThresholds;
}

export interface ScoringResult {
  status: 'ok' | 'drift';
  alerts: string[];
  predictionsKey: string;
  driftKey: string;
  stages: StageRecord[];
}

export async function runScoring(acts: ScoringActivities, plan: ScoringPlan): Promise<ScoringResult> {
  const stages: StageRecord[] = [];
  const record = stageRecorder(stages);
  const model: ArtifactRef = { key: plan.model, stage: 'train' };
  const reviews = await record('import', () => acts.importReviews({ source: plan.source }));
  const cleaned = await record('clean', () => acts.clean({ table: reviews, config: plan.clean }));
  const window = await record('annotate', () => acts.annotate({ table: cleaned, params: plan.label }));
  const predictions = await record('predict', () => acts.predict({ model, table: reviews }));
  const check = await acts.driftCheck({ reference: plan.reference, window, model, thresholds: plan.thresholds });
  const drift = await record('drift-check', async () => check);
  const alerts = (check.summary.alerts as string[] | undefined) ?? [];
  return { status: alerts.length > 0 ? 'drift' : 'ok', alerts, predictionsKey: predictions.key, driftKey: drift.key, stages };
}
