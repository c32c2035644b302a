/** Grid progress for humans: a line with an ETA, and a file `ulasan status <runId>` reads. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GridProgress } from '../workflows/plans/grid';

export interface ProgressRecord extends GridProgress {
  runId: string;
  runner: 'local' | 'temporal';
  workflowId?: string;
  startedAt: string;
  updatedAt: string;
  etaSeconds: number | null;
  /** Set when the run stopped on an error: `status` then says so instead of "running" forever. */
  failure?: string;
}

export const progressPath = (storeRoot: string, runId: string) => join(storeRoot, 'runs', `${runId}.progress.json`);

/** Seconds left, from the average time of the cells trained so far (cached cells cost nothing). */
export function estimateEta(progress: GridProgress, elapsedSeconds: number): number | null {
  const trained = progress.done + progress.failed;
  if (trained === 0) return null;
  const remaining = progress.total - trained - progress.cached;
  return Math.round((elapsedSeconds / trained) * remaining);
}

export function formatProgress(p: GridProgress, etaSeconds: number | null): string {
  const finished = p.done + p.cached + p.failed;
  const width = 24;
  const filled = Math.round((width * finished) / Math.max(1, p.total));
  const eta = etaSeconds === null ? '?' : `${Math.floor(etaSeconds / 60)}m${String(etaSeconds % 60).padStart(2, '0')}s`;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${finished}/${p.total} cells: ${p.done} done, ${p.cached} cached, ${p.failed} failed, ${p.running} running, ETA ${eta}`;
}

/** Writes a run's progress record (the file `ulasan status` reads), stamped now. */
export function writeProgress(storeRoot: string, record: Omit<ProgressRecord, 'startedAt' | 'updatedAt'> & { startedAt?: string }): void {
  const now = new Date().toISOString();
  mkdirSync(join(storeRoot, 'runs'), { recursive: true });
  writeFileSync(progressPath(storeRoot, record.runId), JSON.stringify({ startedAt: now, ...record, updatedAt: now }, null, 2) + '\n');
}

/** Returns a progress callback that keeps the file current and reports a line per change. */
export function progressTracker(storeRoot: string, runId: string, runner: 'local' | 'temporal', print: (line: string) => void) {
  const started = Date.now();
  return (progress: GridProgress) => {
    const etaSeconds = estimateEta(progress, (Date.now() - started) / 1000);
    writeProgress(storeRoot, { ...progress, runId, runner, startedAt: new Date(started).toISOString(), etaSeconds });
    print(formatProgress(progress, etaSeconds));
  };
}

export function readProgress(storeRoot: string, runId: string): ProgressRecord | undefined {
  try {
    return JSON.parse(readFileSync(progressPath(storeRoot, runId), 'utf8')) as ProgressRecord;
  } catch {
    return undefined;
  }
}

/** Records that a local grid run stopped on an error (its cells no longer run). */
export function markProgressFailed(storeRoot: string, runId: string, failure: string): void {
  const record = readProgress(storeRoot, runId);
  if (!record) return;
  const stopped: ProgressRecord = { ...record, running: 0, failure, updatedAt: new Date().toISOString(), etaSeconds: null };
  writeFileSync(progressPath(storeRoot, runId), JSON.stringify(stopped, null, 2) + '\n');
}
