/**
 * The pipeline as a Temporal workflow: the shared plan over activity proxies, one per named profile, the train
 * activities on the plan's `trainTaskQueue` when it names one. A failure ends the run with a typed
 * `ApplicationFailure` carrying the activity's own failure (workflows/failure.ts).
 */
import { workflowFailure } from './failure';
import { PIPELINE_PROFILES, runPipeline, type PipelineActivities, type PipelinePlan, type PipelineResult } from './plans/pipeline';
import { queueOf, routedActivities } from './proxies';

export async function pipelineWorkflow(plan: PipelinePlan): Promise<PipelineResult> {
  try {
    return await runPipeline(routedActivities<PipelineActivities>(PIPELINE_PROFILES, plan), plan);
  } catch (error) {
    throw workflowFailure(error, queueOf<PipelineActivities>(PIPELINE_PROFILES, plan));
  }
}
