/**
 * `npm run histories:record`: runs the recorded scenarios against a real Temporal dev server, with real
 * `ulasan worker` processes on the `ulasan`, `train` and `scrape` queues and a scratch store, and writes
 * each workflow run's history to workflows/testing/histories/<scenario>.json (Temporal's JSON history
 * format, as `temporal workflow show --output json` writes it). recorded-histories.test.ts replays them
 * against the current workflow code, so a change that would break a running workflow fails the build.
 *
 * Scenarios: a pipeline; a grid that continues as new (one file per run); a nightly scrape of three apps
 * whose first scrape activity fails once and is retried, one app that does not exist (its child fails),
 * the two scrapes combined and the pipeline run on them as a child; a night scored with a model (its
 * scoring child finds drift); a pipeline cancelled midway. Re-run after changing a workflow on purpose (and add a `patched()` branch if runs
 * recorded before must still replay: see workflows/README.md). Takes a few minutes on 2 cores.
 *
 * Needs the Temporal CLI (`npm run temporal:install`) or TEMPORAL_ADDRESS.
 */
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { stringify } from 'yaml';
import { startFakePlayServer } from '../../activities/scrape/testing/fake-play-server';
import { storeGridCells } from '../../activities/grid/grid';
import { loadExperiment } from '../../client/experiment';
import { runLocal } from '../../client/local-runner';
import { scoringModelFor } from '../../client/score';
import { ExperimentSpecSchema, planFromSpec } from '../../client/spec';
import { generateDriftedReviews } from '../../data/sample/synthetic';
import { ArtifactStore } from '../../data/store/artifact-store';
import { runGridOnTemporal, runOnTemporal } from '../../client/temporal-runner';
import { devServerAvailable, startDevServer } from '../../worker/testing/dev-server';
import { stopAll, waitUntil } from '../../worker/testing/processes';
import { startWorkerChild } from '../../worker/testing/worker-child';
import type { NightlyScrapePlan } from '../plans/scrape';

export const HISTORIES_DIR = fileURLToPath(new URL('./histories/', import.meta.url));

/** The scenarios and the history files each writes. */
export const SCENARIOS = ['pipeline', 'grid-continue-as-new', 'nightly-scrape-retried', 'nightly-scoring', 'pipeline-cancelled'] as const;

/** A small pipeline on synthetic reviews: seconds per stage. */
const PIPELINE_SPEC = {
  name: 'histories-pipeline',
  seed: 7,
  source: { synthetic: { rows: 400 } },
  label: { rule: 'binary' },
  split: { train: 0.7, val: 0.15, test: 0.15 },
  features: { maxVocab: 500, maxLen: 16 },
  resample: { method: 'random-over' },
  model: { arch: 'cnn-small', embeddingDim: 8, filters: 8 },
  train: { epochs: 1, batchSize: 64 },
  // 400 synthetic rows leave ~5 rows of the small class in test: the histories are about workflows, not scores.
  evaluate: { minSupport: 5 },
};

/** Three cells, two per run: the grid continues as new once. */
const GRID_SPEC = {
  ...PIPELINE_SPEC,
  name: 'histories-grid',
  grid: { metric: 'macroF1', parallel: 1, selection: 'validation', values: { 'train.learningRate': [0.002, 0.005, 0.01] } },
};

/** Temporal's JSON history, one event per line: small, and a re-recording diffs event by event. */
function compactHistoryJSON(history: Parameters<typeof historyToJSON>[0]): string {
  const { events } = JSON.parse(historyToJSON(history)) as { events: unknown[] };
  return `{"events": [\n${events.map((event) => JSON.stringify(event)).join(',\n')}\n]}\n`;
}

/** `index.json` beside the histories: the workflow id of each file (replay needs it: child ids derive from it). */
export const INDEX_FILE = 'index.json';
const workflowIds: Record<string, string> = {};

