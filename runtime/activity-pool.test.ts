/** The activity pool runs activities in threads with the job's execution, typed failures and cancellation. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UlasanError } from '../core/errors';
import { ArtifactStore } from '../data/store/artifact-store';
import type { Execution } from '../data/store/types';
import { ActivityPool } from './activity-pool';
import { realActivities } from '../client/local-runner';

let root: string;
let pool: ActivityPool;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-pool-'));
  pool = new ActivityPool(1, root);
});
afterAll(async () => {
  await pool.close();
  await rm(root, { recursive: true, force: true });
});

const synthetic = (rows: number) => ({ source: { kind: 'synthetic' as const, rows, seed: 3 } });
const execution: Execution = { workflowId: 'wf', runId: 'run', activityId: '1', attempt: 2, taskQueue: 'ulasan', workerIdentity: 'test@host' };

describe('ActivityPool', () => {
  it('computes in a thread what the main thread would, recording the job execution in the manifest', async () => {
    const threaded = await pool.run('importReviews', synthetic(80), { execution });
    expect(threaded.cache).toBe('miss');
    const store = new ArtifactStore(root);
    expect((await store.manifest(threaded.ref.key)).execution).toEqual(execution);
    const here = await realActivities(store, () => undefined).importReviews(synthetic(80));
    expect(here).toMatchObject({ ref: threaded.ref, cache: 'hit' });
  });

  it('passes typed failures back with their type and context', async () => {
    const missing = join(root, 'missing.csv');
    const failure = await pool.run('importReviews', { source: { kind: 'file', path: missing } }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(UlasanError);
    expect(failure).toMatchObject({ type: 'NotFound', message: expect.stringContaining('missing.csv') });
  });

  it('drops a queued job whose run is cancelled, with the cancellation as its error, and keeps serving', async () => {
    const controller = new AbortController();
    const running = pool.run('importReviews', synthetic(400));
    const queued = pool.run('importReviews', synthetic(90), { signal: controller.signal });
    const reason = new Error('cancelled by test');
    controller.abort(reason);
    await expect(queued).rejects.toBe(reason);
    await expect(running).resolves.toMatchObject({ cache: 'miss' });
    const store = new ArtifactStore(root);
    const never = await realActivities(store, () => undefined).importReviews(synthetic(90));
    expect(never.cache, 'the cancelled job never ran').toBe('miss');
    await expect(pool.run('importReviews', synthetic(90))).resolves.toMatchObject({ cache: 'hit' });
  });
});
