/**
 * The content hash of a source file, remembered by size, mtime and inode (DVC's state, git's index):
 * a warm run that imports the same unchanged file does not read all of it again, so its cost does not
 * grow with the file. Remembered hashes live under `<store>/.sources/`, one small JSON per path.
 *
 * A remembered hash is trusted only when the file was last modified at least two seconds before it
 * was recorded (git's "racy clean" rule): a write in the same clock tick as the recording could leave
 * size and mtime unchanged, so such a file is hashed again until it has settled. `verifyHashes`
 * always hashes.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '../../data/canonical';
import { sha256File } from '../../data/store/artifact-store';

/** A file modified this close to when its hash was recorded is hashed again. */
const SETTLE_MS = 2000;

interface RememberedHash {
  path: string;
  bytes: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
  recordedAtMs: number;
}

export interface SourceHashOptions {
  /** Store root whose `.sources/` remembers hashes; without it every call hashes. */
  stampDir?: string;
  /** Hash even when a remembered hash matches. @default false */
  verifyHashes?: boolean;
}

const rememberedPath = (stampDir: string, path: string) => join(stampDir, '.sources', `${sha256Hex(path)}.json`);

async function recall(stampDir: string, path: string): Promise<RememberedHash | undefined> {
  try {
    return JSON.parse(await readFile(rememberedPath(stampDir, path), 'utf8')) as RememberedHash;
  } catch {
    return undefined;
  }
}

async function remember(stampDir: string, entry: RememberedHash): Promise<void> {
  const target = rememberedPath(stampDir, entry.path);
  await mkdir(join(stampDir, '.sources'), { recursive: true });
  const temp = `${target}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(entry) + '\n');
  await rename(temp, target);
}

/** sha256 of the file at `path` (absolute), from memory when size, mtime and inode vouch for it. */
export async function sourceSha256(path: string, options: SourceHashOptions = {}): Promise<{ sha256: string }> {
  const info = await stat(path);
  const { stampDir } = options;
  if (stampDir && !options.verifyHashes) {
    const known = await recall(stampDir, path);
    const unchanged = known?.bytes === info.size && known.mtimeMs === info.mtimeMs && known.ino === info.ino;
    if (known && unchanged && info.mtimeMs < known.recordedAtMs - SETTLE_MS) return { sha256: known.sha256 };
  }
  const { sha256 } = await sha256File(path);
  if (stampDir) {
    const entry = { path, bytes: info.size, mtimeMs: info.mtimeMs, ino: info.ino, sha256, recordedAtMs: Date.now() };
    await remember(stampDir, entry).catch(() => undefined); // a read-only store only loses the speed-up
  }
  return { sha256 };
}
