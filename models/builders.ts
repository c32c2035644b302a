/**
 * Text classifier builders: pure functions from a validated `ModelSpec` to an uncompiled tfjs-layers model.
 *
 * Every model starts with an Embedding (random, or Word2Vec vectors; trainable or frozen) and ends with a binary
 * head (1 sigmoid unit) for two classes or a softmax head otherwise. Initial weights and dropout masks derive from
 * one seed (initial-weights.ts, SeededDropout), so two builds with the same seed are identical.
 *
 * Recurrent layers are `FusedRnn` (one kernel per sequence, far faster on wasm) and a Conv1D followed by global max
 * pooling is one `ConvGlobalMax`; `fused: false` builds the stock tf.layers (lstm / gru / bidirectional, conv1d +
 * globalMaxPooling1d) instead, with the same weights layout and maths (sigmoid gates; a max tied across positions
 * sends its gradient to every tied position there, to the first one when fused).
 */
import * as tf from '@tensorflow/tfjs';
import { seedFromString } from '../data/random';
import { badInput } from '../core/errors';
import { ConvGlobalMax, FusedRnn, SeededDropout } from './fused-layers';
import { applyInitialWeights } from './initial-weights';
import { parseModelSpec, type ModelSpec, type ModelSpecInput } from './model-spec';

export * from './model-spec';

export interface BuildContext {
  vocabSize: number;
  seqLen: number;
  /** 2 gives a 1-unit sigmoid head, more a softmax head. */
  nClasses: number;
  seed: number;
  /** Word2Vec (or other) vectors, vocabSize × embeddingDim row-major. */
  embeddingMatrix?: Float32Array;
}

