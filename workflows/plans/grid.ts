/**
 * The grid search as a plan: shared upstream stages once, then one cell per combination in a sliding
 * window, failures isolated per cell, and the selected cell — only it — scored once on the test split.
 * A cell may vary its features too (features are computed per cell; cells that agree share the artifact,
 * its key being the same). Selection (`plan.selection`):
 * - `validation`: each cell is features → resample → train → score on the validation split.
 * - `cv`: each cell runs once per fold of the training split (fold → features → resample → train → score
 *   on the fold's held-out part, every step a cached stage of its own), is scored by its folds' mean, and
 *   the winner is refitted on the whole training split before its one test score.
 * - `auto` (the spec's default): `cv` when the validation split is empty or its rarest class has fewer
 *   than `minValClassRows` rows (a validation score on so few rows is noise), else `validation`.
 *
 * Pure: the Temporal workflow passes proxies plus hooks for continue-as-new and cancellation; the
 * local runner passes real activities (training in worker threads).
 */
import type { ArtifactRef, StageOutcome } from '../../activities/context';
import type { FeaturesParams } from '../../activities/features/features';
import type { EnsembleInput, EnsembleMember } from '../../activities/evaluate/ensemble';
import type { FoldInput } from '../../activities/split/folds';
import type { ReportParams } from '../../activities/report/report';
import type { ResampleParams } from '../../activities/resample/resample';
import type { TrainParams } from '../../activities/train/train';
import { Producers } from './recovery';
import { checkStores, PIPELINE_PROFILES, prepareSplit, stageRecorder, stageWarnings, withWarnings, type PipelineActivities, type StageRecord, type UpstreamPlan } from './pipeline';
import { FAILURE_TYPES, type FailureType } from '../../core/failures';
import type { ProfileName, RunRouting } from '../../core/profiles';

export const SELECTION_METRICS = ['macroF1', 'balancedAccuracy', 'gMean', 'accuracy'] as const;
export type SelectionMetric = (typeof SELECTION_METRICS)[number];

/** One combination of the grid. `id` is stable (its position in the expanded grid). */
export interface GridCell {
  id: string;
  /** The family the cell belongs to (`grid.families`), for the report's per-family gains. */
  family?: string;
  /** The family's budget: the cell runs only when the training split has at most this many rows. */
  maxTrainRows?: number;
  /** The cell's features; absent in grids stored before features could vary: the plan's. */
  features?: FeaturesParams;
  resample: ResampleParams;
  train: TrainParams;
}

/**
 * The expanded grid lives in the store (a `grid-cells` artifact written by the client before it runs or
 * submits the plan): workflow inputs, continue-as-new and activity payloads carry only its key, so a grid
 * of thousands of cells stays far below Temporal's payload limits.
 */
export interface GridCellsRef {
  key: string;
  count: number;
}

/** How cells are compared (see the module comment). */
export interface Selection {
  method: 'validation' | 'cv' | 'auto';
  /** Folds of the training split (cv, auto). @default 5 */
  folds: number;
  /** Seed of the fold assignment. */
  seed: number;
  /** auto: cross-validate when the validation split's rarest class has fewer rows than this. @default 200 */
  minValClassRows: number;
  /** cv: soft-vote the top this-many cells inside every fold; the vote competes as a candidate of its own. 0 or 1: none. @default 3 */
  ensemble?: number;
}

/** The method a grid runs with once the split is known. */
export type SelectionMethod = 'validation' | 'cv';

export interface GridPlan extends UpstreamPlan, RunRouting {
  name: string;
  /** How cells are compared; absent (plans made before it existed): validation. */
  selection?: Selection;
  cells: GridCellsRef;
  /** Id of the client's store (`ArtifactStore.id`): workers with another store refuse the grid before any work. */
  storeId?: string;
  /** Metric the best cell is chosen by, on the validation split. @default 'macroF1' */
  metric: SelectionMetric;
  /** Cells running at once. */
  parallel: number;
  /** Continue as new after this many cells finish in one run (Temporal history stays small). @default 500 */
  cellsPerRun?: number;
  report: ReportParams;
}

