/** The `ulasan` command line: parses arguments and calls library functions. */
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { formatScrape, nightlyPlanFromOptions, runScrapeLocal, scrapeExitCode, scrapeJson, withNightlyOptions, type ScrapeCliOptions } from './scrape';
import { describeScoring, driftThresholdsFrom, runScoringLocal, scoringPlanFor, withDriftThresholdOptions, type DriftThresholdOptions } from './score';

/** Task queue of the pipeline workers unless told otherwise. */
const DEFAULT_TASK_QUEUE = 'ulasan';
import { classifyError, UlasanError } from '../core/errors';
import { ArtifactStore } from '../data/store/artifact-store';
import { codeVersion } from '../data/store/code-version';
import { collectLineage, formatLineage } from '../data/store/lineage';
import { TEXT_ENCODINGS, type TextEncoding } from '../activities/import/columns';
import type { ReviewFileFormat } from '../activities/import/import';
import { standingsLines } from '../activities/grid/standings';
import { realActivities } from './local-runner';
import type { RunSummary } from './records';
import { stageWarnings } from '../workflows/plans/pipeline';
import { cancelRunById, parseParallel, runExperiment, runStatus, watchRun } from './experiment-runner';

/** A duration flag ('30s', '5m', '1h', '2 days', or milliseconds) in ms. */
function durationMs(value: string): number {
  let ms = Number.NaN;
  try {
    ms = msToNumber((/^\d+$/.test(value) ? Number(value) : value) as Duration);
  } catch {
    // reported below
  }
  if (!(ms > 0)) throw new InvalidArgumentError(`'${value}' is not a duration: write e.g. 30s, 5m, 1h or 2 days`);
  return ms;
}

const program = new Command('ulasan')
  .description('Honest, reproducible sentiment models from app-store reviews.')
  // The code version manifests record: package version + git commit (`.dirty` with local changes).
  .version(`ulasan ${codeVersion()}`, '-V, --version', 'print the version and code hash');
const log = (message: string) => console.error(message);

function printRun(summary: RunSummary, json: boolean, headline: string[]): void {
  for (const s of summary.stages) {
    console.log(`${s.stage.padEnd(9)} ${s.cache.padEnd(4)} ${String(s.ms).padStart(7)} ms  ${s.key}${s.reason && s.reason !== 'absent' ? `  (${s.reason})` : ''}`);
  }
  if (summary.gridKey) {
    for (const cell of summary.cells ?? []) {
      const score = cell.val ? Object.entries(cell.val).map(([k, v]) => `${k}=${(v as number).toFixed(4)}`).join(' ') : `${cell.error?.type}: ${cell.error?.message}`;
      console.log(`  ${cell.id === summary.selected ? '*' : ' '} ${cell.id} ${(cell.error ? 'failed' : 'scored').padEnd(6)} ${score}`);
    }
    const counts = summary.counts;
    for (const line of summary.standings ? standingsLines(summary.standings) : []) console.log(line);
    const how = summary.standings?.method === 'cv' ? 'by cross-validation, refitted on the whole training split' : 'on validation';
    console.log(`grid:    ${summary.gridKey} (selected ${summary.selected} ${how}${counts ? `; this run: ${counts.done} trained, ${counts.cached} cached, ${counts.failed} failed` : ''})`);
  }
  for (const warning of stageWarnings(summary.stages)) console.log(`WARNING: ${warning}`);
  for (const line of headline) console.log(line);
  console.log(`metrics: ${summary.metricsKey}`);
  console.log(`report:  ${summary.reportPath}`);
  console.log(`run report (with this run's cache hits and times): ${summary.runReportPath}`);
  if (json) console.log(JSON.stringify(summary));
}

interface RunCliOptions {
  temporal?: boolean;
  taskQueue: string;
  trainQueue?: string;
  queueTimeout?: number;
  heartbeatTimeout?: number;
  timeout?: number;
  parallel?: number;
  verifyHashes?: boolean;
  allowSmall?: boolean;
  json?: boolean;
}

