import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../data/canonical';
import { sourceSha256 } from './source-hash';

let dir: string;
let file: string;
const stampDir = () => join(dir, 'store');
const past = new Date(Date.now() - 60_000);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ulasan-source-hash-'));
  file = join(dir, 'reviews.csv');
  await writeFile(file, 'text,rating\nbagus,5\n');
  await utimes(file, past, past);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Overwrites the remembered hash, so a call that returns it provably did not read the file. */
async function forgeRemembered(sha256: string): Promise<void> {
  const [name] = await readdir(join(stampDir(), '.sources'));
  const path = join(stampDir(), '.sources', name!);
  await writeFile(path, JSON.stringify({ ...JSON.parse(await readFile(path, 'utf8')), sha256 }));
}

describe('sourceSha256', () => {
  it('hashes the file, and reuses the remembered hash while size, mtime and inode are unchanged', async () => {
    const real = sha256Hex(await readFile(file));
    expect(await sourceSha256(file, { stampDir: stampDir() })).toEqual({ sha256: real });
    await forgeRemembered('f'.repeat(64));
    expect(await sourceSha256(file, { stampDir: stampDir() })).toEqual({ sha256: 'f'.repeat(64) });
    expect(await sourceSha256(file, { stampDir: stampDir(), verifyHashes: true })).toEqual({ sha256: real });
  });

  it('hashes again after a write of the same size', async () => {
    await sourceSha256(file, { stampDir: stampDir() });
    await writeFile(file, 'text,rating\nbagus,4\n');
    expect(await sourceSha256(file, { stampDir: stampDir() })).toEqual({ sha256: sha256Hex('text,rating\nbagus,4\n') });
  });

  it('does not trust a hash recorded within two seconds of the last write (racy clean)', async () => {
    const now = new Date();
    await utimes(file, now, now);
    await sourceSha256(file, { stampDir: stampDir() });
    await forgeRemembered('f'.repeat(64));
    expect(await sourceSha256(file, { stampDir: stampDir() })).toEqual({ sha256: sha256Hex(await readFile(file)) });
  });

  it('hashes every time without a store to remember in', async () => {
    expect(await sourceSha256(file)).toEqual({ sha256: sha256Hex(await readFile(file)) });
  });
});