/** A grid plan before its cells are stored: what a spec expands to. */
export type ExpandedGridPlan = Omit<GridPlan, 'cells'> & { cells: GridCell[] };

export type CellStatus = 'done' | 'cached' | 'failed';

/** Why a cell failed: the failure type (ulasan's, or the error's name) and its message, the same on both runners. */
export interface CellFailure {
  type: string;
  message: string;
}

export interface CellResult {
  id: string;
  status: CellStatus;
  /** The train artifact: the cell's key. */
  trainKey?: string;
  /** The validation evaluation artifact. */
  valKey?: string;
  /** Validation metrics, or with cv the mean over folds (selection reads only these). */
  val?: Partial<Record<SelectionMetric, number>>;
  /** cv: each fold's held-out evaluation artifact. */
  foldKeys?: string[];
  /** cv: each fold's model and features (what an ensemble of cells votes with). */
  foldModels?: EnsembleMember[];
  /** Validation: the cell's features artifact when it is not the plan's. */
  featuresKey?: string;
  /** cv with early stopping: the epochs the winner's refit trains for (the folds' mean best epoch). */
  refitEpochs?: number;
  error?: CellFailure;
}

/** A cached cell as the store knows it (cv: no train key of its own until refitted, its folds' evaluations). */
export interface CachedCell {
  trainKey?: string;
  valKey?: string;
  foldKeys?: string[];
  foldModels?: EnsembleMember[];
  featuresKey?: string;
  refitEpochs?: number;
  val: Partial<Record<SelectionMetric, number>>;
}

/** One cell of a batch: its spec (the winner is refitted from it), and its stored scores when it need not run. */
export interface CellSlot {
  index: number;
  id: string;
  cell?: GridCell;
  cached?: CachedCell;
}

/** What `lookupCells` needs to know a cell's keys: the split, and the shared features or the folds. */
export interface LookupCellsInput {
  /** The plan's features (validation): a cell with the plan's features uses them. */
  features?: ArtifactRef;
  /** The split (absent in runs started before features could vary): per-cell features and folds hang off it. */
  split?: ArtifactRef;
  /** Plan-level features params, for cells stored without their own. */
  planFeatures?: FeaturesParams;
  /** cv: the folds the cell's scores come from. */
  cv?: { folds: number; seed: number };
  cells: GridCellsRef;
  from: number;
  count: number;
}

/** Cells looked up per `lookupCells` call: small enough that a batch of specs is a small payload. */
export const CELL_BATCH = 50;

export interface GridActivities extends PipelineActivities {
  /** Cells `[from, from + count)` of the stored grid: cached ones with their scores, the rest with their specs. */
  lookupCells(input: LookupCellsInput): Promise<CellSlot[]>;
  /** One fold of the training split as a split artifact of its own (activities/split/folds.ts). */
  fold(input: FoldInput): Promise<StageOutcome>;
  /** Soft voting of stored models on one partition, as an evaluation (activities/evaluate/ensemble.ts). */
  ensemble(input: EnsembleInput): Promise<StageOutcome>;
  /** Stores failed cells (one batch per run) so results never travel as one big payload; returns its key. */
  recordFailures(input: { failures: Record<string, CellFailure> }): Promise<string>;
  /** Writes the grid artifact: every cell's validation metrics (read from the store), the selection, the test evaluation. */
  recordGrid(input: RecordGridInput): Promise<StageOutcome>;
}

/** cv: the soft vote of the top cells as the grid records it. */
export interface RecordedEnsemble {
  /** Ids of the voting cells, best first. */
  members: string[];
  foldKeys: string[];
  /** When the vote won: each member refitted on the whole training split (train keys). */
  refits?: string[];
}

/** A cell as the grid artifact keys it: only what is the same on every run (no status, no timings). */
export type RecordedCell = Pick<CellResult, 'id' | 'trainKey' | 'valKey' | 'val' | 'foldKeys' | 'error'> & {
  /** Why the cell did not run (its family's budget), when it did not. */
  skipped?: string;
  /** cv: the selection metric's standard deviation over folds. */
  sd?: Partial<Record<SelectionMetric, number>>;
};