/** Writes the history of every run of `workflowId`, oldest first: `<name>.json`, or `<name>-run<i>.json` when it continued as new. */
async function saveHistories(client: Client, workflowId: string, name: string): Promise<string[]> {
  const runs = [];
  // Walk back from the latest run through each run's `continuedExecutionRunId`.
  for (let runId: string | undefined = undefined; ; ) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.unshift(history);
    runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    if (!runId) break;
  }
  const files = runs.map((_, i) => (runs.length === 1 ? `${name}.json` : `${name}-run${i + 1}.json`));
  for (const [i, history] of runs.entries()) {
    await writeFile(join(HISTORIES_DIR, files[i]!), compactHistoryJSON(history));
    workflowIds[files[i]!] = workflowId;
  }
  return files;
}

async function writeSpec(dir: string, name: string, spec: object): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  await writeFile(path, stringify(spec));
  return path;
}

async function recordPipeline(client: Client, address: string, dir: string): Promise<string[]> {
  const experiment = await loadExperiment(await writeSpec(dir, 'pipeline', PIPELINE_SPEC));
  if (experiment.kind !== 'pipeline') throw new Error('PIPELINE_SPEC must be a pipeline');
  let workflowId = '';
  await runOnTemporal(experiment.plan, { address, onSubmitted: (id) => (workflowId = id) });
  return saveHistories(client, workflowId, 'pipeline');
}

async function recordGrid(client: Client, address: string, dir: string): Promise<string[]> {
  const experiment = await loadExperiment(await writeSpec(dir, 'grid', GRID_SPEC));
  if (experiment.kind !== 'grid') throw new Error('GRID_SPEC must be a grid');
  // As `ulasan run` submits a grid: its cells in the store, the plan carrying their key and the store's id.
  const store = new ArtifactStore();
  const plan = { ...(await storeGridCells(store, { ...experiment.plan, cellsPerRun: 2 })), storeId: await store.id() };
  let workflowId = '';
  await runGridOnTemporal(plan, { address, onSubmitted: (id) => (workflowId = id) });
  return saveHistories(client, workflowId, 'grid-continue-as-new');
}

async function recordScrape(client: Client, dir: string): Promise<string[]> {
  // The second request fails with a 500 (Transient): that app's scrape activity is retried and resumes.
  const play = await startFakePlayServer({ apps: { 'com.example.app': 400, 'com.example.other': 300 }, faults: { 2: { kind: 'server-error' } } });
  try {
    const pipeline = await loadExperiment(await writeSpec(dir, 'after-scrape', { ...PIPELINE_SPEC, name: 'histories-after-scrape' }));
    if (pipeline.kind !== 'pipeline') throw new Error('the after-scrape spec must be a pipeline');
    const { source, ...runPipeline } = pipeline.plan;
    void source; // replaced by the night's scrape
    const plan: NightlyScrapePlan = {
      apps: ['com.example.app', 'com.example.other', 'com.example.missing'],
      lang: 'id',
      country: 'id',
      sort: 'newest',
      playBaseUrl: play.url,
      concurrency: 1,
      runPipeline,
    };
    const workflowId = 'histories-nightly';
    await client.workflow.execute('nightlyScrapeWorkflow', { taskQueue: 'ulasan', workflowId, args: [plan] });
    return [
      ...(await saveHistories(client, workflowId, 'nightly-scrape-retried')),
      ...(await saveHistories(client, `${workflowId}/com.example.app`, 'nightly-scrape-retried-app')),
      ...(await saveHistories(client, `${workflowId}/com.example.missing`, 'nightly-scrape-retried-missing-app')),
      ...(await saveHistories(client, `${workflowId}/pipeline`, 'nightly-scrape-retried-pipeline')),
    ];
  } finally {
    await play.close();
  }
}

