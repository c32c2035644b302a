/**
 * Faults of the machine and of the code, through the local runner with the real activities: typed,
 * named, retried only when they may pass, and nothing half-written left in the store. EACCES and
 * ENOSPC cannot be provoked as root, so the store's own methods throw what Node would throw.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../data/store/artifact-store';
import type { Manifest } from '../data/store/types';
import type { PipelinePlan } from '../workflows/plans/pipeline';
import { runLocal } from './local-runner';
import { recordRun } from './records';
import { ExperimentSpecSchema, planFromSpec } from './spec';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ulasan-faults-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const plan: PipelinePlan = planFromSpec(
  ExperimentSpecSchema.parse({ name: 'faults', source: { synthetic: { rows: 600 } }, features: { kind: 'tfidf' }, model: { arch: 'nb' } }),
);

const systemError = (code: string, syscall: string, path: string) =>
  Object.assign(new Error(`${code}: failure, ${syscall} '${path}'`), { code, errno: -1, syscall, path });

/** A store whose temp dirs or commits fail like a read-only or full disk, from the `failFrom`-th call on. */
class FaultyStore extends ArtifactStore {
  calls = 0;
  constructor(
    root: string,
    private readonly fault: { method: 'tempDir' | 'commit'; code: string; failFrom?: number; times?: number },
  ) {
    super(root);
  }
  private trip(syscall: string, path: string): void {
    this.calls++;
    const { failFrom = 1, times = Infinity } = this.fault;
    if (this.calls >= failFrom && this.calls < failFrom + times) throw systemError(this.fault.code, syscall, path);
  }
  override async tempDir(label: string): Promise<string> {
    if (this.fault.method === 'tempDir') this.trip('mkdir', join(this.root, '.tmp'));
    return super.tempDir(label);
  }
  override async commit(tempDir: string, manifest: Omit<Manifest, 'files'>): Promise<Manifest> {
    if (this.fault.method === 'commit') this.trip('write', join(tempDir, 'manifest.json'));
    return super.commit(tempDir, manifest);
  }
}

async function run(store: ArtifactStore) {
  const retries: string[] = [];
  const result = await runLocal(plan, { store, retry: { onRetry: ({ error }) => retries.push((error as Error).message), sleep: async () => undefined } }).catch(
    (err: unknown) => err as Error,
  );
  return { result, retries };
}

describe('machine faults', () => {
  it('a read-only store fails at once, typed, naming the path and what to do', async () => {
    const store = new FaultyStore(join(dir, 'read-only'), { method: 'tempDir', code: 'EACCES' });
    const { result, retries } = await run(store);
    expect(retries).toEqual([]);
    expect(store.calls).toBe(1);
    expect(result).toMatchObject({ type: 'Environment', context: { stage: 'import', file: join(store.root, '.tmp') } });
    expect((result as Error).message).toContain(`${join(store.root, '.tmp')}: permission denied (EACCES on mkdir). Make it writable by this user`);
  });

  it('a full disk at commit fails at once and leaves neither an entry nor a temp dir', async () => {
    const store = new FaultyStore(join(dir, 'full'), { method: 'commit', code: 'ENOSPC', failFrom: 3 });
    const { result, retries } = await run(store);
    expect(retries).toEqual([]);
    expect(result).toMatchObject({ type: 'Environment', context: { stage: 'annotate' } });
    expect((result as Error).message).toContain('no space left on the device (ENOSPC on write). Free some space there');
    expect(await readdir(join(store.root, '.tmp'))).toEqual([]);
    const stored = (await readdir(store.root)).filter((name) => /^[0-9a-f]{2}$/.test(name));
    expect(stored).toHaveLength(2); // import and clean, committed whole before the fault
    for (const prefix of stored) for (const key of await readdir(join(store.root, prefix))) expect((await store.check(key)).status).toBe('ok');
  });

  it('a device hiccup (EIO) is retried, and the run then succeeds', async () => {
    const store = new FaultyStore(join(dir, 'hiccup'), { method: 'commit', code: 'EIO', failFrom: 2, times: 1 });
    const { result, retries } = await run(store);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatch(/EIO/);
    expect(result).toMatchObject({ metricsKey: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});

describe('a bug', () => {
  it('is not retried and says it is a bug, naming the stage and artifact', async () => {
    class BuggyStore extends ArtifactStore {
      override async commit(tempDir: string, manifest: Omit<Manifest, 'files'>): Promise<Manifest> {
        if (manifest.stage === 'split') (undefined as unknown as { x: number }).x.toFixed();
        return super.commit(tempDir, manifest);
      }
    }
    const { result, retries } = await run(new BuggyStore(join(dir, 'bug')));
    expect(retries).toEqual([]);
    expect(result).toMatchObject({ type: 'Internal', context: { stage: 'split', key: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect((result as Error).message).toMatch(/^Internal error in stage split, artifact [0-9a-f]{64}: .*This is a bug in ulasan/);
  });
});

describe('the run record', () => {
  it('on a store where it cannot be written, the finished run still answers, with a warning', async () => {
    const store = new ArtifactStore(join(dir, 'record'));
    const result = await runLocal(plan, { store });
    await mkdir(store.root, { recursive: true });
    await writeFile(join(store.root, 'runs'), 'not a folder');
    const warnings: string[] = [];
    const summary = await recordRun(store, 'run-x', plan, result, 'local', (w) => warnings.push(w));
    expect(summary).toMatchObject({ runId: 'run-x', metricsKey: result.metricsKey, runReportPath: summary.reportPath });
    expect(existsSync(summary.reportPath)).toBe(true);
    expect(warnings).toEqual([expect.stringMatching(/^run record run-x not written \(E[A-Z]+: .*runs.*\); the results are in the store/)]);
  });
});
