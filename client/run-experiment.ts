/** `ulasan run`: loads a spec (pipeline or grid), runs it locally or on Temporal, records the run. */
import { ArtifactStore } from '../data/store/artifact-store';
import { withSourceImported } from '../workflows/plans/pipeline';
import { loadExperiment, type Experiment } from './experiment';
import { realActivities, runGridLocal, runLocal } from './local-runner';
import { formatProgress, progressTracker, readProgress } from './progress';
import { newRunId, recordRun, type RunSummary } from './run-record';

export interface RunOptions {
  temporal?: boolean;
  taskQueue: string;
  /** Overrides the grid's `parallel`. */
  parallel?: number;
  /** Hash every file of every cache hit instead of trusting matching stamps. @default false */
  verifyHashes?: boolean;
  log: (message: string) => void;
}

/**
 * With `--temporal`, a file source is imported here, where its path means something, into the store
 * the workers share; workers get the import key (see `withSourceImported`).
 */
async function forWorkers(experiment: Experiment, store: ArtifactStore, options: RunOptions): Promise<Experiment> {
  const { importReviews } = realActivities(store, options.log, { verifyHashes: options.verifyHashes });
  const { plan, imported } = await withSourceImported<typeof experiment.plan>(experiment.plan, importReviews);
  if (imported) options.log(`import ${imported.ref.key} (${imported.cache}, on the client): workers read it from ${store.root}`);
  return { ...experiment, plan } as Experiment;
}

export async function runExperiment(specPath: string, options: RunOptions): Promise<RunSummary> {
  const store = new ArtifactStore();
  const loaded = await loadExperiment(specPath);
  const experiment = options.temporal ? await forWorkers(loaded, store, options) : loaded;
  const runId = newRunId(experiment.plan);
  const runner = options.temporal ? 'temporal' : 'local';
  if (experiment.kind === 'pipeline') {
    const result = options.temporal
      ? await (await import('./temporal-runner')).runOnTemporal(experiment.plan, { taskQueue: options.taskQueue, workflowId: runId })
      : await runLocal(experiment.plan, { store, log: options.log, verifyHashes: options.verifyHashes });
    return recordRun(store, runId, experiment.plan, result, runner);
  }
  const plan = { ...experiment.plan, parallel: options.parallel ?? experiment.plan.parallel };
  options.log(`grid ${plan.name}: ${plan.cells.length} cells, ${plan.parallel} at once (run ${runId})`);
  const onProgress = progressTracker(store.root, runId, runner, options.log);
  const result = options.temporal
    ? await (await import('./temporal-runner')).runGridOnTemporal(plan, { taskQueue: options.taskQueue, workflowId: runId })
    : await runGridLocal(plan, { store, log: options.log, onProgress, verifyHashes: options.verifyHashes });
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