/** Timeout/retry profile of each grid activity (the pipeline's, plus the grid's own). */
export const GRID_PROFILES: Record<keyof GridActivities, ProfileName> = {
  ...PIPELINE_PROFILES,
  lookupCells: 'io',
  fold: 'cpu',
  ensemble: 'cpu',
  recordFailures: 'io',
  recordGrid: 'io',
};

export interface RecordGridInput {
  test: ArtifactRef;
  features: ArtifactRef;
  /** The split and selection, to find each cell's artifacts (absent: the old single-features grid). */
  split?: ArtifactRef;
  planFeatures?: FeaturesParams;
  cv?: { folds: number; seed: number };
  /** cv: the selected cell's model refitted on the whole training split. */
  selectedTrainKey?: string;
  /** Rows of the training split, against which cells' `maxTrainRows` budgets were checked. */
  trainRows?: number;
  /** cv: the soft vote of the top cells, its fold evaluations and whether it won. */
  ensemble?: RecordedEnsemble;
  cells: GridCellsRef;
  /** Keys of the failure batches `recordFailures` stored. */
  failures: string[];
  name: string;
  metric: SelectionMetric;
  selected: string;
}

export interface GridProgress {
  total: number;
  done: number;
  cached: number;
  failed: number;
  running: number;
}

/** What a runner plugs in: progress reports, when to hand over to a fresh run (continue-as-new), cancellation. */
export interface GridHooks {
  onProgress?(progress: GridProgress): void;
  /** Asked after each finished cell (with how many this run finished); true makes the plan stop scheduling, drain, and return its state. */
  shouldContinueAsNew?(finishedThisRun: number): boolean;
  /** True for errors that mean "stop everything" (cancellation), which must not be recorded as a failed cell. */
  isCancellation?(error: unknown): boolean;
}

/** The best cell so far: selection is a running maximum, so no run carries every cell's scores. */
export interface BestCell {
  id: string;
  index: number;
  /** Validation: the cell's model. cv: absent until the winner is refitted. */
  trainKey?: string;
  /** Validation: the cell's features artifact when it is not the plan's. */
  featuresKey?: string;
  /** cv: the spec the winner is refitted from. */
  cell?: GridCell;
  score: number;
}

/**
 * Carried across continue-as-new, constant in size whatever the grid's: the shared features, the index
 * of the first cell not yet run (cells run in order and a run drains before handing over), counts, the
 * best cell, and the keys of stored failure batches.
 */
/** cv: one of the best cells so far, with what its folds trained (an ensemble's voters). */
export interface TopCell {
  id: string;
  index: number;
  score: number;
  cell: GridCell;
  foldModels: EnsembleMember[];
}

export interface GridState {
  /** The plan's features (validation selection). */
  features?: ArtifactRef;
  split?: ArtifactRef;
  /** Resolved after the split; absent in runs started before cv existed: validation. */
  method?: SelectionMethod;
  /** Rows of the training split (cells over their family's budget are skipped). */
  trainRows?: number;
  /** Cells skipped for their family's budget: out of the progress total. */
  skipped?: number;
  /** cv with an ensemble: the top cells so far, best first. */
  top?: TopCell[];
  next: number;
  counts: Omit<GridProgress, 'total' | 'running'>;
  best?: BestCell;
  /** The first failures (a few), for the message and type when every cell fails. */
  firstFailures: (CellFailure & { id: string })[];
  failureKeys: string[];
  stages: StageRecord[];
}

export interface GridResult {
  metricsKey: string;
  reportKey: string;
  gridKey: string;
  selected: string;
  counts: GridState['counts'];
  stages: StageRecord[];
}

export type GridOutcome = { kind: 'done'; result: GridResult } | { kind: 'continue'; state: GridState };

/**
 * Thrown by the plan when every cell failed: there is nothing to select. The workflow turns it into a
 * non-retryable `ApplicationFailure` of this type (a plain Error would make Temporal retry the workflow
 * task forever); the local runner into a `UlasanError`.
 */
export class GridFailedError extends Error {
  override readonly name = 'GridFailedError';

  constructor(
    message: string,
    /** The first cell's failure type when it is one of ulasan's, else `Internal`. */
    readonly type: FailureType,
  ) {
    super(message);
  }
}

