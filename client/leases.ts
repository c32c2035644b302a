/**
 * Run leases: while a run is in progress its runner keeps `<store>/leases/<runId>.json` listing the
 * artifacts it holds (each stage's inputs before the stage starts, its output once it returns), so
 * `ulasan gc` never removes them. `gc` takes `<store>/.gc.lock` (an atomic mkdir) before it reads the
 * leases; a runner writes its hold first and then waits out any gc in progress, and afterwards checks
 * that what it holds is still there. Either gc read the hold (and kept the keys) or the runner saw the
 * lock and re-checks. The local runner holds each stage's output as it returns and runs the stage again
 * if a gc took it meanwhile (a cache hit on an old artifact), so every later stage finds its inputs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { notFound } from '../core/errors';
import type { ArtifactStore } from '../data/store/artifact-store';
import { writeFileWhole } from '../data/write-whole';

export interface LeaseRecord {
  runId: string;
  runner: string;
  pid: number;
  host: string;
  startedAt: string;
  /** Artifacts the run holds so far. A Temporal run's activities run elsewhere: `keys` stays empty and gc removes nothing while it lives. */
  keys: string[];
}

export const leasesDir = (store: ArtifactStore): string => join(store.root, 'leases');
export const gcLockPath = (store: ArtifactStore): string => join(store.root, '.gc.lock');

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export class RunLease {
  private readonly keys = new Set<string>();
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    readonly store: ArtifactStore,
    readonly record: Omit<LeaseRecord, 'keys'>,
  ) {}

  static async acquire(store: ArtifactStore, runId: string, runner: string): Promise<RunLease> {
    const lease = new RunLease(store, { runId, runner, pid: process.pid, host: hostname(), startedAt: new Date().toISOString() });
    await mkdir(leasesDir(store), { recursive: true });
    await lease.write();
    return lease;
  }

  private get path(): string {
    return join(leasesDir(this.store), `${this.record.runId}.json`);
  }

  private write(): Promise<void> {
    // Writes queue up (stages of a grid finish concurrently); each is whole, renamed into place.
    this.writes = this.writes.then(async () => {
      await writeFileWhole(this.path, JSON.stringify({ ...this.record, keys: [...this.keys] } satisfies LeaseRecord) + '\n');
    });
    return this.writes;
  }

  /**
   * Holds `keys` for the rest of the run: recorded first, then any gc in progress is waited out, then
   * the keys are checked to still exist (a gc that read the leases just before this hold may have
   * removed one). Returns the keys that are gone.
   */
  async hold(keys: readonly string[]): Promise<string[]> {
    const fresh = keys.filter((k) => !this.keys.has(k));
    if (fresh.length === 0) return [];
    for (const key of fresh) this.keys.add(key);
    await this.write();
    if (!existsSync(gcLockPath(this.store))) return [];
    while (existsSync(gcLockPath(this.store))) await sleep(50);
    const present = await Promise.all(fresh.map((key) => this.store.has(key)));
    return fresh.filter((_, i) => !present[i]);
  }

  /** `hold` for a stage's inputs: one that is gone cannot be read, and says so. */
  async holdInputs(keys: readonly string[]): Promise<void> {
    const [gone] = await this.hold(keys);
    if (gone) throw notFound(`artifact ${gone} was removed by a concurrent \`ulasan gc\` before run ${this.record.runId} read it; run again (the cache recomputes it)`, { key: gone });
  }

  async release(): Promise<void> {
    await this.writes.catch(() => undefined);
    await rm(this.path, { force: true });
  }
}

/** Every 64-hex `key` in an activity input (ArtifactRefs at any depth): what a stage is about to read. */
export function refKeys(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refKeys(v, out);
  else if (value && typeof value === 'object') {
    for (const [name, v] of Object.entries(value)) {
      if (name === 'key' && typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)) out.push(v);
      else refKeys(v, out);
    }
  }
  return out;
}

function alive(lease: LeaseRecord): boolean {
  if (lease.host !== hostname()) return true; // another machine's run: assume it lives
  try {
    process.kill(lease.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Leases of runs still in progress (a lease whose process is gone is stale: its run died). */
export function liveLeases(store: ArtifactStore): LeaseRecord[] {
  if (!existsSync(leasesDir(store))) return [];
  return readdirSync(leasesDir(store))
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(join(leasesDir(store), f), 'utf8')) as LeaseRecord];
      } catch {
        return []; // being renamed into place: the next read sees it
      }
    })
    .filter(alive);
}