/** A scored night: one app whose reviews drifted, scored with a model trained here (the scoring child records its run). */
async function recordScoredNight(client: Client): Promise<string[]> {
  const store = new ArtifactStore();
  const spec = { name: 'histories-model', seed: 7, source: { synthetic: { rows: 600 } }, features: { kind: 'tfidf', minDf: 1 }, model: { arch: 'nb' }, evaluate: { minSupport: 5 } };
  const trained = await runLocal(planFromSpec(ExperimentSpecSchema.parse(spec)), { store });
  const model = trained.stages.find((stage) => stage.stage === 'train')!.key;
  const play = await startFakePlayServer({ apps: { 'com.example.drifted': 300 }, rows: { 'com.example.drifted': generateDriftedReviews({ rows: 300, seed: 5 }) } });
  try {
    const score = await scoringModelFor(store, model, {}, 'histories-scored');
    const plan: NightlyScrapePlan = { apps: ['com.example.drifted'], lang: 'id', country: 'id', sort: 'newest', playBaseUrl: play.url, score };
    const workflowId = 'histories-scored-night';
    await client.workflow.execute('nightlyScrapeWorkflow', { taskQueue: 'ulasan', workflowId, args: [plan] });
    return [...(await saveHistories(client, workflowId, 'nightly-scoring')), ...(await saveHistories(client, `${workflowId}/score`, 'nightly-scoring-score'))];
  } finally {
    await play.close();
  }
}

async function recordCancelled(client: Client, dir: string): Promise<string[]> {
  const experiment = await loadExperiment(await writeSpec(dir, 'cancelled', { ...PIPELINE_SPEC, name: 'histories-cancelled', seed: 8 }));
  if (experiment.kind !== 'pipeline') throw new Error('the cancelled spec must be a pipeline');
  const workflowId = 'histories-cancelled';
  const handle = await client.workflow.start('pipelineWorkflow', { taskQueue: 'ulasan', workflowId, args: [experiment.plan] });
  // Cancel once two stages are done: the run ends cancelled midway.
  await waitUntil('two finished stages', async () => {
    const { events } = await handle.fetchHistory();
    return (events ?? []).filter((e) => e.activityTaskCompletedEventAttributes).length >= 2 ? true : undefined;
  }, 300_000, 100);
  await handle.cancel();
  const outcome = await handle.result().then(
    () => 'completed',
    (error: unknown) => String(error),
  );
  if (outcome === 'completed') throw new Error('the cancelled pipeline completed: cancel it earlier');
  return saveHistories(client, workflowId, 'pipeline-cancelled');
}

export async function recordHistories(log: (message: string) => void = console.log): Promise<string[]> {
  const env = await startDevServer();
  const dir = await mkdtemp(join(tmpdir(), 'ulasan-histories-'));
  const storeRoot = join(dir, 'store');
  process.env.ULASAN_HOME = storeRoot; // the client side of each scenario uses the workers' store
  try {
    await Promise.all(
      ['ulasan', 'train', 'scrape'].map((queue) => startWorkerChild({ client: env.client, address: env.address, queue, storeRoot })),
    );
    log(`workers ready on ${env.address}`);
    await mkdir(HISTORIES_DIR, { recursive: true });
    for (const old of (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json'))) await rm(join(HISTORIES_DIR, old));
    const files: string[] = [];
    for (const [name, record] of [
      ['pipeline', () => recordPipeline(env.client, env.address, dir)],
      ['grid with continue-as-new', () => recordGrid(env.client, env.address, dir)],
      ['nightly scrape with a retried failure', () => recordScrape(env.client, dir)],
      ['scored night', () => recordScoredNight(env.client)],
      ['cancelled pipeline', () => recordCancelled(env.client, dir)],
    ] as const) {
      const started = performance.now();
      const written = await record();
      log(`${name}: ${written.join(', ')} (${Math.round(performance.now() - started)} ms)`);
      files.push(...written);
    }
    await writeFile(join(HISTORIES_DIR, INDEX_FILE), JSON.stringify(workflowIds, null, 2) + '\n');
    return files;
  } finally {
    await stopAll();
    await env.teardown();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!devServerAvailable('npm run histories:record')) process.exit(1);
  recordHistories()
    .then((files) => {
      console.log(`wrote ${files.length} histories to ${HISTORIES_DIR}`);
      process.exit(0);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
