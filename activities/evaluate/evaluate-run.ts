/**
 * The evaluate stage's work (loaded on demand, with tfjs): predict once, score with sklearn's definitions,
 * add seeded bootstrap intervals. Inference time is measured here but kept out of metrics.json.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../../data/canonical';
import { Rng } from '../../data/random';
import type { ComputeContext, ComputeResult } from '../../data/store/stage';
import { partitionFile } from '../features/features';
import { readTokenMatrix } from '../features/token-matrix';
import { loadModel } from '../train/model-io';
import { tf, tfReady } from '../train/tf-runtime';
import { DEFAULT_BOOTSTRAP_SEED, METRICS_FILE, PREDICTIONS_FILE, type EvaluateParams } from './evaluate';
import { classificationMetrics } from './metrics';
import { bootstrapCi } from './uncertainty';

/** Class index of each row, predicted in fixed-size batches so memory stays flat. */
export function predictClasses(model: tf.LayersModel, ids: Int32Array, rows: number, seqLen: number): Int32Array {
  const out = new Int32Array(rows);
  const batch = 512;
  for (let start = 0; start < rows; start += batch) {
    const end = Math.min(rows, start + batch);
    const predicted = tf.tidy(() => {
      const x = tf.tensor2d(ids.subarray(start * seqLen, end * seqLen), [end - start, seqLen], 'int32');
      return (model.predict(x) as tf.Tensor2D).argMax(1).dataSync();
    });
    out.set(predicted, start);
  }
  return out;
}

/** Milliseconds per 1,000 rows, rounded to 0.01 ms (a summary figure, not a metric). */
export function msPerThousand(ms: number, rows: number): number {
  return rows === 0 ? 0 : Math.round((ms / rows) * 1000 * 100) / 100;
}

export async function scoreEvaluateStage({ params, inputs, outDir }: ComputeContext<EvaluateParams>): Promise<ComputeResult> {
  await tfReady();
  const features = inputs.features!;
  const data = await readTokenMatrix(features.file(partitionFile(params.partition)));
  const classes = (JSON.parse(await readFile(features.file('labels.json'), 'utf8')) as { classes: string[] }).classes;
  const model = await loadModel(inputs.model!.dir);
  let yPred: Int32Array;
  let inferenceMs: number;
  try {
    const started = performance.now();
    yPred = predictClasses(model, data.ids, data.rows, data.seqLen);
    inferenceMs = performance.now() - started;
  } finally {
    model.dispose();
  }
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
