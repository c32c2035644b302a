/**
 * Split stage: adds a `split` column (train/val/test) to the labelled table, stratified by label,
 * seeded, with identical texts kept in one split. Everything fitted later (vocabulary, samplers,
 * models) reads only the train rows.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { copyToParquet, listParam, parquet, queryRows, withConnection } from '../../data/duckdb';
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import { LABELS_FILE } from '../annotate/annotate';
import type { ActivityDeps } from '../context';
import { assignSplits, type SplitRatios } from './stratified';

export interface SplitParams {
  ratios: SplitRatios;
  seed: number;
}

export interface SplitInput {
  table: ArtifactRef;
  params: SplitParams;
}

export const splitStage: StageDefinition<SplitParams> = {
  stage: 'split',
  version: 1,
  inputNames: ['table'],
  async compute({ params, inputs, outDir }) {
    const table = inputs.table!;
    return withConnection(async (connection) => {
      const source = parquet(table.file('labelled.parquet'));
      const rows = await queryRows(connection, `SELECT source_row, text, label FROM ${source} ORDER BY source_row`);
      const assignment = assignSplits(
        rows.map((row) => ({ text: String(row.text), label: Number(row.label) })),
        params.ratios,
        params.seed,
      );
      await connection.run(
        `CREATE OR REPLACE TEMP TABLE assignment AS
         SELECT unnest($1)::INTEGER AS source_row, unnest($2)::VARCHAR AS split`,
        [await listParam(rows.map((row) => Number(row.source_row))), await listParam(assignment.splits)],
      );
      await copyToParquet(
        connection,
        `SELECT t.*, a.split FROM ${source} t JOIN assignment a USING (source_row) ORDER BY t.source_row`,
        join(outDir, 'split.parquet'),
      );
      await copyFile(table.file(LABELS_FILE), join(outDir, LABELS_FILE));
      const counts = await queryRows(
        connection,
        `SELECT a.split, t.label, count(*)::INTEGER AS n FROM ${source} t JOIN assignment a USING (source_row)
         GROUP BY 1, 2 ORDER BY 1, 2`,
      );
      const perSplit: Record<string, Record<string, number>> = {};
      for (const row of counts) (perSplit[String(row.split)] ??= {})[String(row.label)] = Number(row.n);
      const total = (split: string): number => Object.values(perSplit[split] ?? {}).reduce((a, b) => a + b, 0);
      return {
        rowCounts: { train: total('train'), val: total('val'), test: total('test') },
        summary: {
          perSplitLabelCounts: perSplit,
          mergedGroups: assignment.mergedGroups,
          rowsInMergedGroups: assignment.rowsInMergedGroups,
        },
      };
    });
  },
};

export function createSplitActivity(deps: ActivityDeps) {
  return async function split(input: SplitInput): Promise<StageOutcome> {
    return runStage(deps.store, splitStage, input.params, { table: input.table }, deps);
  };
}
