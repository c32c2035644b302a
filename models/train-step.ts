/**
 * The pieces of one training step shared by the in-thread trainer (fit.ts) and the data-parallel workers
 * (fit-worker.ts): batch order, batch gathering, losses, optimizers and their state.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, seedFromString } from '../data/random';
import { badInput } from '../core/errors';
import { FusedAdamOptimizer } from '../kernels/fused-adam';
import { prepareHeapSimd } from '../kernels/heap-simd';
import { balancedClassWeights } from './baselines/matrix';
import { concatWeightData, ownBuffer } from './model-io';

export type OptimizerName = 'adam' | 'adagrad' | 'rmsprop' | 'sgd';
export type Optimizer = tf.Optimizer & { learningRate: number };

/** What a model's input and output say about the task. */
export interface ModelShape {
  seqLen: number;
  nClasses: number;
  /** A 1-unit sigmoid head. */
  binary: boolean;
}

export function modelShape(model: tf.LayersModel): ModelShape {
  const seqLen = model.inputs[0]?.shape[1];
  const units = model.outputs[0]?.shape[1];
  if (typeof seqLen !== 'number' || typeof units !== 'number') {
    throw badInput('the model needs a fixed input length and output size (build it with buildModel)', { stage: 'train' });
  }
  return { seqLen, nClasses: units === 1 ? 2 : units, binary: units === 1 };
}

/** The row order of an epoch: a pure function of (seed, epoch), so a resumed run replays it. */
export function epochOrder(seed: number, epoch: number, rows: number): number[] {
  return new Rng(seedFromString(`${seed}:shuffle:${epoch}`)).shuffle(Array.from({ length: rows }, (_, i) => i));
}

export function gatherRows(x: Int32Array, rows: readonly number[], seqLen: number): Int32Array {
  const out = new Int32Array(rows.length * seqLen);
  rows.forEach((r, i) => out.set(x.subarray(r * seqLen, (r + 1) * seqLen), i * seqLen));
  return out;
}

/** Keras class_weight semantics: each sample's loss times its class weight, averaged over the batch. */
export function classWeights(
  spec: 'balanced' | number[] | undefined,
  y: Int32Array,
  nClasses: number,
): Float32Array | undefined {
  if (spec === undefined) return undefined;
  if (spec !== 'balanced') {
    if (spec.length !== nClasses) {
      throw badInput(`classWeight has ${spec.length} weights for ${nClasses} classes`, { stage: 'train', field: 'classWeight' });
    }
    return Float32Array.from(spec);
  }
  return Float32Array.from(balancedClassWeights(y, nClasses));
}

export const EPSILON = 1e-7;

/**
 * Σ (weighted) cross-entropy over the given samples, divided by `denominator` (the full batch size: the mean for a
 * whole batch, or one worker's share of it under data parallelism).
 */
export function lossOf(
  output: tf.Tensor,
  labels: Int32Array,
  shape: ModelShape,
  sampleWeights: Float32Array | undefined,
  denominator = labels.length,
): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.clipByValue(output, EPSILON, 1 - EPSILON);
    let perSample: tf.Tensor;
    if (shape.binary) {
      const y = tf.tensor2d(Float32Array.from(labels), [labels.length, 1]);
      perSample = tf.neg(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p))))).reshape([-1]);
    } else {
      const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), shape.nClasses);
      perSample = tf.neg(tf.sum(tf.mul(oneHot, tf.log(p)), -1));
    }
    if (sampleWeights !== undefined) perSample = tf.mul(perSample, tf.tensor1d(sampleWeights));
    return tf.div(tf.sum(perSample), denominator) as tf.Scalar;
  });
}

/**
 * The L2 penalties of every layer. `LayersModel.calculateLosses()` misses them on a Sequential (it only walks its
 * own graph nodes, and a Sequential keeps them in an inner model). With `weightDecay`, also ½·decay·Σw² over every
 * trainable weight (biases included): its gradient is decay·w, PyTorch's `weight_decay` of Adagrad/SGD/RMSprop.
 */
export function regularizationLosses(model: tf.LayersModel, weightDecay?: number): tf.Scalar[] {
  const penalties = model.layers.flatMap((layer) => layer.calculateLosses());
  if (!weightDecay) return penalties;
  const squares = model.trainableWeights.map((w) => tf.sum(tf.square(w.read())));
  return [...penalties, tf.mul(0.5 * weightDecay, tf.addN(squares)) as tf.Scalar];
}

export async function createOptimizer(name: OptimizerName, learningRate: number): Promise<Optimizer> {
  switch (name) {
    case 'adam':
      await prepareHeapSimd();
      return new FusedAdamOptimizer(learningRate) as unknown as Optimizer;
    case 'adagrad':
      return tf.train.adagrad(learningRate) as unknown as Optimizer;
    case 'rmsprop':
      return tf.train.rmsprop(learningRate) as unknown as Optimizer;
    case 'sgd':
      return tf.train.sgd(learningRate) as unknown as Optimizer;
  }
}

/**
 * SGD caches −lr as a tensor, so it needs its setter; the others read the field on every step.
 * (`instanceof` cannot tell tfjs optimizers apart: they all match every optimizer class.)
 */
export function setLearningRate(optimizer: Optimizer, learningRate: number): void {
  if (optimizer.getClassName() === 'SGD') (optimizer as unknown as tf.SGDOptimizer).setLearningRate(learningRate);
  else optimizer.learningRate = learningRate;
}

/** An optimizer's slots (moments, accumulators, iteration count) as bytes. */
export interface OptimizerState {
  specsJson: string;
  weights: Uint8Array;
  /** Adam's running beta powers, restored bit-exactly (tfjs recomputes them with pow() on setWeights). */
  adamBetaPowers?: [number, number];
}

interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

export async function captureOptimizer(optimizer: Optimizer): Promise<OptimizerState> {
  const named = await optimizer.getWeights();
  // getWeights() makes a fresh 'iter' scalar on every call (the slots are the optimizer's own): free it.
  const fresh = named.filter((w) => w.name === 'iter').map((w) => w.tensor);
  const encoded = await tf.io.encodeWeights(named).finally(() => tf.dispose(fresh));
  const state: OptimizerState = { specsJson: JSON.stringify(encoded.specs), weights: concatWeightData(encoded.data) };
  if (optimizer.getClassName() === 'Adam') {
    const adam = optimizer as unknown as AdamInternals;
    state.adamBetaPowers = [adam.accBeta1.dataSync()[0] as number, adam.accBeta2.dataSync()[0] as number];
  }
  return state;
}

export async function restoreOptimizer(optimizer: Optimizer, state: OptimizerState): Promise<void> {
  const specs = JSON.parse(state.specsJson) as tf.io.WeightsManifestEntry[];
  const map = tf.io.decodeWeights(ownBuffer(state.weights), specs);
  try {
    // Adam matches moments to variables by position, so order must be the specs' order.
    await optimizer.setWeights(specs.map((spec) => ({ name: spec.name, tensor: map[spec.name] as tf.Tensor })));
  } finally {
    tf.dispose(Object.values(map));
  }
  const powers = state.adamBetaPowers;
  if (powers !== undefined && optimizer.getClassName() === 'Adam') {
    const adam = optimizer as unknown as AdamInternals;
    tf.tidy(() => {
      adam.accBeta1.assign(tf.scalar(powers[0]));
      adam.accBeta2.assign(tf.scalar(powers[1]));
    });
  }
}

export function checkFinite(loss: number): number {
  if (!Number.isFinite(loss)) throw new Error(`training loss became ${loss}; lower the learning rate`);
  return loss;
}
