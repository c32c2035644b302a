/** Worker activities under Temporal's MockActivityEnvironment: real work, typed failures. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ArtifactStore } from '../data/store/artifact-store';
import { createWorkerActivities } from './activities';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-worker-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('worker activities', () => {
  it('import synthetic reviews into the store inside an activity context', async () => {
    const activities = createWorkerActivities(new ArtifactStore(root));
    const env = new MockActivityEnvironment({ activityType: 'importReviews' });
    const outcome = (await env.run(activities.importReviews!, { source: { kind: 'synthetic', rows: 60, seed: 1 } } as never)) as unknown as {
      cache: string;
      summary: { rows: number; quarantined: number };
    };
    expect(outcome.cache).toBe('miss');
    expect(outcome.summary.rows + outcome.summary.quarantined).toBe(60);
  });

  it('turn typed errors into ApplicationFailures Temporal will not retry', async () => {
    const activities = createWorkerActivities(new ArtifactStore(root));
    const env = new MockActivityEnvironment();
    const missing = env.run(activities.importReviews!, { source: { kind: 'file', path: join(root, 'missing.csv') } } as never);
    await expect(missing).rejects.toBeInstanceOf(ApplicationFailure);
    await expect(missing).rejects.toMatchObject({ type: 'NotFound', nonRetryable: true, message: expect.stringContaining('missing.csv') });
  });
});
