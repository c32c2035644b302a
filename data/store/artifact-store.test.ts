/** The store's id (one per store, agreed by processes starting at once) and reads that wait for a late shared filesystem. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCheckStoreActivity } from '../../activities/check-store';
import { UlasanError } from '../../core/errors';
import { ArtifactStore, STORE_ID_FILE } from './artifact-store';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-store-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('store id', () => {
  it('is made once and read by every store object on the same root, even when they start at once', async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, () => new ArtifactStore(root).id()));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect((await readFile(join(root, STORE_ID_FILE), 'utf8')).trim()).toBe(ids[0]);
    expect(await new ArtifactStore(join(root, 'elsewhere')).id()).not.toBe(ids[0]);
  });

  it('lets a worker refuse a client whose store is another one, naming both', async () => {
    const check = createCheckStoreActivity({ store: new ArtifactStore(root), heartbeat: () => undefined, warn: () => undefined });
    const clientId = await new ArtifactStore(join(root, 'client')).id();
    await expect(check({ storeId: await new ArtifactStore(root).id() })).resolves.toBeUndefined();
    const refused = await check({ storeId: clientId }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UlasanError);
    expect(refused).toMatchObject({ type: 'BadInput', context: { file: join(root, STORE_ID_FILE) } });
    expect((refused as Error).message).toContain(`(id ${clientId})`);
    expect((refused as Error).message).toContain('set ULASAN_HOME of the client and of every worker to one shared directory');
  });
});

describe('readCommitted', () => {
  it('waits for a file a shared filesystem shows late', async () => {
    const store = new ArtifactStore(root, 3_000);
    const path = join(root, 'ab', 'late.json');
    setTimeout(() => void mkdir(join(root, 'ab'), { recursive: true }).then(() => writeFile(path, '{"late":true}')), 300);
    expect(JSON.parse(await store.readCommitted(path))).toEqual({ late: true });
  });

  it('gives up after its visibility window with the ENOENT, and the manifest read says NotFound', async () => {
    const store = new ArtifactStore(root, 200);
    const started = Date.now();
    await expect(store.readCommitted(join(root, 'never.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(store.manifest('ff'.repeat(32))).rejects.toMatchObject({ type: 'NotFound' });
  });
});
