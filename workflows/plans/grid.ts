/**
 * The grid search as a plan: shared upstream stages once, then one cell (resample → train → score on
 * validation) per combination in a sliding window, failures isolated per cell, selection on the
 * validation metric only, and the selected cell — only it — scored once on the test split.
 *
 * Pure: the Temporal workflow passes proxies plus hooks for continue-as-new and cancellation; the
 * local runner passes real activities (training in worker threads).
 */
import type { ArtifactRef, StageOutcome } from '../../activities/context';
import type { ReportParams } from '../../activities/report/report';
import type { ResampleParams } from '../../activities/resample/resample';
import type { TrainParams } from '../../activities/train/train';
import { Producers } from './recovery';
import { checkStores, PIPELINE_PROFILES, prepareFeatures, prepareLeakyFeatures, stageRecorder, stageWarnings, withWarnings, type PipelineActivities, type StageRecord, type UpstreamPlan } from './pipeline';
import { FAILURE_TYPES, type FailureType } from '../../core/failures';
import type { ProfileName, RunRouting } from '../../core/profiles';

export const SELECTION_METRICS = ['macroF1', 'balancedAccuracy', 'gMean', 'accuracy'] as const;
export type SelectionMetric = (typeof SELECTION_METRICS)[number];

/** One combination of the grid. `id` is stable (its position in the expanded grid). */
export interface GridCell {
  id: string;
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
  /** Validation metrics (selection reads only these). */
  val?: Partial<Record<SelectionMetric, number>>;
  error?: CellFailure;
}

/** A cached cell as the store knows it. */
export interface CachedCell {
  trainKey: string;
  valKey: string;
  val: Partial<Record<SelectionMetric, number>>;
}

/** One cell of a batch: its spec when it must run, its stored scores when it need not. */
export interface CellSlot {
  index: number;
  id: string;
  cell?: GridCell;
  cached?: CachedCell;
}

/** Cells looked up per `lookupCells` call: small enough that a batch of specs is a small payload. */
export const CELL_BATCH = 50;

export interface GridActivities extends PipelineActivities {
  /** Cells `[from, from + count)` of the stored grid: cached ones with their scores, the rest with their specs. */
  lookupCells(input: { features: ArtifactRef; cells: GridCellsRef; from: number; count: number }): Promise<CellSlot[]>;
  /** Stores failed cells (one batch per run) so results never travel as one big payload; returns its key. */
  recordFailures(input: { failures: Record<string, CellFailure> }): Promise<string>;
  /** Writes the grid artifact: every cell's validation metrics (read from the store), the selection, the test evaluation. */
  recordGrid(input: RecordGridInput): Promise<StageOutcome>;
}

/** A cell as the grid artifact keys it: only what is the same on every run (no status, no timings). */
export type RecordedCell = Pick<CellResult, 'id' | 'trainKey' | 'valKey' | 'val' | 'error'>;

/** Timeout/retry profile of each grid activity (the pipeline's, plus the grid's own). */
export const GRID_PROFILES: Record<keyof GridActivities, ProfileName> = {
  ...PIPELINE_PROFILES,
  lookupCells: 'io',
  recordFailures: 'io',
  recordGrid: 'io',
};

/** The activities a runner with threads runs off its main thread: every `cpu` and `train` one (`io` ones wait on disk or network, not on a core). */
export const POOLED_ACTIVITIES: ReadonlySet<string> = new Set(Object.entries(GRID_PROFILES).filter(([, profile]) => profile !== 'io').map(([name]) => name));

export interface RecordGridInput {
  test: ArtifactRef;
  features: ArtifactRef;
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
  trainKey: string;
  score: number;
}

/**
 * Carried across continue-as-new, constant in size whatever the grid's: the shared features, the index
 * of the first cell not yet run (cells run in order and a run drains before handing over), counts, the
 * best cell, and the keys of stored failure batches.
 */
