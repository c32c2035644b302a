/**
 * The read-back check every artifact passes in ArtifactStore.commit (stage outputs, scrape snapshots):
 * a file its consumers cannot read must fail the stage that wrote it, naming the file, not its consumer
 * later (issue 19: a truncated train.arrow was hashed, cached and served as valid, and every later run
 * failed in train).
 *
 * Each check reads the file the way its consumers do, or checks its structure where that costs far
 * less than the stage: Arrow IPC is decoded with apache-arrow (as arrow-io does) and its list offsets
 * checked against their values; Parquet (written by DuckDB, read by DuckDB) is checked for its magic
 * bytes and a footer that fits; JSON is parsed; a tfjs model.json's weights manifest must account for
 * every byte of the weight files it names. Other files (HTML, Markdown) have no consumer to protect.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Data } from 'apache-arrow';
import { UlasanError } from '../../core/errors';

/** Checks every named file in `dir`; throws an Internal (bug) error naming the first unreadable one. */
export async function checkReadBack(dir: string, names: readonly string[], context: { stage: string; key: string }): Promise<void> {
  for (const name of [...names].sort()) {
    const problem = await fileProblem(dir, name);
    if (problem !== undefined) {
      const file = join(dir, name);
      throw new UlasanError(
        'Internal',
        `Bug in stage ${context.stage}: it wrote ${name} but the file cannot be read back (${problem}); nothing was committed ` +
          `under ${context.key}. Please report it with the spec that produced it.`,
        { stage: context.stage, key: context.key, file },
      );
    }
  }
}

/** What is wrong with one file, or undefined when it reads back. */
async function fileProblem(dir: string, name: string): Promise<string | undefined> {
  const path = join(dir, name);
  try {
    if (name.endsWith('.arrow')) return await arrowProblem(path);
    if (name.endsWith('.parquet')) return await parquetProblem(path);
    if (name.endsWith('.json')) return await jsonProblem(dir, path);
    return undefined;
  } catch (err) {
    return String(err);
  }
}

async function arrowProblem(path: string): Promise<string | undefined> {
  const { tableFromIPC } = await import('apache-arrow');
  const bytes = await readFile(path);
  const table = tableFromIPC(bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes));
  for (const field of table.schema.fields) {
    for (const data of table.getChild(field.name)?.data ?? []) {
      const problem = offsetsProblem(data);
      if (problem) return `column '${field.name}': ${problem}`;
    }
  }
  return undefined;
}

/** List offsets must be non-decreasing and stay within their values, at every nesting level. */
function offsetsProblem(data: Data): string | undefined {
  const offsets = data.valueOffsets as Int32Array | undefined;
  const child = data.children[0];
  if (offsets && child && data.length > 0) {
    const first = offsets[data.offset] as number;
    const last = offsets[data.offset + data.length] as number;
    if (!(first >= 0 && last >= first && last <= child.length)) return `list offsets ${first}..${last} outside ${child.length} values`;
  }
  for (const nested of data.children) {
    const problem = offsetsProblem(nested);
    if (problem) return problem;
  }
  return undefined;
}

const PARQUET_MAGIC = 'PAR1';

async function parquetProblem(path: string): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size < 12) return `${size} bytes is too short for Parquet`;
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(8);
    await handle.read(head, 0, 4, 0);
    await handle.read(tail, 0, 8, size - 8);
    if (head.toString('latin1') !== PARQUET_MAGIC || tail.toString('latin1', 4) !== PARQUET_MAGIC) return 'no PAR1 magic at both ends';
    const footer = tail.readUInt32LE(0);
    if (footer + 12 > size) return `footer of ${footer} bytes does not fit in ${size}`;
    return undefined;
  } finally {
    await handle.close();
  }
}

/** Bytes per element of the tfjs weight dtypes. */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2, string: 0 };

interface WeightsManifest {
  weightsManifest?: { paths: string[]; weights: { shape: number[]; dtype: string }[] }[];
}

async function jsonProblem(dir: string, path: string): Promise<string | undefined> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as WeightsManifest;
  for (const group of parsed?.weightsManifest ?? []) {
    const expected = group.weights.reduce((sum, w) => sum + w.shape.reduce((n, d) => n * d, 1) * (DTYPE_BYTES[w.dtype] ?? NaN), 0);
    let actual = 0;
    for (const weights of group.paths) actual += (await stat(join(dir, weights))).size;
    if (actual !== expected) return `its weights manifest accounts for ${expected} bytes, ${group.paths.join(', ')} hold ${actual}`;
  }
  return undefined;
}
