/**
 * `ulasan worker` as real child processes against a Temporal dev server (worker/testing/dev-server.ts), driven by the
 * `ulasan` CLI: the pipeline on two queues matches the local runner byte for byte, a killed train worker's activity
 * resumes on another from its heartbeat details, `ulasan cancel` stops a run within a heartbeat interval, and a run
 * with no train worker fails in bounded time naming the queue. Skipped loudly where no server can start, never in CI.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CHECKPOINTS_DIR } from '../models/checkpoints';
import type { TrainProgress } from '../activities/train/train';
import type { RunSummary } from '../client/records';
import { ArtifactStore } from '../data/store/artifact-store';
import type { Manifest } from '../data/store/types';
import { writeWorkflowBundle } from './main';
import { devServerAvailable, startDevServer } from './testing/dev-server';
import { lastJsonLine, runUlasan, WORKER_READY, startUlasan, startWorkerProcess, stopAll, waitUntil, type UlasanProcess } from './testing/processes';

/** Small enough for CI: synthetic rows, a tiny CNN. `rows` and `epochs` size the training. */
function spec(name: string, rows: number, epochs: number): string {
  return `name: ${name}
seed: 42
source:
  synthetic:
    rows: ${rows}
label:
  rule: binary
split:
  train: 0.7
  val: 0.15
  test: 0.15
features:
  maxVocab: 500
  maxLen: 24
model:
  arch: cnn-small
  embeddingDim: 8
  filters: 8
train:
  epochs: ${epochs}
  batchSize: 16
evaluate:
  partition: test
`;
}

/** How often the test workers heartbeat: a cancel must reach a running activity within this. */
const HEARTBEAT_INTERVAL_MS = 1_000;
/** Scheduling and process start on a loaded 2-core machine: the slack every bounded wait allows. */
const SLACK_MS = 3_000;

