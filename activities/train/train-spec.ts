/**
 * What the train stage accepts, as zod schemas that load no tfjs: the experiment spec validates its
 * `model:` and `train:` sections with these before any work starts, and a cache-hit run never pays
 * for loading tfjs (about 2 s here).
 *
 * The neural fields are model-spec.ts' schemas themselves (the builders' own, tfjs-free). The fit
 * options mirror `FitOptionsSchema` of fit.ts field for field; train-spec.test.ts fails when they drift.
 */
import { z } from '../../data/zod';
import type { BaselineKind } from '../../models/baselines';
import { BiLstmSpecSchema, CnnBiLstmSpecSchema, CnnSmallSpecSchema, CnnSpecSchema, GruSpecSchema, LstmSpecSchema } from '../../models/model-spec';
import type { TrainModelInput, TrainParams } from './train';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

/** A model schema's fields without its `arch` tag. */
const fieldsOf = <S extends z.ZodObject>(schema: S) => schema.omit({ arch: true } as never).shape as Omit<S['shape'], 'arch'>;

/** Field shapes per neural architecture: exactly model-spec.ts' schemas (the builders' own). */
const NEURAL_FIELDS = {
  cnn: fieldsOf(CnnSpecSchema),
  lstm: fieldsOf(LstmSpecSchema),
  gru: fieldsOf(GruSpecSchema),
  bilstm: fieldsOf(BiLstmSpecSchema),
  'cnn-bilstm': fieldsOf(CnnBiLstmSpecSchema),
  'cnn-small': fieldsOf(CnnSmallSpecSchema),
};

const alpha = {
  /** Additive (Laplace/Lidstone) smoothing. @default 1 */
  alpha: z.number().nonnegative().default(1),
};

/**
 * sklearn's `class_weight`: 'balanced' weighs each class by n / (classes · count). 'none' (the default) is
 * dropped from the params, so the key of an unweighted model is what it was before the option existed.
 */
const classWeight = {
  /** @default 'none' */
  classWeight: z
    .enum(['none', 'balanced'])
    .optional()
    .transform((value) => (value === 'balanced' ? value : undefined)),
};

/**
 * Post-hoc class-prior adjustment (evaluate/prior-adjustment.ts): 'validation' tunes one offset per class
 * on the validation split's scores for macro-F1; `{offsets}` takes offsets tuned elsewhere (one per class,
 * added to log-probabilities, or to decision scores for the linear SVM). Either is stored with the model,
 * so evaluate and predict use it. 'none' (the default) is dropped from the params, as classWeight's is.
 */
const priorAdjustment = {
  /** @default 'none' */
  priorAdjustment: z
    .union([z.enum(['none', 'validation']), z.strictObject({ offsets: z.array(z.number()).min(2) })])
    .optional()
    .transform((value) => (value === 'none' ? undefined : value)),
};

/** Field shapes per classic baseline (baselines/), with scikit-learn's defaults. */
const BASELINE_FIELDS = {
  nb: { ...alpha, ...priorAdjustment },
  'complement-nb': { ...alpha, ...priorAdjustment },
  'linear-svm': {
    /** Inverse regularisation strength. @default 1 */
    C: z.number().positive().default(1),
    /** liblinear's stopping tolerance. @default 0.0001 */
    tol: z.number().positive().default(1e-4),
    /** @default 1000 */
    maxIter: positiveInt.default(1000),
    /** Value of the constant feature whose weight is the intercept; 0 fits none. @default 1 */
    interceptScaling: z.number().nonnegative().default(1),
    ...classWeight,
    ...priorAdjustment,
  },
  'logistic-regression': {
    /** Inverse regularisation strength. @default 1 */
    C: z.number().positive().default(1),
    /** L-BFGS iterations. @default 100 */
    maxIter: positiveInt.default(100),
    /** @default 0.0001 */
    tol: z.number().positive().default(1e-4),
    ...classWeight,
    ...priorAdjustment,
  },
  'random-forest': {
    /** @default 100 */
    nEstimators: positiveInt.default(100),
    /** null grows until leaves are pure. @default null */
    maxDepth: positiveInt.nullable().default(null),
    /** Features tried per split. @default 'sqrt' */
    maxFeatures: z.union([z.enum(['sqrt', 'log2', 'all']), positiveInt]).default('sqrt'),
    /** @default 2 */
    minSamplesSplit: z.number().int().min(2).default(2),
    /** @default 1 */
    minSamplesLeaf: positiveInt.default(1),
    /** @default true */
    bootstrap: z.boolean().default(true),
    ...priorAdjustment,
  },
} as const;

export type NeuralArch = keyof typeof NEURAL_FIELDS;
export type BaselineArch = keyof typeof BASELINE_FIELDS;
export type TrainArch = NeuralArch | BaselineArch;

export const NEURAL_ARCHS = Object.keys(NEURAL_FIELDS) as NeuralArch[];
export const BASELINE_ARCHS = Object.keys(BASELINE_FIELDS) as BaselineArch[];
/** Every arch, the quickstart's first (error messages list them in this order). */
export const TRAIN_ARCHS: TrainArch[] = ['cnn-small', ...NEURAL_ARCHS.filter((a) => a !== 'cnn-small'), ...BASELINE_ARCHS];

