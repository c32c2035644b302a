/** The predict stage's work (loaded on a cache miss, with DuckDB, apache-arrow and, for tfjs models, tfjs). See predict.ts. */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { copyToParquet, parquet, queryRows, quoteIdent, tableFromLists, withConnection, type ListColumn } from '../../data/duckdb';
import type { ComputeContext, ComputeResult, StageInputArtifact } from '../../data/store/stage';
import type { ArtifactStore } from '../../data/store/artifact-store';
import { collectLineage } from '../../data/store/lineage';
import { LABELS_FILE, readClassNames } from '../annotate/annotate';
import { cleanLexiconsOf, type CleanParams } from '../clean/clean';
import { createTextCleaner, type TextCleaner } from '../clean/cleaner';
import { badInput } from '../../core/errors';
import { featurizeTexts } from '../features/featurize';
import { PREDICT_TABLE_FILES, PREDICTIONS_TABLE } from './predict';
import { scoreStoredModel, type ModelScores } from './score-model';

/** The rows to label: their numbers, ids, the text as given and the text as the model's cleaning leaves it. */
interface InputRows {
  sourceRows: Int32Array;
  ids: string[];
  texts: string[];
}

function tableFileOf(table: StageInputArtifact): string {
  const file = PREDICT_TABLE_FILES.find((name) => table.manifest.files[name]);
  if (!file) {
    throw badInput(
      `artifact ${table.key} (${table.manifest.stage}) holds no review table (${PREDICT_TABLE_FILES.join(', ')}); give a review file, or the key of an import, clean, annotate or split artifact`,
      { stage: 'predict', key: table.key },
    );
  }
  return file;
}

async function readInputRows(table: StageInputArtifact): Promise<InputRows> {
  const path = table.file(tableFileOf(table));
  const rows = await withConnection(async (connection) => {
    const columns = new Set((await queryRows(connection, `DESCRIBE SELECT * FROM ${parquet(path)}`)).map((r) => String(r.column_name)));
    // Cleaned tables keep the review as written in raw_text: that is what a reader of the predictions wants to see.
    const text = columns.has('raw_text') ? 'raw_text' : 'text';
    const id = columns.has('review_id') ? 'review_id' : `concat('row-', source_row)`;
    return queryRows(connection, `SELECT source_row, ${id} AS id, ${quoteIdent(text)} AS text FROM ${parquet(path)} ORDER BY source_row`);
  });
  return {
    sourceRows: Int32Array.from(rows, (r) => Number(r.source_row)),
    ids: rows.map((r) => String(r.id)),
    texts: rows.map((r) => (r.text === null ? '' : String(r.text))),
  };
}

/** The cleaner the model's training data went through: its lineage's clean config, with lexicons unchanged since. */
export async function modelCleaner(store: ArtifactStore, modelKey: string): Promise<TextCleaner> {
  const clean = (await collectLineage(store, modelKey)).find((m) => m.stage === 'clean');
  if (!clean) {
    throw badInput(`model ${modelKey} has no clean stage in its lineage, so its cleaning cannot be repeated; give a model trained by a ulasan pipeline`, {
      stage: 'predict',
      key: modelKey,
    });
  }
  const { config, lexicons } = await cleanLexiconsOf(clean.params as CleanParams, clean.provenance, clean.key, `restore them or retrain model ${modelKey}`);
  return createTextCleaner(config, lexicons);
}

function trainManifestCheck(model: StageInputArtifact): string {
  const features = model.manifest.inputs.features;
  if (model.manifest.stage !== 'train' || !features) {
    throw badInput(`artifact ${model.key} is a ${model.manifest.stage} artifact, not a trained model; give a train artifact key, a run id or a model tag`, {
      stage: 'predict',
      key: model.key,
    });
  }
  return features;
}

/** Column name of class `name`: `p_` for probabilities, `score_` for decision scores; unsafe characters become `_`. */
export function scoreColumn(kind: ModelScores['kind'], name: string): string {
  return `${kind === 'probability' ? 'p' : 'score'}_${name.replace(/[^\p{L}\p{N}_]/gu, '_')}`;
}

async function writePredictions(path: string, input: InputRows, cleaned: string[], scored: number[], scores: ModelScores, classes: string[]): Promise<void> {
  const labelIndex = new Int32Array(input.texts.length).fill(-1);
  scored.forEach((row, i) => (labelIndex[row] = scores.labels[i]!));
  const classScores = classes.map((_, c) => {
    const column = new Float64Array(input.texts.length).fill(Number.NaN);
    scored.forEach((row, i) => (column[row] = scores.scores[i * scores.k + c]!));
    return column;
  });
  await withConnection(async (connection) => {
    await tableFromLists(connection, 'predictions', {
      source_row: ['INTEGER', input.sourceRows],
      id: ['VARCHAR', input.ids],
      text: ['VARCHAR', input.texts],
      clean_text: ['VARCHAR', cleaned],
      label_index: ['INTEGER', labelIndex],
      ...Object.fromEntries(classes.map((name, c) => [quoteIdent(scoreColumn(scores.kind, name)), ['DOUBLE', classScores[c]!] as ListColumn])),
    });
    const classCase = classes.map((name, c) => `WHEN ${c} THEN '${name.replaceAll("'", "''")}'`).join(' ');
    const scoreSelect = classes.map((name) => {
      const column = quoteIdent(scoreColumn(scores.kind, name));
      return `CASE WHEN label_index < 0 THEN NULL ELSE ${column} END AS ${column}`;
    });
    await copyToParquet(
      connection,
      `SELECT source_row, id, text, clean_text, CASE label_index ${classCase} END AS label,
              CASE WHEN label_index < 0 THEN NULL ELSE label_index END AS label_index${scoreSelect.map((c) => `, ${c}`).join('')}
       FROM predictions ORDER BY source_row`,
      path,
    );
  });
}

export async function computePredictions({ inputs, outDir, store }: ComputeContext<Record<string, never>>): Promise<ComputeResult> {
  const model = inputs.model!;
  const featuresKey = trainManifestCheck(model);
  const cleaner = await modelCleaner(store, model.key);
  const input = await readInputRows(inputs.table!);
  const cleaned = input.texts.map((text) => cleaner(text));
  // Rows cleaning empties get no label: the model never saw an empty review and has nothing to go on.
  const scored = [...cleaned.keys()].filter((row) => cleaned[row] !== '');
  const features = { key: featuresKey, file: (name: string) => store.path(featuresKey, name) };
  const data = await featurizeTexts(features, scored.map((row) => cleaned[row]!), Int32Array.from(scored, (row) => input.sourceRows[row]!));
  const scores = await scoreStoredModel(model.dir, data, model.key, 'predict');
  const classes = await readClassNames(features.file(LABELS_FILE));
  await writePredictions(join(outDir, PREDICTIONS_TABLE), input, cleaned, scored, scores, classes);
  await copyFile(features.file(LABELS_FILE), join(outDir, LABELS_FILE));
  const byLabel: Record<string, number> = Object.fromEntries(classes.map((name) => [name, 0]));
  for (const label of scores.labels) byLabel[classes[label]!]! += 1;
  return {
    rowCounts: { rows: input.texts.length, scored: scored.length, emptied: input.texts.length - scored.length },
    summary: {
      model: model.key,
      features: featuresKey,
      table: inputs.table!.key,
      scoreKind: scores.kind,
      byLabel,
      inferenceMs: Math.round(scores.inferenceMs * 100) / 100,
    },
  };
}
