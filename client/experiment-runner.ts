/** `ulasan run`: loads a spec (pipeline or grid), runs it locally or on Temporal, records the run. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { classifyError, UlasanError } from '../core/errors';
import { storeGridCells } from '../activities/grid/grid';
import { ArtifactStore } from '../data/store/artifact-store';
import type { GridPlan } from '../workflows/plans/grid';
import { withSourceImported } from '../workflows/plans/pipeline';
import { loadExperiment, type Experiment } from './experiment';
import { MAX_PARALLEL } from './grid-spec';
import { realActivities, runGridLocal, runLocal } from './local-runner';
import { formatProgress, markProgressFailed, progressTracker, readProgress, writeProgress } from './progress';
import { RunLease } from './leases';
import { newRunId, recordRun, type RunSummary } from './records';
import type { RunRouting } from '../core/profiles';

export interface RunOptions extends RunRouting {
  temporal?: boolean;
  taskQueue: string;
  /** Temporal: how long the whole run may take (workflow execution timeout). */
  timeoutMs?: number;
  /** Overrides the grid's `parallel`. */
  parallel?: number;
  /** Hash every file of every cache hit instead of trusting matching stamps. @default false */
  verifyHashes?: boolean;
  /** Run even below `evaluate.minSupport` rows per class in a scored split; the console and report say so. */
  allowSmall?: boolean;
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

/**
 * Notes the workflow a run was submitted to in its progress record, so `ulasan status|watch <runId>`
 * ask Temporal about it (the run id is the client's; the workflow id is the plan's).
 */
function submitted(store: ArtifactStore, runId: string, log: (message: string) => void) {
  return (workflowId: string) => {
    writeProgress(store.root, { runId, runner: 'temporal', workflowId, total: 0, done: 0, cached: 0, failed: 0, running: 0, etaSeconds: null });
    log(`run ${runId}: workflow ${workflowId} (follow it with: ulasan watch ${runId})`);
  };
}

/** `--parallel`: a whole number of cells 1..64, checked before the spec is even read. */
export function parseParallel(value: unknown): number {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_PARALLEL) return n;
  throw new UlasanError('BadInput', `--parallel ${String(value)}: give a whole number of grid cells to train at once, 1 to ${MAX_PARALLEL}.`, {
    field: '--parallel',
  });
}

export async function runExperiment(specPath: string, options: RunOptions): Promise<RunSummary> {
  if (options.parallel !== undefined) options = { ...options, parallel: parseParallel(options.parallel) };
  return runLoadedExperiment(await loadExperiment(specPath, { allowSmall: options.allowSmall }), options);
}

/** Runs an experiment already loaded and validated (`ulasan run` after reading its file; `ulasan studies`). */
export async function runLoadedExperiment(loaded: Experiment, options: RunOptions): Promise<RunSummary> {
  const store = new ArtifactStore();
  const experiment = options.temporal ? await forWorkers(loaded, store, options) : loaded;
  const runId = newRunId(experiment.plan);
  const runner = options.temporal ? 'temporal' : 'local';
  // Held while the run lives, so `ulasan gc` keeps what it uses (leases.ts).
  const lease = await RunLease.acquire(store, runId, runner);
  try {
    return await runAndRecord(experiment, { store, runId, runner, lease }, options);
  } finally {
    await lease.release();
  }
}

async function runAndRecord(
  experiment: Experiment,
  { store, runId, runner, lease }: { store: ArtifactStore; runId: string; runner: 'local' | 'temporal'; lease: RunLease },
  options: RunOptions,
): Promise<RunSummary> {
  const temporal = options.temporal ? await import('./temporal-runner') : undefined;
  const submit = { taskQueue: options.taskQueue, timeoutMs: options.timeoutMs, onSubmitted: submitted(store, runId, options.log) };
  const { verifyHashes } = options;
  // On Temporal the store's id and the routing flags travel with the plan, so workers on another store refuse it before any work.
  const forTemporal = temporal ? { storeId: await store.id(), ...routing(options) } : {};
  if (experiment.kind === 'pipeline') {
    const result = temporal
      ? await temporal.runOnTemporal({ ...experiment.plan, ...forTemporal }, submit)
      : await runLocal(experiment.plan, { store, log: options.log, verifyHashes, progress: true, lease });
    return recordRun(store, runId, experiment.plan, result, runner, options.log);
  }
  const expanded = { ...experiment.plan, parallel: options.parallel ?? experiment.plan.parallel };
  // The cells go into the store; the plan (and every Temporal payload) carries their key.
  const plan: GridPlan = { ...(await storeGridCells(store, expanded)), ...forTemporal };
  options.log(`grid ${plan.name}: ${plan.cells.count} cells, ${plan.parallel} at once (run ${runId})`);
  const result = temporal
    ? await temporal.runGridOnTemporal(plan, submit)
    : await runGridLocal(plan, { store, log: options.log, onProgress: progressTracker(store.root, runId, 'local', options.log), verifyHashes, progress: true, lease }).catch(
        (err: unknown) => {
          markProgressFailed(store.root, runId, (classifyError(err) as Error).message);
          throw err;
        },
      );
  return recordRun(store, runId, plan, result, runner, options.log);
}

