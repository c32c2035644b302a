/** The `ulasan` command line: parses arguments and calls library functions. */
import { Command } from 'commander';

/** Task queue of the pipeline workers unless told otherwise. */
const DEFAULT_TASK_QUEUE = 'ulasan';
import { UlasanError } from '../activities/errors';
import { ArtifactStore } from '../data/store/artifact-store';
import { collectLineage, formatLineage } from '../data/store/lineage';
import type { ReviewFileFormat } from '../activities/import/import';
import { realActivities } from './local-runner';
import type { RunSummary } from './run-record';
import { runExperiment, runStatus } from './run-experiment';
import { formatVerify, verifyArtifact } from './verify';

const program = new Command('ulasan').description('Honest, reproducible sentiment models from app-store reviews.');
const log = (message: string) => console.error(message);

function printRun(summary: RunSummary, json: boolean): void {
  for (const s of summary.stages) {
    console.log(`${s.stage.padEnd(9)} ${s.cache.padEnd(4)} ${String(s.ms).padStart(7)} ms  ${s.key}${s.reason && s.reason !== 'absent' ? `  (${s.reason})` : ''}`);
  }
  if (summary.gridKey) {
    for (const cell of summary.cells ?? []) {
      const score = cell.val ? Object.entries(cell.val).map(([k, v]) => `${k}=${v.toFixed(4)}`).join(' ') : cell.error;
      console.log(`  ${cell.id === summary.selected ? '*' : ' '} ${cell.id} ${cell.status.padEnd(6)} ${score}`);
    }
    console.log(`grid:    ${summary.gridKey} (selected ${summary.selected} on validation)`);
  }
  console.log(`metrics: ${summary.metricsKey}`);
  console.log(`report:  ${summary.reportPath}`);
  if (json) console.log(JSON.stringify(summary));
}

program
  .command('run')
  .description('Run an experiment spec end to end (in-process by default); a spec with `grid:` runs a grid search.')
  .argument('<spec>', 'experiment spec (YAML)')
  .option('--temporal', 'submit to the Temporal server at TEMPORAL_ADDRESS instead of running in-process')
  .option('--task-queue <queue>', 'Temporal task queue', DEFAULT_TASK_QUEUE)
  .option('--parallel <n>', 'grid cells trained at once (default: the spec\'s grid.parallel)', (v) => Number.parseInt(v, 10))
  .option('--json', 'print a JSON summary as the last line')
  .action(async (specPath: string, options: { temporal?: boolean; taskQueue: string; parallel?: number; json?: boolean }) => {
    printRun(await runExperiment(specPath, { ...options, log }), options.json ?? false);
  });

program
  .command('status')
  .description('Progress of a grid run: cells done / running / failed / cached, with an ETA.')
  .argument('<runId>', 'run id printed by `ulasan run`')
  .action(async (runId: string) => console.log(await runStatus(runId)));

program
  .command('import')
  .description('Import a CSV/TSV/JSON/Parquet review file into the store (columns auto-detected or mapped).')
  .argument('<file>', 'review file')
  .option('--app <name>', 'app id to record on every row (default: the file\'s app column)')
  .option('--format <format>', 'csv | tsv | json | parquet (default: from the extension)')
  .option('--json', 'print {key, rows, quarantined} as the last line')
  .action(async (file: string, options: { app?: string; format?: ReviewFileFormat; json?: boolean }) => {
    const store = new ArtifactStore();
    const outcome = await realActivities(store, log).importReviews({ source: { kind: 'file', path: file, app: options.app, format: options.format } });
    const { rows, quarantined } = outcome.summary as { rows: number; quarantined: number };
    console.log(`${outcome.cache === 'hit' ? 'already imported' : 'imported'}: ${rows} rows, ${quarantined} quarantined`);
    console.log(`key: ${outcome.ref.key}`);
    if (options.json) console.log(JSON.stringify({ key: outcome.ref.key, rows, quarantined }));
  });

program
  .command('lineage')
  .description('Show the chain of artifacts behind a key, back to the imported source.')
  .argument('<key>', 'artifact key (e.g. the metricsKey of a run)')
  .option('--json', 'print the manifests as JSON')
  .action(async (key: string, options: { json?: boolean }) => {
    const chain = await collectLineage(new ArtifactStore(), key);
    console.log(options.json ? JSON.stringify(chain, null, 2) : formatLineage(chain));
  });

program
  .command('verify')
  .description('Recompute an artifact from its recorded inputs, bypassing the cache, and compare file hashes.')
  .argument('<key>', 'artifact key')
  .option('--deep', 'verify every ancestor too')
  .action(async (key: string, options: { deep?: boolean }) => {
    const results = await verifyArtifact(new ArtifactStore(), key, options.deep ?? false);
    for (const result of results) console.log(formatVerify(result));
    process.exitCode = results.every((r) => r.identical) ? 0 : 1;
  });

program
  .command('worker')
  .description('Start a Temporal worker (TEMPORAL_ADDRESS): `--queue train --backend tfjs-node-gpu --concurrency 1` on a GPU host, `--queue ulasan` for the rest.')
  .option('--queue <queue>', 'task queue', DEFAULT_TASK_QUEUE)
  .option('--backend <backend>', 'TensorFlow.js backend: tfjs-node-gpu | tfjs-node | wasm | cpu (default: best available)')
  .option('--concurrency <n>', 'activities run at once on this worker', (v) => Number.parseInt(v, 10))
  .action(async (options: { queue: string; backend?: string; concurrency?: number }) => {
    if (options.backend) process.env.ULASAN_TF_BACKEND = options.backend;
    const { runWorker } = await import('../worker/main');
    await runWorker({ taskQueue: options.queue, concurrency: options.concurrency });
  });
program
  .parseAsync()
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((err: unknown) => {
    if (err instanceof UlasanError) console.error(`error (${err.type}): ${err.message}`);
    else console.error(err);
    process.exit(1);
  });
