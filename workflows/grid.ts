/**
 * The grid search as a Temporal workflow: the shared grid plan over activity proxies (training on
 * the `train` task queue when the plan names one), a `progress` query, and continue-as-new before
 * the history grows large, carrying a constant-size state (the cells and their results live in the store).
 */
import {
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { GRID_PROFILES, GridFailedError, runGrid, type GridActivities, type GridPlan, type GridProgress, type GridResult, type GridState } from './plans/grid';
import { PROFILES, type ProfileName } from './plans/profiles';
import { asWorkflowFailure } from './plan-failure';

export const progressQuery = defineQuery<GridProgress | undefined>('progress');

/** Cells per run before continue-as-new: each cell adds ~20 events, far below the 51,200-event limit. */
const DEFAULT_CELLS_PER_RUN = 500;

function gridActivities(plan: GridPlan): GridActivities {
  const proxies: Record<ProfileName, GridActivities> = {
    io: proxyActivities<GridActivities>(PROFILES.io),
    cpu: proxyActivities<GridActivities>(PROFILES.cpu),
    train: proxyActivities<GridActivities>({ ...PROFILES.train, ...(plan.trainTaskQueue ? { taskQueue: plan.trainTaskQueue } : {}) }),
  };
  return Object.fromEntries(
    (Object.keys(GRID_PROFILES) as (keyof GridActivities)[]).map((name) => [name, proxies[GRID_PROFILES[name]][name]]),
  ) as unknown as GridActivities;
}

export async function gridWorkflow(plan: GridPlan, state?: GridState): Promise<GridResult> {
  let progress: GridProgress | undefined;
  setHandler(progressQuery, () => progress);
  const limit = plan.cellsPerRun ?? DEFAULT_CELLS_PER_RUN;
  const outcome = await runGrid(gridActivities(plan), plan, state, {
    onProgress: (p) => (progress = p),
    shouldContinueAsNew: (finished) => finished >= limit || workflowInfo().continueAsNewSuggested,
    isCancellation,
  }).catch((error: unknown) => {
    // Workflow code fails only with ApplicationFailure: any other error fails the workflow task, which Temporal retries forever.
    if (error instanceof GridFailedError) throw ApplicationFailure.nonRetryable(error.message, error.type);
    throw asWorkflowFailure(error);
  });
  if (outcome.kind === 'continue') return continueAsNew<typeof gridWorkflow>(plan, outcome.state);
  return outcome.result;
}
