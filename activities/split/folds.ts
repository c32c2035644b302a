/**
 * Cross-validation folds of a split's TRAINING rows. A `fold` artifact is a split artifact of its own
 * (`split.parquet` + `labels.json`): fold k's held-out rows are its `val` rows, the other folds its
 * `train` rows, and it has no `test` rows at all, so the features stage fits vocabulary, TF-IDF and
 * Word2Vec on the fold's training part only, samplers see only it, and nothing downstream of a fold can
 * read the test partition. Folds are stratified by label, seeded, and duplicate-aware: rows with the
 * same cleaned text land in one fold, so no held-out text is also a training text of its fold.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { copyToParquet, parquet, queryRows, tableFromLists, withConnection } from '../../data/duckdb';
import { Rng } from '../../data/random';
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import { LABELS_FILE } from '../annotate/annotate';
import type { ActivityDeps } from '../context';
import { badInput } from '../../core/errors';
import { SPLIT_FILE } from './split';
import { groupByText, straddlingTexts, type SplitName, type SplitRow } from './stratified';

export interface FoldParams {
  /** Number of folds (k). */
  folds: number;
  /** Which fold is held out, 0 ≤ fold < folds. */
  fold: number;
  /** Seed of the assignment (the same for every fold of one cross-validation). */
  seed: number;
}

export interface FoldInput {
  split: ArtifactRef;
  params: FoldParams;
}

/**
 * The fold (0..folds-1) of each row. Within each label, groups of identical texts are shuffled with the
 * seed, bigger groups placed first, each into the fold holding the fewest rows of that label so far
 * (lowest fold on ties): every fold gets within one group of 1/k of every class, and a group is never split.
 */
export function assignFolds(rows: readonly SplitRow[], folds: number, seed: number): number[] {
  const groups = groupByText(rows);
  const fold = new Array<number>(rows.length).fill(0);
  const strata = [...new Set(groups.map((g) => g.stratum))].sort((a, b) => a - b);
  for (const stratum of strata) {
    const members = groups.filter((g) => g.stratum === stratum);
    new Rng(seed).fork(`folds:stratum:${stratum}`).shuffle(members);
    // Stable sort: bigger groups first, shuffled order kept among equals.
    members.sort((a, b) => b.rows.length - a.rows.length);
    const filled = new Array<number>(folds).fill(0);
    for (const group of members) {
      const target = filled.indexOf(Math.min(...filled));
      filled[target]! += group.rows.length;
      for (const row of group.rows) fold[row] = target;
    }
  }
  return fold;
}

/** Split names of a fold artifact: the held-out fold is `val`, the rest `train`. */
export const foldSplits = (folds: readonly number[], heldOut: number): SplitName[] => folds.map((f) => (f === heldOut ? 'val' : 'train'));

export const foldStage: StageDefinition<FoldParams> = {
  stage: 'fold',
  version: 1,
  inputNames: ['split'],
  async compute({ params, inputs, outDir }) {
    if (!(params.folds >= 2 && params.fold >= 0 && params.fold < params.folds)) {
      throw badInput(`fold ${params.fold} of ${params.folds} is not a fold: folds must be >= 2 and 0 <= fold < folds`, { stage: 'fold', field: 'selection.folds' });
    }
    const split = inputs.split!;
    return withConnection(async (connection) => {
      const source = parquet(split.file(SPLIT_FILE));
      // Only the training partition is read: validation and test rows never enter a fold.
      const rows = await queryRows(connection, `SELECT source_row, text, label FROM ${source} WHERE split = 'train' ORDER BY source_row`);
      const texts = rows.map((r) => ({ text: String(r.text ?? ''), label: Number(r.label) }));
      const splits = foldSplits(assignFolds(texts, params.folds, params.seed), params.fold);
      await tableFromLists(connection, 'fold_assignment', {
        source_row: ['INTEGER', rows.map((r) => Number(r.source_row))],
        fold_split: ['VARCHAR', splits],
      });
      await copyToParquet(
        connection,
        `SELECT t.* EXCLUDE (split), a.fold_split AS split FROM ${source} t JOIN fold_assignment a USING (source_row)
         WHERE t.split = 'train' ORDER BY t.source_row`,
        join(outDir, SPLIT_FILE),
      );
      await copyFile(split.file(LABELS_FILE), join(outDir, LABELS_FILE));
      const count = (name: SplitName) => splits.filter((s) => s === name).length;
      return {
        rowCounts: { train: count('train'), val: count('val'), test: 0 },
        summary: {
          description: `fold ${params.fold + 1} of ${params.folds} of the training split (stratified, identical texts in one fold, seed ${params.seed})`,
          straddlingTexts: straddlingTexts(texts, splits),
        },
      };
    });
  },
};

export function createFoldActivity(deps: ActivityDeps) {
  return async function fold(input: FoldInput): Promise<StageOutcome> {
    return runStage(deps.store, foldStage, input.params, { split: input.split }, deps);
  };
}
