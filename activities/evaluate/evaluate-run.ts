/**
 * The evaluate stage's work (loaded on demand): predict once (a tfjs model on token ids, or a baseline on
 * TF-IDF / document vectors, as the model artifact says), score with sklearn's definitions, add seeded
 * bootstrap intervals. Inference time is measured here but kept out of metrics.json.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../../data/canonical';
import { LABELS_FILE, readClassNames } from '../annotate/annotate';
import { Rng } from '../../data/random';
import type { ComputeContext, ComputeResult } from '../../data/store/stage';
import { badInput } from '../errors';
import { partitionFile } from '../features/features';
import { readPartition, type FeaturePartition } from '../features/partition';
import { predictBaseline, type BaselineModel } from '../train/baselines';
import { loadModel } from '../train/model-io';
import { tf, tfReady } from '../train/tf-runtime';
import { BASELINE_FILE } from '../train/train';
import { DEFAULT_BOOTSTRAP_SEED, METRICS_FILE, PREDICTIONS_FILE, type EvaluateParams } from './evaluate';
import { classificationMetrics } from './metrics';
import { bootstrapCi } from './uncertainty';

/**
 * Class index of each row, predicted in fixed-size batches so memory stays flat. A 1-unit sigmoid head
 * (binary models from models.ts) predicts class 1 when p > 0.5; a softmax head the argmax.
 */
export function predictClasses(model: tf.LayersModel, ids: Int32Array, rows: number, seqLen: number): Int32Array {
  const out = new Int32Array(rows);
  const batch = 512;
  for (let start = 0; start < rows; start += batch) {
    const end = Math.min(rows, start + batch);
    const predicted = tf.tidy(() => {
      const x = tf.tensor2d(ids.subarray(start * seqLen, end * seqLen), [end - start, seqLen], 'int32');
      const output = model.predict(x) as tf.Tensor2D;
      return (output.shape[1] === 1 ? output.reshape([-1]).greater(0.5) : output.argMax(1)).dataSync();
    });
    out.set(predicted, start);
  }
  return out;
}

/** Predicts with what the model artifact holds: a baseline (`baseline.json`) or a tfjs model. */
async function predictPartition(modelDir: string, data: FeaturePartition, modelKey: string): Promise<{ yPred: Int32Array; inferenceMs: number }> {
  const baselinePath = join(modelDir, BASELINE_FILE);
  if (existsSync(baselinePath)) {
    if (data.layout === 'token-ids') throw mismatch(modelKey, 'a baseline', 'token ids');
    const model = JSON.parse(await readFile(baselinePath, 'utf8')) as BaselineModel;
    const started = performance.now();
    const yPred = predictBaseline(model, data.x);
    return { yPred, inferenceMs: performance.now() - started };
  }
  if (data.layout !== 'token-ids') throw mismatch(modelKey, 'a token-id model', data.layout === 'csr' ? 'TF-IDF (CSR) rows' : 'dense rows');
  await tfReady();
  const model = await loadModel(modelDir);
  try {
    const started = performance.now();
    const yPred = predictClasses(model, data.matrix.ids, data.rows, data.matrix.seqLen);
    return { yPred, inferenceMs: performance.now() - started };
  } finally {
    model.dispose();
  }
}

function mismatch(modelKey: string, what: string, rows: string) {
  return badInput(`model ${modelKey} is ${what} but the features to score hold ${rows}; evaluate it on the features it was trained on`, {
    stage: 'evaluate',
    key: modelKey,
  });
}

/** Milliseconds per 1,000 rows, rounded to 0.01 ms (a summary figure, not a metric). */
export function msPerThousand(ms: number, rows: number): number {
  return rows === 0 ? 0 : Math.round((ms / rows) * 1000 * 100) / 100;
}

export async function scoreEvaluateStage({ params, inputs, outDir }: ComputeContext<EvaluateParams>): Promise<ComputeResult> {
  const features = inputs.features!;
  const data = await readPartition(features.file(partitionFile(params.partition)));
  const classes = await readClassNames(features.file(LABELS_FILE));
  const { yPred, inferenceMs } = await predictPartition(inputs.model!.dir, data, inputs.model!.key);
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
