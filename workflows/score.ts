/**
 * Nightly scoring as a Temporal workflow: the shared scoring plan over activity proxies. The outcome is
 * visible without opening the result: the workflow's memo carries `scoringStatus` (`ok` | `drift`) and
 * the alerts, so `temporal workflow list` / the web UI show a drifted night; and the run records itself
 * (`run-<start>-<workflow id>`) in the store, so `ulasan runs` lists it beside local runs.
 */
import { patched, upsertMemo, workflowInfo } from '@temporalio/workflow';
import { workflowFailure } from './failure';
import { runScoring, scoringRunId, SCORING_PROFILES, type ScoringActivities, type ScoringPlan, type ScoringResult } from './plans/score';
import { queueOf, routedActivities } from './proxies';

/**
 * ulasan-2026-12-nightly-scoring: scoring records its run (writeRunRecord) and the nightly scrape scores
 * its night (a `scoringWorkflow` child). One id for both workflows: each keeps its own markers.
 */
export const NIGHTLY_SCORING_PATCH = 'ulasan-2026-12-nightly-scoring';

export async function scoringWorkflow(plan: ScoringPlan): Promise<ScoringResult> {
  const info = workflowInfo();
  const run = patched(NIGHTLY_SCORING_PATCH) ? { runId: scoringRunId(info.startTime, info.workflowId), runner: 'temporal' as const } : undefined;
  const result = await runScoring(routedActivities<ScoringActivities>(SCORING_PROFILES, {}), plan, run).catch((error: unknown) => {
    throw workflowFailure(error, queueOf<ScoringActivities>(SCORING_PROFILES, {}));
  });
  upsertScoringMemo(result.status, result.alerts);
  return result;
}

/** The memo a scored workflow ends with: `scoringStatus`, and the alerts when there are any (the server drops an empty list). */
export function upsertScoringMemo(status: string, alerts: readonly string[]): void {
  upsertMemo({ scoringStatus: status, ...(alerts.length > 0 ? { alerts: [...alerts] } : {}) });
}
