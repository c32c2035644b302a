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
  const metrics = classificationMetrics(data.labels, yPred, classes);
  const seed = params.seed ?? DEFAULT_BOOTSTRAP_SEED;
  const bootstrap = data.rows > 0 ? bootstrapCi(data.labels, yPred, classes.length, new Rng(seed).fork('bootstrap')) : undefined;
  const document = { partition: params.partition, model: inputs.model!.key, features: features.key, ...metrics, bootstrap };
  await writeFile(join(outDir, METRICS_FILE), canonicalJson(document) + '\n');
  const predictions = { sourceRows: [...data.sourceRows], yTrue: [...data.labels], yPred: [...yPred] };
  await writeFile(join(outDir, PREDICTIONS_FILE), JSON.stringify(predictions) + '\n');
  return {
    rowCounts: { scored: data.rows },
    summary: {
      partition: params.partition,
      accuracy: metrics.accuracy,
      macroF1: metrics.macro.f1,
      balancedAccuracy: metrics.balancedAccuracy,
      gMean: metrics.gMean,
      inferenceMs: Math.round(inferenceMs * 100) / 100,
      inferenceMsPer1000: msPerThousand(inferenceMs, data.rows),
    },
  };
}
