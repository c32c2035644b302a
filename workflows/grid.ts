/**
 * The grid search as a Temporal workflow: the shared grid plan over activity proxies (training on
 * the `train` task queue when the plan names one), a `progress` query, and continue-as-new before
 * the history grows large, carrying a constant-size state (the cells and their results live in the store).
 */
import {
  continueAsNew,
  defineQuery,
  isCancellation,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { GRID_PROFILES, runGrid, type GridActivities, type GridPlan, type GridProgress, type GridResult, type GridState } from './plans/grid';
import { workflowFailure } from './failure';
import { queueOf, routedActivities } from './proxies';

export const progressQuery = defineQuery<GridProgress | undefined>('progress');

/** Cells per run before continue-as-new: each cell adds ~20 events, far below the 51,200-event limit. */
const DEFAULT_CELLS_PER_RUN = 500;

export async function gridWorkflow(plan: GridPlan, state?: GridState): Promise<GridResult> {
  let progress: GridProgress | undefined;
  setHandler(progressQuery, () => progress);
  const limit = plan.cellsPerRun ?? DEFAULT_CELLS_PER_RUN;
  const outcome = await runGrid(routedActivities<GridActivities>(GRID_PROFILES, plan), plan, state, {
    onProgress: (p) => (progress = p),
    shouldContinueAsNew: (finished) => finished >= limit || workflowInfo().continueAsNewSuggested,
    isCancellation,
  }).catch((error: unknown) => {
    // Only ApplicationFailures leave workflow code (workflows/failure.ts); continueAsNew below is not caught.
    throw workflowFailure(error, queueOf<GridActivities>(GRID_PROFILES, plan));
  });
  if (outcome.kind === 'continue') return continueAsNew<typeof gridWorkflow>(plan, outcome.state);
  return outcome.result;
}
