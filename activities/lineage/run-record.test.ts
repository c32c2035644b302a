/** Run records written from inside a run: once, where `ulasan runs` reads them; a bad id is refused before anything is written. */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../data/store/artifact-store';
import { createWriteRunRecordActivity, runsDir } from './run-record';

let root: string;
let store: ArtifactStore;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-run-record-'));
  store = new ArtifactStore(root);
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('writeRunRecord', () => {
  it('writes the record once: a retry after a write that succeeded leaves it as it was', async () => {
    const write = createWriteRunRecordActivity({ store, heartbeat: () => undefined, warn: () => undefined });
    const runId = 'run-20261202T020000Z-nightly-2026-12-02T02_00_00Z_score';
    await write({ runId, runner: 'temporal', record: { kind: 'score', status: 'drift', alerts: ['label mix shifted by 0.800'] } });
    await write({ runId, runner: 'temporal', record: { kind: 'score', status: 'ok', alerts: [] } });
    const saved = JSON.parse(await readFile(join(runsDir(store), `${runId}.json`), 'utf8')) as Record<string, unknown>;
    expect(saved).toEqual({ runId, runner: 'temporal', kind: 'score', status: 'drift', alerts: ['label mix shifted by 0.800'] });
  });

  it('refuses a run id that is not run-<time>-<name> (it becomes a file name)', async () => {
    const write = createWriteRunRecordActivity({ store, heartbeat: () => undefined, warn: () => undefined });
    await expect(write({ runId: 'run-20261202T020000Z-../../etc', runner: 'local', record: {} })).rejects.toMatchObject({ type: 'BadInput' });
    expect(existsSync(runsDir(store))).toBe(false);
  });
});
