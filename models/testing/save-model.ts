/** Test and bench helper: saves a model into a directory exactly as the train stage does. */
import type * as tf from '@tensorflow/tfjs';
import { serializeModel, writeModelFiles } from '../model-io';

export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await writeModelFiles(dir, await serializeModel(model));
}
