/**
 * The inter-process file lock: read-modify-writes under it never interleave, a dead holder's lock is
 * broken once stale, a live holder's is not, and a holder releases only its own lock.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UlasanError } from '../../core/errors';
import { withFileLock } from './file-lock';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ulasan-lock-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('withFileLock', () => {
  it('serialises read-modify-writes: no increment is lost, whatever the timing', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 2, maxLength: 8 }), async (delays) => {
        const counter = join(dir, `counter-${run++}`);
        await writeFile(counter, '0');
        const lock = `${counter}.lock`;
        await Promise.all(
          delays.map((delay) =>
            withFileLock(lock, async () => {
              const value = Number(await readFile(counter, 'utf8'));
              await pause(delay); // without the lock, the others read the same value meanwhile
              await writeFile(counter, String(value + 1));
            }, { pollMs: 2 }),
          ),
        );
        expect(Number(await readFile(counter, 'utf8'))).toBe(delays.length);
        expect(existsSync(lock)).toBe(false);
      }),
      { numRuns: 15 },
    );
  });

  it('breaks the lock of a dead holder once it is stale, and waits for a live one', async () => {
    const lock = join(dir, 'a.lock');
    await writeFile(lock, JSON.stringify({ token: 'dead', pid: 999999 }));
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    await expect(withFileLock(lock, async () => 'ran', { staleMs: 1_000 })).resolves.toBe('ran');

    await writeFile(lock, JSON.stringify({ token: 'alive' })); // fresh mtime: a live holder
    let waits = 0;
    const attempt = withFileLock(lock, async () => 'ran', { staleMs: 10_000, pollMs: 5, timeoutMs: 200, onWait: () => waits++ });
    await expect(attempt).rejects.toThrow(UlasanError);
    await expect(attempt).rejects.toMatchObject({ type: 'Transient', message: expect.stringContaining(lock) });
    expect(waits).toBeGreaterThan(1);
    expect(JSON.parse(await readFile(lock, 'utf8'))).toEqual({ token: 'alive' });
  });

  it('keeps its lock fresh while it works, and releases it when the work throws', async () => {
    const lock = join(dir, 'b.lock');
    let otherDone = 0;
    const other = withFileLock(lock, async () => {
      await pause(1_000); // over three times the stale limit: only the holder's refreshes keep it
      otherDone = Date.now();
    }, { staleMs: 300 });
    await pause(50);
    let entered = 0;
    await withFileLock(lock, async () => void (entered = Date.now()), { staleMs: 300, pollMs: 5 });
    await other;
    expect(otherDone).toBeGreaterThan(0);
    expect(entered).toBeGreaterThanOrEqual(otherDone);
    await expect(withFileLock(lock, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });
});
