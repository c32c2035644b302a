/**
 * `ulasan runs`: past and running runs from the run records (client/records.ts) and leases: id, spec
 * name, start, duration, runner, headline metric, status and report path. Start comes from the run id,
 * the end from when its record was written. A record with alerts (nightly scoring's drift) has status
 * `drift`, a scoring run that could not run `failed`; a lease with no record yet is `running`.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { ArtifactStore } from '../data/store/artifact-store';
import type { FailureSummary } from '../core/failures';
import { runStartedAt } from './gc';
import { headlineText, runHeadline } from './headline';
import { liveLeases } from './leases';
import { listFailedRuns, listRunRecords, runsDir, type FailedRun, type StoredRun } from './models';

export interface RunListing {
  runId: string;
  spec?: string;
  startedAt?: string;
  durationSeconds?: number;
  runner?: string;
  headline?: string;
  /** `done` (a pipeline or grid run), `ok` (scoring without alerts), `drift` (scoring with alerts), `failed` (scoring that could not run), `running`. */
  status: 'done' | 'ok' | 'drift' | 'failed' | 'running';
  reportPath?: string;
  alerts?: string[];
  /** Why a failed run failed: its failure type and message. */
  error?: FailureSummary;
}

/** Alerts a run recorded (nightly scoring: drift measures past their thresholds). */
type RecordWithAlerts = (StoredRun & { alerts?: string[]; kind?: string; status?: undefined; error?: undefined }) | (FailedRun & { alerts?: undefined; kind?: string });

function statusOf(run: RecordWithAlerts): RunListing['status'] {
  if (run.status === 'failed') return 'failed';
  if (run.alerts && run.alerts.length > 0) return 'drift';
  return run.kind === 'score' ? 'ok' : 'done';
}

async function listing(store: ArtifactStore, run: RecordWithAlerts): Promise<RunListing> {
  const started = runStartedAt(run.runId);
  const finished = statSync(join(runsDir(store), `${run.runId}.json`)).mtime;
  const headline = run.status === 'failed' ? undefined : await runHeadline(store, run).then(headlineText, () => undefined);
  return {
    runId: run.runId,
    ...(run.plan?.name ? { spec: run.plan.name } : {}),
    ...(started ? { startedAt: started.toISOString(), durationSeconds: Math.max(0, Math.round((finished.getTime() - started.getTime()) / 1000)) } : {}),
    ...(run.runner ? { runner: run.runner } : {}),
    ...(headline ? { headline } : {}),
    status: statusOf(run),
    ...(run.runReportPath ?? run.reportPath ? { reportPath: run.runReportPath ?? run.reportPath } : {}),
    ...(run.alerts && run.alerts.length > 0 ? { alerts: run.alerts } : {}),
    ...(run.error ? { error: run.error } : {}),
  };
}

/** Newest first; `limit` of them. */
export async function listRuns(store: ArtifactStore, limit?: number): Promise<RunListing[]> {
  const byId = (a: { runId: string }, b: { runId: string }) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);
  const records = [...((await listRunRecords(store)) as RecordWithAlerts[]), ...(await listFailedRuns(store))].sort(byId);
  const recorded = new Set(records.map((r) => r.runId));
  const running: RunListing[] = liveLeases(store)
    .filter((l) => !recorded.has(l.runId))
    .map((l) => ({ runId: l.runId, startedAt: l.startedAt, runner: l.runner, status: 'running' }));
  const done = await Promise.all(records.map((r) => listing(store, r)));
  const all = [...running, ...done.reverse()];
  return limit === undefined ? all : all.slice(0, limit);
}

export function formatRuns(runs: RunListing[]): string {
  if (runs.length === 0) return 'no runs yet (`ulasan run <spec>`)';
  return runs
    .map((r) =>
      [
        `${r.runId}  ${r.status.toUpperCase()}  ${r.spec ?? ''}  ${r.runner ?? ''}`,
        `   started ${r.startedAt ?? '?'}${r.durationSeconds !== undefined ? `, took ${r.durationSeconds}s` : ''}`,
        ...(r.headline ? [`   ${r.headline}`] : []),
        ...(r.alerts ?? []).map((a) => `   ALERT: ${a}`),
        ...(r.error ? [`   FAILED (${r.error.type ?? 'error'}): ${r.error.message}`] : []),
        ...(r.reportPath ? [`   report: ${r.reportPath}`] : []),
      ].join('\n'),
    )
    .join('\n');
}