export interface GridState {
  features?: ArtifactRef;
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

async function runCell(acts: GridActivities, features: ArtifactRef, slot: CellSlot, hooks: GridHooks, upstream?: Producers): Promise<CellResult> {
  const cell = slot.cell!;
  // The cell's own steps, so an unreadable resampled or trained artifact (or the run's features) is recomputed once (recovery.ts).
  const steps = new Producers(upstream);
  try {
    const train = cell.onFeatures ? features : (await steps.run(() => acts.resample({ features, params: cell.resample }))).ref;
    const model = await steps.run(() => acts.trainModel({ train, features, params: cell.train }));
    const val = await steps.run(() => acts.evaluate({ model: model.ref, features, params: { partition: 'val' } }));
    const metrics = Object.fromEntries(SELECTION_METRICS.filter((m) => typeof val.summary[m] === 'number').map((m) => [m, val.summary[m] as number]));
    return { id: cell.id, status: 'done', trainKey: model.ref.key, valKey: val.ref.key, val: metrics };
  } catch (error) {
    if (hooks.isCancellation?.(error)) throw error;
    return { id: cell.id, status: 'failed', error: cellFailure(error) };
  }
}

/** Keeps the better of the best so far and a finished cell: higher score, ties to the cell listed first. */
function better(best: BestCell | undefined, index: number, result: CellResult, metric: SelectionMetric): BestCell | undefined {
  const score = result.val?.[metric];
  if (result.status === 'failed' || typeof score !== 'number' || !result.trainKey) return best;
  if (best && (best.score > score || (best.score === score && best.index < index))) return best;
  return { id: result.id, index, trainKey: result.trainKey, score };
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
    return { total: this.plan.cells.count, ...this.state.counts, running: this.running.size };
  }

  finish(index: number, result: CellResult): void {
    const { state } = this;
    state.counts[result.status]++;
    state.best = better(state.best, index, result, this.plan.metric);
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
async function refill(acts: GridActivities, run: CellRun, features: ArtifactRef): Promise<void> {
  const { plan } = run;
  while (run.queue.length < Math.max(1, plan.parallel) && run.fetched < plan.cells.count) {
    const count = Math.min(CELL_BATCH, plan.cells.count - run.fetched);
    run.queue.push(...(await acts.lookupCells({ features, cells: plan.cells, from: run.fetched, count })));
    run.fetched += count;
  }
}

/** Runs the pending cells, at most `plan.parallel` at once, until done or asked to continue as new. */
async function runCells(acts: GridActivities, run: CellRun, features: ArtifactRef, upstream?: Producers): Promise<boolean> {
  const { plan, hooks } = run;
  let paused = false;
  hooks.onProgress?.(run.progress());
  for (;;) {
    if (!paused) await refill(acts, run, features);
    while (!paused && run.queue.length > 0 && (run.queue[0]!.cached || run.running.size < Math.max(1, plan.parallel))) {
      const slot = run.queue.shift()!;
      if (slot.cached) {
        run.finish(slot.index, { id: slot.id, status: 'cached', ...slot.cached });
        continue;
      }
      run.running.set(slot.index, runCell(acts, features, slot, hooks, upstream).then((result) => {
        run.running.delete(slot.index);
        run.finishedThisRun++;
        run.finish(slot.index, result);
      }));
      if (run.queue.length === 0) await refill(acts, run, features);
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

export async function runGrid(acts: GridActivities, plan: GridPlan, previous: GridState = initialGridState(), hooks: GridHooks = {}): Promise<GridOutcome> {
  const state: GridState = { ...previous, counts: { ...previous.counts }, firstFailures: [...previous.firstFailures], failureKeys: [...previous.failureKeys], stages: [...previous.stages] };
  const record = stageRecorder(state.stages);
  if (!state.features && plan.storeId) await checkStores(acts, plan.storeId);
  const leakyResample = plan.leakyResample;
  const features = state.features ?? (leakyResample ? await prepareLeakyFeatures(acts, { ...plan, leakyResample }, record) : await prepareFeatures(acts, plan, record));
  state.features = features;
  const run = new CellRun(plan, state, hooks);
  const complete = await runCells(acts, run, features, record.producers);
  state.next = run.nextIndex();
  if (Object.keys(run.failures).length > 0) state.failureKeys.push(await acts.recordFailures({ failures: run.failures }));
  if (!complete) return { kind: 'continue', state };

  const best = state.best;
  if (!best) throw allFailed(plan, state);
  const test = await record('evaluate', () => acts.evaluate({ model: { key: best.trainKey, stage: 'train' }, features, params: { partition: 'test' } }));
  const { name, metric } = plan;
  const grid = await record('grid', () => acts.recordGrid({ test, features, cells: plan.cells, failures: state.failureKeys, name, metric, selected: best.id }));
  const report = await record('report', () => acts.report({ evaluation: test, grid, params: withWarnings(plan.report, stageWarnings(state.stages)) }));
  return { kind: 'done', result: { metricsKey: test.key, reportKey: report.key, gridKey: grid.key, selected: best.id, counts: state.counts, stages: state.stages } };
}
