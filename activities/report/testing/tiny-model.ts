/**
 * Test fixture: a tiny tfjs text classifier with fixed weights (Embedding → mean → Dense softmax),
 * saved the way the train stage saves models. Token id 2 pulls towards class 1, id 3 towards class 0,
 * so predictions are known without training.
 */
import { saveModel } from '../../../models/testing/save-model';
import { tf, tfReady } from '../../../models/tf-runtime';

export async function writeTinyModel(dir: string, vocabSize: number, seqLen: number): Promise<void> {
  await tfReady();
  const model = tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: vocabSize, outputDim: 2, inputLength: seqLen }),
      tf.layers.globalAveragePooling1d({}),
      tf.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  const embedding = new Float32Array(vocabSize * 2);
  embedding[2 * 2 + 1] = 4; // id 2 → class 1
  embedding[3 * 2] = 4; // id 3 → class 0
  const weights = [
    tf.tensor2d(embedding, [vocabSize, 2]),
    tf.tensor2d([1, 0, 0, 1], [2, 2]),
    tf.tensor1d([0, 0.01]), // ties go to class 1
  ];
  try {
    model.setWeights(weights);
    await saveModel(model, dir);
  } finally {
    for (const w of weights) w.dispose();
    model.dispose();
  }
}
