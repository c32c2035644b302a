/**
 * `ulasan scrape`: the real CLI spawned against the fake Play server (the `--json` last line, exit code),
 * and the local runner retrying a failed page the way the workflow would, resuming from the checkpoint.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquet, queryRows, withConnection } from '../data/duckdb';
import { ArtifactStore } from '../data/store/artifact-store';
import { startFakePlayServer, type FakePlayServer } from '../activities/scrape/testing/fake-play-server';
import { formatScrape, nightlyPlanFromOptions, runScrapeLocal, scrapeJson, type ScrapeCliOptions } from './scrape';

const APP = 'com.example.app';
const OTHER = 'com.example.other';
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

let server: FakePlayServer;
let dir: string;

beforeAll(async () => {
  server = await startFakePlayServer({ apps: { [APP]: 320, [OTHER]: 40 } });
  dir = await mkdtemp(join(tmpdir(), 'ulasan-scrape-cli-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function runCli(args: string[], home: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'client/cli.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, ULASAN_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const options = (overrides: Partial<ScrapeCliOptions> = {}): ScrapeCliOptions => ({
  app: [APP],
  lang: 'id',
  country: 'id',
  sort: 'newest',
  playBaseUrl: server.url,
  ...overrides,
});

describe('ulasan scrape (spawned CLI)', () => {
  it('prints {key, apps} as its last line, records a failed app, and exits 1 because of it', async () => {
    const home = join(dir, 'cli-home');
    const args = ['scrape', '--app', APP, '--app', 'com.example.missing', '--app', OTHER, '--max', '200', '--play-base-url', server.url, '--json'];
    const { code, stdout, stderr } = await runCli(args, home);
    expect(stderr).toBe('');
    expect(code).toBe(1);
    const last = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      key: string;
      failed: number;
      apps: Record<string, unknown>[];
    };
    expect(last.failed).toBe(1);
    expect(last.apps).toEqual([
      { appId: APP, key: expect.any(String), rows: 200, seen: 200, new: 200, duplicates: 0, complete: false, stopReason: 'max' },
      { appId: 'com.example.missing', error: { type: 'NotFound', message: expect.stringContaining('404') } },
      { appId: OTHER, key: expect.any(String), rows: 40, seen: 40, new: 40, duplicates: 0, complete: true, stopReason: 'end' },
    ]);
    // Two apps: the run key is a combined scrape artifact holding both snapshots.
    const store = new ArtifactStore(home);
    const manifest = await store.manifest(last.key);
    expect(manifest).toMatchObject({ stage: 'scrape', params: { kind: 'combined', apps: [APP, OTHER] }, rowCounts: { rows: 240 } });
    expect(manifest.inputs).toEqual({ [APP]: last.apps[0]!.key, [OTHER]: last.apps[2]!.key });
  }, 60_000);
});

describe('runScrapeLocal', () => {
  it('retries a 503 with the workflow policy and resumes from the checkpoint: every review once', async () => {
    const store = new ArtifactStore(join(dir, 'retry-home'));
    server.reset();
    server.inject(2, { kind: 'unavailable', retryAfterSeconds: 3 });
    const waits: number[] = [];
    const logs: string[] = [];
    const result = await runScrapeLocal(await nightlyPlanFromOptions(options()), {
      store,
      log: (m) => logs.push(m),
      sleep: async (ms) => void waits.push(ms),
    });
    expect(waits).toEqual([3_000]); // Retry-After (3 s) beats the first backoff (1 s)
    expect(logs.some((m) => m.startsWith(`${APP}: attempt 1 failed`) && m.includes('resuming in 3000 ms'))).toBe(true);
    expect(server.requests.map((r) => [r.token === null ? 'first' : 'token', r.fault])).toEqual([
      ['first', null],
      ['token', 'unavailable'],
      ['token', null],
      ['token', null],
    ]);
    expect(server.requests[2]!.token).toBe(server.requests[1]!.token);
    expect(result.apps[0]).toMatchObject({ status: 'ok', rows: 320, window: { seen: 320, new: 320, duplicates: 0, stopReason: 'end' } });
    const ids = await withConnection((c) =>
      queryRows(c, `SELECT count(*)::INTEGER AS n, count(DISTINCT review_id)::INTEGER AS d FROM ${parquet(store.path(result.key!, 'reviews.parquet'))}`),
    );
    expect(ids).toEqual([{ n: 320, d: 320 }]);
    expect(JSON.parse(scrapeJson(result))).toEqual({
      key: result.key,
      failed: 0,
      apps: [{ appId: APP, key: result.key, rows: 320, seen: 320, new: 320, duplicates: 0, complete: true, stopReason: 'end' }],
    });
    expect(formatScrape(result).at(-1)).toBe(`key: ${result.key}`);
  });

  it('rejects bad options naming the option', async () => {
    await expect(nightlyPlanFromOptions(options({ stars: 6 }))).rejects.toThrow('--stars must be 1..5, got 6.');
    await expect(nightlyPlanFromOptions(options({ since: 'yesterday' }))).rejects.toThrow('--since must be an ISO date');
    await expect(nightlyPlanFromOptions(options({ app: [] }))).rejects.toThrow('apps: give at least one app id');
    await expect(nightlyPlanFromOptions(options({ max: -1 }))).rejects.toThrow('max: a positive integer, got -1.');
    expect(await nightlyPlanFromOptions(options({ since: '2025-01-31', stars: 1, full: true }))).toEqual({
      apps: [APP], lang: 'id', country: 'id', sort: 'newest', since: '2025-01-31T00:00:00.000Z', filterScore: 1, playBaseUrl: server.url, full: true,
    });
  });
});
