/**
 * Train stage: fits a tfjs text classifier on the (resampled) training partition, with the validation
 * partition scored after every epoch. Seeded: initialisers, dropout and the batch order (ulasan
 * shuffles; tfjs's own shuffle is unseeded), so the same inputs give the same weights.
 */
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';

/** The quickstart architecture: Embedding → Conv1D → GlobalMaxPool → Dropout → Dense softmax. */
export interface CnnSmallSpec {
  arch: 'cnn-small';
  /** @default 32 */
  embeddingDim: number;
  /** @default 64 */
  filters: number;
  /** @default 5 */
  kernelSize: number;
  /** @default 0.3 */
  dropout: number;
}

export interface TrainParams {
  model: CnnSmallSpec;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

export interface TrainInput {
  train: ArtifactRef;
  features: ArtifactRef;
  params: TrainParams;
}

export const METADATA_FILE = 'metadata.json';

export const trainStage: StageDefinition<TrainParams> = {
  stage: 'train',
  version: 1,
  inputNames: ['train', 'features'],
  async compute(ctx) {
    // tfjs loads only when a model is actually trained: cache hits stay fast.
    const { fitTrainStage } = await import('./train-run');
    return fitTrainStage(ctx);
  },
};

export function createTrainActivity(deps: ActivityDeps) {
  return async function trainModel(input: TrainInput): Promise<StageOutcome> {
    return runStage(deps.store, trainStage, input.params, { train: input.train, features: input.features }, deps);
  };
}
