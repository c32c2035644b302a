/**
 * LEAKY mode, only to reproduce published setups: splits a token matrix that was ALREADY resampled
 * (random copies or synthetic rows of the whole dataset) into train/val/test. Copies of one review
 * then land on both sides, and the test score measures memory, not generalisation. Every artifact
 * downstream carries `leaky: true` through its lineage, and the stage reports how many test rows are
 * copies of training rows.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../../data/random';
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import { LABELS_FILE } from '../annotate/annotate';
import type { ActivityDeps } from '../context';
import { partitionFile, VOCAB_FILE } from '../features/features';
import { readTokenMatrix, shareOfCopies, writeTokenMatrix, type TokenMatrix } from '../features/token-matrix';
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

function takeRows(m: TokenMatrix, rows: number[]): TokenMatrix {
  const ids = new Int32Array(rows.length * m.seqLen);
  rows.forEach((row, i) => ids.set(m.ids.subarray(row * m.seqLen, (row + 1) * m.seqLen), i * m.seqLen));
  return {
    ids,
    labels: Int32Array.from(rows, (row) => m.labels[row]!),
    sourceRows: Int32Array.from(rows, (row) => m.sourceRows[row]!),
    rows: rows.length,
    seqLen: m.seqLen,
  };
}

/** Stratified random split of matrix rows, as the published setups do it (no grouping of copies). */
export function splitRows(m: TokenMatrix, ratios: SplitRatios, seed: number): Record<SplitName, number[]> {
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
    const all = await readTokenMatrix(inputs.resampled!.file(RESAMPLED_FILE));
    const parts = splitRows(all, params.ratios, params.seed);
    const matrices = { train: takeRows(all, parts.train), val: takeRows(all, parts.val), test: takeRows(all, parts.test) };
    for (const name of ['train', 'val', 'test'] as const) await writeTokenMatrix(join(outDir, partitionFile(name)), matrices[name]);
    await copyFile(inputs.features!.file(VOCAB_FILE), join(outDir, VOCAB_FILE));
    await copyFile(inputs.features!.file(LABELS_FILE), join(outDir, LABELS_FILE));
    const testCopiesOfTrain = shareOfCopies(matrices.train, matrices.test);
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