/** The routing flags a run was given (a flag overrides the spec's own `trainTaskQueue`). */
function routing(options: RunRouting): RunRouting {
  return Object.fromEntries(
    (['trainTaskQueue', 'queueTimeoutMs', 'heartbeatTimeoutMs'] as const).filter((name) => options[name] !== undefined).map((name) => [name, options[name]]),
  );
}

/** Resolves a run id to where its progress lives: the local progress file, or its Temporal workflow. */
async function temporalWorkflowOf(runId: string, storeRoot: string): Promise<string | undefined> {
  const record = readProgress(storeRoot, runId);
  if (record?.runner === 'temporal') return record.workflowId ?? runId;
  // Not a run this store knows: with a server configured, take it as a workflow id.
  return !record && process.env.TEMPORAL_ADDRESS ? runId : undefined;
}

/** `ulasan cancel <runId>`: cancels the run's workflow (found as `status` finds it) and returns its status then. */
export async function cancelRunById(runId: string): Promise<string> {
  const store = new ArtifactStore();
  if (readProgress(store.root, runId)?.runner === 'local') {
    throw new UlasanError('BadInput', `Run ${runId} ran in-process, not on Temporal: stop its \`ulasan run\` process instead.`);
  }
  const workflowId = (await temporalWorkflowOf(runId, store.root)) ?? runId;
  const { cancelRun } = await import('./temporal-runner');
  return cancelRun(workflowId);
}

/** `ulasan status <runId>`: the local progress file, or the Temporal workflow's state and `progress` query. */
export async function runStatus(runId: string): Promise<string> {
  const store = new ArtifactStore();
  const workflowId = await temporalWorkflowOf(runId, store.root);
  if (!workflowId) {
    const record = readProgress(store.root, runId);
    if (!record) return finishedRunStatus(store, runId);
    const stopped = record.failure ? ` FAILED: ${record.failure}` : '';
    return `${formatProgress(record, record.etaSeconds)} (updated ${record.updatedAt})${stopped}`;
  }
  const { formatWorkflowState, workflowState } = await import('./temporal-runner');
  const state = await workflowState(workflowId);
  return state ? formatWorkflowState(state) : `Temporal has no workflow ${workflowId} (run ${runId}).`;
}

/** `ulasan watch <runId>`: follows a run on Temporal, a line per change, until it closes; returns its final status. */
export async function watchRun(runId: string, print: (line: string) => void): Promise<string> {
  const store = new ArtifactStore();
  if (readProgress(store.root, runId)?.runner === 'local') {
    throw new UlasanError('BadInput', `Run ${runId} ran in-process, not on Temporal: \`ulasan status ${runId}\` shows its progress.`);
  }
  const workflowId = (await temporalWorkflowOf(runId, store.root)) ?? runId;
  const { formatWorkflowState, watchWorkflow } = await import('./temporal-runner');
  return (await watchWorkflow(workflowId, (state) => print(formatWorkflowState(state)))).status;
}

/** A run with no progress file: a finished pipeline run has its record; anything else is not a run. */
async function finishedRunStatus(store: ArtifactStore, runId: string): Promise<string> {
  const path = join(store.root, 'runs', `${runId}.json`);
  const record = await readFile(path, 'utf8').then(
    (text) => JSON.parse(text) as Partial<RunSummary>,
    () => undefined,
  );
  if (!record) {
    throw new UlasanError('NotFound', `No run ${runId} under ${join(store.root, 'runs')}; run ids are the names of the .json files there (ULASAN_HOME sets the store).`, {
      file: path,
    });
  }
  return `Run ${runId} finished: metrics ${record.metricsKey}, report ${record.runReportPath ?? record.reportPath}`;
}
