/**
 * The content-addressed artifact store: `<root>/<key[0:2]>/<key>/` holds an artifact's files and its
 * `manifest.json`. Entries are immutable: written into a temp dir, hashed, then renamed into place,
 * so a crash never leaves a half-written artifact under a key.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { canonicalJson, sha256Hex } from '../canonical';
import { UlasanError } from '../../core/errors';
import { checkReadBack } from './read-back';
import { STAMP_FILE, stampsMatch, writeStamps } from './stamp';
import type { FileRecord, Manifest } from './types';

export const MANIFEST_FILE = 'manifest.json';

/** A random id written once in the store root: a client and its workers compare it to know they share one store. */
export const STORE_ID_FILE = 'store-id';

/**
 * How long a file another process has committed may take to appear (a shared filesystem's attribute
 * cache: NFS keeps one for seconds) before a read of it gives up with NotFound. `ULASAN_STORE_VISIBILITY_MS`.
 * @default 3000
 */
export const STORE_VISIBILITY_MS = Number(process.env.ULASAN_STORE_VISIBILITY_MS ?? 3_000);

/** Store root: `ULASAN_HOME`, else `.ulasan/` in the working directory. */
export function defaultStoreRoot(): string {
  return resolve(process.env.ULASAN_HOME ?? '.ulasan');
}

/** What the key of an artifact is computed from. */
export interface KeyMaterial {
  stage: string;
  stageVersion: number;
  params: unknown;
  inputKeys: string[];
}

export function artifactKey(material: KeyMaterial): string {
  const { stage, stageVersion, params, inputKeys } = material;
  return sha256Hex(canonicalJson({ stage, stageVersion, params, inputKeys }));
}

/** The outcome of checking a stored entry against its manifest. */
export type EntryCheck =
  | { status: 'ok'; manifest: Manifest }
  | { status: 'absent' }
  | { status: 'corrupt'; detail: string };

export async function sha256File(path: string): Promise<FileRecord> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** The artifact's own files in `dir`, in name order: everything but the manifest and the stamp. */
export async function artifactFileNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name !== MANIFEST_FILE && name !== STAMP_FILE).sort();
}

/** Hashes every artifact file in `dir` (not the manifest or the stamp), in name order. */
export async function hashDirectory(dir: string): Promise<Record<string, FileRecord>> {
  const files: Record<string, FileRecord> = {};
  for (const name of await artifactFileNames(dir)) files[name] = await sha256File(join(dir, name));
  return files;
}

/** How thoroughly `check` looks at the files. */
export interface CheckOptions {
  /** Hash every file even when its stamp (size, mtime, edge checksum) matches (`verify`, `--verify-hashes`). */
  verifyHashes?: boolean;
}

/** Lists the names whose hashes differ between two file records (missing on either side counts). */
export function differingFiles(expected: Record<string, FileRecord>, actual: Record<string, FileRecord>): string[] {
  const names = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return names.filter((name) => expected[name]?.sha256 !== actual[name]?.sha256);
}

/**
 * The digest a manifest records of itself: sha256 of its JSON without the digest. Plain JSON.stringify,
 * not canonicalJson: it survives a parse/stringify round trip unchanged (key order, numbers) and takes
 * whatever a summary holds (canonicalJson refuses NaN).
 */
export function manifestDigest(manifest: Manifest): string {
  const content: Partial<Manifest> = { ...manifest };
  delete content.digest;
  return sha256Hex(JSON.stringify(content));
}

/** Why a parsed manifest cannot be trusted, or undefined. Manifests without a digest predate it and pass. */
export function manifestProblem(manifest: Manifest, key: string): string | undefined {
  if (manifest === null || typeof manifest !== 'object' || typeof manifest.files !== 'object') return 'manifest.json is not a manifest';
  if (manifest.key !== key) return `manifest.json names key ${String(manifest.key)}, not ${key}`;
  if (manifest.digest !== undefined && manifest.digest !== manifestDigest(manifest)) {
    return 'manifest.json was changed after it was written (its content no longer matches its digest)';
  }
  return undefined;
}