program
  .command('run')
  .description('Run an experiment spec end to end (in-process by default); a spec with `grid:` runs a grid search.')
  .argument('<spec>', 'experiment spec (YAML)')
  .option('--temporal', 'submit to the Temporal server at TEMPORAL_ADDRESS instead of running in-process')
  .option('--task-queue <queue>', 'Temporal task queue', DEFAULT_TASK_QUEUE)
  .option('--train-queue <queue>', 'Temporal: train on this task queue (workers started with `ulasan worker --queue <queue>`)')
  .option('--queue-timeout <duration>', 'Temporal: fail the run when no worker on --train-queue takes a model within this (default 1h)', durationMs)
  .option('--heartbeat-timeout <duration>', 'Temporal: retry an activity elsewhere when its worker is silent this long (default: 1m, training 5m)', durationMs)
  .option('--timeout <duration>', 'Temporal: end the run when it takes longer than this (default 7 days)', durationMs)
  .option('--parallel <n>', 'grid cells trained at once, 1..64 (default: the spec\'s grid.parallel)', parseParallel)
  .option('--verify-hashes', 'hash every file of every cache hit (default: trust files whose size, mtime and edge checksum match their stamp)')
  .option('--allow-small', 'run even when a scored split has fewer rows per class than evaluate.minSupport (default 10); the console and report headline then carry a warning')
  .option('--json', 'print a JSON summary as the last line')
  .action(async (specPath: string, options: RunCliOptions) => {
    const { trainQueue, queueTimeout, heartbeatTimeout, timeout, ...rest } = options;
    const routing = { trainTaskQueue: trainQueue, queueTimeoutMs: queueTimeout, heartbeatTimeoutMs: heartbeatTimeout, timeoutMs: timeout };
    const summary = await runExperiment(specPath, { ...rest, ...routing, log });
    const { formatHeadline, runHeadline } = await import('./headline');
    printRun(summary, options.json ?? false, formatHeadline(await runHeadline(new ArtifactStore(), summary)));
  });

program
  .command('studies')
  .description('Run the published studies of experiments/studies/ (all, or those named) as published and honestly, and regenerate docs/RESULTS.md and docs/results.html from their metrics.')
  .argument('[names...]', 'study ids or numbers (e.g. 1 5 or halodoc-cnn-bilstm); none runs all')
  .option('--budget <budget>', 'full (the published protocol) or smoke (same protocol: a row sample, fewer epochs and grid points)', 'full')
  .option('--temporal', 'submit every run to the Temporal server at TEMPORAL_ADDRESS instead of running in-process')
  .option('--task-queue <queue>', 'Temporal task queue', DEFAULT_TASK_QUEUE)
  .option('--out <dir>', 'folder of results.json, RESULTS.md and results.html', 'docs')
  .option('--studies-dir <dir>', 'folder of the study files', 'experiments/studies')
  .option('--page-only', 'regenerate the page from <out>/results.json and the store, running nothing')
  .option('--allow-small', 'run even when a scored split has fewer rows per class than evaluate.minSupport')
  .action(async (names: string[], options: { budget: string; temporal?: boolean; taskQueue: string; out: string; studiesDir: string; pageOnly?: boolean; allowSmall?: boolean }) => {
    const { parseBudget, regeneratePage, runStudies } = await import('./studies/run-studies');
    const budget = parseBudget(options.budget);
    const written = options.pageOnly
      ? await regeneratePage(resolve(options.out))
      : await runStudies({ names, budget, studiesDir: resolve(options.studiesDir), outDir: resolve(options.out), temporal: options.temporal, taskQueue: options.taskQueue, allowSmall: options.allowSmall, log });
    console.log(`results: ${written.markdownPath} and ${written.htmlPath}`);
  });

program
  .command('cancel')
  .description('Cancel a run on Temporal: running activities stop within one heartbeat interval, finished stages stay cached.')
  .argument('<runId>', 'run id printed by `ulasan run --temporal`, or a workflow id')
  .action(async (runId: string) => {
    console.log(`run ${runId}: ${await cancelRunById(runId)}`);
  });

