/**
 * The `split:` section of an experiment spec, validated with zod. Errors name the field (`split`,
 * `split.train`, `split.cutoff`, ...) and say what is allowed. Without `strategy` the section is a
 * `ratios` split, so `split: {train: 0.8, test: 0.2}` keeps working.
 */
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from '../../data/zod';
import { parseDateWindow, type DateWindow } from '../annotate/windows';
import { badInput, UlasanError } from '../../core/errors';
import { rangesInOrder, type DateRanges } from './by-date';

export const SPLIT_STRATEGIES = ['ratios', 'by-date', 'per-class-test-counts', 'from-file'] as const;
export type SplitStrategy = (typeof SPLIT_STRATEGIES)[number];

const share = z.number().min(0).max(1);
/** A share that must leave rows in its split: an empty train or test split fails only after training. */
const nonEmptyShare = (split: string, why: string) =>
  z.number().max(1).gt(0, { error: `must be greater than 0: ${why}; give the ${split} split a share such as 0.15` });
/** The share of the non-test rows held out for validation. @default 0 */
const valShare = z.number().min(0).lt(1).default(0);

const RatiosSpec = z
  .strictObject({
    strategy: z.literal('ratios'),
    /** Share of all rows trained on (flat form). */
    train: nonEmptyShare('train', 'every model is fitted on the train split').optional(),
    /** Share of all rows for validation (flat form). @default 0 */
    val: share.optional(),
    /** Share of all rows tested on. */
    test: nonEmptyShare('test', 'the headline metrics are scored on the test split'),
    /** Nested form: share of the non-test rows for validation (`{test: 0.1, valOfRest: 0.15}` is 90/10, then 85/15 of the 90). */
    valOfRest: z.number().min(0).lt(1).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.valOfRest !== undefined) {
      if (r.train !== undefined || r.val !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['valOfRest'], message: 'give either train/val/test, or test with valOfRest, not both' });
      }
      return;
    }
    if (r.train === undefined) {
      ctx.addIssue({ code: 'custom', path: ['train'], message: 'train is required (or give test with valOfRest)' });
      return;
    }
    const val = r.val ?? 0;
    const sum = r.train + val + r.test;
    if (Math.abs(sum - 1) >= 1e-9) {
      ctx.addIssue({ code: 'custom', path: [], message: `split ratios must sum to 1 (train ${r.train} + val ${val} + test ${r.test} = ${sum})` });
    }
  });

const ByDateSpec = z
  .strictObject({
    strategy: z.literal('by-date'),
    /** Train on reviews before this day (`YYYY-MM-DD`), test on reviews from it on. */
    cutoff: z.string().optional(),
    /** Train range `YYYY-MM-DD..YYYY-MM-DD` (either end open), instead of `cutoff`. */
    train: z.string().optional(),
    /** Test range; must start after the train range ends. */
    test: z.string().optional(),
    /** Share of the train range's rows held out for validation. @default 0 */
    val: valShare,
  })
  .superRefine((spec, ctx) => {
    try {
      dateRangesOf(spec);
    } catch (err) {
      const field = err instanceof UlasanError ? (err.context.field ?? 'split') : 'split';
      const path = field.startsWith('split.') ? [field.slice('split.'.length)] : [];
      ctx.addIssue({ code: 'custom', path, message: (err as Error).message });
    }
  });

const PerClassSpec = z.strictObject({
  strategy: z.literal('per-class-test-counts'),
  /** Test rows per class (`{negative: 200, positive: 200}`), or one number for every class. */
  test: z.union([z.number().int().min(1), z.record(z.string(), z.number().int().nonnegative())]),
  /** Share of the non-test rows held out for validation. @default 0 */
  val: valShare,
});

const FromFileSpec = z.strictObject({
  strategy: z.literal('from-file'),
  /** A split file in the peer's format (`{train_row_ids, test_row_ids}`, 0-based source rows). */
  file: z.string().min(1),
  /** Share of the listed train rows held out for validation (when the file lists no val rows). @default 0 */
  val: valShare,
});

const strategyOf = (input: unknown): unknown => (input as { strategy?: unknown } | undefined)?.strategy;

const withStrategy = (value: unknown): unknown =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !('strategy' in value) ? { strategy: 'ratios', ...value } : value;

/** The `split:` section. @default `{train: 0.7, val: 0.15, test: 0.15}` */
export const SplitSpecSchema = z
  .preprocess(
    withStrategy,
    z.discriminatedUnion('strategy', [RatiosSpec, ByDateSpec, PerClassSpec, FromFileSpec], {
      error: (issue) =>
        issue.code === 'invalid_union'
          ? `unknown split strategy ${JSON.stringify(strategyOf(issue.input))}; allowed: ${SPLIT_STRATEGIES.join(', ')}`
          : undefined,
    }),
  )
  .prefault({ train: 0.7, val: 0.15, test: 0.15 });

export type SplitSpec = z.output<typeof SplitSpecSchema>;

/** The train and test ranges of a `by-date` section; errors name the field. */
export function dateRangesOf(spec: { cutoff?: string; train?: string; test?: string }): DateRanges {
  const fail = (field: string, message: string): never => {
    throw badInput(message, { stage: 'split', field });
  };
  if (spec.cutoff !== undefined) {
    if (spec.train !== undefined || spec.test !== undefined) fail('split.cutoff', 'give either cutoff or train and test ranges, not both');
    const test = parseRange('test', `${spec.cutoff}..`, 'split.cutoff');
    const train: DateWindow = { name: 'train', from: null, to: dayBefore(test.from!) };
    return { train, test };
  }
  if (spec.train === undefined) fail('split.train', 'a by-date split needs a cutoff day, or train and test ranges');
  if (spec.test === undefined) fail('split.test', 'a by-date split needs a test range after the train range');
  const ranges = { train: parseRange('train', spec.train!, 'split.train'), test: parseRange('test', spec.test!, 'split.test') };
  if (!rangesInOrder(ranges)) {
    fail('split', `the train range (${spec.train}) must end before the test range (${spec.test}) starts, both ends given`);
  }
  return ranges;
}

function parseRange(name: string, range: string, field: string): DateWindow {
  try {
    return parseDateWindow(name, range);
  } catch (err) {
    throw badInput((err as Error).message.replace(/^window /, 'range '), { stage: 'split', field });
  }
}

function dayBefore(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - 1);
  return date.toISOString().slice(0, 10);
}

/**
 * Resolves `split.file` against the spec's folder (like `source.file`) and checks that it exists,
 * so a missing file fails before any work. Call from the spec loader with the raw spec.
 */
export async function resolveSplitFile(raw: Record<string, unknown>, specDir: string, specFile: string): Promise<void> {
  const split = raw.split as { strategy?: unknown; file?: unknown } | undefined;
  if (split?.strategy !== 'from-file' || typeof split.file !== 'string') return;
  const file = resolve(specDir, split.file);
  await access(file).catch(() => {
    const message = `Invalid experiment spec ${specFile}:\n  - split.file: ${file} does not exist`;
    throw badInput(message, { file: specFile, field: 'split.file' });
  });
  raw.split = { ...split, file };
}
