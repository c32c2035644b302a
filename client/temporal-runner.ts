/** Submits the pipeline to a Temporal server (`TEMPORAL_ADDRESS`) and waits for its result. */
import { Client, Connection } from '@temporalio/client';
import type { GridPlan, GridProgress, GridResult } from '../workflows/plans/grid';
import type { PipelinePlan, PipelineResult } from '../workflows/plans/pipeline';

export const DEFAULT_TASK_QUEUE = 'ulasan';

export interface TemporalRunOptions {
  address?: string;
  namespace?: string;
  taskQueue?: string;
  workflowId: string;
}

async function withClient<T>(options: { address?: string; namespace?: string }, work: (client: Client) => Promise<T>): Promise<T> {
  const address = options.address ?? process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const connection = await Connection.connect({ address });
  try {
    return await work(new Client({ connection, namespace: options.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default' }));
  } finally {
    await connection.close();
  }
}

export async function runOnTemporal(plan: PipelinePlan, options: TemporalRunOptions): Promise<PipelineResult> {
  return withClient(options, (client) =>
    client.workflow.execute('pipelineWorkflow', { taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE, workflowId: options.workflowId, args: [plan] }),
  );
}

export async function runGridOnTemporal(plan: GridPlan, options: TemporalRunOptions): Promise<GridResult> {
  return withClient(options, (client) =>
    client.workflow.execute('gridWorkflow', { taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE, workflowId: options.workflowId, args: [plan] }),
  );
}

/** The `progress` query of a running grid workflow. */
export async function queryGridProgress(workflowId: string, options: { address?: string; namespace?: string } = {}): Promise<GridProgress | undefined> {
  return withClient(options, (client) => client.workflow.getHandle(workflowId).query<GridProgress | undefined>('progress'));
}