/** The baselines module's name for each baseline arch. */
export const BASELINE_KINDS: Record<BaselineArch, BaselineKind> = {
  nb: 'multinomialNb',
  'complement-nb': 'complementNb',
  'linear-svm': 'linearSvm',
  'logistic-regression': 'logisticRegression',
  'random-forest': 'randomForest',
};

type Fields = Record<string, z.ZodType>;
const ALL_FIELDS: Record<TrainArch, Fields> = { ...NEURAL_FIELDS, ...BASELINE_FIELDS };

function archSchemas(strict: boolean) {
  return TRAIN_ARCHS.map((arch) => {
    const shape = { arch: z.literal(arch), ...ALL_FIELDS[arch] };
    return strict ? z.strictObject(shape) : z.object(shape);
  });
}

const unknownArch = (issue: { input?: unknown }) =>
  `unknown model arch ${JSON.stringify((issue.input as { arch?: unknown } | undefined)?.arch)}; allowed: ${TRAIN_ARCHS.join(', ')}`;

/**
 * A model of any arch, neural or baseline, defaults filled in. Strict: a field no arch has is an error
 * naming it; a field of ANOTHER arch is dropped first (`dropOtherArchFields`), so a grid can vary
 * `model.arch` over a base model that lists fields of several architectures.
 */
export const TrainModelSchema = z.preprocess(
  dropOtherArchFields,
  z.discriminatedUnion('arch', archSchemas(true) as unknown as [z.ZodObject, ...z.ZodObject[]], { error: unknownArch }),
) as unknown as z.ZodType<TrainModelInput, unknown>;

/** The neural archs only, lenient like models/builders.ts (for comparing with `ModelSpecSchema`). */
export const NeuralSpecMirror = z.discriminatedUnion(
  'arch',
  NEURAL_ARCHS.map((arch) => z.object({ arch: z.literal(arch), ...NEURAL_FIELDS[arch] })) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

/** Removes fields that the chosen arch lacks but another arch has; leaves unknown fields for the strict check. */
export function dropOtherArchFields(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const record = input as Record<string, unknown>;
  const arch = record.arch;
  if (typeof arch !== 'string' || !Object.hasOwn(ALL_FIELDS, arch)) return input;
  const own = ALL_FIELDS[arch as TrainArch];
  const elsewhere = new Set(Object.values(ALL_FIELDS).flatMap((fields) => Object.keys(fields)));
  return Object.fromEntries(Object.entries(record).filter(([key]) => key === 'arch' || Object.hasOwn(own, key) || !elsewhere.has(key)));
}

export function isBaselineArch(arch: string): arch is BaselineArch {
  return Object.hasOwn(BASELINE_FIELDS, arch);
}

const MonitorSchema = z.enum(['val_loss', 'val_macro_f1']);

/** The `train:` options (fit.ts' FitOptionsSchema, with the quickstart's defaults for epochs, batch and lr). */
export const TrainOptionsSchema = z.strictObject({
  /** @default 5 */
  epochs: positiveInt.default(5),
  /** @default 64 */
  batchSize: positiveInt.default(64),
  /** @default 0.005 */
  learningRate: z.number().positive().default(0.005),
  /** @default 'adam' */
  optimizer: z.enum(['adam', 'adagrad', 'rmsprop', 'sgd']).default('adam'),
  /** Per-class loss weights: 'balanced' (n / (classes · count)) or one weight per class. @default none */
  classWeight: z.union([z.literal('balanced'), z.array(z.number().positive())]).optional(),
  /** Stop when the monitored validation metric stops improving (needs a validation split). @default off */
  earlyStopping: z
    .strictObject({
      /** @default 'val_loss' */
      monitor: MonitorSchema.default('val_loss'),
      /** @default 3 */
      patience: nonNegativeInt.default(3),
      /** @default 0 */
      minDelta: z.number().nonnegative().default(0),
      /** @default false */
      restoreBestWeights: z.boolean().default(false),
    })
    .optional(),
  /** Multiply the learning rate by `factor` when the metric plateaus (needs a validation split). @default off */
  reduceLrOnPlateau: z
    .strictObject({
      /** @default 'val_loss' */
      monitor: MonitorSchema.default('val_loss'),
      /** @default 0.1 */
      factor: z.number().gt(0).lt(1).default(0.1),
      /** @default 2 */
      patience: nonNegativeInt.default(2),
      /** @default 0.000001 */
      minLr: z.number().nonnegative().default(1e-6),
    })
    .optional(),
  /**
   * Data-parallel worker threads. Deterministic for a given count, but a different count gives
   * different rounding, so it is part of the train key. @default 1
   */
  threads: positiveInt.max(64).default(1),
  /** PyTorch-style weight decay (decay·w added to every gradient), e.g. Adagrad with 1e-4. @default none */
  weightDecay: z.number().positive().optional(),
});

export type TrainOptions = z.output<typeof TrainOptionsSchema>;

/** The train stage's params from the validated `model:` and `train:` sections. */
export function trainParamsFromSpec(model: TrainModelInput, options: TrainOptions, seed: number): TrainParams {
  return { model, ...options, seed };
}

/** The width of the model's Embedding, for a Word2Vec embedding to match; undefined for baselines. */
export function embeddingDimOf(model: TrainModelInput): number | undefined {
  return 'embeddingDim' in model && typeof model.embeddingDim === 'number' ? model.embeddingDim : undefined;
}
