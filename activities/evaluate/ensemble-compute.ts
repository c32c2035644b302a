/** The ensemble stage's work (definition: ensemble.ts): soft voting of stored models on one partition. */
import type { ComputeContext, ComputeResult } from '../../data/store/stage';
import { LABELS_FILE, readClassNames } from '../annotate/annotate';
import { badInput } from '../../core/errors';
import { partitionFile } from '../features/features';
import { readPartition } from '../features/partition';
import { scoreStoredModel, type RowScores } from '../predict/score-model';
import type { EnsembleParams } from './ensemble';
import { writeEvaluation } from './evaluate-compute';

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

/** Scores the members on the partition and writes their soft vote as an evaluation. */
export async function computeEnsemble({ params, inputs, outDir, store }: ComputeContext<EnsembleParams>): Promise<ComputeResult> {
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
}

