/**
 * Every stage by name: each definition's identity joined with its work. A definition file never imports its
 * compute (the compute imports the definition, one way); the stages whose work pulls heavy modules (DuckDB,
 * apache-arrow, tfjs) get it here through `withLazyCompute`, so a run of cache hits never loads them.
 * `ulasan verify` recomputes any artifact from its manifest through `STAGES`.
 */
import { withLazyCompute, type StageDefinition } from '../data/store/stage';
import { annotateStage } from './annotate/annotate';
import { cleanIdentity, type CleanParams } from './clean/clean';
import { ensembleIdentity, type EnsembleParams } from './evaluate/ensemble';
import { evaluateIdentity, type EvaluateParams } from './evaluate/evaluate';
import { featuresIdentity, type FeaturesParams } from './features/features';
import { gridCellsStage, gridFailuresStage, gridStage } from './grid/grid';
import { importStage } from './import/import';
import { leakySplitStage } from './leaky/leaky-split';
import { driftCheckStage } from './lineage/drift-check';
import { predictIdentity } from './predict/predict';
import { reportStage } from './report/report';
import { resampleStage } from './resample/resample';
import { scrapeStage } from './scrape/scrape';
import { labelFractionStage, pseudoLabelStage } from './semi/semi';
import { foldStage } from './split/folds';
import { splitStage } from './split/split';
import { trainIdentity, type TrainHooks, type TrainStageParams } from './train/train';

export const cleanStage = withLazyCompute<CleanParams>(cleanIdentity, async () => (await import('./clean/clean-compute')).computeClean);

export const featuresStage = withLazyCompute<FeaturesParams>(featuresIdentity, async () => (await import('./features/features-compute')).computeFeatures);

export const evaluateStage = withLazyCompute<EvaluateParams>(evaluateIdentity, async () => (await import('./evaluate/evaluate-compute')).scoreEvaluateStage);

export const ensembleStage = withLazyCompute<EnsembleParams>(ensembleIdentity, async () => (await import('./evaluate/ensemble-compute')).computeEnsemble);

export const predictStage = withLazyCompute<Record<string, never>>(predictIdentity, async () => (await import('./predict/predict-compute')).computePredictions);

/** The train stage, with hooks for resuming and observing checkpoints; same stage name, version and keys. */
export function createTrainStage(hooks: TrainHooks = {}): StageDefinition<TrainStageParams> {
  return withLazyCompute<TrainStageParams>(trainIdentity, async () => {
    const { fitTrainStage } = await import('./train/train-compute');
    return (ctx) => fitTrainStage(ctx, hooks);
  });
}

export const trainStage: StageDefinition<TrainStageParams> = createTrainStage();

export const STAGES: Record<string, StageDefinition<unknown>> = Object.fromEntries(
  [
    importStage,
    cleanStage,
    annotateStage,
    splitStage,
    foldStage,
    featuresStage,
    resampleStage,
    trainStage,
    evaluateStage,
    ensembleStage,
    reportStage,
    gridStage,
    gridCellsStage,
    gridFailuresStage,
    leakySplitStage,
    labelFractionStage,
    pseudoLabelStage,
    scrapeStage,
    predictStage,
    driftCheckStage,
  ].map((stage) => [stage.stage, stage as StageDefinition<unknown>]),
);
