/**
 * `ulasan gc` and `ulasan du`: the store's space by stage, and removing what nothing kept reaches.
 * Roots: the kept runs (every artifact their records name), tagged models, the models scored schedules
 * pinned (models.ts: a schedule keeps its model even when the tag it named moves), scrape snapshots (raw data
 * that cannot be recomputed, and what nightly schedules resume from), and the artifacts running runs
 * hold (leases.ts). Everything reachable from a root through manifests' input keys is kept.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { badInput } from '../core/errors';
import type { ArtifactStore } from '../data/store/artifact-store';
import type { Manifest } from '../data/store/types';
import { gcLockPath, liveLeases } from './leases';
import { listRunRecords, listSchedulePins, listTags, runsDir, type StoredRun } from './models';

export interface GcOptions {
  /** Keep the newest N runs (others may go unless `olderThanMs` keeps them). @default every run */
  keepRuns?: number;
  /** Runs younger than this are kept whatever `keepRuns` says. */
  olderThanMs?: number;
  /** Tagged models are roots. @default true */
  keepTagged?: boolean;
  dryRun?: boolean;
  now?: Date;
}

export interface StageSpace {
  stage: string;
  artifacts: number;
  bytes: number;
}

export interface GcReport {
  dryRun: boolean;
  keptRuns: string[];
  removedRuns: string[];
  kept: number;
  removed: StageSpace[];
  removedBytes: number;
  /** Why nothing was removed, when so (a live Temporal run). */
  skipped?: string;
}

