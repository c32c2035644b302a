/**
 * Resample stage: rebalances the TRAINING partition of a features artifact. Any other partition, or
 * features not derived from a split, is refused: oversampling before the split puts copies of training
 * rows into the test set (the leak that turns an honest 0.64 macro-F1 into 0.98). The feature space
 * follows the features' layout: token ids (only random over/under unless `allowOnTokenIds`), document
 * vectors (dense) or TF-IDF (CSR, never densified).
 */
import { join } from 'node:path';
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactStore } from '../../data/store/artifact-store';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';
import { UlasanError } from '../../core/errors';
import { partitionFile } from '../features/features';
import { LABELS_FILE, readClassNames } from '../annotate/annotate';
import type { SplitName } from '../split/stratified';
import type { SamplerSpec } from './spec';

export interface ResampleParams {
  /** Which sampler, with imbalanced-learn's parameters (see spec.ts). */
  sampler: SamplerSpec;
  seed: number;
  /** Only `train` is accepted; it is explicit so a request for anything else fails loudly. */
  partition: SplitName;
}

/** The resample stage's key material: `seed` is absent for `none`, which draws nothing. */
export type ResampleStageParams = Omit<ResampleParams, 'seed'> & { seed?: number };

/** The resample params that can change the output: `none` copies the partition, so its seed is not in the key. */
export function resampleStageParams(params: ResampleParams): ResampleStageParams {
  if (params.sampler.method !== 'none') return params;
  const { seed: _seed, ...rest } = params;
  void _seed;
  return rest;
}

export interface ResampleInput {
  features: ArtifactRef;
  params: ResampleParams;
}

/** Output file: the resampled training partition (same layout as the features' `train.arrow`: token ids, dense or CSR). */
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
  // A fold (activities/split/folds.ts) is a split of the training split: its train rows are training rows.
  if (manifest.stage !== 'features' || (parent?.stage !== 'split' && parent?.stage !== 'fold')) {
    throw new UlasanError(
      'LeakageRefused',
      `Refusing to resample artifact ${features.key} (stage '${manifest.stage}'): its lineage has no split before it, ` +
        'so it is not a training split.',
      { stage: 'resample', key: features.key },
    );
  }
}

export const resampleStage: StageDefinition<ResampleStageParams> = {
  stage: 'resample',
  // 3: resamples document vectors (dense) and TF-IDF (CSR) as well as token ids; summary names the feature space.
  // 4: `none` keys no seed.
  version: 4,
  inputNames: ['features'],
  async compute({ params, inputs, outDir, store }) {
    const features = inputs.features!;
    await assertTrainingInput(store, { key: features.key, stage: 'features' }, params.partition);
    // apache-arrow and the samplers load only here, on a cache miss.
    const { readPartition, writePartition } = await import('../features/partition');
    const { featureSpaceOf, resamplePartition } = await import('./resample-compute');
    const train = await readPartition(features.file(partitionFile('train')));
    const classes = await readClassNames(features.file(LABELS_FILE));
    const { partition, result } = withClassNames(classes, () => resamplePartition(train, classes.length, params));
    await writePartition(join(outDir, RESAMPLED_FILE), partition);
    const steps = params.sampler.method === 'chain' ? params.sampler.steps : [params.sampler];
    return {
      rowCounts: { before: train.rows, after: partition.rows },
      summary: {
        method: params.sampler.method,
        featureSpace: featureSpaceOf(train.layout),
        allowOnTokenIds: steps.some((step) => 'allowOnTokenIds' in step && step.allowOnTokenIds),
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
    return runStage(deps.store, resampleStage, resampleStageParams(input.params), { features: input.features }, deps);
  };
}

/**
 * The samplers work on label indices and say `class 0`; a user knows the class by its name. Their
 * typed errors are rewritten here, the one place that has both.
 */
function withClassNames<T>(classes: readonly string[], run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof UlasanError) {
      const named = err.message.replace(/\bclass (\d+)\b/g, (whole, n: string) => (classes[Number(n)] === undefined ? whole : `class '${classes[Number(n)]}'`));
      throw new UlasanError(err.type, named, { stage: 'resample', ...err.context }, { cause: err });
    }
    throw err;
  }
}
