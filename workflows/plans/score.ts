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
import type { WriteRunRecordInput } from '../../activities/lineage/run-record';
import { PIPELINE_PROFILES, stageRecorder, type PipelineActivities, type StageRecord } from './pipeline';
import { describeFailure } from '../../core/failures';
import { PREDICT_PROFILES, type PredictActivities } from './predict';
import type { ProfileName } from '../../core/profiles';

/** The pipeline's first stages, predict, the drift check, and the run record `ulasan runs` lists. */
export type ScoringActivities = Pick<PipelineActivities, 'importReviews' | 'clean' | 'annotate'> &
  PredictActivities & {
    driftCheck(input: DriftCheckInput): Promise<StageOutcome>;
    writeRunRecord(input: WriteRunRecordInput): Promise<void>;
  };

export const SCORING_PROFILES: Record<keyof ScoringActivities, ProfileName> = {
  importReviews: PIPELINE_PROFILES.importReviews,
  clean: PIPELINE_PROFILES.clean,
  annotate: PIPELINE_PROFILES.annotate,
  predict: PREDICT_PROFILES.predict,
  driftCheck: 'cpu',
  writeRunRecord: 'io',
};

export interface ScoringPlan {
  name: string;
  source: ImportSource;
  /** The train artifact (a tag resolved by the client). */
  model: string;
  /** What the user named the model by (a tag, a run id), when not its key: kept so the record says which tag it was. @default undefined */
  modelRef?: string;
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
  /** The run record's id, when the run was recorded (see `ScoringRunId`). */
  runId?: string;
}

/** Who records a scoring run for `ulasan runs`: its id and runner. */
export interface ScoringRunId {
  runId: string;
  runner: 'local' | 'temporal';
}

/**
 * A run id for a scoring run on Temporal, from its workflow (the local runner uses client/run-record's
 * `newRunId`): `run-<start, yyyymmddThhmmssZ>-<workflow id, file-safe>`, so `ulasan runs` reads when it
 * started, and a retried workflow task derives the same id.
 */
export function scoringRunId(startedAt: Date, workflowId: string): string {
  return `run-${runIdStamp(startedAt)}-${workflowId.replace(/[^\w.-]+/g, '_')}`;
}

/** A run id's time part: `yyyymmddThhmmssZ` (UTC), so run ids sort by start. */
export function runIdStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Scores the plan's window; with `run`, records it (status, alerts, keys) where `ulasan runs` finds it. */
export async function runScoring(acts: ScoringActivities, plan: ScoringPlan, run?: ScoringRunId): Promise<ScoringResult> {
  const stages: StageRecord[] = [];
  let result: ScoringResult;
  try {
    result = await scoreWindow(acts, plan, stages);
  } catch (error) {
    // A night that could not be scored is listed too (`ulasan runs`: failed, with why), then fails as it would.
    const failed = { kind: 'score', plan, status: 'failed', error: describeFailure(error), stages };
    if (run) await acts.writeRunRecord({ ...run, record: failed }).catch(() => undefined); // the failure itself is what to report
    throw error;
  }
  if (!run) return result;
  await acts.writeRunRecord({ ...run, record: { kind: 'score', plan, metricsKey: result.driftKey, ...result } });
  return { ...result, runId: run.runId };
}

async function scoreWindow(acts: ScoringActivities, plan: ScoringPlan, stages: StageRecord[]): Promise<ScoringResult> {
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
