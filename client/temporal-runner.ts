/**
 * Submits a plan to a Temporal server (`TEMPORAL_ADDRESS`), waits for its result, and cancels runs. The workflow id
 * comes from the plan's hash, so submitting the same spec while it runs attaches to the running
 * workflow instead of starting a second one (nothing is trained twice); once it has closed, the same
 * id may start again (a re-run, served from the cache). A failed run comes back as a typed UlasanError
 * carrying the workflow's failure (type and message), never a raw stack.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  Client,
  Connection,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowHandle,
} from '@temporalio/client';
import { notFound, UlasanError } from '../core/errors';
import { FAILURE_TYPES, type FailureType } from '../core/failures';
import { canonicalJson, sha256Hex } from '../data/canonical';
import type { GridPlan, GridProgress, GridResult } from '../workflows/plans/grid';
import type { PipelinePlan, PipelineResult } from '../workflows/plans/pipeline';
import type { PredictPlan, PredictResult } from '../workflows/plans/predict';
import { formatProgress } from './progress';

export const DEFAULT_TASK_QUEUE = 'ulasan';

/** How long a run may take, start to end, before Temporal ends it. */
export const DEFAULT_RUN_TIMEOUT_MS = 7 * 24 * 60 * 60_000;

export interface TemporalConnectionOptions {
  address?: string;
  namespace?: string;
}

export interface TemporalRunOptions extends TemporalConnectionOptions {
  taskQueue?: string;
  /** Workflow execution timeout: how long the whole run may take. @default DEFAULT_RUN_TIMEOUT_MS */
  timeoutMs?: number;
  /** Told the workflow id once the workflow is started or attached to. */
  onSubmitted?: (workflowId: string) => void;
}

type WorkflowName = 'pipelineWorkflow' | 'gridWorkflow' | 'predictWorkflow';

/**
 * A failed run as the CLI reports every ulasan failure: type and message, no stack. A cancelled or terminated run is
 * `Cancelled`, one past its execution timeout `TimedOut`; a workflow's typed failure (or the activity failure it let
 * through) keeps its type and context.
 */
export function asUlasanError(error: unknown, workflowId: string): unknown {
  if (!(error instanceof WorkflowFailedError)) return error;
  const cause = error.cause instanceof ActivityFailure ? error.cause.cause : error.cause;
  if (cause instanceof CancelledFailure) return new UlasanError('Cancelled', `workflow ${workflowId} was cancelled; finished stages stay cached.`);
  if (cause instanceof TerminatedFailure) return new UlasanError('Cancelled', `workflow ${workflowId} was terminated: ${cause.message}`);
  if (cause instanceof TimeoutFailure) return new UlasanError('TimedOut', `workflow ${workflowId} ran past its execution timeout; pass a longer --timeout.`);
  if (cause instanceof ApplicationFailure) {
    const type: FailureType = cause.type && cause.type in FAILURE_TYPES ? (cause.type as FailureType) : 'Internal';
    const context = (cause.details?.[0] ?? {}) as ConstructorParameters<typeof UlasanError>[2];
    return new UlasanError(type, `workflow ${workflowId} failed: ${cause.message}`, context, { cause: error });
  }
  return new UlasanError('Internal', `workflow ${workflowId} failed: ${cause?.message ?? error.message}`, {}, { cause: error });
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
      workflowExecutionTimeout: options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
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

/**
 * `ulasan cancel <runId>`: asks the run to stop (its running activities see it within one heartbeat interval and stop;
 * finished stages stay cached) and waits up to `waitMs` for it to end. Returns the run's status then.
 */
export async function cancelRun(workflowId: string, options: TemporalConnectionOptions & { waitMs?: number } = {}): Promise<string> {
  return withTemporalClient(options, async (client) => {
    const handle = client.workflow.getHandle(workflowId);
    await handle.cancel().catch((error: unknown) => {
      throw error instanceof WorkflowNotFoundError ? notFound(`no run ${workflowId} on the Temporal server; \`ulasan run\` prints the run id`) : error;
    });
    const deadline = Date.now() + (options.waitMs ?? 120_000);
    for (;;) {
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING' || Date.now() > deadline) return status.name;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });
}
