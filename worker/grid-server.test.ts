/**
 * Grids on a real Temporal dev server with `ulasan worker` child processes: one on the workflow queue,
 * two on the train queue (one activity each). Skipped loudly where no server can start, never in CI.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunSummary } from '../client/records';
import { readGridFile } from '../activities/grid/grid';
import { ArtifactStore } from '../data/store/artifact-store';
import { devServerAvailable, startDevServer } from './testing/dev-server';
import { lastJsonLine, runUlasan, startUlasan, startWorkerProcess, stopAll } from './testing/processes';
import { maxInFlight, runHistories, scheduledActivities } from './testing/workflow-history';

const QUEUE = 'grid-e2e';
const TRAIN_QUEUE = 'grid-e2e-train';

/** A small synthetic grid: 7 cells that train and one (classWeight for 3 classes on a binary task) that cannot. */
function gridSpec(name: string, grid: string, selection = 'validation # 600 rows would cross-validate by default; these tests are about cells on workers'): string {
  return `name: ${name}
seed: 7
source: { synthetic: { rows: 600 } }
label: { rule: binary }
split: { train: 0.7, val: 0.15, test: 0.15 }
features: { maxVocab: 500, maxLen: 16 }
model: { arch: cnn-small, embeddingDim: 8, filters: 8 }
train: { epochs: 1 }
evaluate: { minSupport: 5 } # 600 synthetic rows leave ~9 negative rows in val and test; these tests are about the grid
grid:
  trainTaskQueue: ${TRAIN_QUEUE}
  selection: ${selection}
${grid}`;
}

const EIGHT_CELLS = gridSpec(
  'grid-e2e',
  `  parallel: 2
  values:
    train.learningRate: [0.002, 0.004, 0.006, 0.008]
    train.batchSize: [16, 32]
    train.classWeight: [balanced, [1, 2, 3]]
  exclude:
    - { train.learningRate: 0.004, train.classWeight: [1, 2, 3] }
    - { train.learningRate: 0.006, train.classWeight: [1, 2, 3] }
    - { train.learningRate: 0.008, train.classWeight: [1, 2, 3] }
    - { train.batchSize: 32, train.classWeight: [1, 2, 3] }
    - { train.learningRate: 0.008, train.batchSize: 32, train.classWeight: balanced }`,
);

const ALL_FAILING = gridSpec(
  'grid-e2e-all-failing',
  `  values:
    train.learningRate: [0.002, 0.004]
    train.classWeight: [[1, 2, 3]]`,
);

const TWO_CELLS = gridSpec(
  'grid-e2e-twice',
  `  parallel: 2
  values:
    train.learningRate: [0.003, 0.005]`,
);

const TWO_CELLS_CV = gridSpec(
  'grid-e2e-cv',
  `  parallel: 2
  values:
    train.learningRate: [0.003, 0.005]`,
  '{ method: cv, folds: 2, ensemble: 0 }',
);

const CLASS_WEIGHT_ERROR = { type: 'BadInput', message: 'classWeight has 3 weights for 2 classes' };

