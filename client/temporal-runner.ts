/** Submits the pipeline to a Temporal server (`TEMPORAL_ADDRESS`) and waits for its result. */
import { Client, Connection } from '@temporalio/client';
import type { PipelinePlan, PipelineResult } from '../workflows/plans/pipeline';

export const DEFAULT_TASK_QUEUE = 'ulasan';

export interface TemporalRunOptions {
  address?: string;
  namespace?: string;
  taskQueue?: string;
  workflowId: string;
}

export async function runOnTemporal(plan: PipelinePlan, options: TemporalRunOptions): Promise<PipelineResult> {
  const address = options.address ?? process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace: options.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default' });
    return await client.workflow.execute('pipelineWorkflow', {
      taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
      workflowId: options.workflowId,
      args: [plan],
    });
  } finally {
    await connection.close();
  }
}
