/**
 * Adam with the per-variable update as one kernel (one pass over the parameter, its gradient and both moments),
 * for the wasm and cpu backends.
 *
 * tf.train.adam runs ~12 engine ops per variable per step, each a full pass that allocates a new buffer; on the
 * 1M-parameter embedding of the benchmark models that is ~10 ms of a ~60 ms step. The maths is tfjs's (same
 * hyperparameters, bias correction and epsilon placement), and the slots are tfjs's, so getWeights / setWeights and
 * checkpoints work unchanged. On wasm the pass is adam.wat (float32, 4 lanes at a time, on the backend's own heap);
 * on cpu it is a JavaScript loop in float64. The wasm pass must be assembled before the first step
 * (`prepareHeapSimd`, which `createOptimizer` awaits), so a run never mixes the two.
 */
import * as tf from '@tensorflow/tfjs';
import { requireHeapSimd } from './heap-simd';
import { kernelInput, withArena } from './arena';

export const ADAM_UPDATE = 'UlasanAdamUpdate';

interface AdamUpdateAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 − beta1^t and 1 − beta2^t for this step. */
  correction1: number;
  correction2: number;
}

/** The parts of tf.AdamOptimizer that the override reads (public in JS, private in its typings). */
interface AdamSlots {
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  beta1: number;
  beta2: number;
  epsilon: number;
  incrementIterations(): void;
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    super(learningRate, beta1, beta2, epsilon);
    registerAdamKernel();
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const self = this as unknown as AdamSlots;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const attrs: AdamUpdateAttrs = {
      learningRate: this.learningRate,
      beta1: self.beta1,
      beta2: self.beta2,
      epsilon: self.epsilon,
      correction1: 1 - (self.accBeta1.dataSync()[0] as number),
      correction2: 1 - (self.accBeta2.dataSync()[0] as number),
    };
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name] as tf.Variable;
        const slot = (slots: AdamSlots['accumulatedFirstMoment'], suffix: string) =>
          (slots[i] ??= { originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) })
            .variable;
        const m = slot(self.accumulatedFirstMoment, 'm');
        const v = slot(self.accumulatedSecondMoment, 'v');
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]?.tensor : variableGradients[name];
        if (gradient == null) return;
        const inputs = { value, m, v, gradient } as unknown as tf.NamedTensorMap;
        const [newValue, newM, newV] = tf.engine().runKernel(ADAM_UPDATE, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        m.assign(newM as tf.Tensor);
        v.assign(newV as tf.Tensor);
        value.assign(newValue as tf.Tensor);
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
  }
}

let registered = false;

function registerAdamKernel(): void {
  if (registered) return;
  registered = true;
  for (const backendName of ['cpu', 'wasm']) tf.registerKernel({ kernelName: ADAM_UPDATE, backendName, kernelFunc: adamUpdate });
}

function adamUpdate({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const named = (name: string) => kernelInput(inputs, name, ADAM_UPDATE);
  return withArena(backend as tf.KernelBackend, (arena) => {
    const shape = named('value').shape;
    const [p, m, v, g] = ['value', 'm', 'v', 'gradient'].map((name) => arena.input(named(name)));
    const [p2, m2, v2] = [arena.output(shape), arena.output(shape), arena.output(shape)];
    if (!p || !m || !v || !g || !p2 || !m2 || !v2 || g.len !== p.len) throw new Error(`${ADAM_UPDATE}: shapes differ`);
    const offsets = [p.off, m.off, v.off, g.off, p2.off, m2.off, v2.off];
    const hyper = attrs as unknown as AdamUpdateAttrs;
    const simd = requireHeapSimd(backend as tf.KernelBackend, ADAM_UPDATE);
    if (simd === undefined) adamLoop(arena.heap(), offsets, p.len, hyper);
    else simd.adam(...offsets.map((floats) => floats * 4), p.len, ...simdHyperparameters(hyper));
  });
}

/** beta1, beta2, step, scale, epsilon: the arguments adam.wat takes after the offsets and length. */
function simdHyperparameters(a: AdamUpdateAttrs): number[] {
  return [a.beta1, a.beta2, a.learningRate / a.correction1, 1 / a.correction2, a.epsilon];
}

/** Offsets hoisted into locals: V8 does not keep object fields in registers across typed-array stores. */
function adamLoop(h: Float32Array, offsets: number[], n: number, a: AdamUpdateAttrs): void {
  const [p, m, v, g, p2, m2, v2] = offsets as [number, number, number, number, number, number, number];
  const { learningRate, beta1, beta2, epsilon, correction1, correction2 } = a;
  const c1 = 1 - beta1;
  const c2 = 1 - beta2;
  const step = learningRate / correction1;
  const scale = 1 / correction2;
  for (let i = 0; i < n; i++) {
    const grad = h[g + i] as number;
    const first = beta1 * (h[m + i] as number) + c1 * grad;
    const second = beta2 * (h[v + i] as number) + c2 * grad * grad;
    h[m2 + i] = first;
    h[v2 + i] = second;
    h[p2 + i] = (h[p + i] as number) - (step * first) / (Math.sqrt(second * scale) + epsilon);
  }
}