/** Builds the model for `spec` (raw or parsed) with seeded initial weights. Uncompiled: `fitModel` trains it. */
export function buildModel(specInput: ModelSpecInput | ModelSpec, context: BuildContext): tf.Sequential {
  const spec = parseModelSpec(specInput);
  checkContext(spec, context);
  const builder = new Builder(spec, context);
  const model = builder.build();
  try {
    applyInitialWeights(model, context.seed, { embeddingMatrix: context.embeddingMatrix });
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}

function checkContext(spec: ModelSpec, { vocabSize, seqLen, nClasses, embeddingMatrix }: BuildContext): void {
  for (const [field, value] of Object.entries({ vocabSize, seqLen, nClasses })) {
    if (!Number.isInteger(value) || value <= 0) {
      throw badInput(`${field} must be a positive integer, got ${value}`, { stage: 'train', field });
    }
  }
  if (nClasses < 2) throw badInput(`nClasses must be at least 2, got ${nClasses}`, { stage: 'train', field: 'nClasses' });
  if (embeddingMatrix !== undefined && embeddingMatrix.length !== vocabSize * spec.embeddingDim) {
    throw badInput(
      `embedding matrix has ${embeddingMatrix.length} values, expected vocabSize × embeddingDim = ` +
        `${vocabSize} × ${spec.embeddingDim}; train Word2Vec with the same vocabulary and dimension`,
      { stage: 'train', field: 'embeddingMatrix' },
    );
  }
}

type Activation = 'relu' | 'sigmoid' | 'softmax';

/** Adds layers with deterministic names (so model.json is reproducible) and per-position dropout seeds. */
class Builder {
  private readonly model: tf.Sequential;
  private count = 0;

  constructor(
    private readonly spec: ModelSpec,
    private readonly context: BuildContext,
  ) {
    this.model = tf.sequential({ name: spec.arch.replace('-', '_') });
  }

  build(): tf.Sequential {
    const { spec } = this;
    this.embedding();
    switch (spec.arch) {
      case 'cnn':
        this.cnnBody(spec);
        break;
      case 'lstm':
      case 'gru':
        this.rnn(spec.arch, spec.units, false, false, spec.l2.recurrent);
        this.hidden(spec.denseUnits, spec.dropout);
        break;
      case 'bilstm':
        this.rnn('lstm', spec.units, true, spec.returnSequences, spec.l2.recurrent);
        if (spec.returnSequences) this.add(tf.layers.flatten({ name: this.name('flatten') }));
        this.dropout(spec.dropout);
        this.hidden(spec.denseUnits, spec.dropout);
        break;
      case 'cnn-bilstm':
        this.conv(spec.filters, spec.kernelSize, spec.padding);
        this.add(tf.layers.maxPooling1d({ poolSize: 2, name: this.name('max_pooling1d') }));
        this.rnn('lstm', spec.units, true, spec.returnSequences, spec.l2.recurrent);
        if (spec.returnSequences) this.add(tf.layers.flatten({ name: this.name('flatten') }));
        this.hidden(spec.denseUnits, spec.dropout);
        break;
      case 'cnn-small':
        this.convGlobalMax(spec.filters, spec.kernelSize, 'same');
        this.dropout(spec.dropout);
        break;
    }
    this.head();
    return this.model;
  }

  private cnnBody(spec: Extract<ModelSpec, { arch: 'cnn' }>): void {
    const globalMax = spec.pooling === 'global-max';
    spec.filters.forEach((filters, i) => {
      if (globalMax && i === spec.filters.length - 1) return this.convGlobalMax(filters, spec.kernelSize, spec.padding);
      this.conv(filters, spec.kernelSize, spec.padding);
      if (spec.pooling === 'max') {
        this.add(tf.layers.maxPooling1d({ poolSize: 2, name: this.name('max_pooling1d') }));
        this.dropout(spec.dropout);
      }
    });
    if (!globalMax) this.add(tf.layers.flatten({ name: this.name('flatten') }));
    this.hidden(spec.denseUnits, spec.dropout);
  }

  /** Conv1D (relu) → GlobalMaxPooling1D: one `ConvGlobalMax` layer when fused, else the two stock layers. */
  private convGlobalMax(filters: number, kernelSize: number, padding: 'valid' | 'same'): void {
    if (!this.spec.fused) {
      this.conv(filters, kernelSize, padding);
      this.add(tf.layers.globalMaxPooling1d({ name: this.name('global_max_pooling1d') }));
      return;
    }
    const name = this.name('conv1d_global_max');
    this.add(new ConvGlobalMax({ name, filters, kernelSize, padding, l2: this.spec.l2.conv }));
  }

  private embedding(): void {
    const { spec, context } = this;
    this.add(
      tf.layers.embedding({
        name: 'embedding',
        inputDim: context.vocabSize,
        outputDim: spec.embeddingDim,
        inputLength: context.seqLen,
        embeddingsInitializer: 'zeros',
        embeddingsRegularizer: l2(spec.l2.embedding),
        trainable: spec.embeddingTrainable,
      }),
    );
  }

  private conv(filters: number, kernelSize: number, padding: 'valid' | 'same'): void {
    this.add(
      tf.layers.conv1d({
        name: this.name('conv1d'),
        filters,
        kernelSize,
        padding,
        activation: 'relu',
        kernelInitializer: 'zeros',
        kernelRegularizer: l2(this.spec.l2.conv),
      }),
    );
  }

  private rnn(cell: 'lstm' | 'gru', units: number, bidirectional: boolean, returnSequences: boolean, l2Factor: number) {
    const name = this.name(bidirectional ? `bidirectional_${cell}` : cell);
    if (this.spec.fused) {
      this.add(new FusedRnn({ name, cell, units, bidirectional, returnSequences, l2: l2Factor }));
      return;
    }
    const args = {
      units,
      returnSequences,
      recurrentActivation: 'sigmoid' as const,
      kernelInitializer: 'zeros' as const,
      recurrentInitializer: 'zeros' as const,
      kernelRegularizer: l2(l2Factor),
      recurrentRegularizer: l2(l2Factor),
    };
    const layer = cell === 'lstm' ? tf.layers.lstm(args) : tf.layers.gru(args);
    this.add(bidirectional ? tf.layers.bidirectional({ layer: layer as tf.RNN, name, mergeMode: 'concat' }) : layer);
  }

  private hidden(units: number, dropoutRate: number): void {
    if (units === 0) return;
    this.dense(units, 'relu', this.name('dense'));
    this.dropout(dropoutRate);
  }

  private head(): void {
    const binary = this.context.nClasses === 2;
    this.dense(binary ? 1 : this.context.nClasses, binary ? 'sigmoid' : 'softmax', 'output');
  }

  private dense(units: number, activation: Activation, name: string): void {
    this.add(
      tf.layers.dense({ name, units, activation, kernelInitializer: 'zeros', kernelRegularizer: l2(this.spec.l2.dense) }),
    );
  }

  private dropout(dropoutRate: number): void {
    if (dropoutRate === 0) return;
    const name = this.name('dropout');
    this.add(new SeededDropout({ name, rate: dropoutRate, seed: seedFromString(`${this.context.seed}:${name}`) }));
  }

  private add(layer: tf.layers.Layer): void {
    this.model.add(layer);
  }

  private name(kind: string): string {
    this.count += 1;
    return `${kind}_${this.count}`;
  }
}

function l2(factor: number): ReturnType<typeof tf.regularizers.l2> | undefined {
  return factor > 0 ? tf.regularizers.l2({ l2: factor }) : undefined;
}