describe.skipIf(!devServerAvailable('grids on a Temporal server'))('grids on a Temporal server with worker processes', () => {
  let env: TestWorkflowEnvironment;
  let root: string;
  let storeRoot: string;
  let cliEnv: NodeJS.ProcessEnv;
  const specs: Record<string, string> = {};

  beforeAll(async () => {
    env = await startDevServer();
    root = await mkdtemp(join(tmpdir(), 'ulasan-grid-e2e-'));
    storeRoot = join(root, 'store');
    cliEnv = { TEMPORAL_ADDRESS: env.address, ULASAN_HOME: storeRoot };
    for (const [name, text] of Object.entries({ eight: EIGHT_CELLS, failing: ALL_FAILING, twice: TWO_CELLS, cv: TWO_CELLS_CV })) {
      specs[name] = join(root, `${name}.yaml`);
      await writeFile(specs[name], text);
    }
    const worker = (queue: string, args: string[] = []) => startWorkerProcess({ address: env.address, queue, storeRoot, args, readyTimeoutMs: 300_000 });
    await Promise.all([worker(QUEUE), worker(TRAIN_QUEUE, ['--concurrency', '1']), worker(TRAIN_QUEUE, ['--concurrency', '1'])]);
  }, 400_000);

  afterAll(async () => {
    await stopAll();
    await env?.teardown();
    if (root) await rm(root, { recursive: true, force: true });
  }, 60_000);

  const startWithStdout = (args: string[]) => {
    const proc = startUlasan(args, cliEnv);
    let stdout = '';
    proc.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    return { proc, stdout: () => stdout };
  };
  const submit = (spec: string) => runUlasan(['run', spec, '--temporal', '--task-queue', QUEUE, '--json'], cliEnv, 600_000);

  it('trains an 8-cell grid on both train workers within the sliding window, keeps a failing cell\'s real error, and re-runs from the cache', async () => {
    const first = await submit(specs.eight!);
    expect(first.code, first.output).toBe(0);
    const summary = lastJsonLine<RunSummary>(first.stdout);
    expect(summary.counts).toEqual({ done: 7, cached: 0, failed: 1 });

    const grid = await readGridFile(new ArtifactStore(storeRoot), summary.gridKey!);
    expect(grid.cells).toHaveLength(8);
    expect(grid.cells.filter((c) => c.error)).toEqual([expect.objectContaining({ id: 'c0001', error: CLASS_WEIGHT_ERROR, worker: null })]);
    const workers = new Set(grid.cells.flatMap((c) => (c.worker ? [c.worker] : [])));
    expect(workers.size, `train workers seen: ${[...workers].join(', ')}`).toBe(2);

    const { workflowId } = JSON.parse(await readFile(join(storeRoot, 'runs', `${summary.runId}.progress.json`), 'utf8')) as { workflowId: string };
    const [history] = await runHistories(env.client, workflowId);
    expect(maxInFlight(history!, 'trainModel')).toBe(2);

    // The same spec again: a new workflow run (the first closed) that trains nothing already in the store.
    const again = await submit(specs.eight!);
    expect(again.code, again.output).toBe(0);
    const rerun = lastJsonLine<RunSummary>(again.stdout);
    expect(rerun.counts).toEqual({ done: 0, cached: 7, failed: 1 });
    expect(rerun.gridKey).toBe(summary.gridKey);
    const histories = await runHistories(env.client, workflowId);
    expect(histories).toHaveLength(2);
    // Only the failing cell (never cached) is scheduled again.
    expect(scheduledActivities([histories[1]!]).filter((a) => a === 'trainModel')).toHaveLength(1);

    // The local runner records the same failure, so its grid artifact has the same key.
    const local = await runUlasan(['run', specs.eight!, '--json'], { ULASAN_HOME: storeRoot }, 600_000);
    expect(local.code, local.output).toBe(0);
    expect(lastJsonLine<RunSummary>(local.stdout).gridKey).toBe(summary.gridKey);
  }, 900_000);

  it('cv: runs every fold of every cell as cached activities, resumes from the store, and agrees with the local runner', async () => {
    const first = await submit(specs.cv!);
    expect(first.code, first.output).toBe(0);
    const summary = lastJsonLine<RunSummary>(first.stdout);
    expect(summary.counts).toEqual({ done: 2, cached: 0, failed: 0 });
    expect(summary.standings?.method).toBe('cv');
    const grid = await readGridFile(new ArtifactStore(storeRoot), summary.gridKey!);
    expect(grid.cells.map((c) => c.foldKeys?.length)).toEqual([2, 2]);
    const { workflowId } = JSON.parse(await readFile(join(storeRoot, 'runs', `${summary.runId}.progress.json`), 'utf8')) as { workflowId: string };
    const scheduled = scheduledActivities(await runHistories(env.client, workflowId));
    // 2 cells × 2 folds, each fold its own fold → features → resample → train → evaluate, plus the winner's refit.
    expect(scheduled.filter((a) => a === 'fold')).toHaveLength(4);
    expect(scheduled.filter((a) => a === 'trainModel')).toHaveLength(5);

    const again = await submit(specs.cv!);
    expect(again.code, again.output).toBe(0);
    const rerun = lastJsonLine<RunSummary>(again.stdout);
    expect(rerun.counts).toEqual({ done: 0, cached: 2, failed: 0 });
    expect(rerun.gridKey).toBe(summary.gridKey);
    const histories = await runHistories(env.client, workflowId);
    expect(scheduledActivities([histories.at(-1)!]).filter((a) => a === 'fold')).toHaveLength(0);

    const local = await runUlasan(['run', specs.cv!, '--json'], { ULASAN_HOME: storeRoot }, 600_000);
    expect(local.code, local.output).toBe(0);
    expect(lastJsonLine<RunSummary>(local.stdout).gridKey).toBe(summary.gridKey);
  }, 900_000);

  it('ends a grid whose every cell fails within seconds, with a typed non-retryable failure', async () => {
    const started = Date.now();
    const run = await submit(specs.failing!);
    const seconds = (Date.now() - started) / 1000;
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/error \(BadInput\): workflow grid-[0-9a-f]+ failed: /);
    expect(run.output).toContain("Every cell of grid 'grid-e2e-all-failing' failed (2 of 2): c0000: BadInput: classWeight has 3 weights for 2 classes");
    const workflowId = /workflow (grid-[0-9a-f]+)/.exec(run.output)![1]!;
    const failure = await env.client.workflow.getHandle(workflowId).result().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({ name: 'ApplicationFailure', type: 'BadInput', nonRetryable: true });
    console.log(`all-failing grid: the CLI returned after ${seconds.toFixed(1)} s`);
    expect(seconds).toBeLessThan(60);
  }, 300_000);

  it('runs one workflow for the same spec submitted twice at once; watch follows it and status reads it', async () => {
    const a = startWithStdout(['run', specs.twice!, '--temporal', '--task-queue', QUEUE, '--json']);
    const b = startWithStdout(['run', specs.twice!, '--temporal', '--task-queue', QUEUE, '--json']);
    const [, runId, workflowId] = await a.proc.waitForOutput(/run (\S+): workflow (grid-[0-9a-f]+)/, 300_000);
    const [, , otherWorkflowId] = await b.proc.waitForOutput(/run (\S+): workflow (grid-[0-9a-f]+)/, 300_000);
    expect(otherWorkflowId).toBe(workflowId);

    const watch = startUlasan(['watch', runId!], cliEnv);
    const status = await runUlasan(['status', runId!], cliEnv, 120_000);
    expect(status.code, status.output).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${workflowId} \\(gridWorkflow\\): (RUNNING|COMPLETED)`));

    expect(await a.proc.exited, a.proc.output()).toBe(0);
    expect(await b.proc.exited, b.proc.output()).toBe(0);
    expect(await watch.exited, watch.output()).toBe(0);
    expect(watch.output()).toMatch(/\(gridWorkflow\): COMPLETED/);
    expect(lastJsonLine<RunSummary>(b.stdout()).gridKey).toBe(lastJsonLine<RunSummary>(a.stdout()).gridKey);

    const histories = await runHistories(env.client, workflowId!);
    expect(histories).toHaveLength(1);
    expect(scheduledActivities(histories).filter((t) => t === 'trainModel')).toHaveLength(2);

    // A local run's status is read from its progress file, with no server involved.
    const local = await runUlasan(['run', specs.twice!, '--json'], { ULASAN_HOME: storeRoot }, 600_000);
    const localRunId = lastJsonLine<RunSummary>(local.stdout).runId;
    const localStatus = await runUlasan(['status', localRunId], { ULASAN_HOME: storeRoot });
    expect(localStatus.stdout).toMatch(/2\/2 cells: 0 done, 2 cached, 0 failed/);
    const watchLocal = await runUlasan(['watch', localRunId], cliEnv, 120_000);
    expect(watchLocal.code).toBe(1);
    expect(watchLocal.output).toContain(`error (BadInput): Run ${localRunId} ran in-process, not on Temporal`);
  }, 900_000);
});
