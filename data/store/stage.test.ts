import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactStore, artifactKey } from './artifact-store';
import { recomputeStage, runStage, type StageDefinition } from './stage';

let root: string;
let store: ArtifactStore;
let computeCalls = 0;

/** A stage whose output depends only on its params and input: writes `value * factor`. */
const produce: StageDefinition<{ value: number }> = {
  stage: 'produce',
  version: 1,
  inputNames: [],
  async compute({ params, outDir }) {
    computeCalls++;
    await writeFile(join(outDir, 'value.txt'), String(params.value));
    return { rowCounts: { rows: 1 } };
  },
};

const scale: StageDefinition<{ factor: number; failAfterWrite?: boolean }> = {
  stage: 'scale',
  version: 1,
  inputNames: ['source'],
  async compute({ params, inputs, outDir }) {
    computeCalls++;
    const value = Number(await readFile(inputs.source!.file('value.txt'), 'utf8'));
    await writeFile(join(outDir, 'value.txt'), String(value * params.factor));
    if (params.failAfterWrite) throw new Error('crash mid-stage');
    return {};
  },
};

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-store-'));
  store = new ArtifactStore(root);
  computeCalls = 0;
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('artifact keys', () => {
  it('depend on stage, version, canonical params and input keys, not on key order', () => {
    const base = { stage: 's', stageVersion: 1, params: { a: 1, b: [2, 3] }, inputKeys: ['x'] };
    expect(artifactKey(base)).toBe(artifactKey({ ...base, params: { b: [2, 3], a: 1 } }));
    expect(artifactKey(base)).toMatch(/^[0-9a-f]{64}$/);
    for (const changed of [
      { ...base, stage: 't' },
      { ...base, stageVersion: 2 },
      { ...base, params: { a: 2, b: [2, 3] } },
      { ...base, inputKeys: ['y'] },
    ]) {
      expect(artifactKey(changed)).not.toBe(artifactKey(base));
    }
  });
});

describe('runStage', () => {
  it('computes once, then hits the cache with a verified entry laid out as <root>/<key[0:2]>/<key>/', async () => {
    const first = await runStage(store, produce, { value: 7 }, {});
    expect(first).toMatchObject({ cache: 'miss', reason: 'absent' });
    const second = await runStage(store, produce, { value: 7 }, {});
    expect(second).toMatchObject({ cache: 'hit', ref: first.ref });
    expect(computeCalls).toBe(1);
    const dir = join(root, first.ref.key.slice(0, 2), first.ref.key);
    expect((await readdir(dir)).sort()).toEqual(['manifest.json', 'value.txt']);
    const manifest = await store.manifest(first.ref.key);
    expect(manifest).toMatchObject({ stage: 'produce', stageVersion: 1, params: { value: 7 }, inputKeys: [], rowCounts: { rows: 1 } });
    expect(manifest.files['value.txt']?.bytes).toBe(1);
  });

  it('detects a flipped byte, reports it, moves the entry aside and recomputes', async () => {
    const { ref } = await runStage(store, produce, { value: 7 }, {});
    await writeFile(store.path(ref.key, 'value.txt'), '8');
    const warnings: string[] = [];
    const again = await runStage(store, produce, { value: 7 }, {}, { warn: (m) => warnings.push(m) });
    expect(again.cache).toBe('miss');
    expect(again.reason).toBe('corrupt: file hash mismatch: value.txt');
    expect(warnings[0]).toMatch(/is corrupt .*recomputing/);
    expect(await readFile(store.path(ref.key, 'value.txt'), 'utf8')).toBe('7');
    expect(await readdir(join(root, '.corrupt'))).toHaveLength(1);
  });

  it('leaves nothing under the key, and no temp dir, when a stage crashes mid-write', async () => {
    const { ref: source } = await runStage(store, produce, { value: 3 }, {});
    await expect(runStage(store, scale, { factor: 2, failAfterWrite: true }, { source })).rejects.toThrow('crash mid-stage');
    const key = artifactKey({ stage: 'scale', stageVersion: 1, params: { factor: 2, failAfterWrite: true }, inputKeys: [source.key] });
    expect(await store.has(key)).toBe(false);
    expect(await readdir(join(root, '.tmp'))).toEqual([]);
  });

  it('chains inputs by key and recomputes a stored artifact identically', async () => {
    const { ref: source } = await runStage(store, produce, { value: 3 }, {});
    const { ref } = await runStage(store, scale, { factor: 5 }, { source });
    expect(await readFile(store.path(ref.key, 'value.txt'), 'utf8')).toBe('15');
    expect((await store.manifest(ref.key)).inputs).toEqual({ source: source.key });
    const stages = { produce, scale } as Record<string, StageDefinition<unknown>>;
    expect(await recomputeStage(store, stages, ref.key)).toMatchObject({ identical: true, differing: [] });
    await writeFile(store.path(ref.key, 'value.txt'), '16');
    expect(await recomputeStage(store, stages, ref.key)).toMatchObject({
      identical: false,
      problem: 'the stored entry no longer matches its manifest (file hash mismatch: value.txt)',
    });
    const changed = { ...stages, scale: { ...scale, compute: async ({ outDir }: { outDir: string }) => {
      await writeFile(join(outDir, 'value.txt'), 'other');
      return {};
    } } } as Record<string, StageDefinition<unknown>>;
    await writeFile(store.path(ref.key, 'value.txt'), '15');
    expect(await recomputeStage(store, changed, ref.key)).toMatchObject({ identical: false, differing: ['value.txt'] });
  });

  it('keeps the first entry when two writers race for one key', async () => {
    const [a, b] = await Promise.all([runStage(store, produce, { value: 9 }, {}), runStage(store, produce, { value: 9 }, {})]);
    expect(a.ref.key).toBe(b.ref.key);
    expect((await store.check(a.ref.key)).status).toBe('ok');
  });
});
