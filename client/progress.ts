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

/** Returns a progress callback that keeps the file current and reports a line per change. */
export function progressTracker(storeRoot: string, runId: string, runner: 'local' | 'temporal', print: (line: string) => void) {
  const started = Date.now();
  mkdirSync(join(storeRoot, 'runs'), { recursive: true });
  return (progress: GridProgress) => {
    const etaSeconds = estimateEta(progress, (Date.now() - started) / 1000);
    const record: ProgressRecord = {
      ...progress,
      runId,
      runner,
      startedAt: new Date(started).toISOString(),
      updatedAt: new Date().toISOString(),
      etaSeconds,
    };
    writeFileSync(progressPath(storeRoot, runId), JSON.stringify(record, null, 2) + '\n');
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
