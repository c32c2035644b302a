import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UlasanError } from '../../core/errors';
import { ArtifactStore, artifactKey, manifestDigest, sha256File } from './artifact-store';
import type { StampFile } from './stamp';
import type { Manifest } from './types';
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

describe('integrity beyond file hashes', () => {
  /** A stage that reads its input's value.txt and calls anything but digits a corrupt file, as a real reader would. */
  const strict: StageDefinition<{ factor: number }> = {
    stage: 'strict',
    version: 1,
    inputNames: ['source'],
    async compute({ params, inputs, outDir }) {
      const file = inputs.source!.file('value.txt');
      const text = await readFile(file, 'utf8');
      if (!/^\d+$/.test(text)) throw new UlasanError('CorruptArtifact', `${file}: not a number.`, { file });
      await writeFile(join(outDir, 'value.txt'), String(Number(text) * params.factor));
      return {};
    },
  };

  it('a consumer that cannot read its input moves it aside and names its producer and key (CorruptInput)', async () => {
    const { ref: source } = await runStage(store, produce, { value: 4 }, {});
    // An unreadable file whose hash the manifest records: the cache serves it as valid.
    await writeFile(store.path(source.key, 'value.txt'), 'x');
    const manifest = await store.manifest(source.key);
    const changed = { ...manifest, files: { 'value.txt': await sha256File(store.path(source.key, 'value.txt')) } };
    await writeFile(store.path(source.key, 'manifest.json'), JSON.stringify({ ...changed, digest: manifestDigest(changed) }));
    await expect(runStage(store, strict, { factor: 2 }, { source })).rejects.toMatchObject({
      type: 'CorruptInput',
      retryable: false,
      context: { stage: 'produce', key: source.key },
      message: expect.stringMatching(/^strict could not read .*value\.txt, made by stage produce/),
    });
    expect(await store.has(source.key)).toBe(false);
    expect((await readdir(join(root, '.corrupt')))[0]).toMatch(new RegExp(`^${source.key}-`));
  });

  it('a manifest changed after it was written is corrupt: check says so, manifest() refuses it, runStage recomputes', async () => {
    const { ref } = await runStage(store, produce, { value: 7 }, {});
    const path = store.path(ref.key, 'manifest.json');
    await writeFile(path, (await readFile(path, 'utf8')).replace('"rows": 1', '"rows": 9'));
    expect(await store.check(ref.key)).toEqual({ status: 'corrupt', detail: expect.stringContaining('manifest.json was changed after it was written') });
    await expect(store.manifest(ref.key)).rejects.toMatchObject({ type: 'CorruptArtifact', context: { key: ref.key } });
    const stages = { produce } as Record<string, StageDefinition<unknown>>;
    expect(await recomputeStage(store, stages, ref.key)).toMatchObject({ identical: false, problem: expect.stringContaining('rowCounts.rows records 9, recomputed 1') });
    const again = await runStage(store, produce, { value: 7 }, {});
    expect(again).toMatchObject({ cache: 'miss', reason: expect.stringContaining('manifest.json was changed') });
    expect((await store.manifest(ref.key)).rowCounts.rows).toBe(1);
  });

  it('trusts manifests written before digests existed', async () => {
    const { ref } = await runStage(store, produce, { value: 5 }, {});
    const path = store.path(ref.key, 'manifest.json');
    const legacy: Partial<Manifest> = JSON.parse(await readFile(path, 'utf8'));
    delete legacy.digest;
    await writeFile(path, JSON.stringify(legacy));
    expect((await store.check(ref.key)).status).toBe('ok');
    expect((await runStage(store, produce, { value: 5 }, {})).cache).toBe('hit');
  });

  it("removes temp dirs of dead processes on the next run, and keeps live ones' (kill -9 leftovers)", async () => {
    const tmp = join(root, '.tmp');
    await mkdir(tmp, { recursive: true });
    const dead = await deadPid();
    const host = hostname().replace(/[^\w.]/g, '_');
    const names = {
      dead: `train-${host}-${dead}-AbC123`,
      live: `train-${host}-${process.pid}-DeF456`,
      otherHost: `train-elsewhere-${dead}-GhI789`,
      oldUnowned: 'train-JkL012',
      newUnowned: 'features-MnO345',
    };
    for (const name of Object.values(names)) await mkdir(join(tmp, name));
    const dayAgo = new Date(Date.now() - 25 * 3600 * 1000);
    await utimes(join(tmp, names.oldUnowned), dayAgo, dayAgo);
    await runStage(new ArtifactStore(root), produce, { value: 11 }, {});
    expect((await readdir(tmp)).sort()).toEqual([names.live, names.newUnowned, names.otherHost].sort());
  });
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((done) => child.on('exit', done));
  return child.pid!;
}
