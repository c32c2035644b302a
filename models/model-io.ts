/**
 * Saving and loading tfjs models as files in an artifact: `model.json` (topology + weight manifest)
 * and `weights.bin`. tfjs's file:// handlers need tfjs-node, so this goes through `withSaveHandler`
 * and `fromMemory`, which work on every backend.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tf } from './tf-runtime';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

interface ModelJson {
  format: string;
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData as ArrayBuffer;
      const json: ModelJson = {
        format: 'layers-model',
        modelTopology: artifacts.modelTopology as object,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFile(join(dir, MODEL_FILE), JSON.stringify(json) + '\n');
      await writeFile(join(dir, WEIGHTS_FILE), new Uint8Array(weightData));
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
}

export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await readFile(join(dir, MODEL_FILE), 'utf8')) as ModelJson;
  const weights = await readFile(join(dir, WEIGHTS_FILE));
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData }),
  );
}
