/**
 * Evaluate stage: scores a trained model once on one partition (the untouched test split by default)
 * and writes `metrics.json` (scikit-learn definitions plus seeded bootstrap intervals) and
 * `predictions.json`. No timings go into metrics.json: it must be byte-identical whenever the same
 * model meets the same rows; inference time goes into the manifest summary instead.
 */
import { runStage, type StageDefinition, type StageIdentity } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';
import type { SplitName } from '../split/stratified';

export interface EvaluateParams {
  /** @default 'test' */
  partition: SplitName;
  /**
   * Seed of the bootstrap resampling behind the confidence intervals in `metrics.json` (the experiment
   * seed, when the plan sets it).
   * @default DEFAULT_BOOTSTRAP_SEED (42)
   */
  seed?: number;
}

/** The bootstrap seed when a plan gives none, so plans written before `seed` existed still type-check. */
export const DEFAULT_BOOTSTRAP_SEED = 42;

export interface EvaluateInput {
  model: ArtifactRef;
  features: ArtifactRef;
  params: EvaluateParams;
}

export const METRICS_FILE = 'metrics.json';
export const PREDICTIONS_FILE = 'predictions.json';

/** What keys the evaluate stage; its work is evaluate-compute.ts (joined in activities/stages.ts). */
export const evaluateIdentity: StageIdentity = {
  stage: 'evaluate',
  // 2: metrics.json gained `bootstrap`.
  version: 2,
  inputNames: ['model', 'features'],
};

/** The evaluate activity over `stage` (activities/stages.ts `evaluateStage`). */
export function createEvaluateActivity(deps: ActivityDeps, stage: StageDefinition<EvaluateParams>) {
  return async function evaluate(input: EvaluateInput): Promise<StageOutcome> {
    return runStage(deps.store, stage, input.params, { model: input.model, features: input.features }, deps);
  };
}
