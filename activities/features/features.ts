/**
 * Features stage: fits a vocabulary on the training split only and writes padded token-id matrices
 * for each split (`train.arrow`, `val.arrow`, `test.arrow`) plus `vocab.json`.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquet, queryRows, withConnection } from '../../data/duckdb';
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import { LABELS_FILE } from '../annotate/annotate';
import type { ActivityDeps } from '../context';
import { SPLIT_NAMES, type SplitName } from '../split/stratified';
import { shareOfCopies, writeTokenMatrix, type TokenMatrix } from './token-matrix';
import { encodePadded, fitVocabulary, lengthAtPercentile } from './vocabulary';

export interface FeaturesParams {
  kind: 'token-ids';
  /** @default 10000 */
  maxVocab: number;
  /** @default 1 */
  minCount: number;
  /** A fixed length, or `{ percentile }` of training text lengths. */
  maxLen: number | { percentile: number };
}

export interface FeaturesInput {
  split: ArtifactRef;
  params: FeaturesParams;
}

export const VOCAB_FILE = 'vocab.json';
export const partitionFile = (split: SplitName): string => `${split}.arrow`;

interface SplitRows {
  sourceRows: number[];
  texts: string[];
  labels: number[];
}

async function readSplits(path: string): Promise<Record<SplitName, SplitRows>> {
  const rows = await withConnection((connection) =>
    queryRows(connection, `SELECT source_row, text, label, split FROM ${parquet(path)} ORDER BY source_row`),
  );
  const empty = (): SplitRows => ({ sourceRows: [], texts: [], labels: [] });
  const out: Record<SplitName, SplitRows> = { train: empty(), val: empty(), test: empty() };
  for (const row of rows) {
    const target = out[row.split as SplitName];
    target.sourceRows.push(Number(row.source_row));
    target.texts.push(String(row.text));
    target.labels.push(Number(row.label));
  }
  return out;
}

export const featuresStage: StageDefinition<FeaturesParams> = {
  stage: 'features',
  version: 2,
  inputNames: ['split'],
  async compute({ params, inputs, outDir }) {
    const split = inputs.split!;
    const splits = await readSplits(split.file('split.parquet'));
    const trainTexts = splits.train.texts;
    const vocabulary = fitVocabulary(trainTexts, { maxSize: params.maxVocab, minCount: params.minCount });
    const seqLen = typeof params.maxLen === 'number' ? params.maxLen : lengthAtPercentile(trainTexts, params.maxLen.percentile);
    const matrices = Object.fromEntries(
      SPLIT_NAMES.map((name) => {
        const rows = splits[name];
        const ids = encodePadded(rows.texts, vocabulary, seqLen);
        return [name, { ids, labels: Int32Array.from(rows.labels), sourceRows: Int32Array.from(rows.sourceRows), rows: rows.texts.length, seqLen }];
      }),
    ) as Record<SplitName, TokenMatrix>;
    for (const name of SPLIT_NAMES) await writeTokenMatrix(join(outDir, partitionFile(name)), matrices[name]);
    // Test rows whose id sequence also occurs in train: the leakage an auditor checks (0 when honest, but
    // different raw texts can clean/truncate to the same ids).
    const testCopiesOfTrain = shareOfCopies(matrices.train, matrices.test);
    await writeFile(join(outDir, VOCAB_FILE), JSON.stringify({ seqLen, tokens: vocabulary.tokens }) + '\n');
    await copyFile(split.file(LABELS_FILE), join(outDir, LABELS_FILE));
    const rowCounts = Object.fromEntries(SPLIT_NAMES.map((name) => [name, splits[name].texts.length]));
    return { rowCounts, summary: { vocabSize: vocabulary.tokens.length, seqLen, fittedOn: 'train', testCopiesOfTrain } };
  },
};

export function createFeaturesActivity(deps: ActivityDeps) {
  return async function features(input: FeaturesInput): Promise<StageOutcome> {
    return runStage(deps.store, featuresStage, input.params, { split: input.split }, deps);
  };
}
