/**
 * Grid specs: `grid.values` maps dotted spec paths (under `model.`, `train.` or `resample.`) to lists
 * that expand to their cartesian product, minus `grid.exclude` rules. Every combination is validated
 * as a full experiment spec, so a bad value is reported with its field.
 */
import { z } from '../data/zod';
import { UlasanError } from '../core/errors';
import { SELECTION_METRICS, type ExpandedGridPlan, type GridCell } from '../workflows/plans/grid';
import { ExperimentSpecSchema, planFromSpec, requireValidationSplit, type ExperimentSpec, type PlanOptions } from './spec';

/** The most grid cells trained at once (`grid.parallel`, `--parallel`). */
export const MAX_PARALLEL = 64;

const GRID_PATH = /^(model|train|resample)\.[A-Za-z0-9_.]+$/;

export const GridSpecSchema = z.strictObject({
  /** Lists per dotted path; their cartesian product is the grid. */
  values: z.record(z.string().regex(GRID_PATH, 'only model.*, train.* and resample.* can vary in a grid'), z.array(z.unknown()).min(1)),
  /** Combinations to leave out: each rule matches cells whose values equal all of its entries. */
  exclude: z.array(z.record(z.string(), z.unknown())).default([]),
  /** Validation metric the best cell is chosen by. @default 'macroF1' */
  metric: z.enum(SELECTION_METRICS).default('macroF1'),
  /** Cells trained at once (local: worker threads; Temporal: activities in flight). @default 1 */
  parallel: z.number().int().min(1).max(MAX_PARALLEL).default(1),
  /** Temporal task queue for training (e.g. GPU workers). */
  trainTaskQueue: z.string().optional(),
});

export type GridSpec = z.infer<typeof GridSpecSchema>;

/** Sets a dotted path in a raw spec, copying the objects on the way (the spec's own are never changed). */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] = typeof node[part] === 'object' && node[part] !== null ? { ...(node[part] as object) } : {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

/** Every combination, first key varying slowest, in the order the spec lists values. */
export function cartesian(values: Record<string, unknown[]>): Record<string, unknown>[] {
  return Object.entries(values).reduce<Record<string, unknown>[]>(
    (combos, [path, options]) => combos.flatMap((combo) => options.map((option) => ({ ...combo, [path]: option }))),
    [{}],
  );
}

const excluded = (combo: Record<string, unknown>, rules: Record<string, unknown>[]) =>
  rules.some((rule) => Object.entries(rule).every(([path, value]) => JSON.stringify(combo[path]) === JSON.stringify(value)));

/** A bad grid path says which paths may vary (zod reports a bad record key only as "Invalid key in record"). */
function gridIssueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_key') return issue.message;
  return `${issue.issues.map((inner) => inner.message).join('; ')} (e.g. model.arch, train.learningRate, resample.method)`;
}

/** Expands a raw spec with a `grid:` section into a grid plan; each cell is validated as a full spec. */
export function gridPlanFromSpec(raw: Record<string, unknown>, file: string, options: PlanOptions = {}): ExpandedGridPlan {
  const gridParsed = GridSpecSchema.safeParse(raw.grid);
  if (!gridParsed.success) {
    const lines = gridParsed.error.issues.map((i) => `  - grid.${i.path.join('.')}: ${gridIssueMessage(i)}`);
    throw new UlasanError('BadInput', `Invalid experiment spec ${file}:\n${lines.join('\n')}`, { file, field: 'grid' });
  }
  const grid = gridParsed.data;
  const { grid: _omit, ...base } = raw;
  void _omit;
  const combos = cartesian(grid.values).filter((combo) => !excluded(combo, grid.exclude));
  if (combos.length === 0) throw new UlasanError('BadInput', `grid.exclude removes every cell of ${file}.`, { file, field: 'grid.exclude' });
  let first: ExperimentSpec | undefined;
  const cells: GridCell[] = combos.map((combo, index) => {
    const candidate = structuredClone(base);
    for (const [path, value] of Object.entries(combo)) setPath(candidate, path, value);
    const parsed = ExperimentSpecSchema.safeParse(candidate);
    if (!parsed.success) {
      const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message} (grid cell ${JSON.stringify(combo)})`);
      throw new UlasanError('BadInput', `Invalid experiment spec ${file}:\n${lines.join('\n')}`, { file, field: 'grid.values' });
    }
    first ??= parsed.data;
    const plan = planFromSpec(parsed.data);
    return { id: `c${String(index).padStart(4, '0')}`, resample: plan.resample, train: plan.train };
  });
  requireValidationSplit(first!, file, 'a grid selects its best cell');
  const upstream = planFromSpec(first!, options);
  const leaky = leakyGrid(first!, grid, file);
  if (leaky) for (const cell of cells) Object.assign(cell, { resample: { ...cell.resample, sampler: { method: 'none' } }, onFeatures: true });
  return {
    name: upstream.name,
    source: upstream.source,
    clean: upstream.clean,
    annotate: upstream.annotate,
    split: upstream.split,
    features: upstream.features,
    // Cells are selected on val and the winner scored on test: both need every class.
    support: { ...upstream.support!, partitions: ['val', 'test'] },
    cells,
    metric: grid.metric,
    parallel: grid.parallel,
    trainTaskQueue: grid.trainTaskQueue,
    report: upstream.report,
    ...(leaky ? { leakyResample: upstream.resample } : {}),
  };
}

/**
 * Whether a grid reproduces a leaky setup (`mode: leaky`: the spec's sampler runs over every row before the
 * split, once for all cells). Refuses what that cannot mean: a grid over samplers, or honest-vs-leaky.
 */
function leakyGrid(spec: ExperimentSpec, grid: GridSpec, file: string): boolean {
  if (spec.mode === 'honest') return false;
  const fail = (message: string, field: string): never => {
    throw new UlasanError('BadInput', `Invalid experiment spec ${file}:\n  - ${field}: ${message}`, { file, field });
  };
  if (spec.mode === 'honest-vs-leaky') fail('a grid runs one mode; write two specs (mode: honest and mode: leaky) to compare them', 'mode');
  const varied = Object.keys(grid.values).find((path) => path.startsWith('resample.'));
  if (varied) fail(`${varied} cannot vary in a leaky grid: its one sampler runs over every row before the split`, 'grid.values');
  return true;
}
