/**
 * Soft voting: several stored models score one partition, their class probabilities are averaged and the
 * highest average is the prediction (scikit-learn's `VotingClassifier(voting='soft')`). A model without
 * probabilities (a linear SVM's margins) votes with the softmax of its margins. The artifact is an
 * evaluation like `evaluate`'s (`metrics.json`, `predictions.json`, the same summary), keyed by its first
 * member's model and features as inputs (so lineage and reports walk that member's chain) and every
 * member in its params. Members must score the same rows: features of one split (or one fold).
 * The work is ensemble-compute.ts, joined in activities/stages.ts.
 */
import { runStage, type StageDefinition, type StageIdentity } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';
import { badInput } from '../../core/errors';
import type { SplitName } from '../split/stratified';

/** One voter: a trained model and the features it was trained on (keys). */
export interface EnsembleMember {
  model: string;
  features: string;
}

export interface EnsembleParams {
  partition: SplitName;
  members: EnsembleMember[];
  /** Bootstrap seed. @default DEFAULT_BOOTSTRAP_SEED */
  seed?: number;
}

export interface EnsembleInput {
  members: EnsembleMember[];
  partition: SplitName;
  seed?: number;
}

/** What keys the ensemble stage. */
export const ensembleIdentity: StageIdentity = {
  stage: 'ensemble',
  version: 1,
  inputNames: ['model', 'features'],
};

/** The ensemble activity over `stage` (activities/stages.ts `ensembleStage`). */
export function createEnsembleActivity(deps: ActivityDeps, stage: StageDefinition<EnsembleParams>) {
  return async function ensemble(input: EnsembleInput): Promise<StageOutcome> {
    const first = input.members[0];
    if (!first || input.members.length < 2) throw badInput('an ensemble needs at least two members', { stage: 'ensemble' });
    const params: EnsembleParams = { partition: input.partition, members: input.members, ...(input.seed !== undefined ? { seed: input.seed } : {}) };
    const refs: Record<string, ArtifactRef> = { model: { key: first.model, stage: 'train' }, features: { key: first.features, stage: 'features' } };
    return runStage(deps.store, stage, params, refs, deps);
  };
}
