/**
 * LEAKY mode, only to reproduce published setups: splits features (token ids, document vectors or
 * TF-IDF) that were ALREADY resampled (random copies or synthetic rows of the whole dataset) into
 * train/val/test. Copies of one review
 * then land on both sides, and the test score measures memory, not generalisation. Every artifact
 * downstream carries `leaky: true` through its lineage, and the stage reports how many test rows are
 * copies of training rows.
 */
import { existsSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../../data/random';
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import { LABELS_FILE } from '../annotate/annotate';
import type { ActivityDeps } from '../context';
import { EMBEDDING_FILE, partitionFile, TFIDF_FILE, VOCAB_FILE, WORD_VECTORS_FILE } from '../features/features';
import { RESAMPLED_FILE } from '../resample/resample';
import type { SplitName, SplitRatios } from '../split/stratified';

export interface LeakySplitParams {
  ratios: SplitRatios;
  seed: number;
}

export interface LeakySplitInput {
  /** The resample artifact of the WHOLE dataset (features fitted on every row). */
  resampled: ArtifactRef;
  /** The features artifact it came from (vocabulary, classes). */
  features: ArtifactRef;
  params: LeakySplitParams;
}

/** Stratified random split of matrix rows, as the published setups do it (no grouping of copies). */
export function splitRows(m: { labels: Int32Array }, ratios: SplitRatios, seed: number): Record<SplitName, number[]> {
  const out: Record<SplitName, number[]> = { train: [], val: [], test: [] };
  const classes = [...new Set(m.labels)].sort((a, b) => a - b);
  for (const label of classes) {
    const rows = new Rng(seed).fork(`leaky-split:${label}`).shuffle([...m.labels.keys()].filter((row) => m.labels[row] === label));
    const nTest = Math.round(rows.length * ratios.test);
    const nVal = Math.round(rows.length * ratios.val);
    out.test.push(...rows.slice(0, nTest));
    out.val.push(...rows.slice(nTest, nTest + nVal));
    out.train.push(...rows.slice(nTest + nVal));
  }
  for (const name of ['train', 'val', 'test'] as const) out[name].sort((a, b) => a - b);
  return out;
}

export const leakySplitStage: StageDefinition<LeakySplitParams> = {
  stage: 'leaky-split',
  version: 1,
  inputNames: ['resampled', 'features'],
  async compute({ params, inputs, outDir }) {
    // apache-arrow loads only here, on a cache miss.
    const { readPartition, shareOfRowCopies, takePartitionRows, writePartition } = await import('../features/partition');
    // Token ids, document vectors (dense) or TF-IDF (CSR): the split is the same, by label.
    const all = await readPartition(inputs.resampled!.file(RESAMPLED_FILE));
    const parts = splitRows(all, params.ratios, params.seed);
    const matrices = { train: takePartitionRows(all, parts.train), val: takePartitionRows(all, parts.val), test: takePartitionRows(all, parts.test) };
    for (const name of ['train', 'val', 'test'] as const) await writePartition(join(outDir, partitionFile(name)), matrices[name]);
    await copyFile(inputs.features!.file(LABELS_FILE), join(outDir, LABELS_FILE));
    // What the features fitted travels with the rows (the vocabulary for token ids, the TF-IDF model, the
    // Word2Vec vectors or embedding aligned to the vocabulary), whichever the features have.
    for (const file of [VOCAB_FILE, EMBEDDING_FILE, TFIDF_FILE, WORD_VECTORS_FILE]) {
      if (existsSync(inputs.features!.file(file))) await copyFile(inputs.features!.file(file), join(outDir, file));
    }
    const testCopiesOfTrain = shareOfRowCopies(matrices.train, matrices.test);
    const note = { leaky: true, testCopiesOfTrain, note: 'resampled BEFORE the split: test rows include copies of training rows' };
    await writeFile(join(outDir, 'LEAKY.json'), JSON.stringify(note, null, 2) + '\n');
    return { rowCounts: { train: parts.train.length, val: parts.val.length, test: parts.test.length }, summary: note };
  },
};

export function createLeakySplitActivity(deps: ActivityDeps) {
  return async function leakySplit(input: LeakySplitInput): Promise<StageOutcome> {
    return runStage(deps.store, leakySplitStage, input.params, { resampled: input.resampled, features: input.features }, deps);
  };
}
