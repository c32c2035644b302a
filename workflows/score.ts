/**
 * Nightly scoring as a Temporal workflow: the shared scoring plan over activity proxies. The outcome is
 * visible without opening the result: the workflow's memo carries `scoringStatus` (`ok` | `drift`) and
 * the alerts, so `temporal workflow list` / the web UI show a drifted night.
 */
import { proxyActivities, upsertMemo } from '@temporalio/workflow';
import { PROFILES } from './plans/profiles';
import { runScoring, SCORING_PROFILES, type ScoringActivities, type ScoringPlan, type ScoringResult } from './plans/score';

const activities = Object.fromEntries(
  (Object.keys(SCORING_PROFILES) as (keyof ScoringActivities)[]).map((name) => [name, proxyActivities<ScoringActivities>(PROFILES[SCORING_PROFILES[name]])[name]]),
) as unknown as ScoringActivities;

export async function scoringWorkflow(plan: ScoringPlan): Promise<ScoringResult> {
  const result = await runScoring(activities, plan);
  upsertMemo({ scoringStatus: result.status, alerts: result.alerts });
  return result;
}
