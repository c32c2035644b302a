/**
 * Run records written from inside a run: `<store>/runs/<runId>.json`, as `ulasan runs` lists them. Nightly
 * scoring records itself this way on both runners (a scheduled night has no client waiting to write it), so
 * its status and alerts reach `ulasan runs` wherever it ran.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactStore } from '../../data/store/artifact-store';
import type { ActivityDeps } from '../context';
import { badInput } from '../../core/errors';

/** Where run records live. */
export const runsDir = (store: ArtifactStore): string => join(store.root, 'runs');

export interface WriteRunRecordInput {
  /** `run-<yyyymmddThhmmssZ>-...`: `ulasan runs` reads the start from it. */
  runId: string;
  /** `local` or `temporal`. */
  runner: string;
  /** What the run reports (kind, plan, status, alerts, keys, stages). */
  record: Record<string, unknown>;
}

const RUN_ID = /^run-\d{8}T\d{6}Z-[\w.-]+$/;

/** The `writeRunRecord` activity: writes the record once; a retry after a write that succeeded finds it and is done. */
export function createWriteRunRecordActivity(deps: ActivityDeps) {
  return async function writeRunRecord(input: WriteRunRecordInput): Promise<void> {
    if (!RUN_ID.test(input.runId)) throw badInput(`run id ${JSON.stringify(input.runId)} is not run-<yyyymmddThhmmssZ>-<letters, digits, . _ ->`, { field: 'runId' });
    const path = join(runsDir(deps.store), `${input.runId}.json`);
    if (existsSync(path)) return;
    await mkdir(runsDir(deps.store), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ runId: input.runId, runner: input.runner, ...input.record }, null, 2) + '\n');
    await rename(tmp, path);
  };
}
