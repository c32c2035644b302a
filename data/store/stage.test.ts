import { cp, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactStore, artifactKey } from './artifact-store';
import type { StampFile } from './stamp';
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

const flipByte = (buffer: Buffer, at: number) => buffer.writeUInt8(buffer.readUInt8(at) ^ 1, at);

/** Writes `bytes` seeded pseudo-random bytes: large enough that the middle is outside the stamp's edge checksum. */
const big: StageDefinition<{ bytes: number }> = {
  stage: 'big',
  version: 1,
  inputNames: [],
  async compute({ params, outDir }) {
    const data = Buffer.alloc(params.bytes);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    await writeFile(join(outDir, 'big.bin'), data);
    return {};
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
    expect((await readdir(dir)).sort()).toEqual(['.stamp.json', 'manifest.json', 'value.txt']);
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

  it('catches a flipped byte written in the same second as the commit (the settled mtime moves)', async () => {
    const { ref } = await runStage(store, big, { bytes: 1 << 20 }, {});
    const path = store.path(ref.key, 'big.bin');
    const bytes = await readFile(path);
    flipByte(bytes, bytes.length >> 1); // the middle, outside the edge checksum
    await writeFile(path, bytes);
    const again = await runStage(store, big, { bytes: 1 << 20 }, {}, { warn: () => undefined });
    expect(again).toMatchObject({ cache: 'miss', reason: 'corrupt: file hash mismatch: big.bin' });
  });

  it('catches a flipped byte near an edge even when the mtime is put back', async () => {
    const { ref } = await runStage(store, big, { bytes: 1 << 20 }, {});
    const path = store.path(ref.key, 'big.bin');
    const { mtime } = await stat(path);
    const bytes = await readFile(path);
    flipByte(bytes, bytes.length - 10);
    await writeFile(path, bytes);
    await utimes(path, mtime, mtime);
    const again = await runStage(store, big, { bytes: 1 << 20 }, {}, { warn: () => undefined });
    expect(again).toMatchObject({ cache: 'miss', reason: 'corrupt: file hash mismatch: big.bin' });
  });

  it('trusts a matching stamp on a hit, and hashes everything with verifyHashes', async () => {
    const { ref } = await runStage(store, big, { bytes: 1 << 20 }, {});
    const path = store.path(ref.key, 'big.bin');
    const { mtime } = await stat(path);
    const bytes = await readFile(path);
    flipByte(bytes, bytes.length >> 1); // same size, mtime put back, outside the edges: only a full hash sees it
    await writeFile(path, bytes);
    await utimes(path, mtime, mtime);
    expect(await runStage(store, big, { bytes: 1 << 20 }, {})).toMatchObject({ cache: 'hit' });
    const verified = await runStage(store, big, { bytes: 1 << 20 }, {}, { verifyHashes: true, warn: () => undefined });
    expect(verified).toMatchObject({ cache: 'miss', reason: 'corrupt: file hash mismatch: big.bin' });
  });

  it('hashes a copied store once (new mtimes), then trusts the fresh stamps', async () => {
    const { ref } = await runStage(store, produce, { value: 5 }, {});
    const copyRoot = `${root}-copy`;
    await cp(root, copyRoot, { recursive: true });
    try {
      const copy = new ArtifactStore(copyRoot);
      const stampOf = async () => (JSON.parse(await readFile(copy.path(ref.key, '.stamp.json'), 'utf8')) as StampFile).files['value.txt'];
      const copiedAt = new Date();
      await utimes(copy.path(ref.key, 'value.txt'), copiedAt, copiedAt);
      expect((await stampOf())?.mtimeMs).not.toBe(copiedAt.getTime());
      expect((await copy.check(ref.key)).status).toBe('ok');
      // Restamped after the full hash: mtime settled again to a whole second in the past, and recorded.
      const { mtimeMs } = await stat(copy.path(ref.key, 'value.txt'));
      expect(mtimeMs % 1000).toBe(0);
      expect(mtimeMs).toBeLessThan(copiedAt.getTime());
      expect((await stampOf())?.mtimeMs).toBe(mtimeMs);
    } finally {
      await rm(copyRoot, { recursive: true, force: true });
    }
  });

  it('reports a file added to an entry as corrupt, stamps or not', async () => {
    const { ref } = await runStage(store, produce, { value: 6 }, {});
    await writeFile(store.path(ref.key, 'extra.txt'), 'x');
    expect(await store.check(ref.key)).toEqual({ status: 'corrupt', detail: 'file hash mismatch: extra.txt' });
  });

  it('keeps the first entry when two writers race for one key', async () => {
    const [a, b] = await Promise.all([runStage(store, produce, { value: 9 }, {}), runStage(store, produce, { value: 9 }, {})]);
    expect(a.ref.key).toBe(b.ref.key);
    expect((await store.check(a.ref.key)).status).toBe('ok');
  });
});
