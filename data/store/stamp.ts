/**
 * File stamps: what a cache hit checks instead of re-hashing every file (as git's index and DVC's
 * state do). At commit each file gets a stamp (size, modification time, and a sha256 of its first
 * and last 64 KiB); a later check compares the stamp with `stat` and those two blocks, and only a
 * file whose stamp differs is hashed in full. `ulasan verify` and `--verify-hashes` always hash.
 *
 * Why a flipped byte is still caught on the next run:
 * - At commit the files' mtimes are set to whole seconds at least two seconds in the past
 *   (`settledMtime`). Any later write through the file system sets the mtime to "now", which is
 *   strictly later even on a file system with 2-second timestamps, so the stamp no longer matches and
 *   the file is hashed in full. This closes git's "racy clean" window (a write in the same clock tick
 *   as the stamp leaving mtime unchanged).
 * - A change that keeps size and mtime (a tool that restores mtime, a bit rot) is caught by the
 *   edge checksum when it falls in the first or last 64 KiB, which is the whole file for most
 *   small artifacts (JSON, vocabularies, small tables). Anything else is what `verify` is for.
 */
import { createHash } from 'node:crypto';
import { open, readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileWhole } from '../write-whole';

/** The stamp file beside `manifest.json`; not an artifact file, never hashed into the manifest. */
export const STAMP_FILE = '.stamp.json';

/** Bytes read from each end of a file for its edge checksum. */
const EDGE_BYTES = 64 * 1024;

export interface FileStamp {
  bytes: number;
  mtimeMs: number;
  /** sha256 of the first and last `EDGE_BYTES` (the whole file when it is at most twice that). */
  edges: string;
}

export interface StampFile {
  files: Record<string, FileStamp>;
}

/** Whole seconds, two seconds before now: later than nothing written before it, earlier than any write after. */
function settledMtime(): Date {
  return new Date((Math.floor(Date.now() / 1000) - 2) * 1000);
}

async function edgeChecksum(path: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    const read = async (position: number, length: number) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      hash.update(buffer.subarray(0, bytesRead));
    };
    if (bytes <= 2 * EDGE_BYTES) await read(0, bytes);
    else {
      await read(0, EDGE_BYTES);
      await read(bytes - EDGE_BYTES, EDGE_BYTES);
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

async function stampOf(path: string): Promise<FileStamp> {
  const info = await stat(path);
  return { bytes: info.size, mtimeMs: info.mtimeMs, edges: await edgeChecksum(path, info.size) };
}

/**
 * Settles the mtimes of `names` in `dir` and writes their stamps (temp file, then rename). Called on
 * files whose hashes were just taken, so the stamp vouches for those hashes.
 */
export async function writeStamps(dir: string, names: readonly string[]): Promise<void> {
  const settled = settledMtime();
  const files: Record<string, FileStamp> = {};
  for (const name of names) {
    await utimes(join(dir, name), settled, settled);
    files[name] = await stampOf(join(dir, name));
  }
  await writeFileWhole(join(dir, STAMP_FILE), JSON.stringify({ files } satisfies StampFile) + '\n');
}

async function readStamps(dir: string): Promise<StampFile | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, STAMP_FILE), 'utf8')) as StampFile;
  } catch {
    return undefined;
  }
}

/**
 * True when every one of `names` still matches its stamp (size, mtime, edge checksum) and the stamp
 * covers exactly those names; false means the files must be hashed in full.
 */
export async function stampsMatch(dir: string, names: readonly string[]): Promise<boolean> {
  const stamps = await readStamps(dir);
  if (!stamps || Object.keys(stamps.files).length !== names.length) return false;
  for (const name of names) {
    const expected = stamps.files[name];
    if (!expected) return false;
    const actual = await stampOf(join(dir, name)).catch(() => undefined);
    if (!actual || actual.bytes !== expected.bytes || actual.mtimeMs !== expected.mtimeMs || actual.edges !== expected.edges) return false;
  }
  return true;
}
