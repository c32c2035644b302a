/**
 * Nightly scoring as a Temporal workflow: the shared scoring plan over activity proxies. The outcome is
 * visible without opening the result: the workflow's memo carries `scoringStatus` (`ok` | `drift`) and
 * the alerts, so `temporal workflow list` / the web UI show a drifted night.
 */
import { upsertMemo } from '@temporalio/workflow';
import { workflowFailure } from './failure';
import { runScoring, SCORING_PROFILES, type ScoringActivities, type ScoringPlan, type ScoringResult } from './plans/score';
import { queueOf, routedActivities } from './proxies';

export async function scoringWorkflow(plan: ScoringPlan): Promise<ScoringResult> {
  const result = await runScoring(routedActivities<ScoringActivities>(SCORING_PROFILES, {}), plan).catch((error: unknown) => {
    throw workflowFailure(error, queueOf<ScoringActivities>(SCORING_PROFILES, {}));
  });
  upsertMemo({ scoringStatus: result.status, alerts: result.alerts });
  return result;
}