program
  .command('status')
  .description('Progress of a run: a local grid\'s cells done / running / failed / cached with an ETA, or a Temporal run\'s state and progress.')
  .argument('<runId>', 'run id printed by `ulasan run`')
  .action(async (runId: string) => console.log(await runStatus(runId)));

program
  .command('watch')
  .description('Follow a run on Temporal (started here or by another client) until it ends: a line per change of state or grid progress.')
  .argument('<runId>', 'run id printed by `ulasan run --temporal`, or a workflow id')
  .action(async (runId: string) => {
    const status = await watchRun(runId, (line) => console.log(line));
    process.exitCode = status === 'COMPLETED' ? 0 : 1;
  });

program
  .command('import')
  .description(
    'Import a CSV/TSV/JSON/Parquet review file into the store. Columns are auto-detected from common names ' +
      '(content/text/review, score/rating/stars, reviewId/id, at/date, userName, app); to map other names, use a spec\'s source.columns and `ulasan run`.',
  )
  .argument('<file>', 'review file')
  .option('--app <name>', 'app id to record on every row (default: the file\'s app column)')
  .option('--format <format>', 'csv | tsv | json | parquet (default: from the extension)')
  .addOption(new Option('--encoding <encoding>', 'text encoding of a CSV/TSV file (default: utf-8, and a file that is not UTF-8 is detected: UTF-16, Latin-1)').choices(TEXT_ENCODINGS))
  .option('--unlabelled', 'reviews to predict: the file needs no rating column, and rows without a readable rating keep a null rating instead of being quarantined')
  .option('--json', 'print {key, rows, quarantined} as the last line')
  .action(async (file: string, options: { app?: string; format?: ReviewFileFormat; encoding?: TextEncoding; unlabelled?: boolean; json?: boolean }) => {
    const store = new ArtifactStore();
    const ratings = options.unlabelled ? 'optional' : 'required';
    const outcome = await realActivities(store, log).importReviews({ source: { kind: 'file', path: file, app: options.app, format: options.format, encoding: options.encoding, ratings } });
    const { rows, quarantined } = outcome.summary as { rows: number; quarantined: number };
    console.log(`${outcome.cache === 'hit' ? 'already imported' : 'imported'}: ${rows} rows, ${quarantined} quarantined`);
    console.log(`key: ${outcome.ref.key}`);
    if (options.json) console.log(JSON.stringify({ key: outcome.ref.key, rows, quarantined }));
  });

program
  .command('lineage')
  .description('Show the graph of artifacts behind a key, back to the imported source.')
  .argument('<key>', 'artifact key (e.g. the metricsKey of a run)')
  .option('--json', 'print the graph as JSON: nodes (stage, params, row counts, code version, timestamps, file hashes) and edges')
  .option('--dot', 'print the graph as Graphviz DOT (pipe to `dot -Tsvg > lineage.svg`)')
  .action(async (key: string, options: { json?: boolean; dot?: boolean }) => {
    const chain = await collectLineage(new ArtifactStore(), key);
    const { formatLineageDot, lineageGraph } = await import('./lineage-format');
    console.log(options.dot ? formatLineageDot(chain) : options.json ? JSON.stringify(lineageGraph(chain), null, 2) : formatLineage(chain));
  });

program
  .command('diff')
  .description('Compare two runs: which stages and params differ, which artifacts are shared.')
  .argument('<runA>', 'run id (under <ULASAN_HOME>/runs/) or the path of a run .json')
  .argument('<runB>', 'run id or path')
  .option('--json', 'print the comparison as JSON')
  .action(async (runA: string, runB: string, options: { json?: boolean }) => {
    const { diffRuns, formatRunDiff } = await import('./diff');
    const diff = await diffRuns(new ArtifactStore(), runA, runB);
    console.log(options.json ? JSON.stringify(diff, null, 2) : formatRunDiff(diff));
  });

