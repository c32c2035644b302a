/**
 * Custom tfjs-layers layers used by the model builders:
 *
 * - `FusedRnn`: LSTM or GRU, optionally bidirectional, over the whole sequence in one kernel per direction
 *   (see kernels/rnn.ts). Weight shapes and gate order match tf.layers.lstm / gru, so weights move between them.
 * - `SeededDropout`: dropout whose mask is a pure function of (layer seed, training step). tf.layers.dropout either
 *   draws unseeded masks or, given a seed, the same mask on every batch; neither is reproducible training.
 * - `ConvGlobalMax`: Conv1D (relu) → GlobalMaxPooling1D as one op whose gradient touches only each filter's winning
 *   position (see conv-max.ts).
 *
 * All are registered for serialization, so saved models load back with `tf.loadLayersModel`.
 */
import * as tf from '@tensorflow/tfjs';
import { seedFromString } from '../data/random';
import { convGlobalMax, registerConvMaxKernels, type ConvPadding } from '../kernels/conv-max';
import { registerRnnKernels, rnnSequence, type RnnCell } from '../kernels/rnn';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type Kwargs = Record<string, unknown>;
type Regularizer = ReturnType<typeof tf.regularizers.l2>;
type Initializer = ReturnType<typeof tf.initializers.zeros>;

function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (!Array.isArray(inputs)) return inputs;
  const [only] = inputs;
  if (inputs.length !== 1 || only === undefined) throw new Error(`expected one input tensor, got ${inputs.length}`);
  return only;
}

export interface FusedRnnArgs extends LayerArgs {
  cell: RnnCell;
  units: number;
  /** @default false */
  bidirectional?: boolean;
  /** @default false */
  returnSequences?: boolean;
  /** L2 factor on the input and recurrent kernels. @default 0 */
  l2?: number;
}

interface Direction {
  reverse: boolean;
  kernel: tf.LayerVariable;
  recurrentKernel: tf.LayerVariable;
  bias: tf.LayerVariable;
}

export class FusedRnn extends tf.layers.Layer {
  static readonly className = 'UlasanFusedRnn';
  readonly cell: RnnCell;
  readonly units: number;
  readonly bidirectional: boolean;
  readonly returnSequences: boolean;
  readonly l2: number;
  private directions: Direction[] = [];

  constructor(args: FusedRnnArgs) {
    super(args);
    if (!Number.isInteger(args.units) || args.units <= 0) throw new Error(`FusedRnn units must be a positive integer`);
    this.cell = args.cell;
    this.units = args.units;
    this.bidirectional = args.bidirectional ?? false;
    this.returnSequences = args.returnSequences ?? false;
    this.l2 = args.l2 ?? 0;
    this.supportsMasking = false;
    registerRnnKernels();
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const features = shape[shape.length - 1];
    if (typeof features !== 'number') throw new Error(`FusedRnn needs a known feature size, got [${shape}]`);
    const gates = (this.cell === 'lstm' ? 4 : 3) * this.units;
    const regularizer: Regularizer | undefined = this.l2 > 0 ? tf.regularizers.l2({ l2: this.l2 }) : undefined;
    // Zeros here: the model builder sets seeded initial values for every weight afterwards (initial-weights.ts).
    const zeros: Initializer = tf.initializers.zeros();
    const names = this.bidirectional ? ['forward_', 'backward_'] : [''];
    this.directions = names.map((prefix, i) => ({
      reverse: i === 1,
      kernel: this.addWeight(`${prefix}kernel`, [features, gates], 'float32', zeros, regularizer, true),
      recurrentKernel: this.addWeight(`${prefix}recurrent_kernel`, [this.units, gates], 'float32', zeros, regularizer, true),
      bias: this.addWeight(`${prefix}bias`, [gates], 'float32', zeros, undefined, true),
    }));
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const units = this.units * (this.bidirectional ? 2 : 1);
    return this.returnSequences ? [shape[0] ?? null, shape[1] ?? null, units] : [shape[0] ?? null, units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const outputs = this.directions.map((d) =>
        rnnSequence(x, d.kernel.read(), d.recurrentKernel.read(), d.bias.read(), {
          cell: this.cell,
          reverse: d.reverse,
          returnSequences: this.returnSequences,
        }),
      );
      return outputs.length === 1 ? (outputs[0] as tf.Tensor) : tf.concat(outputs, -1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      cell: this.cell,
      units: this.units,
      bidirectional: this.bidirectional,
      returnSequences: this.returnSequences,
      l2: this.l2,
    };
  }
}

export interface ConvGlobalMaxArgs extends LayerArgs {
  filters: number;
  kernelSize: number;
  padding: ConvPadding;
  /** L2 factor on the kernel. @default 0 */
  l2?: number;
}

/**
 * Conv1D (relu) followed by GlobalMaxPooling1D, as one op (conv-max.ts). Weights are tf.layers.conv1d's: kernel
 * [kernelSize, features, filters] and bias [filters].
 */
export class ConvGlobalMax extends tf.layers.Layer {
  static readonly className = 'UlasanConvGlobalMax';
  readonly filters: number;
  readonly kernelSize: number;
  readonly padding: ConvPadding;
  readonly l2: number;
  private kernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;

