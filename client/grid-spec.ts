/**
 * Grid specs: `grid.values` maps spec paths (`model`, `features`, `resample`, `train` or a dotted path
 * under them) to lists that expand to their cartesian product, minus `grid.exclude` rules. `grid.families`
 * lists named sub-grids (each its own values and excludes, the top-level values added to each), so
 * families that cannot be crossed (TF-IDF baselines, neural nets over token ids) compete in one grid.
 * Every combination is validated as a full experiment spec, so a bad value is reported with its field.
 * `grid.selection` says how cells are compared (workflows/plans/grid.ts): `auto` by default.
 */
import { z } from '../data/zod';
import { UlasanError } from '../core/errors';
import { SELECTION_METRICS, type ExpandedGridPlan, type GridCell, type Selection } from '../workflows/plans/grid';
import { ExperimentSpecSchema, planFromSpec, requireValidationSplit, type ExperimentSpec, type PlanOptions } from './spec';

/** The most grid cells trained at once (`grid.parallel`, `--parallel`). */
export const MAX_PARALLEL = 64;

const GRID_PATH = /^(model|train|resample|features)(\.[A-Za-z0-9_.]+)?$/;

const GridValuesSchema = z.record(
  z.string().regex(GRID_PATH, 'only model, features, resample, train and paths under them (model.*, features.*, ...) can vary in a grid'),
  z.array(z.unknown()).min(1),
);
const ExcludeSchema = z.array(z.record(z.string(), z.unknown())).default([]);

/**
 * Below this many rows of the rarest class in the validation split, `auto` cross-validates: the F1 of a
 * class scored on n rows has a standard error of about sqrt(F(1-F)/n) — 0.035 at n = 200 and F = 0.5,
 * already the size of the gaps between good cells, and 0.09 at the 31 neutral rows that chose badly in
 * issue 16 — so fewer rows make the validation ranking noise. Above it, one validation split is cheaper
 * than k folds and about as reliable.
 */
export const MIN_VAL_CLASS_ROWS = 200;

/** Cells in the soft vote when `selection` does not say (cv): the top 3, a small committee of different families' best. */
export const DEFAULT_ENSEMBLE = 3;

/** Folds when `selection` does not say: 5, scikit-learn's default. */
export const DEFAULT_FOLDS = 5;

const SelectionSchema = z
  .union([
    z.enum(['validation', 'cv', 'auto']).transform((method) => ({ method })),
    z.strictObject({
      method: z.enum(['validation', 'cv', 'auto']),
      /** @default 5 */
      folds: z.number().int().min(2).max(20).optional(),
      /** auto: cross-validate below this many validation rows of the rarest class. @default 200 */
      minValClassRows: z.number().int().min(0).optional(),
      /** cv: soft-vote the top this-many cells inside every fold, a candidate of its own; 0 turns it off. @default 3 */
      ensemble: z.number().int().min(0).max(10).optional(),
    }),
  ])
  .default({ method: 'auto' });

const FamilySchema = z.strictObject({
  /** Shown in the report and console ("how much each family gained"). */
  name: z.string().min(1),
  values: GridValuesSchema,
  exclude: ExcludeSchema,
  /** Run the family only when the training split has at most this many rows (a budget for costly families). @default no limit */
  maxTrainRows: z.number().int().positive().optional(),
});