program
  .command('drift')
  .description("Compare two windows of reviews: label mix, review length, OOV rate, changed terms, and a model's score on each.")
  .argument('<tableKeyA>', 'clean, annotate or split artifact: the reference window')
  .argument('<tableKeyB>', 'the window to compare with it')
  .option('--model <modelKey>', 'train artifact: score it on both windows and take OOV against its vocabulary')
  .option('--features <featuresKey>', "the model's features artifact (default: the one it was trained on)")
  .option('--top <n>', 'changed terms to list', '20')
  .option('--json', 'print the report as JSON')
  .action(async (a: string, b: string, options: { model?: string; features?: string; top: string; json?: boolean }) => {
    const { computeDrift, formatDrift } = await import('../activities/lineage/drift');
    const report = await computeDrift(new ArtifactStore(), a, b, { modelKey: options.model, featuresKey: options.features, topTerms: Number(options.top) });
    console.log(options.json ? JSON.stringify(report, null, 2) : formatDrift(report));
  });

program
  .command('verify')
  .description('Recompute an artifact from its recorded inputs, bypassing the cache, and compare file hashes.')
  .argument('<key>', 'artifact key')
  .option('--deep', 'verify every ancestor too')
  .action(async (key: string, options: { deep?: boolean }) => {
    const { formatVerify, verifyArtifact } = await import('./verify');
    const results = await verifyArtifact(new ArtifactStore(), key, options.deep ?? false);
    for (const result of results) console.log(formatVerify(result));
    process.exitCode = results.every((r) => r.identical) ? 0 : 1;
  });

program
  .command('worker')
  .description('Start a Temporal worker (TEMPORAL_ADDRESS): `--queue train --backend tfjs-node-gpu --concurrency 1` on a GPU host, `--queue ulasan` for the rest.')
  .option('--queue <queue>', 'task queue', DEFAULT_TASK_QUEUE)
  .option('--backend <backend>', 'TensorFlow.js backend: tfjs-node-gpu | tfjs-node | wasm | cpu (default: best available)')
  .option('--concurrency <n>', 'activities run at once on this worker (default: 1 per core on the train queue, 2 per core elsewhere)', (v) => Number.parseInt(v, 10))
  .option('--heartbeat-interval <duration>', 'running activities heartbeat at least this often; a cancel reaches them within it (default 5s)', durationMs)
  .action(async (options: { queue: string; backend?: string; concurrency?: number; heartbeatInterval?: number }) => {
    if (options.backend) process.env.ULASAN_TF_BACKEND = options.backend;
    const { runWorker } = await import('../worker/main');
    await runWorker({ taskQueue: options.queue, concurrency: options.concurrency, heartbeatIntervalMs: options.heartbeatInterval });
  });

program
  .command('predict')
  .description("Label reviews with a trained model, through the model's own cleaning and features: a cached `predict` artifact (predictions.parquet).")
  .argument('<model>', 'train artifact key, run id (its selected model) or model tag')
  .argument('<input>', 'review file (CSV/TSV/JSON/Parquet, as `import` reads; a rating column is not needed) or a table artifact key')
  .option('--out <file>', 'also write the predictions to a .csv, .parquet or .jsonl file')
  .option('--app <name>', 'app id to record on every imported row')
  .option('--format <format>', 'csv | tsv | json | parquet (default: from the extension)')
  .option('--temporal', 'run predictWorkflow on the Temporal server at TEMPORAL_ADDRESS')
  .option('--task-queue <queue>', 'Temporal task queue', DEFAULT_TASK_QUEUE)
  .option('--json', 'print {predictionsKey, tableKey, modelKey, path, out, summary} as the last line')
  .action(async (model: string, input: string, options: { out?: string; app?: string; format?: ReviewFileFormat; temporal?: boolean; taskQueue: string; json?: boolean }) => {
    const { formatPredict, predictReviews } = await import('./predict');
    const summary = await predictReviews(model, input, { ...options, log });
    for (const line of formatPredict(summary)) console.log(line);
    if (options.json) console.log(JSON.stringify(summary));
  });