  constructor(args: ConvGlobalMaxArgs) {
    super(args);
    for (const key of ['filters', 'kernelSize'] as const) {
      if (!Number.isInteger(args[key]) || args[key] <= 0) throw new Error(`ConvGlobalMax ${key} must be a positive integer`);
    }
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.padding = args.padding;
    this.l2 = args.l2 ?? 0;
    registerConvMaxKernels();
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const features = shape[shape.length - 1];
    if (typeof features !== 'number') throw new Error(`ConvGlobalMax needs a known feature size, got [${shape}]`);
    const regularizer: Regularizer | undefined = this.l2 > 0 ? tf.regularizers.l2({ l2: this.l2 }) : undefined;
    // Zeros here: the model builder sets seeded initial values for every weight afterwards (initial-weights.ts).
    const zeros: Initializer = tf.initializers.zeros();
    this.kernel = this.addWeight('kernel', [this.kernelSize, features, this.filters], 'float32', zeros, regularizer, true);
    this.bias = this.addWeight('bias', [this.filters], 'float32', zeros, undefined, true);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0] ?? null, this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    if (this.kernel === undefined || this.bias === undefined) throw new Error('ConvGlobalMax called before build');
    return convGlobalMax(single(inputs), this.kernel.read(), this.bias.read(), this.padding);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, padding: this.padding, l2: this.l2 };
  }
}

export interface SeededDropoutArgs extends LayerArgs {
  rate: number;
  /** Base seed; the mask of training step k is drawn from a seed derived from (seed, k). */
  seed: number;
}

export class SeededDropout extends tf.layers.Layer {
  static readonly className = 'UlasanSeededDropout';
  readonly rate: number;
  readonly seed: number;
  /** The training step whose mask the next call draws; set by `setDropoutStep` before each batch. */
  step = 0;

  constructor(args: SeededDropoutArgs) {
    super(args);
    if (!(args.rate >= 0 && args.rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${args.rate}`);
    this.rate = args.rate;
    this.seed = args.seed >>> 0;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      if (kwargs['training'] !== true || this.rate === 0) return x.clone();
      return tf.dropout(x, this.rate, undefined, seedFromString(`${this.seed}:${this.step}`));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}

/** Points every SeededDropout in the model at training step `step`, so masks depend on the step, not on history. */
export function setDropoutStep(model: tf.LayersModel, step: number): void {
  for (const layer of model.layers) if (layer instanceof SeededDropout) layer.step = step;
}

tf.serialization.registerClass(FusedRnn);
tf.serialization.registerClass(ConvGlobalMax);
tf.serialization.registerClass(SeededDropout);
