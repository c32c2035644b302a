/**
 * An exclusive lock between processes (and machines sharing the store's filesystem): a lock file made
 * with `O_EXCL`, whose mtime its holder refreshes while it works. A holder that died (kill -9, a lost
 * machine) stops refreshing; once the file is older than `staleMs` the next waiter breaks it. Used where
 * a read-modify-write must not interleave, e.g. merging a scrape into an app's snapshot and pointing its
 * index at the result (two runs doing that at once would each drop the other's reviews).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { link, mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UlasanError } from '../../core/errors';

export interface FileLockOptions {
  /** A lock file not refreshed for this long belongs to a dead holder and is broken. @default 30000 */
  staleMs?: number;
  /** How often a waiter looks again. @default 100 */
  pollMs?: number;
  /** How long to wait before giving up with a Transient failure (retried later). @default 600000 */
  timeoutMs?: number;
  /** Called on every poll while waiting (e.g. an activity heartbeat). @default none */
  onWait?: () => void;
}

const codeOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

async function tryCreate(path: string, token: string): Promise<boolean> {
  try {
    await writeFile(path, JSON.stringify({ token, pid: process.pid, host: hostname(), at: new Date().toISOString() }), { flag: 'wx' });
    return true;
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return false;
    throw error;
  }
}

async function readToken(path: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(path, 'utf8')) as { token?: string }).token;
  } catch {
    return undefined; // gone, or caught half-written
  }
}

/**
 * Breaks the lock at `path` if it is stale. It is renamed aside first (atomic: of two breakers one wins);
 * should the file renamed turn out to be a fresh lock taken meanwhile, it is linked back.
 */
async function breakIfStale(path: string, staleMs: number): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return;
    throw error;
  }
  if (Date.now() - info.mtimeMs <= staleMs) return;
  const staleToken = await readToken(path);
  const aside = `${path}.stale-${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return; // another waiter broke it first
    throw error;
  }
  if ((await readToken(aside)) !== staleToken) await link(aside, path).catch(() => undefined);
  await rm(aside, { force: true });
}

/** Runs `work` holding the lock at `path`; the lock is released however `work` ends. */
export async function withFileLock<T>(path: string, work: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  const token = randomUUID();
  await mkdir(dirname(path), { recursive: true });
  while (!(await tryCreate(path, token))) {
    if (Date.now() > deadline) {
      throw new UlasanError('Transient', `Waited ${options.timeoutMs ?? 600_000} ms for the lock ${path}, held by another process; try again later.`, {
        file: path,
      });
    }
    options.onWait?.();
    await breakIfStale(path, staleMs);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
  const refresh = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, Math.max(10, Math.floor(staleMs / 3)));
  try {
    return await work();
  } finally {
    clearInterval(refresh);
    // Only our own lock: had ours been broken as stale, the file is now another holder's.
    if ((await readToken(path)) === token) await rm(path, { force: true });
  }
}