program
  .command('runs')
  .description('Past and running runs: id, spec, start, duration, runner, headline metric, status, report.')
  .option('--limit <n>', 'newest n runs', (v) => Number.parseInt(v, 10))
  .option('--json', 'print the list as JSON')
  .action(async (options: { limit?: number; json?: boolean }) => {
    const { formatRuns, listRuns } = await import('./runs');
    const runs = await listRuns(new ArtifactStore(), options.limit);
    console.log(options.json ? JSON.stringify(runs, null, 2) : formatRuns(runs));
  });

program
  .command('gc')
  .description('Remove artifacts no kept run, tagged model, scrape snapshot or running run reaches; prints what it frees.')
  .option('--keep-runs <n>', 'keep the newest n runs (default: all)', (v) => Number.parseInt(v, 10))
  .option('--older-than <age>', 'drop runs older than this (e.g. 30d, 12h); younger ones are kept')
  .option('--keep-tagged', 'keep tagged models (the default)')
  .option('--no-keep-tagged', 'let tagged models go too')
  .option('--dry-run', 'print what would be removed, remove nothing')
  .option('--json', 'print the report as JSON')
  .action(async (options: { keepRuns?: number; olderThan?: string; keepTagged: boolean; dryRun?: boolean; json?: boolean }) => {
    const { collectGarbage, formatGc, parseAge } = await import('./gc');
    const olderThanMs = options.olderThan === undefined ? undefined : parseAge(options.olderThan);
    const report = await collectGarbage(new ArtifactStore(), { keepRuns: options.keepRuns, olderThanMs, keepTagged: options.keepTagged, dryRun: options.dryRun });
    console.log(options.json ? JSON.stringify(report, null, 2) : formatGc(report));
  });

program
  .command('du')
  .description('Space the store takes, by stage.')
  .option('--json', 'print as JSON')
  .action(async (options: { json?: boolean }) => {
    const { formatSpace, storeSpace } = await import('./gc');
    const space = await storeSpace(new ArtifactStore());
    console.log(options.json ? JSON.stringify(space, null, 2) : formatSpace(space));
  });

withDriftThresholdOptions(
  program
    .command('score')
    .description("Nightly scoring once: label a window of reviews with a model and check it for drift against the model's training window; alerts go into the run record (`ulasan runs`).")
    .argument('<model>', 'train artifact key, run id or model tag')
    .argument('<file>', 'review file (CSV/TSV/JSON/Parquet)')
    .option('--name <name>', 'name recorded with the run', 'scoring')
    .option('--json', 'print {runId, status, alerts, predictionsKey, driftKey} as the last line'),
).action(async (modelRef: string, file: string, o: DriftThresholdOptions & { name: string; json?: boolean }) => {
  const store = new ArtifactStore();
  const run = await runScoringLocal(store, await scoringPlanFor(store, modelRef, { kind: 'file', path: resolve(file) }, driftThresholdsFrom(o), o.name), log);
  console.log(`run ${run.runId}: ${run.status}${run.alerts.length ? ` (${run.alerts.length} alerts)` : ''}; predictions ${run.predictionsKey}; drift ${run.driftKey}`);
  if (o.json) console.log(JSON.stringify({ runId: run.runId, status: run.status, alerts: run.alerts, predictionsKey: run.predictionsKey, driftKey: run.driftKey }));
  if (run.status === 'drift') process.exitCode = 3;
});

const model = program.command('model').description('Name and inspect trained models (tags live under <ULASAN_HOME>/tags).');
model
  .command('tag')
  .description('Give a model a name (moves the tag if it exists).')
  .argument('<model>', 'train artifact key, run id or existing tag')
  .argument('<name>', 'tag name, e.g. halodoc-prod')
  .action(async (ref: string, name: string) => {
    const { tagModel } = await import('./models');
    const tag = await tagModel(new ArtifactStore(), ref, name);
    console.log(`tagged ${tag.key} as ${tag.name}`);
  });
model
  .command('list')
  .description('Model tags and the models past runs selected.')
  .option('--json', 'print as JSON')
  .action(async (options: { json?: boolean }) => {
    const { formatModelList, modelList } = await import('./models');
    const list = await modelList(new ArtifactStore());
    console.log(options.json ? JSON.stringify(list, null, 2) : formatModelList(list));
  });
