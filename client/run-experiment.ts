/** `ulasan run`: loads a spec (pipeline or grid), runs it locally or on Temporal, records the run. */
import { ArtifactStore } from '../data/store/artifact-store';
import { loadExperiment } from './experiment';
import { runGridLocal, runLocal } from './local-runner';
import { formatProgress, progressTracker, readProgress } from './progress';
import { newRunId, recordRun, type RunSummary } from './run-record';

export interface RunOptions {
  temporal?: boolean;
  taskQueue: string;
  /** Overrides the grid's `parallel`. */
  parallel?: number;
  log: (message: string) => void;
}

export async function runExperiment(specPath: string, options: RunOptions): Promise<RunSummary> {
  const experiment = await loadExperiment(specPath);
  const store = new ArtifactStore();
  const runId = newRunId(experiment.plan);
  const runner = options.temporal ? 'temporal' : 'local';
  if (experiment.kind === 'pipeline') {
    const result = options.temporal
      ? await (await import('./temporal-runner')).runOnTemporal(experiment.plan, { taskQueue: options.taskQueue, workflowId: runId })
      : await runLocal(experiment.plan, { store, log: options.log });
    return recordRun(store, runId, experiment.plan, result, runner);
  }
  const plan = { ...experiment.plan, parallel: options.parallel ?? experiment.plan.parallel };
  options.log(`grid ${plan.name}: ${plan.cells.length} cells, ${plan.parallel} at once (run ${runId})`);
  const onProgress = progressTracker(store.root, runId, runner, options.log);
  const result = options.temporal
    ? await (await import('./temporal-runner')).runGridOnTemporal(plan, { taskQueue: options.taskQueue, workflowId: runId })
    : await runGridLocal(plan, { store, log: options.log, onProgress });
  return recordRun(store, runId, plan, result, runner);
}

/** `ulasan status <runId>`: the local progress file, or the Temporal workflow's `progress` query. */
export async function runStatus(runId: string): Promise<string> {
  const store = new ArtifactStore();
  const record = readProgress(store.root, runId);
  if (record?.runner === 'local' || (!record && !process.env.TEMPORAL_ADDRESS)) {
    if (!record) return `No progress recorded for ${runId} under ${store.root}/runs.`;
    return `${formatProgress(record, record.etaSeconds)} (updated ${record.updatedAt})`;
  }
  const progress = await (await import('./temporal-runner')).queryGridProgress(runId);
  return progress ? formatProgress(progress, null) : `Workflow ${runId} has not reported progress yet.`;
}
