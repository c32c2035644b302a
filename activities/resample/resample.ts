/**
 * Resample stage: rebalances the TRAINING partition of a features artifact. Any other partition, or
 * features not derived from a split, is refused: oversampling before the split puts copies of training
 * rows into the test set (the leak that turns an honest 0.64 macro-F1 into 0.98).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../../data/random';
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactStore } from '../../data/store/artifact-store';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';
import { UlasanError } from '../errors';
import { partitionFile } from '../features/features';
import { readTokenMatrix, writeTokenMatrix, type TokenMatrix } from '../features/token-matrix';
import { LABELS_FILE } from '../annotate/annotate';
import type { SplitName } from '../split/stratified';
import type { DenseMatrix } from './matrix';
import type { ResampleResult } from './result';
import { resample as resampleRows } from './sampler';
import type { SamplerSpec } from './spec';

export interface ResampleParams {
  /** Which sampler, with imbalanced-learn's parameters (see spec.ts). */
  sampler: SamplerSpec;
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

/** Runs the sampler on the token-id matrix (the only feature space the token-ids features give). */
export function resampleTokenMatrix(train: TokenMatrix, nClasses: number, params: ResampleParams): { matrix: TokenMatrix; result: ResampleResult } {
  const x = { data: Float32Array.from(train.ids), rows: train.rows, cols: train.seqLen };
  const result = resampleRows({ x, y: train.labels, featureSpace: 'token-ids', nClasses }, params.sampler, new Rng(params.seed).fork('resample'));
  const dense = result.x as DenseMatrix;
  // Interpolated token ids (SMOTE on ids, only with allowOnTokenIds) are rounded back to ids; the flag says so.
  const ids = Int32Array.from(dense.data, (v) => Math.round(v));
  const sourceRows = Int32Array.from(result.origin.source, (row) => (row >= 0 ? train.sourceRows[row]! : -1));
  return { matrix: { ids, labels: Int32Array.from(result.y), sourceRows, rows: dense.rows, seqLen: train.seqLen }, result };
}

export const resampleStage: StageDefinition<ResampleParams> = {
  stage: 'resample',
  version: 2,
  inputNames: ['features'],
  async compute({ params, inputs, outDir, store }) {
    const features = inputs.features!;
    await assertTrainingInput(store, { key: features.key, stage: 'features' }, params.partition);
    const train = await readTokenMatrix(features.file(partitionFile('train')));
    const classes = (JSON.parse(await readFile(features.file(LABELS_FILE), 'utf8')) as { classes: string[] }).classes;
    const { matrix, result } = resampleTokenMatrix(train, classes.length, params);
    await writeTokenMatrix(join(outDir, RESAMPLED_FILE), matrix);
    return {
      rowCounts: { before: train.rows, after: matrix.rows },
      summary: {
        method: params.sampler.method,
        before: Object.fromEntries(result.summary.before.map((n, i) => [i, n])),
        after: Object.fromEntries(result.summary.after.map((n, i) => [i, n])),
        generated: result.summary.generated,
        duplicated: result.summary.duplicated,
        removed: result.summary.removed,
        ...(result.summary.noOp ? { noOp: result.summary.noOp } : {}),
        ...(result.flag ? { flag: result.flag } : {}),
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
