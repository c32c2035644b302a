/**
 * Models as bytes and files: model.json (topology + weights manifest) and weights.bin, via
 * `tf.io.withSaveHandler` and `tf.io.fromMemory` (tfjs's file:// handlers need tfjs-node), so they work on
 * every backend. Identical weights give identical bytes. The one save/load path: the train stage writes
 * models with it, predict, evaluate and the data-parallel fit workers read them back with it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
// Registers the custom layers, so that any model built by models/builders.ts loads back.
import './fused-layers';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

export interface SerializedModel {
  /** model.json: topology and weights manifest (one file, `weights.bin`). */
  modelJson: string;
  /** weights.bin */
  weights: Uint8Array;
}

/** model.json + weights.bin bytes via `tf.io.withSaveHandler` (file:// saving needs tfjs-node). */
export async function serializeModel(model: tf.LayersModel): Promise<SerializedModel> {
  let saved: SerializedModel | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = concatWeightData(artifacts.weightData);
      const modelJson = JSON.stringify({
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      });
      saved = { modelJson, weights };
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (saved === undefined) throw new Error('model.save did not call the save handler');
  return saved;
}

export function concatWeightData(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const parts = Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(new Uint8Array(part), at);
    at += part.byteLength;
  }
  return out;
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
}

/** Loads what `serializeModel` produced (custom layers are registered by importing this module). */
export async function loadModel({ modelJson, weights }: SerializedModel): Promise<tf.LayersModel> {
  let parsed: ModelJson;
  try {
    parsed = JSON.parse(modelJson) as ModelJson;
  } catch (err) {
    throw new Error(`model.json is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const weightSpecs = parsed.weightsManifest.flatMap((group) => group.weights);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: parsed.modelTopology, weightSpecs, weightData: ownBuffer(weights) }));
}

/** Writes a serialized model into an artifact directory (`model.json`, `weights.bin`). */
export async function writeModelFiles(dir: string, { modelJson, weights }: SerializedModel): Promise<void> {
  await writeFile(join(dir, MODEL_FILE), modelJson);
  await writeFile(join(dir, WEIGHTS_FILE), weights);
}

/** Loads the model an artifact directory holds (what `writeModelFiles` wrote). */
export async function loadModelFrom(dir: string): Promise<tf.LayersModel> {
  const [modelJson, weights] = await Promise.all([readFile(join(dir, MODEL_FILE), 'utf8'), readFile(join(dir, WEIGHTS_FILE))]);
  return loadModel({ modelJson, weights });
}

/** A standalone ArrayBuffer holding exactly these bytes (tfjs decoders read the whole buffer). */
export function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