describe.skipIf(!devServerAvailable('ulasan worker processes'))('ulasan worker processes on a Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  let bundle: string;

  beforeAll(async () => {
    env = await startDevServer();
    dir = await mkdtemp(join(tmpdir(), 'ulasan-workers-'));
    // One bundle for every worker process these tests start (the worker's prebuilt-bundle path).
    bundle = join(dir, 'workflows.js');
    await writeWorkflowBundle(bundle);
  }, 180_000);
  afterEach(() => stopAll());
  afterAll(async () => {
    await stopAll();
    await env?.teardown();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const temporalEnv = (store: string) => ({ TEMPORAL_ADDRESS: env.address, ULASAN_HOME: store });
  const worker = (queue: string, store: string) =>
    startWorkerProcess({ address: env.address, queue, storeRoot: store, args: ['--heartbeat-interval', `${HEARTBEAT_INTERVAL_MS}ms`], env: { ULASAN_WORKFLOW_BUNDLE: bundle } });
  async function writeSpec(name: string, rows: number, epochs: number): Promise<string> {
    const path = join(dir, `${name}.yaml`);
    await writeFile(path, spec(name, rows, epochs));
    return path;
  }
  async function runLocally(specPath: string, store: string): Promise<RunSummary> {
    const local = await runUlasan(['run', specPath, '--json'], { ULASAN_HOME: store });
    expect(local.code, local.output).toBe(0);
    return lastJsonLine<RunSummary>(local.stdout);
  }
  const metricsBytes = (store: string, summary: RunSummary) => readFile(new ArtifactStore(store).path(summary.metricsKey, 'metrics.json'));
  const manifest = (store: string, key: string) => new ArtifactStore(store).manifest(key);
  /** What `ulasan run --temporal` prints once it has submitted: `run <runId>: workflow <workflowId> (...)`. */
  const SUBMITTED = /^run (\S+): workflow (\S+) /m;
  const ids = (match: RegExpMatchArray | null) => ({ runId: match![1]!, workflowId: match![2]! });
  const submitted = async (run: UlasanProcess) => ids(await run.waitForOutput(SUBMITTED));
  /** Event times (ms) of a workflow's history, by which attributes an event has. */
  async function eventTimes(workflowId: string, attributes: string): Promise<number[]> {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).filter((e) => (e as Record<string, unknown>)[attributes]).map((e) => tsToMs(e.eventTime));
  }

  it('runs the pipeline on an ulasan and a train worker with the local runner\'s keys and metrics.json bytes, execution in every manifest', async () => {
    const started = performance.now();
    const specPath = await writeSpec('quick', 600, 2);
    const [localStore, store] = [join(dir, 'a-local'), join(dir, 'a-temporal')];
    const local = await runLocally(specPath, localStore);
    const [pipelineWorker, trainWorker] = await Promise.all([worker('ulasan', store), worker('train', store)]);
    const run = await runUlasan(['run', specPath, '--temporal', '--train-queue', 'train', '--json'], temporalEnv(store));
    expect(run.code, run.output).toBe(0);
    const remote = lastJsonLine<RunSummary>(run.stdout);
    const { workflowId } = ids(SUBMITTED.exec(run.output));

    expect(remote.stages.map((s) => [s.stage, s.key])).toEqual(local.stages.map((s) => [s.stage, s.key]));
    expect(remote.stages.every((s) => s.cache === 'miss')).toBe(true);
    expect(Buffer.compare(await metricsBytes(store, remote), await metricsBytes(localStore, local))).toBe(0);

    expect(trainWorker.output()).toContain(`queue train, ${availableParallelism()} activities at once`);
    expect(pipelineWorker.output()).toContain(`queue ulasan, ${2 * availableParallelism()} activities at once`);
    const identity = (proc: UlasanProcess) => /identity ([^\s,]+)/.exec(proc.output())![1]!;
    const history = await env.client.workflow.getHandle(workflowId).describe();
    for (const stage of remote.stages) {
      const { execution } = await manifest(store, stage.key);
      const onTrain = stage.stage === 'train';
      expect(execution, stage.stage).toEqual({
        workflowId,
        runId: history.runId,
        activityId: expect.any(String),
        attempt: 1,
        taskQueue: onTrain ? 'train' : 'ulasan',
        workerIdentity: identity(onTrain ? trainWorker : pipelineWorker),
      });
      expect((await manifest(localStore, stage.key)).execution, `local ${stage.stage}`).toBeUndefined();
    }
    console.log(`pipeline on two worker processes: ${Math.round(performance.now() - started)} ms`);
  }, 400_000);

  it('resumes training on a second train worker from the heartbeat details after kill -9, ending byte-identical', async () => {
    const started = performance.now();
    const epochs = 8;
    const specPath = await writeSpec('killed', 2400, epochs);
    const [localStore, store] = [join(dir, 'b-local'), join(dir, 'b-temporal')];
    const [queue, trainQueue] = ['ulasan-b', 'train-b'];
    await worker(queue, store);
    const first = await worker(trainQueue, store);
    const run = startUlasan(
      ['run', specPath, '--temporal', '--task-queue', queue, '--train-queue', trainQueue, '--heartbeat-timeout', '4s', '--json'],
      temporalEnv(store),
    );
    const { workflowId } = await submitted(run);
    const checkpoints = join(store, CHECKPOINTS_DIR);
    // Kill the train worker once the server holds heartbeat details naming the checkpoint after epoch 2 or later.
    const heartbeat = async () => {
      const described = await env.client.workflow.getHandle(workflowId).describe().catch((error: unknown) => {
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw error;
      });
      const payload = described?.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
      return payload ? defaultPayloadConverter.fromPayload<TrainProgress>(payload) : undefined;
    };
    const checkpointEpoch = (progress?: TrainProgress) => Number(/epoch-(\d+)$/.exec(progress?.checkpointKey ?? '')?.[1] ?? -1);
    const pending = await waitUntil('heartbeat details naming a checkpoint after epoch 2', async () => {
      const details = await heartbeat();
      return checkpointEpoch(details) >= 2 && details;
    }, 300_000, 100);
    await first.kill('SIGKILL');
    expect(checkpointEpoch(pending)).toBeLessThan(epochs);
    // What the server hands the retry: the last details it got from the killed worker (read before a retry runs).
    const lastHeartbeatBeforeRetry = heartbeat().then((details) => details!);
    await lastHeartbeatBeforeRetry;
    const second = await worker(trainQueue, store);
    const code = await run.exited;
    expect(code, run.output()).toBe(0);
    const remote = lastJsonLine<RunSummary>(run.stdout());

    const train = remote.stages.find((s) => s.stage === 'train')!;
    const trained = await manifest(store, train.key);
    // The retry was handed the details the killed attempt heartbeated last (its checkpoint, or a newer one saved
    // after that heartbeat, is where it resumed).
    const last = await lastHeartbeatBeforeRetry;
    expect(trained.summary.resumeHint).toBe(last.checkpointKey);
    expect(trained.summary.resumedAtEpoch as number).toBeGreaterThanOrEqual(checkpointEpoch(last));
    expect(trained.summary.resumedAtEpoch as number).toBeLessThan(epochs);
    expect(trained.execution).toMatchObject({ attempt: 2, taskQueue: trainQueue, workerIdentity: /identity ([^\s,]+)/.exec(second.output())![1] });
    expect(existsSync(join(checkpoints, train.key)), 'checkpoints removed once the model is stored').toBe(false);

    const local = await runLocally(specPath, localStore);
    expect(remote.metricsKey).toBe(local.metricsKey);
    expect(Buffer.compare(await metricsBytes(store, remote), await metricsBytes(localStore, local))).toBe(0);
    console.log(`killed after heartbeat ${pending.checkpointKey}, resumed at ${String(trained.summary.resumedAtEpoch)}: ${Math.round(performance.now() - started)} ms`);
  }, 600_000);

  it('`ulasan cancel` stops the running train activity within a heartbeat interval; finished stages stay cached', async () => {
    const started = performance.now();
    const specPath = await writeSpec('cancelled', 600, 500);
    const store = join(dir, 'c-temporal');
    const [queue, trainQueue] = ['ulasan-c', 'train-c'];
    const [, trainWorker] = await Promise.all([worker(queue, store), worker(trainQueue, store)]);
    const run = startUlasan(['run', specPath, '--temporal', '--task-queue', queue, '--train-queue', trainQueue], temporalEnv(store));
    const { runId, workflowId } = await submitted(run);
    await waitUntil('training to checkpoint its first epoch', () => existsSync(join(store, CHECKPOINTS_DIR)) && readdirSync(join(store, CHECKPOINTS_DIR)).length > 0, 300_000);

    const cancel = await runUlasan(['cancel', runId], temporalEnv(store));
    expect(cancel.code, cancel.output).toBe(0);
    expect(cancel.stdout).toContain(`run ${runId}: CANCELLED`);
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(`error (Cancelled): workflow ${workflowId} was cancelled`);

    // The server records when it asked the activity to stop; the train worker logs when training actually stopped.
    const [requested] = await eventTimes(workflowId, 'activityTaskCancelRequestedEventAttributes');
    const stopped = Date.parse((await trainWorker.waitForOutput(/trainModel stopped on cancellation \(.*?\) at (\S+)/, 30_000))[1]!);
    expect(stopped! - requested!, 'from the cancel request to the activity stopping').toBeLessThanOrEqual(HEARTBEAT_INTERVAL_MS + SLACK_MS);

    const made = await madeBy(store, workflowId);
    expect(made.map((m) => m.stage).sort()).toEqual(['annotate', 'clean', 'features', 'import', 'resample', 'split']);
    const artifacts = new ArtifactStore(store);
    for (const m of made) expect((await artifacts.check(m.key)).status, m.stage).toBe('ok');
    const leftovers = readdirSync(join(store, CHECKPOINTS_DIR)).flatMap((key) => readdirSync(join(store, CHECKPOINTS_DIR, key)));
    expect(leftovers.filter((name) => name.startsWith('.tmp-')), 'no half-written checkpoint left').toEqual([]);
    console.log(`cancel reached the train activity in ${Math.round(stopped! - requested!)} ms; test ${Math.round(performance.now() - started)} ms`);
  }, 400_000);

  it('fails a run whose train queue has no worker within the queue timeout, naming the queue', async () => {
    const started = performance.now();
    const specPath = await writeSpec('unrouted', 300, 1);
    const store = join(dir, 'd-temporal');
    await worker('ulasan-d', store);
    const run = await runUlasan(['run', specPath, '--temporal', '--task-queue', 'ulasan-d', '--train-queue', 'gpu-nobody', '--queue-timeout', '3s'], temporalEnv(store));
    expect(run.code).toBe(1);
    const { workflowId } = ids(SUBMITTED.exec(run.output));
    // The first activity on the train queue (the train store check) is the one no worker takes.
    expect(run.output).toMatch(/error \(NoWorker\): .*no worker took \w+ from task queue 'gpu-nobody' within 3s/);
    const [scheduled] = (await eventTimes(workflowId, 'activityTaskScheduledEventAttributes')).slice(-1);
    const [timedOut] = await eventTimes(workflowId, 'activityTaskTimedOutEventAttributes');
    expect(timedOut! - scheduled!).toBeGreaterThanOrEqual(3_000);
    expect(timedOut! - scheduled!).toBeLessThanOrEqual(3_000 + SLACK_MS);
    console.log(`no train worker: failed ${Math.round(timedOut! - scheduled!)} ms after scheduling; test ${Math.round(performance.now() - started)} ms`);
  }, 300_000);

  it('ends a run that no worker picks up at its execution timeout (--timeout) instead of waiting forever', async () => {
    const specPath = await writeSpec('unserved', 300, 1);
    const run = await runUlasan(['run', specPath, '--temporal', '--task-queue', 'nobody-e', '--timeout', '2s'], temporalEnv(join(dir, 'e-temporal')));
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/error \(TimedOut\): workflow \S+ ran past its execution timeout/);
    const { workflowId } = ids(SUBMITTED.exec(run.output));
    const [startedAt] = await eventTimes(workflowId, 'workflowExecutionStartedEventAttributes');
    const [timedOutAt] = await eventTimes(workflowId, 'workflowExecutionTimedOutEventAttributes');
    // The server arms the timeout at its own start time, not at the started event's stamp: 1979 ms apart was seen
    // under load, so a small tolerance below (the point is "at the timeout, not forever").
    expect(timedOutAt! - startedAt!).toBeGreaterThanOrEqual(2_000 - 100);
    expect(timedOutAt! - startedAt!).toBeLessThanOrEqual(2_000 + SLACK_MS);
  }, 120_000);
});

/** Manifests in a store made by one workflow (their execution names it). */
async function madeBy(root: string, workflowId: string): Promise<Manifest[]> {
  const store = new ArtifactStore(root);
  const keys = readdirSync(root)
    .filter((shard) => /^[0-9a-f]{2}$/.test(shard))
    .flatMap((shard) => readdirSync(join(root, shard)));
  const manifests = await Promise.all(keys.map((key) => store.manifest(key)));
  return manifests.filter((m) => m.execution?.workflowId === workflowId);
}

describe('ulasan worker without a writable store', () => {
  it('refuses to start and names the store and where it came from', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ulasan-nostore-'));
    try {
      const notADir = join(dir, 'a-file');
      await writeFile(notADir, 'not a directory');
      const run = await runUlasan(['worker', '--queue', 'ulasan'], { ULASAN_HOME: notADir, TEMPORAL_ADDRESS: '127.0.0.1:1' }, 120_000);
      expect(run.code).toBe(1);
      expect(run.output).toContain(`error (BadInput): the worker cannot write its store ${notADir} (from ULASAN_HOME)`);
      expect(run.output).not.toMatch(WORKER_READY);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
