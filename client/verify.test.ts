/** `ulasan verify` compares a model's bytes only on the TensorFlow.js backend that trained it. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tfBackend } from '../models/tf-runtime';
import { trainIdentity } from '../activities/train/train';
import { ArtifactStore } from '../data/store/artifact-store';
import type { Manifest } from '../data/store/types';
import { TF_BACKENDS } from '../kernels/backend';
import { formatVerify, verifyArtifact } from './verify';

const roots: string[] = [];
afterAll(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

/** A stored train artifact as another machine made it: only its manifest (verify must not get as far as recomputing). */
async function foreignModel(backend: string): Promise<{ store: ArtifactStore; key: string }> {
  const root = await mkdtemp(join(tmpdir(), 'ulasan-verify-'));
  roots.push(root);
  const store = new ArtifactStore(root);
  const key = 'ab'.padEnd(64, '0');
  const manifest: Manifest = {
    key,
    stage: 'train',
    stageVersion: trainIdentity.version,
    params: {},
    inputs: { train: 'missing', features: 'missing' },
    inputKeys: ['missing', 'missing'],
    files: {},
    codeVersion: 'test',
    rowCounts: {},
    summary: { backend },
    timings: { computeMs: 0 },
    createdAt: new Date(0).toISOString(),
  };
  await mkdir(store.dir(key), { recursive: true });
  await writeFile(store.path(key, 'manifest.json'), JSON.stringify(manifest));
  return { store, key };
}

describe('verify and the TF backend', () => {
  it('does not compare a model trained on another backend, and says which backend to verify on', async () => {
    const here = (await tfBackend()).name;
    const other = TF_BACKENDS.find((name) => name !== here)!;
    const { store, key } = await foreignModel(other);
    const [result] = await verifyArtifact(store, key, false);
    expect(result).toMatchObject({ key, stage: 'train', identical: false, differing: [] });
    expect(result!.problem).toContain(`trained on the ${other} TensorFlow.js backend, but this process runs ${here}`);
    expect(formatVerify(result!)).toContain(`ULASAN_TF_BACKEND=${other}`);
  });

  it('recomputes a model trained on this backend (here: its inputs are missing, so recomputing fails)', async () => {
    const { store, key } = await foreignModel((await tfBackend()).name);
    await expect(verifyArtifact(store, key, false)).rejects.toMatchObject({ type: 'NotFound' });
  });
});
