/** The pipeline as a Temporal workflow: the shared plan over activity proxies, one per named profile. */
import { proxyActivities } from '@temporalio/workflow';
import { PIPELINE_PROFILES, runPipeline, type PipelineActivities, type PipelinePlan, type PipelineResult } from './plans/pipeline';
import { PROFILES, type ProfileName } from './plans/profiles';
import { asWorkflowFailure } from './plan-failure';

const proxies: Record<ProfileName, PipelineActivities> = {
  io: proxyActivities<PipelineActivities>(PROFILES.io),
  cpu: proxyActivities<PipelineActivities>(PROFILES.cpu),
  train: proxyActivities<PipelineActivities>(PROFILES.train),
};

/** Each activity through the proxy of its profile. */
const activities = Object.fromEntries(
  (Object.keys(PIPELINE_PROFILES) as (keyof PipelineActivities)[]).map((name) => [name, proxies[PIPELINE_PROFILES[name]][name]]),
) as unknown as PipelineActivities;

export async function pipelineWorkflow(plan: PipelinePlan): Promise<PipelineResult> {
  try {
    return await runPipeline(activities, plan);
  } catch (error) {
    throw asWorkflowFailure(error);
  }
}