export const GridSpecSchema = z.strictObject({
  /** Lists per path; their cartesian product is the grid (with `families`: added to every family). */
  values: GridValuesSchema.default({}),
  /** Named sub-grids, each expanded on its own; their cells are concatenated in order. */
  families: z.array(FamilySchema).min(1).optional(),
  /** Combinations to leave out: each rule matches cells whose values equal all of its entries. */
  exclude: ExcludeSchema,
  /**
   * How cells are compared: `validation` (the validation split), `cv` (k folds of the training split, the
   * winner refitted on all of it), or `auto`: cv when the validation split is empty or its rarest class has
   * fewer than `minValClassRows` rows. `{method, folds, minValClassRows}` sets the rest.
   * @default 'auto'
   */
  selection: SelectionSchema,
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
  return `${issue.issues.map((inner) => inner.message).join('; ')} (e.g. model.arch, train.learningRate, resample.method, features)`;
}

/** Every combination of the grid, each with its family's name when the grid has families. */
function expandCombos(grid: GridSpec, file: string): { combo: Record<string, unknown>; family?: string; maxTrainRows?: number }[] {
  const families: { name?: string; values: Record<string, unknown[]>; exclude: Record<string, unknown>[]; maxTrainRows?: number }[] = grid.families ?? [{ values: {}, exclude: [] }];
  const combos = families.flatMap((family) =>
    cartesian({ ...grid.values, ...family.values })
      .filter((combo) => !excluded(combo, [...grid.exclude, ...family.exclude]))
      .map((combo) => ({ combo, ...(family.name ? { family: family.name } : {}), ...(family.maxTrainRows ? { maxTrainRows: family.maxTrainRows } : {}) })),
  );
  if (Object.keys(grid.values).length === 0 && !grid.families) {
    throw new UlasanError('BadInput', `Invalid experiment spec ${file}:\n  - grid: give values (or families) to vary`, { file, field: 'grid.values' });
  }
  if (combos.length === 0) throw new UlasanError('BadInput', `grid.exclude removes every cell of ${file}.`, { file, field: 'grid.exclude' });
  return combos;
}

/** A spec path may be a whole section (`model`, `features`): a mapping replaces it, so fields of another kind do not linger. */
function applyCombo(base: Record<string, unknown>, combo: Record<string, unknown>): Record<string, unknown> {
  const candidate = structuredClone(base);
  for (const [path, value] of Object.entries(combo)) setPath(candidate, path, value);
  return candidate;
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
  let first: ExperimentSpec | undefined;
  const cells: GridCell[] = expandCombos(grid, file).map(({ combo, family, maxTrainRows }, index) => {
    const parsed = ExperimentSpecSchema.safeParse(applyCombo(base, combo));
    if (!parsed.success) {
      const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message} (grid cell ${JSON.stringify(combo)})`);
      throw new UlasanError('BadInput', `Invalid experiment spec ${file}:\n${lines.join('\n')}`, { file, field: 'grid.values' });
    }
    first ??= parsed.data;
    const plan = planFromSpec(parsed.data);
    return { id: `c${String(index).padStart(4, '0')}`, ...(family ? { family } : {}), ...(maxTrainRows ? { maxTrainRows } : {}), features: plan.features, resample: plan.resample, train: plan.train };
  });
  const selection = grid.selection as { method: Selection['method']; folds?: number; minValClassRows?: number; ensemble?: number };
  const { folds = DEFAULT_FOLDS, minValClassRows = MIN_VAL_CLASS_ROWS, ensemble = DEFAULT_ENSEMBLE } = selection;
  const leaky = leakyGrid(first!, grid, selection.method, file);
  // A leaky grid selects on its leaky split's val rows: it has no honest training split to fold.
  const method = leaky ? 'validation' : selection.method;
  if (method === 'validation') requireValidationSplit(first!, file, leaky ? 'a leaky grid selects on validation' : 'grid.selection is validation');
  const upstream = planFromSpec(first!, options);
  if (leaky) for (const cell of cells) Object.assign(cell, { resample: { ...cell.resample, sampler: { method: 'none' } }, onFeatures: true });
  return {
    name: upstream.name,
    source: upstream.source,
    clean: upstream.clean,
    annotate: upstream.annotate,
    split: upstream.split,
    features: upstream.features,
    // Cells are selected on val and the winner scored on test: both need every class (cv: the folds are of the training split).
    support: { ...upstream.support!, partitions: method === 'validation' ? ['val', 'test'] : ['test'] },
    selection: { method, folds, seed: first!.seed, minValClassRows, ensemble },
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
 * split, once for all cells). Refuses what that cannot mean: a grid over samplers or features, honest-vs-leaky,
 * or cross-validation (`auto` selects on validation there).
 */
function leakyGrid(spec: ExperimentSpec, grid: GridSpec, method: Selection['method'], file: string): boolean {
  if (spec.mode === 'honest') return false;
  const fail = (message: string, field: string): never => {
    throw new UlasanError('BadInput', `Invalid experiment spec ${file}:\n  - ${field}: ${message}`, { file, field });
  };
  if (spec.mode === 'honest-vs-leaky') fail('a grid runs one mode; write two specs (mode: honest and mode: leaky) to compare them', 'mode');
  const paths = [grid.values, ...(grid.families ?? []).map((family) => family.values)].flatMap((values) => Object.keys(values));
  const varied = paths.find((path) => path.startsWith('resample.'));
  if (varied) fail(`${varied} cannot vary in a leaky grid: its one sampler runs over every row before the split`, 'grid.values');
  const features = paths.find((path) => path === 'features' || path.startsWith('features.'));
  if (features) fail(`${features} cannot vary in a leaky grid: its features are built once, over every row, before the split`, 'grid.values');
  if (method === 'cv') fail('a leaky grid cannot cross-validate (its rows were resampled before the split); use selection method validation or auto', 'grid.selection.method');
  return true;
}
