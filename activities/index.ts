/**
 * All pipeline activities, built once per process from shared dependencies (store, heartbeat, warn).
 * The worker registers these with Temporal; the local runner calls them directly.
 */
import type { StageDefinition } from '../data/store/stage';
import { annotateStage, createAnnotateActivity } from './annotate/annotate';
import { cleanStage, createCleanActivity } from './clean/clean';
import { createCheckStoreActivity } from './check-store';
import type { ActivityDeps } from './context';
import { classifyError } from '../core/errors';
import { createEnsembleActivity, ensembleStage } from './evaluate/ensemble';
import { createEvaluateActivity, evaluateStage } from './evaluate/evaluate';
import { createLookupCellsActivity, createRecordFailuresActivity, createRecordGridActivity, gridCellsStage, gridFailuresStage, gridStage } from './grid/grid';
import { createFeaturesActivity, featuresStage } from './features/features';
import { createImportActivity, importStage } from './import/import';
import { createLeakySplitActivity, leakySplitStage } from './leaky/leaky-split';
import { createPredictActivity, predictStage } from './predict/predict';
import { createDriftCheckActivity, driftCheckStage } from './lineage/drift-check';
import { createWriteRunRecordActivity } from './lineage/run-record';
import { createSemiActivities, labelFractionStage, pseudoLabelStage } from './semi/semi';
import { createReportActivity, reportStage } from './report/report';
import { createResampleActivity, resampleStage } from './resample/resample';
import { createCombineScrapesActivity, createScrapeActivity } from './scrape/scrape';
import { scrapeStage } from './scrape/snapshot';
import { createFoldActivity, foldStage } from './split/folds';
import { createSplitActivity, splitStage } from './split/split';
import { createTrainActivity, trainStage } from './train/train';

export type { ActivityDeps } from './context';

export function createActivities(deps: ActivityDeps) {
  return typedFailures({
    importReviews: createImportActivity(deps),
    clean: createCleanActivity(deps),
    annotate: createAnnotateActivity(deps),
    split: createSplitActivity(deps),
    features: createFeaturesActivity(deps),
    resample: createResampleActivity(deps),
    trainModel: createTrainActivity(deps),
    evaluate: createEvaluateActivity(deps),
    report: createReportActivity(deps),
    leakySplit: createLeakySplitActivity(deps),
    ...createSemiActivities(deps),
    checkStore: createCheckStoreActivity(deps),
    checkTrainStore: createCheckStoreActivity(deps),
    lookupCells: createLookupCellsActivity(deps),
    fold: createFoldActivity(deps),
    ensemble: createEnsembleActivity(deps),
    recordFailures: createRecordFailuresActivity(deps),
    recordGrid: createRecordGridActivity(deps),
    scrapeApp: createScrapeActivity(deps),
    combineScrapes: createCombineScrapesActivity(deps),
    predict: createPredictActivity(deps),
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

/** Every stage by name, so `ulasan verify` can recompute any artifact from its manifest. */
export const STAGES: Record<string, StageDefinition<unknown>> = Object.fromEntries(
  [importStage, cleanStage, annotateStage, splitStage, foldStage, featuresStage, resampleStage, trainStage, evaluateStage, ensembleStage, reportStage, gridStage, gridCellsStage, gridFailuresStage, leakySplitStage, labelFractionStage, pseudoLabelStage, scrapeStage, predictStage, driftCheckStage].map(
    (stage) => [stage.stage, stage as StageDefinition<unknown>],
  ),
);
