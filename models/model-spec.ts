/**
 * The neural model specs as zod schemas, with no tfjs import: the experiment spec validates `model:`
 * with these before any work, and a cache-hit run never loads tfjs. models/builders.ts builds from them.
 */
import { z } from '../data/zod';
import { badInput } from '../core/errors';

const rate = z.number().min(0).lt(1);
const positiveInt = z.number().int().positive();

/** L2 factors per layer kind; 0 or absent means none. */
const L2Schema = z
  .object({
    /** @default 0 */
    embedding: z.number().nonnegative().default(0),
    /** @default 0 */
    conv: z.number().nonnegative().default(0),
    /** Input and recurrent kernels of LSTM/GRU layers. @default 0 */
    recurrent: z.number().nonnegative().default(0),
    /** Hidden and output Dense kernels. @default 0 */
    dense: z.number().nonnegative().default(0),
  })
  .default({ embedding: 0, conv: 0, recurrent: 0, dense: 0 });

const common = {
  /** Train the embedding matrix (false freezes it, e.g. pretrained Word2Vec). @default true */
  embeddingTrainable: z.boolean().default(true),
  l2: L2Schema,
  /** Fused recurrent and conv + global-max layers; false builds stock tfjs layers (reference, slower). @default true */
  fused: z.boolean().default(true),
};

const convPadding = z.enum(['valid', 'same']);

export const CnnSpecSchema = z.object({
  arch: z.literal('cnn'),
  /** @default 100 */
  embeddingDim: positiveInt.default(100),
  /** One Conv1D (relu) per entry. @default [64, 128] */
  filters: z.array(positiveInt).min(1).default([64, 128]),
  /** @default 3 */
  kernelSize: positiveInt.default(3),
  /** @default 'same' */
  padding: convPadding.default('same'),
  /** 'max': MaxPool(2) + Dropout after every conv, then Flatten; 'global-max': one GlobalMaxPool at the end. @default 'max' */
  pooling: z.enum(['max', 'global-max']).default('max'),
  /** Hidden Dense (relu) units before the head; 0 for none. @default 64 */
  denseUnits: z.number().int().nonnegative().default(64),
  /** @default 0.5 */
  dropout: rate.default(0.5),
  ...common,
});

const rnnFields = {
  /** @default 100 */
  embeddingDim: positiveInt.default(100),
  /** @default 64 */
  units: positiveInt.default(64),
  /** @default 64 */
  denseUnits: z.number().int().nonnegative().default(64),
  /** @default 0.5 */
  dropout: rate.default(0.5),
  ...common,
};

export const LstmSpecSchema = z.object({ arch: z.literal('lstm'), ...rnnFields });
export const GruSpecSchema = z.object({ arch: z.literal('gru'), ...rnnFields });

export const BiLstmSpecSchema = z.object({
  arch: z.literal('bilstm'),
  /** @default 128 */
  embeddingDim: positiveInt.default(128),
  /** Units per direction. @default 32 */
  units: positiveInt.default(32),
  /** Keep every step's output (then Flatten) rather than the final states. @default true */
  returnSequences: z.boolean().default(true),
  /** @default 0 */
  denseUnits: z.number().int().nonnegative().default(0),
  /** @default 0.35 */
  dropout: rate.default(0.35),
  ...common,
});

export const CnnBiLstmSpecSchema = z.object({
  arch: z.literal('cnn-bilstm'),
  /** @default 100 */
  embeddingDim: positiveInt.default(100),
  /** @default 64 */
  filters: positiveInt.default(64),
  /** @default 3 */
  kernelSize: positiveInt.default(3),
  /** @default 'same' */
  padding: convPadding.default('same'),
  /** Units per direction. @default 64 */
  units: positiveInt.default(64),
  /** @default true */
  returnSequences: z.boolean().default(true),
  /** @default 64 */
  denseUnits: z.number().int().nonnegative().default(64),
  /** @default 0.5 */
  dropout: rate.default(0.5),
  ...common,
});

/** The quickstart default: small and fast. */
export const CnnSmallSpecSchema = z.object({
  arch: z.literal('cnn-small'),
  /** @default 32 */
  embeddingDim: positiveInt.default(32),
  /** @default 64 */
  filters: positiveInt.default(64),
  /** @default 5 */
  kernelSize: positiveInt.default(5),
  /** @default 0.3 */
  dropout: rate.default(0.3),
  ...common,
});

export const ModelSpecSchema = z.discriminatedUnion('arch', [
  CnnSpecSchema,
  LstmSpecSchema,
  GruSpecSchema,
  BiLstmSpecSchema,
  CnnBiLstmSpecSchema,
  CnnSmallSpecSchema,
]);

/** A validated spec with every default filled in. */
export type ModelSpec = z.output<typeof ModelSpecSchema>;
/** What a caller writes: only `arch` is required. */
export type ModelSpecInput = z.input<typeof ModelSpecSchema>;
export type ModelArch = ModelSpec['arch'];

/** Parses a spec, failing with every problem and where it is. */
export function parseModelSpec(input: unknown): ModelSpec {
  const result = ModelSpecSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(spec)'}: ${i.message}`).join('; ');
    throw badInput(`invalid model spec: ${problems}. Fix the model section of the experiment spec.`, { stage: 'train' });
  }
  return result.data;
}
