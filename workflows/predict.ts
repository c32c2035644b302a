/** Scoring reviews as a Temporal workflow: the shared predict plan over activity proxies, one per named profile. */
import { proxyActivities } from '@temporalio/workflow';
import { PREDICT_PROFILES, runPredict, type PredictActivities, type PredictPlan, type PredictResult } from './plans/predict';
import { PROFILES } from './plans/profiles';

export async function predictWorkflow(plan: PredictPlan): Promise<PredictResult> {
  const onTrainQueue = plan.trainTaskQueue ? { taskQueue: plan.trainTaskQueue } : {};
  const activities: PredictActivities = {
    importReviews: proxyActivities<PredictActivities>(PROFILES[PREDICT_PROFILES.importReviews]).importReviews,
    predict: proxyActivities<PredictActivities>({ ...PROFILES[PREDICT_PROFILES.predict], ...onTrainQueue }).predict,
  };
  return runPredict(activities, plan);
}
