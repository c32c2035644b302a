/**
 * The sampler spec (`resample:` in an experiment spec), validated with zod. Parameters and their
 * defaults are imbalanced-learn's, in camelCase: `kNeighbors` is `k_neighbors`, `samplingStrategy`
 * is `sampling_strategy`, and so on.
 */
import { z } from '../../data/zod';
import { badInput } from '../../core/errors';
import { NAMED_STRATEGIES } from './sampling-strategy';

const SamplingStrategySchema = z
  .union([
    z.enum(NAMED_STRATEGIES),
    z.number().gt(0).lte(1),
    z.record(z.string().regex(/^\d+$/, 'class index'), z.number().int().nonnegative()),
  ])
  .default('auto');

/** Distance for neighbour searches (see knn.ts). */
const MetricSchema = z.enum(['euclidean', 'cosine']).default('euclidean');

const neighbours = (fallback: number) => z.number().int().min(1).default(fallback);

const NoneSpec = z.object({ method: z.literal('none') }).strict();

const RandomOverSpec = z
  .object({
    method: z.literal('random-over'),
    /** imblearn `sampling_strategy`. @default 'auto' */
    samplingStrategy: SamplingStrategySchema,
    /**
     * imblearn `shrinkage`: null draws plain bootstrap copies; a number (or one per class index)
     * draws a smoothed bootstrap (Gaussian noise scaled by the class std). Dense matrices only.
     * @default null
     */
    shrinkage: z
      .union([z.number().nonnegative(), z.record(z.string().regex(/^\d+$/, 'class index'), z.number().nonnegative())])
      .nullable()
      .default(null),
  })
  .strict();

const RandomUnderSpec = z
  .object({
    method: z.literal('random-under'),
    /** imblearn `sampling_strategy`. @default 'auto' */
    samplingStrategy: SamplingStrategySchema,
    /** imblearn `replacement`: draw the kept rows with replacement. @default false */
    replacement: z.boolean().default(false),
  })
  .strict();

/** Fields every interpolating sampler has. */
const interpolating = {
  /** imblearn `sampling_strategy`. @default 'auto' */
  samplingStrategy: SamplingStrategySchema,
  /** Neighbour distance; imbalanced-learn always uses euclidean. @default 'euclidean' */
  metric: MetricSchema,
  /**
   * Interpolate token-id sequences anyway. Only to reproduce a published setup: the result carries
   * a flag that reports show. @default false
   */
  allowOnTokenIds: z.boolean().default(false),
};

const SmoteSpec = z
  .object({
    method: z.literal('smote'),
    ...interpolating,
    /** imblearn `k_neighbors`: same-class neighbours to interpolate towards. @default 5 */
    kNeighbors: neighbours(5),
  })
  .strict();

const BorderlineSmoteSpec = z
  .object({
    method: z.literal('borderline-smote'),
    ...interpolating,
    /** imblearn `k_neighbors`. @default 5 */
    kNeighbors: neighbours(5),
    /** imblearn `m_neighbors`: neighbours (all classes) that decide whether a sample is in danger. @default 10 */
    mNeighbors: neighbours(10),
    /** imblearn `kind`. @default 'borderline-1' */
    kind: z.enum(['borderline-1', 'borderline-2']).default('borderline-1'),
  })
  .strict();

const AdasynSpec = z
  .object({
    method: z.literal('adasyn'),
    ...interpolating,
    /** imblearn `n_neighbors`. @default 5 */
    nNeighbors: neighbours(5),
  })
  .strict();

const SmoteNcSpec = z
  .object({
    method: z.literal('smote-nc'),
    ...interpolating,
    /** imblearn `categorical_features`: column indices holding category codes; the rest are continuous. */
    categoricalFeatures: z.array(z.number().int().nonnegative()).min(1),
    /** imblearn `k_neighbors`. @default 5 */
    kNeighbors: neighbours(5),
  })
  .strict();

/** One sampler (anything but a chain). */
export const SingleSamplerSpecSchema = z.discriminatedUnion('method', [
  NoneSpec,
  RandomOverSpec,
  RandomUnderSpec,
  SmoteSpec,
  BorderlineSmoteSpec,
  AdasynSpec,
  SmoteNcSpec,
]);

const ChainSpec = z
  .object({
    method: z.literal('chain'),
    /** Samplers applied in order, each to the previous one's output (e.g. SMOTE then ADASYN). */
    steps: z.array(SingleSamplerSpecSchema).min(1),
  })
  .strict();

/** A sampler spec, discriminated by `method`. */
export const SamplerSpecSchema = z.discriminatedUnion('method', [...SingleSamplerSpecSchema.options, ChainSpec]);

/** A parsed spec (defaults filled in). */
export type SamplerSpec = z.output<typeof SamplerSpecSchema>;
/** A spec as written (defaults optional). */
export type SamplerSpecInput = z.input<typeof SamplerSpecSchema>;
export type SingleSamplerSpec = z.output<typeof SingleSamplerSpecSchema>;
export type SamplerMethod = SamplerSpec['method'];

/** Methods that interpolate between rows (SMOTE family). */
export const INTERPOLATING_METHODS = ['smote', 'borderline-smote', 'adasyn', 'smote-nc'] as const;

/** Parses a spec as written (defaults filled in); a bad spec is BadInput naming the field. */
export function parseSamplerSpec(spec: SamplerSpecInput | SamplerSpec): SamplerSpec {
  const parsed = SamplerSpecSchema.safeParse(spec);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(spec)'}: ${issue.message}`).join('; ');
  const first = parsed.error.issues[0]?.path.join('.');
  throw badInput(`Invalid resample spec: ${issues}.`, first ? { field: first } : {});
}
