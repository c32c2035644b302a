/**
 * Semi-supervised labelling (the e-wallet study's setup): keep the labels of a seeded fraction of the
 * training split, train on it, pseudo-label the rest, and measure that labelling against the ratings
 * held back. Both stages write features-shaped artifacts (train/val/test partitions, vocab, labels), so
 * the ordinary train and evaluate stages run on them unchanged.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../../data/random';
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import { LABELS_FILE, readClassNames } from '../annotate/annotate';
import type { ActivityDeps } from '../context';
import { classificationMetrics } from '../evaluate/metrics';
import { partitionFile, VOCAB_FILE } from '../features/features';
import { readTokenMatrix, takeTokenRows, writeTokenMatrix, type TokenMatrix } from '../features/token-matrix';
import type { SplitName } from '../split/stratified';

export const UNLABELLED_FILE = 'unlabelled.arrow';
export const LABELLING_FILE = 'labelling.json';

export interface LabelFractionParams {
  /** Share of training rows whose labels are kept (stratified per class). */
  fraction: number;
  seed: number;
}

function concat(a: TokenMatrix, b: TokenMatrix): TokenMatrix {
  const join2 = (x: Int32Array, y: Int32Array) => {
    const out = new Int32Array(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return { ids: join2(a.ids, b.ids), labels: join2(a.labels, b.labels), sourceRows: join2(a.sourceRows, b.sourceRows), rows: a.rows + b.rows, seqLen: a.seqLen };
}

/** Copies the partitions and files a features artifact has, except those listed (written by the caller). */
async function copyFeatureFiles(from: { file(name: string): string }, outDir: string, except: SplitName[]): Promise<void> {
  for (const name of (['train', 'val', 'test'] as const).filter((n) => !except.includes(n))) {
    await copyFile(from.file(partitionFile(name)), join(outDir, partitionFile(name)));
  }
  await copyFile(from.file(VOCAB_FILE), join(outDir, VOCAB_FILE));
  await copyFile(from.file(LABELS_FILE), join(outDir, LABELS_FILE));
}

export const labelFractionStage: StageDefinition<LabelFractionParams> = {
  stage: 'label-fraction',
  version: 1,
  inputNames: ['features'],
  async compute({ params, inputs, outDir }) {
    const features = inputs.features!;
    const train = await readTokenMatrix(features.file(partitionFile('train')));
    const keep: number[] = [];
    const hide: number[] = [];
    for (const label of [...new Set(train.labels)].sort((a, b) => a - b)) {
      const rows = new Rng(params.seed).fork(`label-fraction:${label}`).shuffle([...train.labels.keys()].filter((r) => train.labels[r] === label));
      const n = Math.max(1, Math.round(rows.length * params.fraction));
      keep.push(...rows.slice(0, n));
      hide.push(...rows.slice(n));
    }
    keep.sort((a, b) => a - b);
    hide.sort((a, b) => a - b);
    await writeTokenMatrix(join(outDir, partitionFile('train')), takeTokenRows(train, keep));
    // The held-back rows keep their true labels in the file: only the pseudo-label stage's scoring reads them.
    await writeTokenMatrix(join(outDir, UNLABELLED_FILE), takeTokenRows(train, hide));
    await copyFeatureFiles(features, outDir, ['train']);
    return { rowCounts: { labelled: keep.length, unlabelled: hide.length }, summary: { fraction: params.fraction } };
  },
};

export const pseudoLabelStage: StageDefinition<Record<string, never>> = {
  stage: 'pseudo-label',
  version: 1,
  inputNames: ['model', 'fraction'],
  async compute({ inputs, outDir }) {
    const fraction = inputs.fraction!;
    const labelled = await readTokenMatrix(fraction.file(partitionFile('train')));
    const unlabelled = await readTokenMatrix(fraction.file(UNLABELLED_FILE));
    const { scoreStoredModel } = await import('../predict/score-model');
    const partition = { layout: 'token-ids' as const, matrix: unlabelled, labels: unlabelled.labels, sourceRows: unlabelled.sourceRows, rows: unlabelled.rows };
    const { labels: pseudo } = await scoreStoredModel(inputs.model!.dir, partition, inputs.model!.key, 'pseudo-label');
    const classes = await readClassNames(fraction.file(LABELS_FILE));
    const metrics = classificationMetrics(unlabelled.labels, pseudo, classes);
    const labelling = { n: unlabelled.rows, labellingAccuracy: metrics.accuracy, macroF1: metrics.macro.f1, confusionMatrix: metrics.confusionMatrix, classes };
    await writeFile(join(outDir, LABELLING_FILE), JSON.stringify(labelling, null, 2) + '\n');
    await writeTokenMatrix(join(outDir, partitionFile('train')), concat(labelled, { ...unlabelled, labels: pseudo }));
    await copyFeatureFiles(fraction, outDir, ['train']);
    return { rowCounts: { labelled: labelled.rows, pseudoLabelled: unlabelled.rows }, summary: { labellingAccuracy: metrics.accuracy, labellingMacroF1: metrics.macro.f1 } };
  },
};

export interface LabelFractionInput {
  features: ArtifactRef;
  params: LabelFractionParams;
}

export interface PseudoLabelInput {
  model: ArtifactRef;
  fraction: ArtifactRef;
}

export function createSemiActivities(deps: ActivityDeps) {
  return {
    labelFraction: (input: LabelFractionInput): Promise<StageOutcome> =>
      runStage(deps.store, labelFractionStage, input.params, { features: input.features }, deps),
    pseudoLabel: (input: PseudoLabelInput): Promise<StageOutcome> =>
      runStage(deps.store, pseudoLabelStage, {}, { model: input.model, fraction: input.fraction }, deps),
  };
}
