/**
 * Submits a plan to a Temporal server (`TEMPORAL_ADDRESS`) and waits for its result. The workflow id
 * comes from the plan's hash, so submitting the same spec while it runs attaches to the running
 * workflow instead of starting a second one (nothing is trained twice); once it has closed, the same
 * id may start again (a re-run, served from the cache).
 */
import { ActivityFailure, ApplicationFailure, Client, Connection, WorkflowFailedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { UlasanError } from '../activities/errors';
import { FAILURE_TYPES, type FailureType } from '../workflows/plans/failures';
import { canonicalJson, sha256Hex } from '../data/canonical';
import type { GridPlan, GridProgress, GridResult } from '../workflows/plans/grid';
import type { PipelinePlan, PipelineResult } from '../workflows/plans/pipeline';
import type { PredictPlan, PredictResult } from '../workflows/plans/predict';
import { formatProgress } from './progress';

export const DEFAULT_TASK_QUEUE = 'ulasan';

export interface TemporalConnectionOptions {
  address?: string;
  namespace?: string;
}

export interface TemporalRunOptions extends TemporalConnectionOptions {
  taskQueue?: string;
  /** Told the workflow id once the workflow is started or attached to. */
  onSubmitted?: (workflowId: string) => void;
}

type WorkflowName = 'pipelineWorkflow' | 'gridWorkflow' | 'predictWorkflow';

/** A workflow that failed with a typed ApplicationFailure, as the CLI reports every ulasan failure: type and message, no stack. */
function asUlasanError(error: unknown, workflowId: string): unknown {
  if (!(error instanceof WorkflowFailedError)) return error;
  // The workflow's own failure, or the activity failure it let through (whose cause is the activity's).
  const cause = error.cause instanceof ActivityFailure ? error.cause.cause : error.cause;
  if (!(cause instanceof ApplicationFailure)) return error;
  const { type, message } = cause;
  if (!type || !(type in FAILURE_TYPES)) return error;
  return new UlasanError(type as FailureType, `workflow ${workflowId} failed: ${message}`, {}, { cause: error });
}

/** `grid-<hash>` / `pipeline-<hash>`: the same plan always has the same workflow id. */
export function workflowIdFor(workflow: WorkflowName, plan: PipelinePlan | GridPlan | PredictPlan): string {
  return `${workflow.replace('Workflow', '')}-${sha256Hex(canonicalJson(plan)).slice(0, 16)}`;
}

export async function withTemporalClient<T>(options: TemporalConnectionOptions, work: (client: Client) => Promise<T>): Promise<T> {
  const address = options.address ?? process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const connection = await Connection.connect({ address });
  try {
    return await work(new Client({ connection, namespace: options.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default' }));
  } finally {
    await connection.close();
  }
}

/** Starts the workflow, or attaches to the running one with the same id, and waits for its result. */
async function submit<R>(workflow: WorkflowName, plan: PipelinePlan | GridPlan | PredictPlan, options: TemporalRunOptions): Promise<R> {
  const workflowId = workflowIdFor(workflow, plan);
  return withTemporalClient(options, async (client) => {
    const handle = await client.workflow.start(workflow, {
      taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
      workflowId,
      args: [plan],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    options.onSubmitted?.(workflowId);
    return (handle.result() as Promise<R>).catch((error: unknown) => {
      throw asUlasanError(error, workflowId);
    });
  });
}

export const runOnTemporal = (plan: PipelinePlan, options: TemporalRunOptions = {}) => submit<PipelineResult>('pipelineWorkflow', plan, options);

export const runGridOnTemporal = (plan: GridPlan, options: TemporalRunOptions = {}) => submit<GridResult>('gridWorkflow', plan, options);

export const runPredictOnTemporal = (plan: PredictPlan, options: TemporalRunOptions = {}) => submit<PredictResult>('predictWorkflow', plan, options);

/** What `status` and `watch` show of a workflow: its state and, for a running grid, its progress. */
export interface WorkflowState {
  workflowId: string;
  type: string;
  status: string;
  progress?: GridProgress;
}

async function stateOf(handle: WorkflowHandle): Promise<WorkflowState> {
  const description = await handle.describe();
  const state: WorkflowState = { workflowId: handle.workflowId, type: description.type, status: description.status.name };
  if (description.type !== 'gridWorkflow' || description.status.name !== 'RUNNING') return state;
  const progress = await handle.query<GridProgress | undefined>('progress').catch(() => undefined);
  return progress ? { ...state, progress } : state;
}

/** The workflow's state and grid progress, or undefined when the server has no such workflow. */
export async function workflowState(workflowId: string, options: TemporalConnectionOptions = {}): Promise<WorkflowState | undefined> {
  return withTemporalClient(options, (client) =>
    stateOf(client.workflow.getHandle(workflowId)).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }),
  );
}

/**
 * Follows a workflow until it closes (through continue-as-new), telling `onState` each time its state
 * or progress changes; returns the last state.
 */
export async function watchWorkflow(
  workflowId: string,
  onState: (state: WorkflowState) => void,
  options: TemporalConnectionOptions & { intervalMs?: number } = {},
): Promise<WorkflowState> {
  return withTemporalClient(options, async (client) => {
    let last = '';
    for (;;) {
      const state = await stateOf(client.workflow.getHandle(workflowId)).catch((err: unknown) => {
        throw err instanceof WorkflowNotFoundError ? new UlasanError('NotFound', `Temporal has no workflow ${workflowId}: is TEMPORAL_ADDRESS the server it ran on?`) : err;
      });
      const seen = JSON.stringify(state);
      if (seen !== last) onState(state);
      last = seen;
      if (state.status !== 'RUNNING') return state;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1_000));
    }
  });
}

export function formatWorkflowState(state: WorkflowState): string {
  const head = `${state.workflowId} (${state.type}): ${state.status}`;
  return state.progress ? `${head} ${formatProgress(state.progress, null)}` : head;
}