const FIRST_FAILURES_KEPT = 3;

export const initialGridState = (): GridState => ({ next: 0, counts: { done: 0, cached: 0, failed: 0 }, firstFailures: [], failureKeys: [], stages: [] });

/**
 * The failure type and message of a failed cell. Temporal wraps an activity's failure in an
 * `ActivityFailure` ("Activity task failed") whose cause is the activity's own error (an
 * `ApplicationFailure` with the ulasan type, or the error's name); locally the error is the activity's
 * own. Both give the same type and message, so local and Temporal grid keys agree.
 */
export function cellFailure(error: unknown): CellFailure {
  let inner = error as { name?: string; type?: unknown; message?: string; cause?: unknown } | undefined;
  while (inner?.name === 'ActivityFailure' && inner.cause) inner = inner.cause as typeof inner;
  const type = typeof inner?.type === 'string' ? inner.type : (inner?.name ?? 'Error');
  return { type, message: inner?.message ?? String(error) };
}

/** Where a cell's artifacts hang off: the split, the plan's features, and how cells are scored. */
export interface CellContext {
  method: SelectionMethod;
  /** The plan's features artifact (validation). */
  features?: ArtifactRef;
  split?: ArtifactRef;
  planFeatures: FeaturesParams;
  cv?: { folds: number; seed: number };
}

const sameFeatures = (a: FeaturesParams | undefined, b: FeaturesParams): boolean => a === undefined || JSON.stringify(a) === JSON.stringify(b);

/** A cell's features params: its own, or the plan's for cells stored before features could vary. */
export const featuresOf = (cell: GridCell, planFeatures: FeaturesParams): FeaturesParams => cell.features ?? planFeatures;

function pickScores(summary: Record<string, unknown>): Partial<Record<SelectionMetric, number>> {
  return Object.fromEntries(SELECTION_METRICS.filter((m) => typeof summary[m] === 'number').map((m) => [m, summary[m] as number]));
}

/** Each metric's mean over folds (only metrics every fold has). */
export function meanScores(folds: Partial<Record<SelectionMetric, number>>[]): Partial<Record<SelectionMetric, number>> {
  const metrics = SELECTION_METRICS.filter((m) => folds.length > 0 && folds.every((f) => typeof f[m] === 'number'));
  return Object.fromEntries(metrics.map((m) => [m, folds.reduce((sum, f) => sum + f[m]!, 0) / folds.length]));
}

/** Validation: (features →) resample → train → score on the validation split. */
async function runValidationCell(acts: GridActivities, ctx: CellContext, cell: GridCell, steps: Producers): Promise<CellResult> {
  const params = featuresOf(cell, ctx.planFeatures);
  const features = sameFeatures(params, ctx.planFeatures) || !ctx.split ? ctx.features! : (await steps.run(() => acts.features({ split: ctx.split!, params }))).ref;
  const train = await steps.run(() => acts.resample({ features, params: cell.resample }));
  const model = await steps.run(() => acts.trainModel({ train: train.ref, features, params: cell.train }));
  const val = await steps.run(() => acts.evaluate({ model: model.ref, features, params: { partition: 'val' } }));
  const shared = features.key === ctx.features?.key ? {} : { featuresKey: features.key };
  return { id: cell.id, status: 'done', trainKey: model.ref.key, valKey: val.ref.key, val: pickScores(val.summary), ...shared };
}

/** Whether a cell's training watches a validation split (early stopping, LR on plateau): in cv, a fold's held-out part. */
export const watchesValidation = (cell: GridCell): boolean => Boolean(cell.train.earlyStopping || cell.train.reduceLrOnPlateau);

/** The epochs a fold's model trained for: its best epoch when it stopped early, else every epoch it ran. */
export function epochsTrained(trainSummary: Record<string, unknown>): number | undefined {
  if (typeof trainSummary.bestEpoch === 'number') return trainSummary.bestEpoch + 1;
  return Array.isArray(trainSummary.history) ? trainSummary.history.length : undefined;
}

