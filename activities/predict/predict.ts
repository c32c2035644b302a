/**
 * Predict stage: labels a table of reviews with a trained model, through the model's own recorded
 * cleaning (its lineage's clean config and lexicons), its features artifact's fitted transform
 * (vocabulary, TF-IDF or Word2Vec) and the model itself (score-model.ts, the path evaluate uses).
 * Writes `predictions.parquet`: one row per input row (source_row, id, text, clean_text, label,
 * label_index, and one column per class: `p_<class>` probabilities, or `score_<class>` decision
 * scores for a linear SVM). Rows emptied by cleaning keep a null label. Its inputs are the model and
 * the table, so its lineage reaches both. The work (DuckDB, apache-arrow, tfjs) is in predict-compute.ts.
 */
import { runStage, type StageDefinition, type StageIdentity } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';

export interface PredictInput {
  /** A train artifact. */
  model: ArtifactRef;
  /** An import or scrape artifact (raw reviews), or a clean, annotate or split artifact. */
  table: ArtifactRef;
}

export const PREDICTIONS_TABLE = 'predictions.parquet';

/** Table files predict reads, in order of preference: raw reviews first (cleaned here), then cleaned tables. */
export const PREDICT_TABLE_FILES = ['reviews.parquet', 'clean.parquet', 'labelled.parquet', 'split.parquet'] as const;

/** What keys the predict stage; its work is predict-compute.ts (joined in activities/stages.ts). */
export const predictIdentity: StageIdentity = {
  stage: 'predict',
  version: 1,
  inputNames: ['model', 'table'],
};

/** The predict activity over `stage` (activities/stages.ts `predictStage`). */
export function createPredictActivity(deps: ActivityDeps, stage: StageDefinition<Record<string, never>>) {
  return async function predict(input: PredictInput): Promise<StageOutcome> {
    return runStage(deps.store, stage, {}, { model: input.model, table: input.table }, deps);
  };
}
