/**
 * All pipeline activities, built once per process from shared dependencies (store, heartbeat, warn).
 * The worker registers these with Temporal; the local runner calls them directly.
 */
import { createAnnotateActivity } from './annotate/annotate';
import { createCleanActivity } from './clean/clean';
import { createCheckStoreActivity } from './check-store';
import type { ActivityDeps } from './context';
import { classifyError } from '../core/errors';
import { createEnsembleActivity } from './evaluate/ensemble';
import { createEvaluateActivity } from './evaluate/evaluate';
import { createLookupCellsActivity, createRecordFailuresActivity, createRecordGridActivity } from './grid/grid';
import { createFeaturesActivity } from './features/features';
import { createImportActivity } from './import/import';
import { createLeakySplitActivity } from './leaky/leaky-split';
import { createPredictActivity } from './predict/predict';
import { createDriftCheckActivity } from './lineage/drift-check';
import { createWriteRunRecordActivity } from './lineage/run-record';
import { createSemiActivities } from './semi/semi';
import { createReportActivity } from './report/report';
import { createResampleActivity } from './resample/resample';
import { createCombineScrapesActivity, createScrapeActivity } from './scrape/scrape-app';
import { createFoldActivity } from './split/folds';
import { createSplitActivity } from './split/split';
import { createTrainActivity } from './train/train';
import { cleanStage, createTrainStage, ensembleStage, evaluateStage, featuresStage, predictStage } from './stages';

export type { ActivityDeps } from './context';

export function createActivities(deps: ActivityDeps) {
  return typedFailures({
    importReviews: createImportActivity(deps),
    clean: createCleanActivity(deps, cleanStage),
    annotate: createAnnotateActivity(deps),
    split: createSplitActivity(deps),
    features: createFeaturesActivity(deps, featuresStage),
    resample: createResampleActivity(deps),
    trainModel: createTrainActivity(deps, createTrainStage),
    evaluate: createEvaluateActivity(deps, evaluateStage),
    report: createReportActivity(deps),
    leakySplit: createLeakySplitActivity(deps),
    ...createSemiActivities(deps),
    checkStore: createCheckStoreActivity(deps),
    checkTrainStore: createCheckStoreActivity(deps),
    lookupCells: createLookupCellsActivity(deps),
    fold: createFoldActivity(deps),
    ensemble: createEnsembleActivity(deps, ensembleStage),
    recordFailures: createRecordFailuresActivity(deps),
    recordGrid: createRecordGridActivity(deps),
    scrapeApp: createScrapeActivity(deps),
    combineScrapes: createCombineScrapesActivity(deps),
    predict: createPredictActivity(deps, predictStage),
    driftCheck: createDriftCheckActivity(deps),
    writeRunRecord: createWriteRunRecordActivity(deps),
  });
}

/**
 * Every activity throws only typed failures (`classifyError`), named with the activity, so the local
 * runner and Temporal's retry profiles see the same type and give up on the same faults.
 */
function typedFailures<A extends Record<string, (input: never) => Promise<unknown>>>(activities: A): A {
  const wrapped = Object.entries(activities).map(([name, run]) => {
    const typed = async (input: never) => {
      try {
        return await run(input);
      } catch (err) {
        throw classifyError(err, { stage: name });
      }
    };
    return [name, typed];
  });
  return Object.fromEntries(wrapped) as A;
}

export type Activities = ReturnType<typeof createActivities>;

export { STAGES } from './stages';
