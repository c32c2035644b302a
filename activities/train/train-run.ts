/** The train stage's work (loaded on demand, with tfjs): build, fit with seeded batches, save. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../../data/random';
import type { ComputeContext, ComputeResult } from '../../data/store/stage';
import { partitionFile, VOCAB_FILE } from '../features/features';
import { readTokenMatrix, type TokenMatrix } from '../features/token-matrix';
import { RESAMPLED_FILE } from '../resample/resample';
import { saveModel } from './model-io';
import { tf, tfReady } from './tf-runtime';
import { METADATA_FILE, type CnnSmallSpec, type TrainParams } from './train';

interface Dimensions {
  vocabSize: number;
  seqLen: number;
  nClasses: number;
}

export function buildCnnSmall(spec: CnnSmallSpec, dims: Dimensions, seed: number): tf.LayersModel {
  const init = (name: string) => tf.initializers.glorotUniform({ seed: new Rng(seed).fork(name).nextUint32() });
  // Explicit names: tfjs's default names count layers per process, which would change model.json bytes.
  return tf.sequential({
    name: 'cnn_small',
    layers: [
      tf.layers.embedding({
        name: 'embedding',
        inputDim: dims.vocabSize,
        outputDim: spec.embeddingDim,
        inputLength: dims.seqLen,
        embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: new Rng(seed).fork('embedding').nextUint32() }),
      }),
      tf.layers.conv1d({ name: 'conv', filters: spec.filters, kernelSize: spec.kernelSize, padding: 'same', activation: 'relu', kernelInitializer: init('conv') }),
      tf.layers.globalMaxPooling1d({ name: 'pool' }),
      tf.layers.dropout({ name: 'dropout', rate: spec.dropout, seed: new Rng(seed).fork('dropout').nextUint32() }),
      tf.layers.dense({ name: 'output', units: dims.nClasses, activation: 'softmax', kernelInitializer: init('dense') }),
    ],
  });
}

function batchTensors(matrix: TokenMatrix, rows: number[], nClasses: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const { seqLen } = matrix;
  const ids = new Int32Array(rows.length * seqLen);
  const labels = new Int32Array(rows.length);
  rows.forEach((row, i) => {
    ids.set(matrix.ids.subarray(row * seqLen, (row + 1) * seqLen), i * seqLen);
    labels[i] = matrix.labels[row]!;
  });
  return tf.tidy(() => ({
    x: tf.tensor2d(ids, [rows.length, seqLen], 'int32'),
    y: tf.oneHot(tf.tensor1d(labels, 'int32'), nClasses).toFloat() as tf.Tensor2D,
  }));
}

/** Mean loss over one epoch of seeded mini-batches. */
async function trainEpoch(model: tf.LayersModel, data: TokenMatrix, batchSize: number, nClasses: number, rng: Rng): Promise<number> {
  const order = rng.shuffle(Array.from({ length: data.rows }, (_, i) => i));
  let lossSum = 0;
  for (let start = 0; start < order.length; start += batchSize) {
    const rows = order.slice(start, start + batchSize);
    const { x, y } = batchTensors(data, rows, nClasses);
    try {
      const loss = (await model.trainOnBatch(x, y)) as number;
      lossSum += loss * rows.length;
    } finally {
      x.dispose();
      y.dispose();
    }
  }
  return lossSum / Math.max(1, data.rows);
}

/** Accuracy and loss on a partition, in fixed row order. */
function scorePartition(model: tf.LayersModel, data: TokenMatrix, nClasses: number): { loss: number; accuracy: number } {
  if (data.rows === 0) return { loss: 0, accuracy: 0 };
  const { x, y } = batchTensors(data, Array.from({ length: data.rows }, (_, i) => i), nClasses);
  try {
    return tf.tidy(() => {
      const probs = model.predict(x, { batchSize: 256 }) as tf.Tensor2D;
      const loss = tf.losses.softmaxCrossEntropy(y, tf.log(probs.clipByValue(1e-7, 1)) as tf.Tensor2D).dataSync()[0]!;
      const correct = tf.equal(probs.argMax(1), y.argMax(1)).sum().dataSync()[0]!;
      return { loss, accuracy: correct / data.rows };
    });
  } finally {
    x.dispose();
    y.dispose();
  }
}

export async function fitTrainStage({ params, inputs, outDir, heartbeat }: ComputeContext<TrainParams>): Promise<ComputeResult> {
    const backend = await tfReady();
    const features = inputs.features!;
    const train = await readTokenMatrix(inputs.train!.file(RESAMPLED_FILE));
    const val = await readTokenMatrix(features.file(partitionFile('val')));
    const vocab = JSON.parse(await readFile(features.file(VOCAB_FILE), 'utf8')) as { seqLen: number; tokens: string[] };
    const classes = (JSON.parse(await readFile(features.file('labels.json'), 'utf8')) as { classes: string[] }).classes;
    const dims = { vocabSize: vocab.tokens.length, seqLen: vocab.seqLen, nClasses: classes.length };
    const model = buildCnnSmall(params.model, dims, params.seed);
    const optimizer = tf.train.adam(params.learningRate);
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const history: { epoch: number; loss: number; valLoss: number; valAccuracy: number }[] = [];
    const rng = new Rng(params.seed).fork('batch-order');
    try {
      for (let epoch = 0; epoch < params.epochs; epoch++) {
        const loss = await trainEpoch(model, train, params.batchSize, dims.nClasses, rng);
        const score = scorePartition(model, val, dims.nClasses);
        history.push({ epoch, loss, valLoss: score.loss, valAccuracy: score.accuracy });
        heartbeat({ epoch });
      }
      await saveModel(model, outDir);
    } finally {
      model.dispose();
      optimizer.dispose();
    }
    const metadata = { spec: params, dims, classes, backend, history, data: { train: inputs.train!.key, features: features.key } };
    await writeFile(join(outDir, METADATA_FILE), JSON.stringify(metadata, null, 2) + '\n');
    return { rowCounts: { train: train.rows, val: val.rows }, summary: { backend, arch: params.model.arch, history } };
}