/** Temp dirs are named `<label>-<host>-<pid>-<random>`, so a later process can tell whose owner died. */
const TEMP_OWNER = /^[\w.-]+?-(?<host>[^-]+)-(?<pid>\d+)-[^-]+$/;
/** Temp dirs named before owners were recorded are removed once this old (no live run takes that long to write one). */
const UNOWNED_TEMP_MAX_AGE_MS = 24 * 3600 * 1000;

const tempHost = (): string => hostname().replace(/[^\w.]/g, '_');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when a temp dir's owner is known to be gone: same host and a dead pid, or unowned and old. */
async function isAbandoned(path: string, name: string): Promise<boolean> {
  const owner = TEMP_OWNER.exec(name)?.groups;
  if (owner) return owner.host === tempHost() && !isAlive(Number(owner.pid));
  const { mtimeMs } = await stat(path);
  return Date.now() - mtimeMs > UNOWNED_TEMP_MAX_AGE_MS;
}

/**
 * Renames a finished temp dir into place. When another writer already put a directory there (same key, same content
 * by construction), ours is removed and the rename's error returned; any other failure is thrown.
 */
export async function renameUnlessTaken(temp: string, target: string): Promise<NodeJS.ErrnoException | undefined> {
  try {
    await rename(temp, target);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    await rm(temp, { recursive: true, force: true });
    return err as NodeJS.ErrnoException;
  }
}

export class ArtifactStore {
  private swept?: Promise<void>;

  readonly root: string;

  constructor(
    root: string = defaultStoreRoot(),
    readonly visibilityMs: number = STORE_VISIBILITY_MS,
  ) {
    this.root = resolve(root);
  }