model
  .command('show')
  .description('What a model is: arch, features, classes, backend, tags, and the runs that scored it.')
  .argument('<model>', 'train artifact key, run id or tag')
  .action(async (ref: string) => {
    const { describeModel } = await import('./models');
    console.log(JSON.stringify(await describeModel(new ArtifactStore(), ref), null, 2));
  });

withNightlyOptions(
  program
    .command('scrape')
    .description('Scrape Google Play reviews of one or more apps into the store (incremental per app/lang/country), retrying like the workflow; a night run by hand (--pipeline, --score-with).'),
)
  .option('--json', 'print {key, apps: [{appId, key, rows, seen, new, duplicates, complete, stopReason}], failed, scoring?} as the last line')
  .action(async (options: ScrapeCliOptions & { json?: boolean }) => {
    const store = new ArtifactStore();
    const plan = await nightlyPlanFromOptions(options, { store });
    if (plan.score) console.log(describeScoring(plan.score));
    const result = await runScrapeLocal(plan, { store, log });
    for (const line of formatScrape(result)) console.log(line);
    if (options.json) console.log(scrapeJson(result));
    process.exitCode = scrapeExitCode(result);
  });

const schedule = program.command('schedule').description('Manage the Temporal Schedule of nightly scrapes, scored with --score-with (TEMPORAL_ADDRESS).');
interface ScheduleCliOptions extends ScrapeCliOptions {
  cron: string[];
  timezone?: string;
  catchupWindow?: string;
  runTimeout?: string;
  taskQueue?: string;
  scrapeQueue?: string;
  queueTimeout?: number;
}
/** The schedule options `create` and `update` share (no defaults here: `update` changes only what is given). */
const withScheduleOptions = (command: Command): Command =>
  command
    .option('--cron <expr>', 'cron expression, e.g. "0 2 * * *" (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--timezone <tz>', 'IANA time zone of the cron (default UTC)')
    .option('--catchup-window <duration>', 'how late a missed night may still start (default 1 day)')
    .option('--run-timeout <duration>', 'how long one night may run before it is timed out and the next may start (default 12 hours)')
    .option('--task-queue <queue>', `task queue of the workers that run the nightly workflow (default ${DEFAULT_TASK_QUEUE})`)
    .option('--scrape-queue <queue>', 'task queue of the scrape activities: one `ulasan worker --queue <it>` per outgoing address keeps the throttle (default scrape)')
    .option('--queue-timeout <duration>', 'fail an app when no worker on --scrape-queue takes its scrape within this (default 1h)', durationMs);
