/**
 * Seeded initial weights, computed in JS from one seed so that two builds (on any backend, in any process) start
 * from identical bytes. tfjs initialisers take a seed too, but layer weights would then depend on construction order
 * and tf.initializers.orthogonal runs a QR decomposition on the backend, which differs in the last bits between cpu
 * and wasm (and warns about slowness above 2,000 elements).
 *
 * Keras defaults: embeddings U(-0.05, 0.05), kernels Glorot-uniform, recurrent kernels orthogonal, biases zero
 * with the LSTM forget gate bias at one.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, seedFromString } from '../data/random';

/** Weight values for one layer variable. */
export type WeightRole = 'embeddings' | 'kernel' | 'recurrent_kernel' | 'bias';

export interface InitialWeightsOptions {
  /** Replaces the embedding matrix (e.g. Word2Vec vectors), vocab × dim row-major. */
  embeddingMatrix?: Float32Array;
}

/** Sets every weight of the model from `seed`; layers are told apart by their index, not their (global) names. */
export function applyInitialWeights(model: tf.LayersModel, seed: number, options: InitialWeightsOptions = {}): void {
  model.layers.forEach((layer, layerIndex) => {
    const weights = layer.weights;
    if (weights.length === 0) return;
    const values = weights.map((weight, weightIndex) => {
      const role = roleOf(weight.originalName);
      const rng = new Rng(seedFromString(`${seed}:${layerIndex}:${weightIndex}`));
      const data =
        role === 'embeddings' && options.embeddingMatrix !== undefined
          ? options.embeddingMatrix
          : initialValues(role, weight.shape as number[], rng, isLstm(layer));
      return tf.tensor(data, weight.shape as number[], 'float32');
    });
    try {
      layer.setWeights(values);
    } finally {
      tf.dispose(values);
    }
  });
}

function roleOf(name: string): WeightRole {
  const base = name.slice(name.lastIndexOf('/') + 1);
  if (base.endsWith('embeddings')) return 'embeddings';
  if (base.endsWith('recurrent_kernel')) return 'recurrent_kernel';
  if (base.endsWith('kernel')) return 'kernel';
  if (base.endsWith('bias')) return 'bias';
  throw new Error(`no initialiser for weight '${name}'`);
}

function isLstm(layer: tf.layers.Layer): boolean {
  const config = layer.getConfig() as { cell?: unknown; layer?: { className?: string } };
  return layer.getClassName() === 'LSTM' || config.cell === 'lstm' || config.layer?.className === 'LSTM';
}

export function initialValues(role: WeightRole, shape: number[], rng: Rng, lstm = false): Float32Array {
  switch (role) {
    case 'embeddings':
      return uniform(rng, size(shape), 0.05);
    case 'kernel':
      return glorotUniform(rng, shape);
    case 'recurrent_kernel':
      return orthogonal(rng, shape[0] ?? 0, size(shape) / (shape[0] || 1));
    case 'bias':
      return lstm ? forgetGateOnes(size(shape)) : new Float32Array(size(shape));
  }
}

function size(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function uniform(rng: Rng, n: number, limit: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * limit);
}

/** Fans as Keras computes them: the last two dims are (in, out), leading dims form the receptive field. */
function glorotUniform(rng: Rng, shape: number[]): Float32Array {
  const fanOut = shape[shape.length - 1] ?? 1;
  const receptive = size(shape.slice(0, -2));
  const fanIn = (shape.length >= 2 ? (shape[shape.length - 2] ?? 1) : fanOut) * receptive;
  return uniform(rng, size(shape), Math.sqrt(6 / (fanIn + fanOut * receptive)));
}

/** A rows × cols matrix with orthonormal rows (or columns, whichever is fewer), by modified Gram–Schmidt. */
function orthogonal(rng: Rng, rows: number, cols: number): Float32Array {
  const n = Math.max(rows, cols);
  const k = Math.min(rows, cols);
  // k orthonormal vectors of length n, from Gaussian draws.
  const vectors: Float64Array[] = [];
  while (vectors.length < k) {
    const v = Float64Array.from({ length: n }, () => gaussian(rng));
    for (const u of vectors) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += (u[i] as number) * (v[i] as number);
      for (let i = 0; i < n; i++) v[i] = (v[i] as number) - dot * (u[i] as number);
    }
    const norm = Math.hypot(...v);
    if (norm < 1e-6) continue; // a degenerate draw: draw again
    vectors.push(v.map((x) => x / norm));
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // rows <= cols: row r is vector r; otherwise column c is vector c.
      out[r * cols + c] = rows <= cols ? (vectors[r]?.[c] as number) : (vectors[c]?.[r] as number);
    }
  }
  return out;
}

function gaussian(rng: Rng): number {
  const u = 1 - rng.next(); // (0, 1]
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** LSTM bias [i, f, c, o] per direction with the forget gate at one (Keras unit_forget_bias). */
function forgetGateOnes(n: number): Float32Array {
  const out = new Float32Array(n);
  const units = n / 4;
  for (let i = units; i < 2 * units; i++) out[i] = 1;
  return out;
}
