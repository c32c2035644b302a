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
import {
  better,
  ensembleOnTest,
  keepTop,
  lookupContext,
  refitCell,
  resolveSelection,
  overBudget,
  runCvCell,
  runValidationCell,
  scoreEnsemble,
  selectedModel,
  trainRowsOf,
  ENSEMBLE_ID,
  type CellContext,
  type Selection,
  type SelectionMethod,
  type SelectionMetric,
} from './grid-selection';

// What other modules use of the selection (metrics, methods, cv helpers) is reachable from here too.
export * from './grid-selection';
import { checkStores, PIPELINE_PROFILES, prepareLeakyFeatures, prepareSplit, stageRecorder, stageWarnings, withWarnings, type PipelineActivities, type StageRecord, type UpstreamPlan } from './pipeline';
import { FAILURE_TYPES, type FailureType } from '../../core/failures';
import type { ProfileName, RunRouting } from '../../core/profiles';

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
  /**
   * Train on the grid's features as they are, with no resample stage: set in a leaky grid, whose features are
   * a leaky split already resampled before splitting (a sampler refuses anything but a training split). @default absent
   */
  onFeatures?: true;
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
  /**
   * LEAKY grid, only to reproduce a published setup that oversampled before splitting: this sampler runs over
   * every labelled row before a random split (pipeline.ts' leaky branch) and the cells train on that split
   * (their own resample is `none`). @default absent: honest
   */
  leakyResample?: ResampleParams;
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

/** The activities a runner with threads runs off its main thread: every `cpu` and `train` one (`io` ones wait on disk or network, not on a core). */
export const POOLED_ACTIVITIES: ReadonlySet<string> = new Set(Object.entries(GRID_PROFILES).filter(([, profile]) => profile !== 'io').map(([name]) => name));

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
 * A leaky grid's method: validation on the leaky split's `val` rows. Its features are built and resampled over
 * every labelled row before that split, so there is no honest training split to fold; cv is refused.
 */
function leakySelection(plan: GridPlan): SelectionMethod {
  if (plan.selection?.method === 'cv') {
    throw new GridFailedError(`Grid '${plan.name}' is leaky (its sampler runs over every row before the split): it cannot cross-validate. Set grid.selection to validation or auto.`, 'BadInput');
  }
  return 'validation';
}

/** An honest grid's shared stages: the split, the method it resolves to, and (validation) the plan's features. */
async function prepareHonest(acts: GridActivities, plan: GridPlan, state: GridState, record: ReturnType<typeof stageRecorder>): Promise<void> {
  const { split, summary } = await prepareSplit(acts, plan, record);
  state.split = split;
  state.trainRows = trainRowsOf(summary);
  state.method = resolveSelection(plan.selection, summary, plan.annotate.rule.classes.length);
  if (state.method === 'validation') state.features = await record('features', () => acts.features({ split, params: plan.features }));
}

/**
 * The shared stages, once per grid: the split, then (validation) the plan's features; a leaky grid's leaky
 * features (its cells train on them as they are, and select on their `val` rows). A run continued from one
 * started before features could vary has its features and no split: it goes on as it was.
 */
async function prepareShared(acts: GridActivities, plan: GridPlan, state: GridState, record: ReturnType<typeof stageRecorder>): Promise<CellContext> {
  if (!state.features && !state.split) {
    const leakyResample = plan.leakyResample;
    if (leakyResample) state.method = leakySelection(plan);
    if (plan.storeId) await checkStores(acts, plan.storeId);
    if (leakyResample) state.features = await prepareLeakyFeatures(acts, { ...plan, leakyResample }, record);
    else await prepareHonest(acts, plan, state, record);
  }
  const method = state.method ?? 'validation';
  const cv = method === 'cv' ? { folds: plan.selection!.folds, seed: plan.selection!.seed } : undefined;
  return { method, planFeatures: plan.features, ...(state.features ? { features: state.features } : {}), ...(state.split ? { split: state.split } : {}), ...(cv ? { cv } : {}) };
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
