/** Scoring reviews as a Temporal workflow: the shared predict plan over activity proxies, routed like the pipeline's (workflows/proxies.ts). */
import { workflowFailure } from './failure';
import { PREDICT_PROFILES, runPredict, type PredictActivities, type PredictPlan, type PredictResult } from './plans/predict';
import { queueOf, routedActivities } from './proxies';

export async function predictWorkflow(plan: PredictPlan): Promise<PredictResult> {
  try {
    return await runPredict(routedActivities<PredictActivities>(PREDICT_PROFILES, plan), plan);
  } catch (error) {
    throw workflowFailure(error, queueOf<PredictActivities>(PREDICT_PROFILES, plan));
  }
}