/** The scrape plan of `create` (and of `update` when --app is given); `--score-with` is resolved now, and its runs named after the schedule. */
const schedulePlan = async (scheduleId: string, options: ScheduleCliOptions) => {
  const plan = {
    ...(await nightlyPlanFromOptions(options, { name: scheduleId })),
    ...(options.scrapeQueue ? { scrapeTaskQueue: options.scrapeQueue } : {}),
    ...(options.queueTimeout !== undefined ? { queueTimeoutMs: options.queueTimeout } : {}),
  };
  if (plan.score) console.log(describeScoring(plan.score));
  return plan;
};
/** Pins a scored schedule's model in the client's store so `ulasan gc` keeps it (or drops the pin: not scored, deleted). */
const pinScheduledModel = async (scheduleId: string, model: string | undefined): Promise<void> => {
  const { pinScheduleModel, unpinSchedule } = await import('./models');
  const store = new ArtifactStore();
  await (model ? pinScheduleModel(store, scheduleId, model) : unpinSchedule(store, scheduleId));
};
const scheduleFields = (options: ScheduleCliOptions) => ({
  ...(options.cron.length > 0 ? { cron: options.cron } : {}),
  ...(options.timezone ? { timezone: options.timezone } : {}),
  ...(options.catchupWindow ? { catchupWindow: options.catchupWindow as Duration } : {}),
  ...(options.runTimeout ? { runTimeout: options.runTimeout as Duration } : {}),
  ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
});
withNightlyOptions(
  withScheduleOptions(
    schedule
      .command('create')
      .description('Create the schedule that runs nightlyScrapeWorkflow on a cron, or update it if it exists (overlap: skip; run timeout; catch-up window); --score-with scores each night and alerts on drift.')
      .requiredOption('--id <scheduleId>', 'schedule id'),
  ),
).action(async (options: ScheduleCliOptions & { id: string }) => {
  const { saveNightlySchedule, withScheduleClient } = await import('./schedule');
  const input = { scheduleId: options.id, cron: options.cron, plan: await schedulePlan(options.id, options), ...scheduleFields(options) };
  console.log(`${await withScheduleClient((client) => saveNightlySchedule(client, input))} schedule ${options.id}`);
  await pinScheduledModel(options.id, input.plan.score?.model);
});
withNightlyOptions(
  withScheduleOptions(
    schedule
      .command('update')
      .description('Change an existing schedule: only the options given (the whole scrape plan, --score-with included, when --app is given); the rest stays.')
      .argument('<scheduleId>', 'schedule id'),
  ),
).action(async (scheduleId: string, options: ScheduleCliOptions) => {
  const { updateNightlySchedule, withScheduleClient } = await import('./schedule');
  const changes = { ...scheduleFields(options), ...(options.app.length > 0 ? { plan: await schedulePlan(scheduleId, options) } : {}) };
  await withScheduleClient((client) => updateNightlySchedule(client, scheduleId, changes));
  console.log(`updated schedule ${scheduleId}`);
  if (changes.plan) await pinScheduledModel(scheduleId, changes.plan.score?.model);
});
schedule
  .command('list')
  .description('List schedules: paused or next run, last run and its status, runs taken, skipped, missed and failed.')
  .option('--json', 'print the list as JSON')
  .action(async (options: { json?: boolean }) => {
    const { formatSchedules, listSchedules, withScheduleClient } = await import('./schedule');
    const lines = await withScheduleClient(listSchedules);
    console.log(options.json ? JSON.stringify(lines) : formatSchedules(lines));
  });
schedule
  .command('backfill')
  .description('Run every night the cron names between <from> and <to>, one after another.')
  .argument('<scheduleId>', 'schedule id')
  .argument('<from>', 'ISO date or time, e.g. 2025-01-01')
  .argument('<to>', 'ISO date or time, e.g. 2025-01-08')
  .action(async (scheduleId: string, from: string, to: string) => {
    const { backfillSchedule, withScheduleClient } = await import('./schedule');
    await withScheduleClient((client) => backfillSchedule(client, scheduleId, from, to));
    console.log(`backfilled schedule ${scheduleId} from ${from} to ${to}`);
  });
const scheduleActions = [
  ['trigger', 'Start a night now (even while another runs).', 'triggered'],
  ['pause', 'Pause a schedule.', 'paused'],
  ['unpause', 'Unpause a schedule.', 'unpaused'],
  ['delete', 'Delete a schedule (its past runs stay).', 'deleted'],
] as const;
for (const [name, description, done] of scheduleActions) {
  schedule
    .command(name)
    .description(description)
    .argument('<scheduleId>', 'schedule id')
    .action(async (scheduleId: string) => {
      const { deleteSchedule, pauseSchedule, triggerSchedule, unpauseSchedule, withScheduleClient } = await import('./schedule');
      const act = { trigger: triggerSchedule, pause: pauseSchedule, unpause: unpauseSchedule, delete: deleteSchedule }[name];
      await withScheduleClient((client) => act(client, scheduleId));
      if (name === 'delete') await pinScheduledModel(scheduleId, undefined);
      console.log(`${done} schedule ${scheduleId}`);
    });
}

program
  .parseAsync()
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((err: unknown) => {
    // Users see what went wrong and what to do (a PlanFailure's type is read too); the stack only when they ask for it.
    const typed = classifyError(err);
    if (typed instanceof UlasanError) console.error(`error (${typed.type}): ${typed.message}`);
    else console.error(`error: ${(typed as Error)?.message ?? String(typed)}`);
    if (process.env.ULASAN_DEBUG) console.error(err);
    process.exit(1);
  });