  /**
   * Reads a file that its producer has committed (an input artifact another worker wrote). A missing
   * file is retried with backoff for `visibilityMs`, since a shared filesystem may show it late; then
   * the ENOENT is thrown.
   */
  async readCommitted(path: string): Promise<string> {
    const deadline = Date.now() + this.visibilityMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
      try {
        return await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || Date.now() + delay > deadline) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** This store's id (made on first use): clients and workers compare it to know they share the store. */
  async id(): Promise<string> {
    const path = join(this.root, STORE_ID_FILE);
    const existing = await readFile(path, 'utf8').catch(() => undefined);
    if (existing) return existing.trim();
    // Written whole to a temp file, then linked into place: link fails when the id exists, so processes
    // starting at once agree on the first id, and none reads a half-written one.
    const temp = join(await this.tempDir('store-id'), STORE_ID_FILE);
    await writeFile(temp, randomUUID() + '\n');
    await link(temp, path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await rm(join(temp, '..'), { recursive: true, force: true });
    return (await readFile(path, 'utf8')).trim();
  }

  dir(key: string): string {
    return join(this.root, key.slice(0, 2), key);
  }

  path(key: string, file: string): string {
    return join(this.dir(key), file);
  }

  /**
   * Reads a manifest without verifying files; throws NotFound when the key is not stored (after
   * `readCommitted`'s wait) and CorruptArtifact when the manifest is damaged or was changed after it was written.
   */
  async manifest(key: string): Promise<Manifest> {
    const manifest = await this.rawManifest(key);
    const problem = manifestProblem(manifest, key);
    if (problem) {
      const file = this.path(key, MANIFEST_FILE);
      throw new UlasanError('CorruptArtifact', `${file}: ${problem}; \`ulasan verify ${key}\` shows what differs.`, { key, file });
    }
    return manifest;
  }

  /** A manifest as stored, trusted or not (for `verify`, which reports what is wrong with it). */
  async rawManifest(key: string): Promise<Manifest> {
    const file = this.path(key, MANIFEST_FILE);
    let text: string;
    try {
      text = await this.readCommitted(file);
    } catch (err) {
      throw new UlasanError('NotFound', `No artifact ${key} in the store at ${this.root}.`, { key }, { cause: err });
    }
    try {
      return JSON.parse(text) as Manifest;
    } catch (err) {
      throw new UlasanError('CorruptArtifact', `${file} is not valid JSON (${(err as Error).message}).`, { key, file }, { cause: err });
    }
  }

  /**
   * Checks that an entry exists and that every file matches its recorded hash. Files whose stamps
   * still match are trusted without hashing unless `verifyHashes` (see stamp.ts for why a flipped
   * byte is still caught); after a full hash that passes, the stamps are rewritten.
   */
  async check(key: string, options: CheckOptions = {}): Promise<EntryCheck> {
    let manifest: Manifest;
    try {
      manifest = JSON.parse(await readFile(this.path(key, MANIFEST_FILE), 'utf8')) as Manifest;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'absent' };
      return { status: 'corrupt', detail: `manifest.json unreadable (${(err as Error).message})` };
    }
    const problem = manifestProblem(manifest, key);
    if (problem) return { status: 'corrupt', detail: problem };
    if (!options.verifyHashes && (await this.stampsVouch(key, manifest))) return { status: 'ok', manifest };
    const actual = await hashDirectory(this.dir(key)).catch(() => ({}));
    const bad = differingFiles(manifest.files, actual);
    if (bad.length > 0) return { status: 'corrupt', detail: `file hash mismatch: ${bad.join(', ')}` };
    await this.restamp(key, Object.keys(manifest.files));
    return { status: 'ok', manifest };
  }

  /** True when the entry holds exactly the manifest's files and each still matches its stamp. */
  private async stampsVouch(key: string, manifest: Manifest): Promise<boolean> {
    const expected = Object.keys(manifest.files).sort();
    const present = await artifactFileNames(this.dir(key)).catch(() => []);
    if (present.join('\n') !== expected.join('\n')) return false;
    return stampsMatch(this.dir(key), expected);
  }

  /** Best effort: a read-only store is still usable, it just hashes on every hit. */
  private async restamp(key: string, names: string[]): Promise<void> {
    await writeStamps(this.dir(key), names).catch(() => undefined);
  }

  /** A fresh temp dir on the store's filesystem, so the final rename is atomic; named after its owner process. */
  async tempDir(label: string): Promise<string> {
    const tmpRoot = join(this.root, '.tmp');
    await mkdir(tmpRoot, { recursive: true });
    await (this.swept ??= this.sweepAbandonedTemps());
    return mkdtemp(join(tmpRoot, `${label}-${tempHost()}-${process.pid}-`));
  }

  /** Removes temp dirs whose process died mid-stage (kill -9, power loss); done once per store object. */
  async sweepAbandonedTemps(): Promise<void> {
    const tmpRoot = join(this.root, '.tmp');
    const names = await readdir(tmpRoot).catch(() => [] as string[]);
    for (const name of names) {
      const path = join(tmpRoot, name);
      if (await isAbandoned(path, name).catch(() => false)) await rm(path, { recursive: true, force: true });
    }
  }

  /**
   * Reads back and hashes the files in `tempDir`, writes the manifest and renames the dir into place. If another
   * writer got there first with a valid entry, ours is discarded and theirs kept (same key, same content
   * by construction).
   */
  async commit(tempDir: string, manifest: Omit<Manifest, 'files'>): Promise<Manifest> {
    // Nothing is committed that its consumers cannot read (read-back.ts): a writer bug fails its own stage.
    await checkReadBack(tempDir, await readdir(tempDir), { stage: manifest.stage, key: manifest.key });
    const content: Manifest = { ...manifest, files: await hashDirectory(tempDir) };
    const full: Manifest = { ...content, digest: manifestDigest(content) };
    await writeStamps(tempDir, Object.keys(full.files));
    await writeFile(join(tempDir, MANIFEST_FILE), JSON.stringify(full, null, 2) + '\n');
    const target = this.dir(full.key);
    await mkdir(join(target, '..'), { recursive: true });
    const taken = await renameUnlessTaken(tempDir, target);
    if (taken) {
      const existing = await this.check(full.key);
      if (existing.status !== 'ok') throw taken;
      return existing.manifest;
    }
    return full;
  }

  /** Moves a corrupt entry aside (kept for inspection under `.corrupt/`) so it can be recomputed. */
  async quarantine(key: string): Promise<string> {
    const aside = join(this.root, '.corrupt', `${key}-${Date.now()}`);
    await mkdir(join(this.root, '.corrupt'), { recursive: true });
    await rename(this.dir(key), aside);
    return aside;
  }

  async has(key: string): Promise<boolean> {
    return stat(this.path(key, MANIFEST_FILE)).then(
      () => true,
      () => false,
    );
  }
}