/** The refit's epochs: the folds' mean (rounded, at least 1). */
export function refitEpochsOf(epochs: (number | undefined)[]): number | undefined {
  const known = epochs.filter((e): e is number => e !== undefined);
  return known.length === 0 ? undefined : Math.max(1, Math.round(known.reduce((a, b) => a + b, 0) / known.length));
}

/**
 * The cell the winner is refitted as: the whole training split has no held-out part to stop on, so a
 * cell that stopped early in its folds trains for the folds' mean best epoch, without early stopping or LR on plateau.
 */
export function refitCell(cell: GridCell, refitEpochs: number | undefined): GridCell {
  if (refitEpochs === undefined || !watchesValidation(cell)) return cell;
  const { earlyStopping: _e, reduceLrOnPlateau: _r, ...train } = cell.train;
  void _e;
  void _r;
  return { ...cell, train: { ...train, epochs: refitEpochs } };
}

/** cv: per fold, fold → features → resample → train → score on the fold's held-out part; the cell's score is the folds' mean. */
async function runCvCell(acts: GridActivities, ctx: CellContext, cell: GridCell, steps: Producers): Promise<CellResult> {
  const { folds, seed } = ctx.cv!;
  const params = featuresOf(cell, ctx.planFeatures);
  const scores: Partial<Record<SelectionMetric, number>>[] = [];
  const foldKeys: string[] = [];
  const foldModels: EnsembleMember[] = [];
  const epochs: (number | undefined)[] = [];
  for (let fold = 0; fold < folds; fold++) {
    const split = await steps.run(() => acts.fold({ split: ctx.split!, params: { folds, fold, seed } }));
    const features = await steps.run(() => acts.features({ split: split.ref, params }));
    const train = await steps.run(() => acts.resample({ features: features.ref, params: cell.resample }));
    const model = await steps.run(() => acts.trainModel({ train: train.ref, features: features.ref, params: cell.train }));
    const val = await steps.run(() => acts.evaluate({ model: model.ref, features: features.ref, params: { partition: 'val' } }));
    scores.push(pickScores(val.summary));
    foldKeys.push(val.ref.key);
    foldModels.push({ model: model.ref.key, features: features.ref.key });
    epochs.push(epochsTrained(model.summary));
  }
  const refitEpochs = watchesValidation(cell) ? refitEpochsOf(epochs) : undefined;
  return { id: cell.id, status: 'done', foldKeys, foldModels, val: meanScores(scores), ...(refitEpochs !== undefined ? { refitEpochs } : {}) };
}

async function runCell(acts: GridActivities, ctx: CellContext, slot: CellSlot, hooks: GridHooks, upstream?: Producers): Promise<CellResult> {
  const cell = slot.cell!;
  // The cell's own steps, so an unreadable resampled or trained artifact (or the run's features) is recomputed once (recovery.ts).
  const steps = new Producers(upstream);
  try {
    return await (ctx.method === 'cv' ? runCvCell : runValidationCell)(acts, ctx, cell, steps);
  } catch (error) {
    if (hooks.isCancellation?.(error)) throw error;
    return { id: cell.id, status: 'failed', error: cellFailure(error) };
  }
}

/** Keeps the better of the best so far and a finished cell: higher score, ties to the cell listed first. */
function better(best: BestCell | undefined, index: number, result: CellResult, metric: SelectionMetric, cell?: GridCell): BestCell | undefined {
  const score = result.val?.[metric];
  if (result.status === 'failed' || typeof score !== 'number' || !(result.trainKey || result.foldKeys)) return best;
  if (best && (best.score > score || (best.score === score && best.index < index))) return best;
  const model = result.trainKey ? { trainKey: result.trainKey, ...(result.featuresKey ? { featuresKey: result.featuresKey } : {}) } : { cell: refitCell(cell!, result.refitEpochs) };
  return { id: result.id, index, score, ...model };
}

/** The best `k` cells by score (ties to the cell listed first), with what their folds trained. */
function keepTop(top: TopCell[], index: number, result: CellResult, cell: GridCell, metric: SelectionMetric, k: number): TopCell[] {
  const score = result.val?.[metric];
  if (typeof score !== 'number' || !result.foldModels) return top;
  const entry: TopCell = { id: result.id, index, score, cell, foldModels: result.foldModels };
  return [...top, entry].sort((a, b) => b.score - a.score || a.index - b.index).slice(0, k);
}

