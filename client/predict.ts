/** `ulasan predict`: resolves the model and the input, runs the predict plan locally or on Temporal, exports the table. */
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { badInput, notFound } from '../core/errors';
import type { ReviewFileFormat } from '../activities/import/import';
import { PREDICTIONS_TABLE } from '../activities/predict/predict';
import { parquet, quoteLiteral, withConnection } from '../data/duckdb';
import { ArtifactStore } from '../data/store/artifact-store';
import { PREDICT_PROFILES, runPredict, type PredictActivities, type PredictPlan, type PredictResult } from '../workflows/plans/predict';
import { realActivities, wrapActivities } from './local-runner';
import { RunLease } from './leases';
import { resolveModel } from './models';

export interface PredictOptions {
  /** Also write the predictions here: `.csv`, `.parquet` or `.jsonl`. */
  out?: string;
  app?: string;
  format?: ReviewFileFormat;
  temporal?: boolean;
  taskQueue: string;
  log: (message: string) => void;
  store?: ArtifactStore;
}

export interface PredictSummary extends PredictResult {
  /** The predictions table in the store. */
  path: string;
  out?: string;
}

const EXPORT_FORMATS: Record<string, string> = { '.csv': 'FORMAT csv, HEADER', '.parquet': 'FORMAT parquet', '.jsonl': 'FORMAT json', '.ndjson': 'FORMAT json' };

function exportFormat(out: string): string {
  const format = EXPORT_FORMATS[extname(out).toLowerCase()];
  if (!format) throw badInput(`--out ${out}: give a file ending in ${Object.keys(EXPORT_FORMATS).join(', ')}`, { field: '--out', file: out });
  return format;
}

/** A review file to import, or a table artifact already in the store. */
async function inputOf(store: ArtifactStore, input: string, options: PredictOptions): Promise<PredictPlan['input']> {
  if (existsSync(input)) {
    // Reviews to label need no rating: a file without one imports, and a row's missing rating costs it nothing.
    const source = { kind: 'file', path: resolve(input), ratings: 'optional', ...(options.app ? { app: options.app } : {}), ...(options.format ? { format: options.format } : {}) } as const;
    return { source };
  }
  if (/^[0-9a-f]{64}$/.test(input) && (await store.has(input))) return { table: { key: input, stage: (await store.manifest(input)).stage } };
  throw notFound(`input '${input}' is neither a review file nor an artifact key in ${store.root}; give a CSV/TSV/JSON/Parquet file or a table key`, { file: input });
}

export async function predictReviews(modelRef: string, input: string, options: PredictOptions): Promise<PredictSummary> {
  const store = options.store ?? new ArtifactStore();
  const format = options.out ? exportFormat(options.out) : undefined;
  const plan: PredictPlan = { model: await resolveModel(store, modelRef), input: await inputOf(store, input, options) };
  const leaseId = `predict-${plan.model.slice(0, 12)}-${Date.now()}-${process.pid}`;
  // Leased like a run: a concurrent `ulasan gc` keeps the model and the input while they are read.
  const lease = await RunLease.acquire(store, leaseId, options.temporal ? 'temporal' : 'local');
  const result = await (options.temporal
    ? (await import('./temporal-runner')).runPredictOnTemporal(plan, { taskQueue: options.taskQueue })
    : runPredict(wrapActivities<PredictActivities>(realActivities(store, options.log), { store, log: options.log, lease }, PREDICT_PROFILES), plan)
  ).finally(() => lease.release());
  const path = store.path(result.predictionsKey, PREDICTIONS_TABLE);
  if (options.out && format) {
    const out = resolve(options.out);
    await withConnection((connection) => connection.run(`COPY (SELECT * FROM ${parquet(path)} ORDER BY source_row) TO ${quoteLiteral(out)} (${format})`));
  }
  return { ...result, path, ...(options.out ? { out: resolve(options.out) } : {}) };
}

export function formatPredict(summary: PredictSummary): string[] {
  const byLabel = (summary.summary.byLabel ?? {}) as Record<string, number>;
  const counts = Object.entries(byLabel).map(([label, n]) => `${label} ${n}`).join(', ');
  return [
    ...summary.stages.map((s) => `${s.stage.padEnd(9)} ${s.cache.padEnd(4)} ${String(s.ms).padStart(7)} ms  ${s.key}`),
    `model:       ${summary.modelKey}`,
    `input:       ${summary.tableKey}`,
    `predicted:   ${counts || 'no rows'}`,
    `predictions: ${summary.predictionsKey}`,
    `table:       ${summary.path}`,
    ...(summary.out ? [`written:     ${summary.out}`] : []),
  ];
}
