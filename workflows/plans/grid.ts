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
import { PIPELINE_PROFILES, prepareFeatures, stageRecorder, type PipelineActivities, type StageRecord, type UpstreamPlan } from './pipeline';
import type { ProfileName } from './profiles';

export const SELECTION_METRICS = ['macroF1', 'balancedAccuracy', 'gMean', 'accuracy'] as const;
export type SelectionMetric = (typeof SELECTION_METRICS)[number];

/** One combination of the grid. `id` is stable (its position in the expanded grid). */
export interface GridCell {
  id: string;
  resample: ResampleParams;
  train: TrainParams;
}

export interface GridPlan extends UpstreamPlan {
  name: string;
  cells: GridCell[];
  /** Metric the best cell is chosen by, on the validation split. @default 'macroF1' */
  metric: SelectionMetric;
  /** Cells running at once. */
  parallel: number;
  /** Task queue for training (GPU workers); the workflow's own queue when unset. */
  trainTaskQueue?: string;
  /** Continue as new after this many cells finish in one run (Temporal history stays small). @default 500 */
  cellsPerRun?: number;
  report: ReportParams;
}

export type CellStatus = 'done' | 'cached' | 'failed';

export interface CellResult {
  id: string;
  status: CellStatus;
  /** The train artifact: the cell's key. */
  trainKey?: string;
  /** The validation evaluation artifact. */
  valKey?: string;
  /** Validation metrics (selection reads only these). */
  val?: Partial<Record<SelectionMetric, number>>;
  error?: string;
  ms: number;
}

/** A cached cell as the store knows it. */
export interface CachedCell {
  trainKey: string;
  valKey: string;
  val: Partial<Record<SelectionMetric, number>>;
}

export interface GridActivities extends PipelineActivities {
  /** Which cells already have a validation score in the store (by their would-be keys). */
  lookupCells(input: { features: ArtifactRef; cells: GridCell[] }): Promise<Record<string, CachedCell | null>>;
  /** Writes the grid artifact: every cell's validation metrics, the selection, the test evaluation. */
  recordGrid(input: RecordGridInput): Promise<StageOutcome>;
}

/** A cell as the grid artifact keys it: only what is the same on every run (no status, no timings). */
export type RecordedCell = Pick<CellResult, 'id' | 'trainKey' | 'valKey' | 'val' | 'error'>;

/** Timeout/retry profile of each grid activity (the pipeline's, plus the grid's own). */
export const GRID_PROFILES: Record<keyof GridActivities, ProfileName> = { ...PIPELINE_PROFILES, lookupCells: 'io', recordGrid: 'io' };

