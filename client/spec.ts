/**
 * The experiment spec (YAML), validated with zod before any work starts. Errors name the field and
 * what is allowed; the result is resolved into a `PipelinePlan` of per-stage params.
 */
import { access, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { LABEL_RULES } from '../activities/annotate/annotate';
import { CleanConfigSchema } from '../activities/clean/config';
import { UlasanError } from '../activities/errors';
import { SamplerSpecSchema } from '../activities/resample/spec';
import type { PipelinePlan } from '../workflows/plans/pipeline';

const ratio = z.number().min(0).max(1);

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
  }),
], { error: 'source: give either `synthetic: {rows}` or `file: <path>` (with optional format, columns, app)' });

const SplitSchema = z
  .strictObject({ train: ratio, val: ratio.default(0), test: ratio })
  .refine((r) => Math.abs(r.train + r.val + r.test - 1) < 1e-9, {
    error: (issue) => {
      const r = issue.input as { train: number; val: number; test: number };
      return `split ratios must sum to 1 (train ${r.train} + val ${r.val} + test ${r.test} = ${r.train + r.val + r.test})`;
    },
  });

const ModelSchema = z.discriminatedUnion(
  'arch',
  [
    z.strictObject({
      arch: z.literal('cnn-small'),
      embeddingDim: z.number().int().positive().default(32),
      filters: z.number().int().positive().default(64),
      kernelSize: z.number().int().positive().default(5),
      dropout: z.number().min(0).max(0.95).default(0.3),
    }),
  ],
  { error: (issue) => `unknown model arch ${JSON.stringify((issue.input as { arch?: unknown })?.arch)}; allowed: cnn-small` },
);

export const ExperimentSpecSchema = z.strictObject({
  name: z.string().min(1),
  /** Seed for every random choice (split, sampler, initialisers, batch order, dropout). @default 42 */
  seed: z.number().int().min(0).default(42),
  source: SourceSchema,
  /** Cleaning steps, each switchable (see activities/clean/config.ts). */
  clean: CleanConfigSchema.prefault({}),
  label: z.strictObject({ rule: z.enum(['binary', 'ternary', 'five']).default('binary') }).default({ rule: 'binary' }),
  split: SplitSchema.default({ train: 0.7, val: 0.15, test: 0.15 }),
  features: z
    .strictObject({
      maxVocab: z.number().int().min(3).default(10_000),
      minCount: z.number().int().min(1).default(1),
      maxLen: z.union([z.number().int().positive(), z.strictObject({ percentile: z.number().gt(0).max(100) })]).default({ percentile: 95 }),
    })
    .default({ maxVocab: 10_000, minCount: 1, maxLen: { percentile: 95 } }),
  /** A sampler with imbalanced-learn's parameters, applied to the training split only. @default random-over */
  resample: SamplerSpecSchema.default({ method: 'random-over', samplingStrategy: 'auto', shrinkage: null }),
  model: ModelSchema,
  train: z
    .strictObject({
      epochs: z.number().int().positive().default(5),
      batchSize: z.number().int().positive().default(64),
      learningRate: z.number().positive().default(0.005),
    })
    .default({ epochs: 5, batchSize: 64, learningRate: 0.005 }),
  evaluate: z.strictObject({ partition: z.enum(['val', 'test']).default('test') }).default({ partition: 'test' }),
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
  return parsed.data;
}

/** Parses and validates a (single-model) spec file. */
export async function loadSpec(path: string): Promise<ExperimentSpec> {
  const { raw, file } = await readRawSpec(path);
  return parseSpec(raw, file);
}

/** Resolves a validated spec into each stage's params. */
export function planFromSpec(spec: ExperimentSpec): PipelinePlan {
  const { seed } = spec;
  const source =
    'synthetic' in spec.source
      ? { kind: 'synthetic' as const, rows: spec.source.synthetic.rows, seed, app: spec.source.synthetic.app }
      : { kind: 'file' as const, path: spec.source.file, format: spec.source.format, columns: spec.source.columns, app: spec.source.app };
  return {
    name: spec.name,
    source,
    clean: spec.clean,
    annotate: { rule: LABEL_RULES[spec.label.rule] },
    split: { ratios: { train: spec.split.train, val: spec.split.val, test: spec.split.test }, seed },
    features: { kind: 'token-ids', ...spec.features },
    resample: { sampler: spec.resample, seed, partition: 'train' },
    train: { model: spec.model, ...spec.train, seed },
    evaluate: { partition: spec.evaluate.partition },
    report: { title: spec.name },
    mode: spec.mode,
    ...(spec.semiSupervised ? { semiSupervised: spec.semiSupervised } : {}),
  };
}