/** The run's bookkeeping: counts, best cell, this run's failures, and what is queued and running. */
class CellRun {
  readonly failures: Record<string, CellFailure> = {};
  readonly queue: CellSlot[] = [];
  readonly running = new Map<number, Promise<void>>();
  fetched: number;
  finishedThisRun = 0;

  constructor(
    readonly plan: GridPlan,
    readonly state: GridState,
    readonly hooks: GridHooks,
  ) {
    this.fetched = state.next;
  }

  progress(): GridProgress {
    return { total: this.plan.cells.count - (this.state.skipped ?? 0), ...this.state.counts, running: this.running.size };
  }

  /** A cell over its family's training-row budget: never run, out of the total. */
  skip(): void {
    this.state.skipped = (this.state.skipped ?? 0) + 1;
    this.hooks.onProgress?.(this.progress());
  }

  finish(index: number, result: CellResult, cell?: GridCell): void {
    const { state } = this;
    state.counts[result.status]++;
    state.best = better(state.best, index, result, this.plan.metric, cell);
    const k = this.plan.selection?.ensemble ?? 0;
    if (k >= 2 && result.foldModels && cell) state.top = keepTop(state.top ?? [], index, result, refitCell(cell, result.refitEpochs), this.plan.metric, k);
    if (result.error) {
      this.failures[result.id] = result.error;
      if (state.firstFailures.length < FIRST_FAILURES_KEPT) state.firstFailures.push({ id: result.id, ...result.error });
    }
    this.hooks.onProgress?.(this.progress());
  }

  /** Index of the first cell not finished: the next run starts there (everything before it has finished). */
  nextIndex(): number {
    return this.queue[0]?.index ?? this.fetched;
  }
}

/** Fetches the next batch when the queue runs short; cached cells finish at once, in order. */
async function refill(acts: GridActivities, run: CellRun, ctx: CellContext): Promise<void> {
  const { plan } = run;
  while (run.queue.length < Math.max(1, plan.parallel) && run.fetched < plan.cells.count) {
    const count = Math.min(CELL_BATCH, plan.cells.count - run.fetched);
    run.queue.push(...(await acts.lookupCells({ ...lookupContext(ctx), cells: plan.cells, from: run.fetched, count })));
    run.fetched += count;
  }
}

/** Runs the pending cells, at most `plan.parallel` at once, until done or asked to continue as new. */
async function runCells(acts: GridActivities, run: CellRun, ctx: CellContext, upstream?: Producers): Promise<boolean> {
  const { plan, hooks } = run;
  let paused = false;
  hooks.onProgress?.(run.progress());
  for (;;) {
    if (!paused) await refill(acts, run, ctx);
    while (!paused && run.queue.length > 0 && (run.queue[0]!.cached || run.running.size < Math.max(1, plan.parallel))) {
      const slot = run.queue.shift()!;
      if (slot.cell && overBudget(slot.cell, run.state.trainRows)) {
        run.skip();
        continue;
      }
      if (slot.cached) {
        run.finish(slot.index, { id: slot.id, status: 'cached', ...slot.cached }, slot.cell);
        continue;
      }
      run.running.set(slot.index, runCell(acts, ctx, slot, hooks, upstream).then((result) => {
        run.running.delete(slot.index);
        run.finishedThisRun++;
        run.finish(slot.index, result, slot.cell);
      }));
      if (run.queue.length === 0) await refill(acts, run, ctx);
    }
    if (run.running.size === 0) {
      if (paused || run.queue.length === 0) break;
      continue;
    }
    await Promise.race(run.running.values());
    if (!paused && hooks.shouldContinueAsNew?.(run.finishedThisRun)) paused = true;
  }
  return run.nextIndex() >= plan.cells.count;
}

