/**
 * Annotate stage: labels cleaned reviews from their star rating with a named, versioned rule. Rows a
 * rule leaves unlabelled (3 stars under `binary`) go to `dropped.parquet` with the reason.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { copyToParquet, parquet, queryRows, withConnection } from '../../data/duckdb';
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';

export type LabelRuleName = 'binary' | 'ternary' | 'five';

/** A rating→label rule: class names in index order, and each star's class index (null: not labelled). */
export interface LabelRule {
  name: LabelRuleName;
  version: number;
  classes: string[];
  byRating: Record<1 | 2 | 3 | 4 | 5, number | null>;
}

export const LABEL_RULES: Record<LabelRuleName, LabelRule> = {
  binary: { name: 'binary', version: 1, classes: ['negative', 'positive'], byRating: { 1: 0, 2: 0, 3: null, 4: 1, 5: 1 } },
  ternary: {
    name: 'ternary',
    version: 1,
    classes: ['negative', 'neutral', 'positive'],
    byRating: { 1: 0, 2: 0, 3: 1, 4: 2, 5: 2 },
  },
  five: { name: 'five', version: 1, classes: ['1', '2', '3', '4', '5'], byRating: { 1: 0, 2: 1, 3: 2, 4: 3, 5: 4 } },
};

export interface AnnotateParams {
  rule: LabelRule;
}

export interface AnnotateInput {
  table: ArtifactRef;
  params: AnnotateParams;
}

/** The file every later stage reads the class names from. */
export const LABELS_FILE = 'labels.json';

/** A SQL CASE giving the class index of `column` under `rule` (NULL when the rule leaves it out). */
export function labelCaseSql(rule: LabelRule, column: string): string {
  const arms = Object.entries(rule.byRating)
    .filter(([, label]) => label !== null)
    .map(([rating, label]) => `WHEN ${Number(rating)} THEN ${Number(label)}`);
  return `CASE ${column} ${arms.join(' ')} END`;
}

export const annotateStage: StageDefinition<AnnotateParams> = {
  stage: 'annotate',
  version: 1,
  inputNames: ['table'],
  async compute({ params, inputs, outDir }) {
    const { rule } = params;
    return withConnection(async (connection) => {
      await connection.run(
        `CREATE OR REPLACE TEMP TABLE labelled AS
         SELECT *, (${labelCaseSql(rule, 'rating')})::INTEGER AS label
         FROM ${parquet(inputs.table!.file('clean.parquet'))}`,
      );
      await copyToParquet(
        connection,
        `SELECT * FROM labelled WHERE label IS NOT NULL ORDER BY source_row`,
        join(outDir, 'labelled.parquet'),
      );
      await copyToParquet(
        connection,
        `SELECT source_row, review_id, rating, concat('rating ', rating, ' has no class under rule ${rule.name}') AS reason
         FROM labelled WHERE label IS NULL ORDER BY source_row`,
        join(outDir, 'dropped.parquet'),
      );
      const counts = await queryRows(
        connection,
        `SELECT label, count(*)::INTEGER AS n FROM labelled WHERE label IS NOT NULL GROUP BY 1 ORDER BY 1`,
      );
      const [dropped] = await queryRows(connection, `SELECT count(*)::INTEGER AS n FROM labelled WHERE label IS NULL`);
      const classCounts = Object.fromEntries(rule.classes.map((name, i) => [name, Number(counts.find((c) => c.label === i)?.n ?? 0)]));
      await writeFile(join(outDir, LABELS_FILE), JSON.stringify({ rule: rule.name, version: rule.version, classes: rule.classes }) + '\n');
      const rows = Object.values(classCounts).reduce((a, b) => a + b, 0);
      return {
        rowCounts: { rows, dropped: Number(dropped?.n) },
        summary: { rule: `${rule.name}@${rule.version}`, classes: rule.classes, classCounts },
      };
    });
  },
};

export function createAnnotateActivity(deps: ActivityDeps) {
  return async function annotate(input: AnnotateInput): Promise<StageOutcome> {
    return runStage(deps.store, annotateStage, input.params, { table: input.table }, deps);
  };
}
