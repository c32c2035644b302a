/**
 * Soft voting: several stored models score one partition, their class probabilities are averaged and the
 * highest average is the prediction (scikit-learn's `VotingClassifier(voting='soft')`). A model without
 * probabilities (a linear SVM's margins) votes with the softmax of its margins. The artifact is an
 * evaluation like `evaluate`'s (`metrics.json`, `predictions.json`, the same summary), keyed by its first
 * member's model and features as inputs (so lineage and reports walk that member's chain) and every
 * member in its params. Members must score the same rows: features of one split (or one fold).
 */
import { runStage, type ComputeResult, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import { LABELS_FILE, readClassNames } from '../annotate/annotate';
import type { ActivityDeps } from '../context';
import { badInput } from '../../core/errors';
import { partitionFile } from '../features/features';
import { readPartition } from '../features/partition';
import { scoreStoredModel, type RowScores } from '../predict/score-model';
import type { SplitName } from '../split/stratified';
import { writeEvaluation } from './evaluate-compute';

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

/** Each row's class probabilities: as given, or the softmax of decision margins. */
export function probabilities(scores: RowScores): Float64Array {
  if (scores.kind === 'probability') return scores.scores;
  const { k } = scores;
  const out = new Float64Array(scores.scores.length);
  for (let row = 0; row * k < out.length; row++) {
    const slice = scores.scores.subarray(row * k, (row + 1) * k);
    const max = Math.max(...slice);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += out[row * k + c] = Math.exp(slice[c]! - max);
    for (let c = 0; c < k; c++) out[row * k + c]! /= sum;
  }
  return out;
}

/** The class with the highest mean probability per row (lowest class on ties, as argmax does). */
export function softVote(members: readonly Float64Array[], rows: number, k: number): Int32Array {
  const labels = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    let best = 0;
    let bestSum = -Infinity;
    for (let c = 0; c < k; c++) {
      let sum = 0;
      for (const p of members) sum += p[row * k + c]!;
      if (sum > bestSum) [best, bestSum] = [c, sum];
    }
    labels[row] = best;
  }
  return labels;
}

export const ensembleStage: StageDefinition<EnsembleParams> = {
  stage: 'ensemble',
  version: 1,
  inputNames: ['model', 'features'],
  async compute({ params, inputs, outDir, store }): Promise<ComputeResult> {
    const features = inputs.features!;
    const classes = await readClassNames(features.file(LABELS_FILE));
    let truth: { labels: Int32Array; sourceRows: Int32Array; rows: number } | undefined;
    const voters: Float64Array[] = [];
    let inferenceMs = 0;
    for (const member of params.members) {
      const data = await readPartition(store.path(member.features, partitionFile(params.partition)));
      if (truth && (data.rows !== truth.rows || data.sourceRows.some((r, i) => r !== truth!.sourceRows[i]))) {
        throw badInput(`ensemble members score different rows (features ${member.features} vs ${params.members[0]!.features}): give members of one split or fold`, {
          stage: 'ensemble',
          key: member.features,
        });
      }
      truth ??= data;
      const scores = await scoreStoredModel(store.dir(member.model), data, member.model, 'ensemble');
      inferenceMs += scores.inferenceMs;
      voters.push(probabilities(scores));
    }
    const yPred = softVote(voters, truth!.rows, classes.length);
    const identity = { partition: params.partition, model: inputs.model!.key, features: features.key, members: params.members, voting: 'soft' };
    const scored = { yTrue: truth!.labels, yPred, sourceRows: truth!.sourceRows, classes, inferenceMs, ...(params.seed !== undefined ? { seed: params.seed } : {}) };
    const result = await writeEvaluation(outDir, identity, scored);
    return { rowCounts: { ...result.rowCounts, members: params.members.length }, summary: { ...result.summary, members: params.members.length } };
  },
};

export function createEnsembleActivity(deps: ActivityDeps) {
  return async function ensemble(input: EnsembleInput): Promise<StageOutcome> {
    const first = input.members[0];
    if (!first || input.members.length < 2) throw badInput('an ensemble needs at least two members', { stage: 'ensemble' });
    const params: EnsembleParams = { partition: input.partition, members: input.members, ...(input.seed !== undefined ? { seed: input.seed } : {}) };
    const refs: Record<string, ArtifactRef> = { model: { key: first.model, stage: 'train' }, features: { key: first.features, stage: 'features' } };
    return runStage(deps.store, ensembleStage, params, refs, deps);
  };
}