function allFailed(plan: GridPlan, state: GridState): GridFailedError {
  const more = state.counts.failed > state.firstFailures.length ? `; and ${state.counts.failed - state.firstFailures.length} more` : '';
  const listed = state.firstFailures.map((f) => `${f.id}: ${f.type}: ${f.message}`).join('; ');
  const first = state.firstFailures[0]?.type;
  const type: FailureType = first !== undefined && first in FAILURE_TYPES ? (first as FailureType) : 'Internal';
  return new GridFailedError(
    `Every cell of grid '${plan.name}' failed (${state.counts.failed} of ${plan.cells.count}): ${listed}${more}. Fix what these errors name and run the grid again.`,
    type,
  );
}

/**
 * The selection method once the split is known: `auto` cross-validates when the validation split is empty
 * or its rarest class has fewer than `minValClassRows` rows. Plans without `selection`: validation.
 */
export function resolveSelection(selection: Selection | undefined, splitSummary: Record<string, unknown>, classes: number): SelectionMethod {
  if (!selection || selection.method === 'validation') return 'validation';
  if (selection.method === 'cv') return 'cv';
  const val = (splitSummary.perSplitLabelCounts as Record<string, Record<string, number>> | undefined)?.val ?? {};
  const counts = Object.values(val);
  const rarest = counts.length < classes ? 0 : Math.min(...counts);
  return rarest < selection.minValClassRows ? 'cv' : 'validation';
}

/** Whether a cell's family budget excludes a training split of `trainRows` rows. */
export const overBudget = (cell: GridCell, trainRows: number | undefined): boolean =>
  cell.maxTrainRows !== undefined && trainRows !== undefined && trainRows > cell.maxTrainRows;

/** Rows of the split's training partition, from its manifest summary. */
function trainRowsOf(splitSummary: Record<string, unknown>): number {
  const train = (splitSummary.perSplitLabelCounts as Record<string, Record<string, number>> | undefined)?.train ?? {};
  return Object.values(train).reduce((a, b) => a + b, 0);
}

/** What lookupCells and recordGrid need to find each cell's artifacts. */
function lookupContext(ctx: CellContext): Omit<LookupCellsInput, 'cells' | 'from' | 'count'> {
  return {
    ...(ctx.features ? { features: ctx.features } : {}),
    ...(ctx.split ? { split: ctx.split, planFeatures: ctx.planFeatures } : {}),
    ...(ctx.cv ? { cv: ctx.cv } : {}),
  };
}

/**
 * The shared stages, once per grid: the split, then (validation) the plan's features. A run continued
 * from one started before features could vary has its features and no split: it goes on as it was.
 */
async function prepareShared(acts: GridActivities, plan: GridPlan, state: GridState, record: ReturnType<typeof stageRecorder>): Promise<CellContext> {
  if (!state.features && !state.split) {
    if (plan.storeId) await checkStores(acts, plan.storeId);
    const { split, summary } = await prepareSplit(acts, plan, record);
    state.split = split;
    state.trainRows = trainRowsOf(summary);
    state.method = resolveSelection(plan.selection, summary, plan.annotate.rule.classes.length);
    if (state.method === 'validation') state.features = await record('features', () => acts.features({ split, params: plan.features }));
  }
  const method = state.method ?? 'validation';
  const cv = method === 'cv' ? { folds: plan.selection!.folds, seed: plan.selection!.seed } : undefined;
  return { method, planFeatures: plan.features, ...(state.features ? { features: state.features } : {}), ...(state.split ? { split: state.split } : {}), ...(cv ? { cv } : {}) };
}

/** The selected cell's model and features: validation's own, or (cv) refitted on the whole training split. */
async function selectedModel(acts: GridActivities, ctx: CellContext, best: BestCell, record: ReturnType<typeof stageRecorder>) {
  if (best.trainKey) {
    const features = best.featuresKey ? { key: best.featuresKey, stage: 'features' } : ctx.features!;
    return { model: { key: best.trainKey, stage: 'train' }, features };
  }
  const cell = best.cell!;
  const features = await record('features', () => acts.features({ split: ctx.split!, params: featuresOf(cell, ctx.planFeatures) }));
  const train = await record('resample', () => acts.resample({ features, params: cell.resample }));
  const model = await record('train', () => acts.trainModel({ train, features, params: cell.train }));
  return { model, features };
}

/** The id the grid records when the soft vote of the top cells is selected. */
export const ENSEMBLE_ID = 'ensemble';

