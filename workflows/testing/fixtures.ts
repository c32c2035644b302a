// Small plans for plan and replay tests: the upstream stages of a tiny synthetic experiment.
import { parseCleanConfig } from '../../activities/clean/config';
import type { TrainParams } from '../../activities/train/train';
import type { UpstreamPlan } from '../plans/pipeline';

export const tinyUpstream: UpstreamPlan = {
  source: { kind: 'synthetic', rows: 100, seed: 1 },
  clean: parseCleanConfig({}),
  annotate: { rule: { name: 'binary', version: 1, classes: ['negative', 'positive'], byRating: { 1: 0, 2: 0, 3: null, 4: 1, 5: 1 } } },
  split: { ratios: { train: 0.6, val: 0.2, test: 0.2 }, seed: 1 },
  features: { kind: 'token-ids', maxVocab: 100, minCount: 1, maxLen: 8 },
};

export const tinyTrain = (learningRate: number): TrainParams => ({
  model: { arch: 'cnn-small', embeddingDim: 8, filters: 8, kernelSize: 3, dropout: 0 },
  epochs: 1,
  batchSize: 8,
  learningRate,
  seed: 1,
});
