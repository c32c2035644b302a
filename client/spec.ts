/**
 * The experiment spec (YAML), validated with zod before any work starts. Errors name the field and
 * what is allowed; the result is resolved into a `PipelinePlan` of per-stage params.
 */
import { access, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from '../data/zod';
import { annotateParamsFromSpec } from '../activities/annotate/annotate';
import { LabelSpecSchema } from '../activities/annotate/label-spec';
import { CleanConfigSchema } from '../activities/clean/config';
import { UlasanError } from '../core/errors';
import { TEXT_ENCODINGS } from '../activities/import/columns';
import { FeaturesSpecSchema, featuresParamsFromSpec } from '../activities/features/features-spec';
import { SamplerSpecSchema } from '../activities/resample/spec';
import { splitParamsFromSpec } from '../activities/split/split';
import { DEFAULT_MIN_SUPPORT } from '../activities/split/support';
import { resolveSplitFile, SplitSpecSchema } from '../activities/split/split-spec';
import { embeddingDimOf, TrainModelSchema, TrainOptionsSchema, trainParamsFromSpec } from '../activities/train/train-spec';
import type { PipelinePlan } from '../workflows/plans/pipeline';

const SourceSchema = z.union([
  z.strictObject({
    synthetic: z.strictObject({
      /** @default 3000 */
      rows: z.number().int().min(50).max(1_000_000).default(3000),
      app: z.string().optional(),
    }),
  }),
  z.strictObject({
    /** Path of a CSV/TSV/JSON/Parquet review file, relative to the spec file. */
    file: z.string().min(1),
    format: z.enum(['csv', 'tsv', 'json', 'parquet']).optional(),
    columns: z
      .strictObject({ text: z.string(), rating: z.string(), id: z.string(), date: z.string(), user: z.string(), app: z.string() })
      .partial()
      .optional(),
    app: z.string().optional(),
    /** Text encoding of a CSV/TSV file; a file that is not valid UTF-8 is detected (UTF-16, Latin-1). @default 'utf-8' */
    encoding: z.enum(TEXT_ENCODINGS).optional(),
    /** Keep a seeded sample of this many data rows (the experiment seed picks them), e.g. for a smoke budget. @default every row */
    sampleRows: z.number().int().min(1).optional(),
  }),
], { error: 'source: give either `synthetic: {rows}` or `file: <path>` (with optional format, columns, app)' });

export const ExperimentSpecSchema = z.strictObject({
  name: z.string().min(1),
  /** Seed for every random choice (split, sampler, initialisers, batch order, dropout). @default 42 */
  seed: z.number().int().min(0).default(42),
  source: SourceSchema,
  /** Cleaning steps, each switchable (see activities/clean/config.ts). */
  clean: CleanConfigSchema.prefault({}),
  /** Label rule, date windows, minimum class size (activities/annotate/label-spec.ts). @default binary, no windows */
  label: LabelSpecSchema.prefault({}),
  /** Split strategy (activities/split/split-spec.ts). @default ratios 0.7 / 0.15 / 0.15 */
  split: SplitSpecSchema,
  /** token-ids (+ optional Word2Vec embedding), tfidf or doc-vectors (activities/features/features-spec.ts). @default token-ids */
  features: FeaturesSpecSchema,
  /** A sampler with imbalanced-learn's parameters, applied to the training split only. @default random-over */
  resample: SamplerSpecSchema.default({ method: 'random-over', samplingStrategy: 'auto', shrinkage: null }),
  /** A neural arch (cnn, lstm, gru, bilstm, cnn-bilstm, cnn-small) or a baseline (activities/train/train-spec.ts). */
  model: TrainModelSchema,
  /** Fit options: optimizer, learning rate, batch, epochs, class weights, early stopping, LR on plateau. */
  train: TrainOptionsSchema.prefault({}),
  evaluate: z
    .strictObject({
      partition: z.enum(['val', 'test']).default('test'),
      /** Rows each class needs in every scored split, checked right after the split; `--allow-small` runs anyway with a warning. @default 10 */
      minSupport: z.number().int().min(1).default(DEFAULT_MIN_SUPPORT),
    })
    .prefault({}),
  /**
   * `honest` splits before fitting anything. `leaky` resamples the whole dataset BEFORE splitting, only to
   * reproduce published setups (every report says so); `honest-vs-leaky` runs both side by side.
   * @default 'honest'
   */
  mode: z.enum(['honest', 'leaky', 'honest-vs-leaky']).default('honest'),
  /** Keep this share of training labels, pseudo-label the rest with a model trained on them, retrain on both. */
  semiSupervised: z.strictObject({ labelledFraction: z.number().gt(0).lt(1) }).optional(),
});

export type ExperimentSpec = z.infer<typeof ExperimentSpecSchema>;

function describeIssues(error: z.ZodError, file: string): string {
  const lines = error.issues.map((issue) => `  - ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  return `Invalid experiment spec ${file}:\n${lines.join('\n')}`;
}

/** Reads a YAML spec; a `source.file` is resolved against the spec's folder and must exist. */
export async function readRawSpec(path: string): Promise<{ raw: Record<string, unknown>; file: string }> {
  const file = resolve(path);
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new UlasanError('NotFound', `Spec file ${file} cannot be read.`, { file }, { cause: err });
  });
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new UlasanError('BadInput', `Spec ${file} is not valid YAML: ${(err as Error).message}`, { file }, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UlasanError('BadInput', `Spec ${file} must be a YAML mapping (name, source, model, ...).`, { file });
  }
  const spec = raw as Record<string, unknown>;
  const source = spec.source as { file?: unknown } | undefined;
  if (typeof source?.file === 'string') {
    const sourceFile = resolve(dirname(file), source.file);
    await access(sourceFile).catch(() => {
      throw new UlasanError('BadInput', `Invalid experiment spec ${file}:\n  - source.file: ${sourceFile} does not exist`, {
        file,
        field: 'source.file',
      });
    });
    spec.source = { ...source, file: sourceFile };
  }
  resolveLexiconPaths(spec, dirname(file));
  await resolveSplitFile(spec, dirname(file), file);
  return { raw: spec, file };
}

/** Lexicon paths in `clean:` are relative to the spec file, like `source.file`. */
function resolveLexiconPaths(spec: Record<string, unknown>, dir: string): void {
  const clean = spec.clean as { slang?: { lexicon?: unknown }; stopwords?: { source?: unknown } } | undefined;
  if (typeof clean?.slang?.lexicon === 'string' && clean.slang.lexicon !== 'builtin') clean.slang.lexicon = resolve(dir, clean.slang.lexicon);
  if (typeof clean?.stopwords?.source === 'string' && clean.stopwords.source !== 'stopwords-iso') {
    clean.stopwords.source = resolve(dir, clean.stopwords.source);
  }
}

/** Validates a raw spec object, naming every bad field. */
export function parseSpec(raw: unknown, file: string): ExperimentSpec {
  const parsed = ExperimentSpecSchema.safeParse(raw);
  if (!parsed.success) throw new UlasanError('BadInput', describeIssues(parsed.error, file), { file });
  if (parsed.data.evaluate.partition === 'val') requireValidationSplit(parsed.data, file, 'evaluate.partition is val');
  if ('priorAdjustment' in parsed.data.model && parsed.data.model.priorAdjustment === 'validation') {
    requireValidationSplit(parsed.data, file, 'model.priorAdjustment is validation');
  }
  return parsed.data;
}

/**
 * Refuses a spec whose validation split would be empty when something scores on it (a grid selects
 * on it; `evaluate.partition: val`), before any stage runs. A split file decides its own val rows.
 */
export function requireValidationSplit(spec: ExperimentSpec, file: string, why: string): void {
  if (spec.split.strategy === 'from-file') return;
  if (splitParamsFromSpec(spec.split, spec.seed).ratios.val > 0) return;
  const field = spec.split.strategy === 'ratios' && spec.split.valOfRest !== undefined ? 'split.valOfRest' : 'split.val';
  throw new UlasanError(
    'BadInput',
    `Invalid experiment spec ${file}:\n  - ${field}: must be greater than 0 because ${why} (scored on the validation split); give it a share such as 0.15`,
    { file, field },
  );
}

/** Parses and validates a (single-model) spec file. */
export async function loadSpec(path: string): Promise<ExperimentSpec> {
  const { raw, file } = await readRawSpec(path);
  return parseSpec(raw, file);
}

/** What `planFromSpec` takes from the command line rather than the spec. */
export interface PlanOptions {
  /** Run even when a scored split has fewer rows per class than `evaluate.minSupport` (flagged loudly). @default false */
  allowSmall?: boolean;
}

/** Resolves a validated spec into each stage's params. */
export function planFromSpec(spec: ExperimentSpec, options: PlanOptions = {}): PipelinePlan {
  const { seed } = spec;
  const source =
    'synthetic' in spec.source
      ? { kind: 'synthetic' as const, rows: spec.source.synthetic.rows, seed, app: spec.source.synthetic.app }
      : {
          kind: 'file' as const,
          path: spec.source.file,
          format: spec.source.format,
          columns: spec.source.columns,
          app: spec.source.app,
          encoding: spec.source.encoding,
          ...(spec.source.sampleRows ? { sample: { rows: spec.source.sampleRows, seed } } : {}),
        };
  return {
    name: spec.name,
    source,
    clean: spec.clean,
    annotate: annotateParamsFromSpec(spec.label),
    split: splitParamsFromSpec(spec.split, seed),
    features: featuresParamsFromSpec(spec.features, seed, embeddingDimOf(spec.model)),
    resample: { sampler: spec.resample, seed, partition: 'train' },
    train: trainParamsFromSpec(spec.model, spec.train, seed),
    evaluate: { partition: spec.evaluate.partition },
    support: { minPerClass: spec.evaluate.minSupport, allowSmall: options.allowSmall ?? false, partitions: [spec.evaluate.partition] },
    report: { title: spec.name },
    mode: spec.mode,
    ...(spec.semiSupervised ? { semiSupervised: spec.semiSupervised } : {}),
  };
}