/**
 * cv: the top cells' soft vote in every fold, each fold's voters being the models that fold trained (so
 * its score is as honest as a cell's). Undefined when the plan asks for no ensemble or too few cells scored.
 */
async function scoreEnsemble(acts: GridActivities, plan: GridPlan, state: GridState, record: ReturnType<typeof stageRecorder>) {
  const top = state.top ?? [];
  if (top.length < 2) return undefined;
  const steps = new Producers(record.producers);
  const scores: Partial<Record<SelectionMetric, number>>[] = [];
  const foldKeys: string[] = [];
  for (let fold = 0; fold < top[0]!.foldModels.length; fold++) {
    const members = top.map((t) => t.foldModels[fold]!);
    const outcome = await steps.run(() => acts.ensemble({ members, partition: 'val' }));
    scores.push(pickScores(outcome.summary));
    foldKeys.push(outcome.ref.key);
  }
  const score = meanScores(scores)[plan.metric];
  if (typeof score !== 'number') return undefined;
  return { score, recorded: { members: top.map((t) => t.id), foldKeys } };
}

/** The vote won: every member refitted on the whole training split, their vote scored once on test. */
async function ensembleOnTest(acts: GridActivities, ctx: CellContext, top: TopCell[], record: ReturnType<typeof stageRecorder>) {
  const members: EnsembleMember[] = [];
  let first: ArtifactRef | undefined;
  for (const t of top) {
    const { model, features } = await selectedModel(acts, ctx, { id: t.id, index: t.index, score: t.score, cell: t.cell }, record);
    first ??= features;
    members.push({ model: model.key, features: features.key });
  }
  const test = await record('ensemble', () => acts.ensemble({ members, partition: 'test' }));
  return { test, features: first!, refits: members.map((m) => m.model) };
}

export async function runGrid(acts: GridActivities, plan: GridPlan, previous: GridState = initialGridState(), hooks: GridHooks = {}): Promise<GridOutcome> {
  const state: GridState = { ...previous, counts: { ...previous.counts }, firstFailures: [...previous.firstFailures], failureKeys: [...previous.failureKeys], stages: [...previous.stages] };
  const record = stageRecorder(state.stages);
  const ctx = await prepareShared(acts, plan, state, record);
  const run = new CellRun(plan, state, hooks);
  const complete = await runCells(acts, run, ctx, record.producers);
  state.next = run.nextIndex();
  if (Object.keys(run.failures).length > 0) state.failureKeys.push(await acts.recordFailures({ failures: run.failures }));
  if (!complete) return { kind: 'continue', state };

  const best = state.best;
  if (!best) throw allFailed(plan, state);
  const vote = await scoreEnsemble(acts, plan, state, record);
  const { name, metric } = plan;
  const trainRows = state.trainRows !== undefined ? { trainRows: state.trainRows } : {};
  let recorded: Pick<RecordGridInput, 'test' | 'features' | 'selected' | 'selectedTrainKey' | 'ensemble'>;
  if (vote && vote.score > best.score) {
    const { test, features, refits } = await ensembleOnTest(acts, ctx, state.top!, record);
    recorded = { test, features, selected: ENSEMBLE_ID, ensemble: { ...vote.recorded, refits } };
  } else {
    const { model, features } = await selectedModel(acts, ctx, best, record);
    const test = await record('evaluate', () => acts.evaluate({ model, features, params: { partition: 'test' } }));
    recorded = { test, features, selected: best.id, ...(best.trainKey ? {} : { selectedTrainKey: model.key }), ...(vote ? { ensemble: vote.recorded } : {}) };
  }
  const { test } = recorded;
  const grid = await record('grid', () =>
    acts.recordGrid({ ...recorded, ...lookupContext(ctx), cells: plan.cells, failures: state.failureKeys, name, metric, ...trainRows }),
  );
  const report = await record('report', () => acts.report({ evaluation: test, grid, params: withWarnings(plan.report, stageWarnings(state.stages)) }));
  return { kind: 'done', result: { metricsKey: test.key, reportKey: report.key, gridKey: grid.key, selected: recorded.selected, counts: state.counts, stages: state.stages } };
}
