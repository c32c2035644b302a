/**
 * The evaluate stage's work (loaded on demand): predict once through `scoreStoredModel` (a tfjs model on
 * token ids, or a baseline on TF-IDF / document vectors), score with sklearn's definitions, add seeded
 * bootstrap intervals. Inference time is measured here but kept out of metrics.json.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../../data/canonical';
import { LABELS_FILE, readClassNames } from '../annotate/annotate';
import { Rng } from '../../data/random';
import type { ComputeContext, ComputeResult } from '../../data/store/stage';
import { partitionFile } from '../features/features';
import { readPartition } from '../features/partition';
import { scoreStoredModel } from '../predict/score-model';
import { DEFAULT_BOOTSTRAP_SEED, METRICS_FILE, PREDICTIONS_FILE, type EvaluateParams } from './evaluate';
import { classificationMetrics } from './metrics';
import { bootstrapCi } from './uncertainty';

/** Milliseconds per 1,000 rows, rounded to 0.01 ms (a summary figure, not a metric). */
export function msPerThousand(ms: number, rows: number): number {
  return rows === 0 ? 0 : Math.round((ms / rows) * 1000 * 100) / 100;
}

export async function scoreEvaluateStage({ params, inputs, outDir }: ComputeContext<EvaluateParams>): Promise<ComputeResult> {
  const features = inputs.features!;
  const data = await readPartition(features.file(partitionFile(params.partition)));
  const classes = await readClassNames(features.file(LABELS_FILE));
  const { labels: yPred, inferenceMs } = await scoreStoredModel(inputs.model!.dir, data, inputs.model!.key, 'evaluate');
  const identity = { partition: params.partition, model: inputs.model!.key, features: features.key };
  return writeEvaluation(outDir, identity, { yTrue: data.labels, yPred, sourceRows: data.sourceRows, classes, inferenceMs, ...(params.seed !== undefined ? { seed: params.seed } : {}) });
}

/** What an evaluation scored: true and predicted classes per row, and how long inference took. */
export interface ScoredRows {
  yTrue: Int32Array;
  yPred: Int32Array;
  sourceRows: Int32Array;
  classes: string[];
  inferenceMs: number;
  /** Bootstrap seed. @default DEFAULT_BOOTSTRAP_SEED */
  seed?: number;
}

/**
 * Writes an evaluation's `metrics.json` (`identity` first: partition, model, features, ...; then the
 * metrics and seeded bootstrap intervals) and `predictions.json`, and returns its row counts and summary.
 * Evaluate and the soft vote of an ensemble both write through here.
 */
export async function writeEvaluation(outDir: string, identity: { partition: string } & Record<string, unknown>, scored: ScoredRows): Promise<ComputeResult> {
  const { yTrue, yPred, sourceRows, classes, inferenceMs } = scored;
  const metrics = classificationMetrics(yTrue, yPred, classes);
  const rows = yTrue.length;
  const bootstrap = rows > 0 ? bootstrapCi(yTrue, yPred, classes.length, new Rng(scored.seed ?? DEFAULT_BOOTSTRAP_SEED).fork('bootstrap')) : undefined;
  await writeFile(join(outDir, METRICS_FILE), canonicalJson({ ...identity, ...metrics, bootstrap }) + '\n');
  await writeFile(join(outDir, PREDICTIONS_FILE), JSON.stringify({ sourceRows: [...sourceRows], yTrue: [...yTrue], yPred: [...yPred] }) + '\n');
  return {
    rowCounts: { scored: rows },
    summary: {
      partition: identity.partition,
      accuracy: metrics.accuracy,
      macroF1: metrics.macro.f1,
      balancedAccuracy: metrics.balancedAccuracy,
      gMean: metrics.gMean,
      inferenceMs: Math.round(inferenceMs * 100) / 100,
      inferenceMsPer1000: msPerThousand(inferenceMs, rows),
    },
  };
}
