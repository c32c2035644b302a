/**
 * Resample stage: rebalances the TRAINING partition of a features artifact. Any other partition, or
 * features not derived from a split, is refused: oversampling before the split puts copies of training
 * rows into the test set (the leak that turns an honest 0.64 macro-F1 into 0.98).
 */
import { join } from 'node:path';
import { Rng } from '../../data/random';
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactStore } from '../../data/store/artifact-store';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';
import { UlasanError } from '../errors';
import { partitionFile } from '../features/features';
import { readTokenMatrix, writeTokenMatrix, type TokenMatrix } from '../features/token-matrix';
import type { SplitName } from '../split/stratified';

export interface ResampleParams {
  method: 'none' | 'random-over';
  seed: number;
  /** Only `train` is accepted; it is explicit so a request for anything else fails loudly. */
  partition: SplitName;
}

export interface ResampleInput {
  features: ArtifactRef;
  params: ResampleParams;
}

/** Output file: the resampled training partition (same layout as the features' `train.arrow`). */
export const RESAMPLED_FILE = 'train.arrow';

/** Refuses anything but the training partition of features fitted after a split. */
export async function assertTrainingInput(store: ArtifactStore, features: ArtifactRef, partition: SplitName): Promise<void> {
  if (partition !== 'train') {
    throw new UlasanError(
      'LeakageRefused',
      `Refusing to resample the '${partition}' partition of ${features.key}: only training rows may be resampled.`,
      { stage: 'resample', key: features.key, field: 'partition' },
    );
  }
  const manifest = await store.manifest(features.key);
  const parent = manifest.inputs.split ? await store.manifest(manifest.inputs.split) : undefined;
  if (manifest.stage !== 'features' || parent?.stage !== 'split') {
    throw new UlasanError(
      'LeakageRefused',
      `Refusing to resample artifact ${features.key} (stage '${manifest.stage}'): its lineage has no split before it, ` +
        'so it is not a training split.',
      { stage: 'resample', key: features.key },
    );
  }
}

/** Random over-sampling (imbalanced-learn's `auto`): every class is drawn up to the majority count, with replacement. */
export function randomOverSample(matrix: TokenMatrix, rng: Rng): { matrix: TokenMatrix; added: Record<number, number> } {
  const byClass = new Map<number, number[]>();
  matrix.labels.forEach((label, row) => (byClass.get(label) ?? byClass.set(label, []).get(label)!).push(row));
  const majority = Math.max(...[...byClass.values()].map((rows) => rows.length));
  const picks: number[] = [];
  const added: Record<number, number> = {};
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = byClass.get(label)!;
    added[label] = majority - rows.length;
    for (let i = rows.length; i < majority; i++) picks.push(rows[rng.int(rows.length)]!);
  }
  return { matrix: appendRows(matrix, picks), added };
}

function appendRows(matrix: TokenMatrix, picks: number[]): TokenMatrix {
  const { seqLen, rows } = matrix;
  const ids = new Int32Array((rows + picks.length) * seqLen);
  ids.set(matrix.ids);
  const labels = new Int32Array(rows + picks.length);
  labels.set(matrix.labels);
  const sourceRows = new Int32Array(rows + picks.length);
  sourceRows.set(matrix.sourceRows);
  picks.forEach((from, i) => {
    ids.set(matrix.ids.subarray(from * seqLen, (from + 1) * seqLen), (rows + i) * seqLen);
    labels[rows + i] = matrix.labels[from]!;
    sourceRows[rows + i] = matrix.sourceRows[from]!;
  });
  return { ids, labels, sourceRows, rows: rows + picks.length, seqLen };
}

function classCounts(labels: Int32Array): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}

export const resampleStage: StageDefinition<ResampleParams> = {
  stage: 'resample',
  version: 1,
  inputNames: ['features'],
  async compute({ params, inputs, outDir, store }) {
    const features = inputs.features!;
    await assertTrainingInput(store, { key: features.key, stage: 'features' }, params.partition);
    const train = await readTokenMatrix(features.file(partitionFile('train')));
    const rng = new Rng(params.seed).fork('resample');
    const result = params.method === 'random-over' ? randomOverSample(train, rng) : { matrix: train, added: {} };
    await writeTokenMatrix(join(outDir, RESAMPLED_FILE), result.matrix);
    return {
      rowCounts: { before: train.rows, after: result.matrix.rows },
      summary: {
        method: params.method,
        before: classCounts(train.labels),
        after: classCounts(result.matrix.labels),
        added: result.added,
      },
    };
  },
};

export function createResampleActivity(deps: ActivityDeps) {
  return async function resample(input: ResampleInput): Promise<StageOutcome> {
    await assertTrainingInput(deps.store, input.features, input.params.partition);
    return runStage(deps.store, resampleStage, input.params, { features: input.features }, deps);
  };
}