/** `30d`, `12h`, `90m` → milliseconds. */
export function parseAge(text: string): number {
  const match = /^(\d+)\s*([dhm])$/.exec(text.trim());
  if (!match) throw badInput(`--older-than ${text}: give a number of days, hours or minutes, e.g. 30d, 12h, 90m`, { field: '--older-than' });
  return Number(match[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[match[2] as 'd' | 'h' | 'm'];
}

/** A run id's start time (`run-YYYYMMDDTHHMMSSZ-...`), or undefined when it carries none. */
export function runStartedAt(runId: string): Date | undefined {
  const m = /^run-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(runId);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

/** Every artifact in the store with its manifest (temp, corrupt and trash dirs are not artifacts). */
export async function storeManifests(store: ArtifactStore): Promise<Map<string, Manifest>> {
  const all = new Map<string, Manifest>();
  if (!existsSync(store.root)) return all;
  for (const prefix of (await readdir(store.root)).filter((d) => /^[0-9a-f]{2}$/.test(d))) {
    for (const key of await readdir(join(store.root, prefix))) {
      const manifest = await store.manifest(key).catch(() => undefined);
      if (manifest) all.set(key, manifest);
    }
  }
  return all;
}

const artifactBytes = (m: Manifest): number => Object.values(m.files).reduce((sum, f) => sum + f.bytes, 0);

function byStage(manifests: Iterable<Manifest>): StageSpace[] {
  const space = new Map<string, StageSpace>();
  for (const m of manifests) {
    const entry = space.get(m.stage) ?? { stage: m.stage, artifacts: 0, bytes: 0 };
    entry.artifacts += 1;
    entry.bytes += artifactBytes(m);
    space.set(m.stage, entry);
  }
  return [...space.values()].sort((a, b) => b.bytes - a.bytes || a.stage.localeCompare(b.stage));
}

/** `ulasan du`: bytes and artifacts per stage, largest first. */
export async function storeSpace(store: ArtifactStore): Promise<StageSpace[]> {
  return byStage((await storeManifests(store)).values());
}

/** Keys a run record names: its stages, metrics, grid and leaky evaluation. */
function runKeys(run: StoredRun & { leakyMetricsKey?: string }): string[] {
  return [run.metricsKey, run.gridKey, run.leakyMetricsKey, ...(run.stages ?? []).map((s) => s.key)].filter((k): k is string => typeof k === 'string');
}

function keptRuns(runs: StoredRun[], options: GcOptions): Set<string> {
  const now = (options.now ?? new Date()).getTime();
  const newestFirst = [...runs].reverse();
  const kept = new Set<string>();
  newestFirst.forEach((run, i) => {
    const byCount = options.keepRuns === undefined ? options.olderThanMs === undefined : i < options.keepRuns;
    const started = runStartedAt(run.runId)?.getTime();
    const byAge = options.olderThanMs !== undefined && started !== undefined && now - started < options.olderThanMs;
    if (byCount || byAge) kept.add(run.runId);
  });
  return kept;
}

/** Everything reachable from `roots` through input keys. */
function reachable(roots: Iterable<string>, manifests: Map<string, Manifest>): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const key = stack.pop()!;
    if (seen.has(key)) continue;
    seen.add(key);
    for (const input of manifests.get(key)?.inputKeys ?? []) stack.push(input);
  }
  return seen;
}

async function removeArtifact(store: ArtifactStore, key: string): Promise<void> {
  // Renamed out first: a reader sees the whole artifact or none of it.
  const trash = join(store.root, '.gc-trash');
  await mkdir(trash, { recursive: true });
  const aside = join(trash, `${key}-${process.pid}`);
  await rename(store.dir(key), aside);
  await rm(aside, { recursive: true, force: true });
  await rm(join(store.root, '.checkpoints', key), { recursive: true, force: true });
}

async function removeRunFiles(store: ArtifactStore, runId: string): Promise<void> {
  for (const name of [`${runId}.json`, `${runId}.progress.json`, runId]) await rm(join(runsDir(store), name), { recursive: true, force: true });
}

async function withGcLock<T>(store: ArtifactStore, work: () => Promise<T>): Promise<T> {
  try {
    await mkdir(gcLockPath(store));
  } catch {
    throw badInput(`another \`ulasan gc\` holds ${gcLockPath(store)}; wait for it (or remove the directory if no gc is running)`, { file: gcLockPath(store) });
  }
  try {
    return await work();
  } finally {
    await rmdir(gcLockPath(store));
  }
}

export async function collectGarbage(store: ArtifactStore, options: GcOptions = {}): Promise<GcReport> {
  if (options.keepRuns !== undefined && (!Number.isInteger(options.keepRuns) || options.keepRuns < 0)) {
    throw badInput(`--keep-runs ${options.keepRuns}: give a whole number of runs, 0 or more`, { field: '--keep-runs' });
  }
  const dryRun = options.dryRun ?? false;
  const work = async (): Promise<GcReport> => {
    const runs = await listRunRecords(store);
    const kept = keptRuns(runs, options);
    const manifests = await storeManifests(store);
    const leases = liveLeases(store);
    const report = { dryRun, keptRuns: [...kept], removedRuns: runs.filter((r) => !kept.has(r.runId)).map((r) => r.runId) };
    const temporal = leases.find((l) => l.runner !== 'local');
    if (temporal) return { ...report, kept: manifests.size, removed: [], removedBytes: 0, skipped: `run ${temporal.runId} (${temporal.runner}) is in progress and its artifacts are not visible here` };
    const since = Math.min(...leases.map((l) => Date.parse(l.startedAt)));
    const roots = [
      ...runs.filter((r) => kept.has(r.runId)).flatMap(runKeys),
      ...((options.keepTagged ?? true) ? (await listTags(store)).map((t) => t.key) : []),
      ...(await listSchedulePins(store)).map((p) => p.model),
      ...leases.flatMap((l) => l.keys),
      // Scrapes cannot be recomputed; what a running run made since it started is its own.
      ...[...manifests.values()].filter((m) => m.stage === 'scrape' || Date.parse(m.createdAt) >= since).map((m) => m.key),
    ];
    const keep = reachable(roots, manifests);
    const doomed = [...manifests.values()].filter((m) => !keep.has(m.key));
    if (!dryRun) {
      for (const m of doomed) await removeArtifact(store, m.key);
      for (const runId of report.removedRuns) await removeRunFiles(store, runId);
    }
    const removed = byStage(doomed);
    return { ...report, kept: manifests.size - doomed.length, removed, removedBytes: removed.reduce((s, r) => s + r.bytes, 0) };
  };
  // A dry run changes nothing: no lock, so it can run beside anything.
  return dryRun ? work() : withGcLock(store, work);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatSpace(space: StageSpace[]): string {
  const total = space.reduce((s, r) => s + r.bytes, 0);
  const lines = space.map((r) => `${r.stage.padEnd(14)} ${String(r.artifacts).padStart(6)}  ${formatBytes(r.bytes).padStart(10)}`);
  return [`${'stage'.padEnd(14)} ${'count'.padStart(6)}  ${'bytes'.padStart(10)}`, ...lines, `${'total'.padEnd(14)} ${String(space.reduce((s, r) => s + r.artifacts, 0)).padStart(6)}  ${formatBytes(total).padStart(10)}`].join('\n');
}

export function formatGc(report: GcReport): string {
  const verb = report.dryRun ? 'would free' : 'freed';
  return [
    ...(report.skipped ? [`nothing removed: ${report.skipped}`] : []),
    `runs kept: ${report.keptRuns.length}${report.removedRuns.length ? `, ${report.dryRun ? 'would drop' : 'dropped'}: ${report.removedRuns.join(', ')}` : ''}`,
    ...report.removed.map((r) => `  ${r.stage.padEnd(14)} ${String(r.artifacts).padStart(6)} artifacts  ${formatBytes(r.bytes).padStart(10)}`),
    `${verb} ${formatBytes(report.removedBytes)} (${report.removed.reduce((s, r) => s + r.artifacts, 0)} artifacts); ${report.kept} kept`,
  ].join('\n');
}