export interface RecordGridInput {
  test: ArtifactRef;
  params: { name: string; metric: SelectionMetric; selected: string; cells: RecordedCell[]; plan: GridCell[] };
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

/** Carried across continue-as-new: the finished cells and the shared features. */
export interface GridState {
  features?: ArtifactRef;
  results: CellResult[];
  stages: StageRecord[];
}

export interface GridResult {
  metricsKey: string;
  reportKey: string;
  gridKey: string;
  selected: string;
  cells: CellResult[];
  stages: StageRecord[];
}

export type GridOutcome = { kind: 'done'; result: GridResult } | { kind: 'continue'; state: GridState };

function progressOf(plan: GridPlan, results: CellResult[], running: number): GridProgress {
  const count = (status: CellStatus) => results.filter((r) => r.status === status).length;
  return { total: plan.cells.length, done: count('done'), cached: count('cached'), failed: count('failed'), running };
}

async function runCell(acts: GridActivities, features: ArtifactRef, cell: GridCell, hooks: GridHooks, now: () => number): Promise<CellResult> {
  const started = now();
  try {
    const train = await acts.resample({ features, params: cell.resample });
    const model = await acts.trainModel({ train: train.ref, features, params: cell.train });
    const val = await acts.evaluate({ model: model.ref, features, params: { partition: 'val' } });
    const metrics = Object.fromEntries(SELECTION_METRICS.filter((m) => typeof val.summary[m] === 'number').map((m) => [m, val.summary[m] as number]));
    return { id: cell.id, status: 'done', trainKey: model.ref.key, valKey: val.ref.key, val: metrics, ms: now() - started };
  } catch (error) {
    if (hooks.isCancellation?.(error)) throw error;
    return { id: cell.id, status: 'failed', error: (error as Error)?.message ?? String(error), ms: now() - started };
  }
}

/** Best validation score; ties go to the cell listed first in the grid, so selection is deterministic. */
export function selectCell(plan: GridPlan, results: CellResult[]): CellResult | undefined {
  const order = new Map(plan.cells.map((cell, index) => [cell.id, index]));
  const scored = results.filter((r) => r.status !== 'failed' && typeof r.val?.[plan.metric] === 'number');
  scored.sort((a, b) => b.val![plan.metric]! - a.val![plan.metric]! || order.get(a.id)! - order.get(b.id)!);
  return scored[0];
}

/** The grid as the report shows it: every scored cell's params and validation metrics, and the selection. */
function reportGrid(plan: GridPlan, ordered: CellResult[], best: CellResult) {
  const cells = ordered
    .filter((r) => r.trainKey && r.val)
    .map((r) => {
      const cell = plan.cells.find((c) => c.id === r.id)!;
      return { key: r.trainKey!, params: { resample: cell.resample, train: cell.train }, valMetrics: r.val as Record<string, number> };
    });
  return { selectedKey: best.trainKey, selectionMetric: plan.metric, cells };
}

/** Runs the pending cells, at most `plan.parallel` at once, until done or asked to continue as new. */
async function runCells(acts: GridActivities, plan: GridPlan, features: ArtifactRef, results: CellResult[], hooks: GridHooks, now: () => number): Promise<boolean> {
  const finished = new Set(results.map((r) => r.id));
  const pending = plan.cells.filter((cell) => !finished.has(cell.id));
  const cached = pending.length > 0 ? await acts.lookupCells({ features, cells: pending }) : {};
  for (const cell of pending) {
    const hit = cached[cell.id];
    if (hit) results.push({ id: cell.id, status: 'cached', ...hit, ms: 0 });
  }
  const queue = pending.filter((cell) => !cached[cell.id]);
  const running = new Map<string, Promise<void>>();
  let paused = false;
  let finishedThisRun = 0;
  hooks.onProgress?.(progressOf(plan, results, 0));
  while (queue.length > 0 || running.size > 0) {
    while (!paused && queue.length > 0 && running.size < Math.max(1, plan.parallel)) {
      const cell = queue.shift()!;
      running.set(cell.id, runCell(acts, features, cell, hooks, now).then((result) => {
        results.push(result);
        finishedThisRun++;
        running.delete(cell.id);
        hooks.onProgress?.(progressOf(plan, results, running.size));
      }));
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
    if (!paused && hooks.shouldContinueAsNew?.(finishedThisRun)) paused = true;
  }
  return queue.length === 0;
}

export async function runGrid(acts: GridActivities, plan: GridPlan, state: GridState = { results: [], stages: [] }, hooks: GridHooks = {}, now: () => number = Date.now): Promise<GridOutcome> {
  const stages = [...state.stages];
  const record = stageRecorder(stages);
  const features = state.features ?? (await prepareFeatures(acts, plan, record));
  const results = [...state.results];
  const complete = await runCells(acts, plan, features, results, hooks, now);
  if (!complete) return { kind: 'continue', state: { features, results, stages } };

  const best = selectCell(plan, results);
  if (!best) throw new Error(`Every cell of grid '${plan.name}' failed: ${results.map((r) => `${r.id}: ${r.error}`).join('; ')}`);
  const test = await record('evaluate', acts.evaluate({ model: { key: best.trainKey!, stage: 'train' }, features, params: { partition: 'test' } }));
  const ordered = plan.cells.map((cell) => results.find((r) => r.id === cell.id)!);
  const recorded = ordered.map(({ id, trainKey, valKey, val, error }) => ({ id, trainKey, valKey, val, error }));
  const params = { name: plan.name, metric: plan.metric, selected: best.id, cells: recorded, plan: plan.cells };
  const grid = await record('grid', acts.recordGrid({ test, params }));
  const report = await record('report', acts.report({ evaluation: test, params: { ...plan.report, grid: reportGrid(plan, ordered, best) } }));
  return { kind: 'done', result: { metricsKey: test.key, reportKey: report.key, gridKey: grid.key, selected: best.id, cells: ordered, stages } };
}
